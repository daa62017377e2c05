"""`incidentctl demo`: the whole flow on the built-in sandbox, with nothing but the package installed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from tests.conftest import Invoke

from incidentctl.sandbox.scenarios import SCENARIOS


def test_demo_runs_the_flow_and_leaves_a_journal(invoke: Invoke, tmp_path: Path) -> None:
    keep = tmp_path / "demo"
    result = invoke(["demo", "--scenario", "db-outage", "--keep", str(keep)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    for text in (
        "$ incidentctl detect",
        "datastore:postgres",
        "$ incidentctl triage --declare",
        "P2 High",
        "rule p2-error-rate",
        "$ incidentctl investigate",
        "! datastores: postgres DOWN",
        "acknowledged",
        "$ incidentctl mitigate restart postgres-0 --reason 'postgres-0 has run out of connection slots'",
    ):
        assert text in out, text
    incidents = [p.name for p in (keep / "incidents").iterdir() if p.name.startswith("INC-")]
    assert len(incidents) == 1
    timeline = (keep / "incidents" / incidents[0] / "timeline.jsonl").read_text().splitlines()
    kinds = [json.loads(line)["kind"] for line in timeline]
    # the messages' own events (claimed, sent, failed) are the channels' story, told in the tests below
    assert [k for k in kinds if not k.startswith("message_")] == [
        "declared",
        "triaged",
        "messages_queued",
        "evidence_collected",
        "acknowledged",
        "mitigation_planned",
        "mitigation_applied",
        "mitigation_verified",
        "messages_queued",
        "status_changed",
        "messages_queued",
        "postmortem_drafted",
    ]
    assert list((keep / "incidents" / incidents[0] / "evidence").glob("*-all/datastores/checks.json"))
    # the flow ends with the resolution, the post-mortem (left for the reader) and a short report
    postmortem = keep / f"{incidents[0]}-postmortem.md"
    assert f"Open the post-mortem: {postmortem}" in out
    document = postmortem.read_text(encoding="utf-8")
    assert "\n# Post-Mortem: " in document
    assert "```mermaid" in document
    for text in ("declared P2 High", "triaged: P2", "→ resolved"):
        assert text in document, text
    assert "$ incidentctl report daily" in out
    assert "Mean Time to Resolution (MTTR)" in out
    assert (keep / "runbook.yaml").is_file()


def test_demo_mitigates_with_the_plan_shown_confirms_on_screen_and_verifies(invoke: Invoke, tmp_path: Path) -> None:
    keep = tmp_path / "demo"
    result = invoke(["demo", "--scenario", "memory-leak", "--keep", str(keep)])
    assert result.exit_code == 0, result.output
    out, err = result.stdout, result.stderr
    # the step, under the runbook section it replaces, after investigate and acknowledge, before the post-mortem
    order = [
        out.index("$ incidentctl investigate"),
        out.index("$ incidentctl incident ack"),
        out.index("Mitigate (runbook 3.1-3.3"),
        out.index("$ incidentctl mitigate restart retrieval\n"),
        out.index("$ incidentctl incident status INC-2026-001 resolved"),
        out.index("$ incidentctl postmortem draft INC-2026-001"),
    ]
    assert order == sorted(order)
    # the plan and its diff on stderr, as a responder sees them, then the demo's answer to the question
    plan = err.index("Plan: restart deployment/retrieval")
    assert "    +kubectl.kubernetes.io/restartedAt: '" in err[plan:]
    answer = err.index("Apply: restart deployment/retrieval? [y/N]: y (the demo answers yes)")
    assert plan < answer
    # the verification: the rollout awaited with its progress, the checks healthy again. The restart is M1, or M2
    # when the crash-looping deployment's status moved on between the plan and the write: the contract then read
    # the plan again (M1 failed with the 409), showed it and the demo answered again
    assert "rollout: " in err[answer:]
    applied = re.search(r"^applied INC-2026-001/(M\d+): restart deployment/retrieval$", out, re.MULTILINE)
    assert applied, out
    action = applied.group(1)
    if action != "M1":
        assert "this is the plan now" in err
    assert "verified: retrieval healthy" in out
    # and the post-mortem's timeline has the mitigation in it
    timeline = (keep / "INC-2026-001-postmortem.md").read_text(encoding="utf-8")
    for text in (f"mitigation {action} planned: restart deployment/retrieval", f"mitigation {action} applied"):
        assert text in timeline, text
    assert f"mitigation {action} verified" in timeline
    kinds = [json.loads(line)["kind"] for line in (keep / "incidents" / "INC-2026-001" / "timeline.jsonl").open()]
    mitigation = [k for k in kinds if k.startswith("mitigation_")]
    assert mitigation[-3:] == ["mitigation_planned", "mitigation_applied", "mitigation_verified"]


def test_bad_config_is_fixed_by_the_sandboxs_hotfix_manifest(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke(["demo", "--scenario", "bad-config", "--keep", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    assert "$ incidentctl mitigate apply\n" in result.stdout
    assert "configmap/synthesis-config" in result.stderr
    assert "    +  LLM_TIMEOUT_SECONDS: '30'" in result.stderr
    assert "verified: " in result.stdout


def test_demo_refuses_machine_output_and_unknown_scenarios(invoke: Invoke) -> None:
    machine = invoke(["demo", "-o", "json"])
    assert machine.exit_code == 2
    assert "the demo is for people" in machine.stderr
    unknown = invoke(["demo", "--scenario", "meteor"])
    assert unknown.exit_code == 2
    assert "unknown scenario 'meteor'" in unknown.stderr


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_every_scenario_plays_on_its_own_journal_whatever_the_environment_names(
    invoke: Invoke, workdir: Path, tmp_path: Path, scenario: str
) -> None:
    """A responder with a real journal, runbook and cluster configured runs the demo: none of them is touched."""
    real = tmp_path / "real-journal"
    env = {"INCIDENTCTL_JOURNAL": str(real)}
    declared = invoke(["incident", "declare", "-t", "checkout totally broken", "-s", "P1"], env=env)
    assert declared.exit_code == 0, declared.output
    before = _snapshot(real)
    bogus = tmp_path / "nowhere" / "kubeconfig"
    env |= {"INCIDENTCTL_RUNBOOK": str(workdir / "runbook.yaml"), "KUBECONFIG": str(bogus)}
    keep = tmp_path / "demo"
    result = invoke(
        [
            "demo",
            "--scenario",
            scenario,
            "--keep",
            str(keep),
            "--runbook",
            str(workdir / "runbook.yaml"),
            "--kubeconfig",
            str(bogus),
            "--context",
            "production",
            "-n",
            "nosuch",
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert _snapshot(real) == before
    incidents = sorted(p.name for p in (keep / "incidents").glob("INC-*"))
    if scenario == "healthy":
        assert incidents == []
        assert "nothing to declare" in result.stdout
        assert "incident ack" not in result.stdout
    else:
        assert len(incidents) == 1
        assert f"$ incidentctl incident ack {incidents[0]}" in result.stdout
        kinds = [json.loads(line)["kind"] for line in (keep / "incidents" / incidents[0] / "timeline.jsonl").open()]
        if SCENARIOS[scenario].fix:
            # the scenario's own fix, through the real command, and the checks found it healthy afterwards
            assert f"$ incidentctl mitigate {SCENARIOS[scenario].fix[1]}" in result.stdout
            mitigation = [k for k in kinds if k.startswith("mitigation_")]
            assert mitigation[-3:] == ["mitigation_planned", "mitigation_applied", "mitigation_verified"]
            # then the status update
            assert kinds.index("mitigation_verified") < len(kinds) - 1 - kinds[::-1].index("messages_queued")
            assert any(line.startswith("verified: ") for line in result.stdout.splitlines()), result.stdout
        else:
            assert not [k for k in kinds if k.startswith("mitigation_")]


def test_demo_keep_refuses_a_folder_that_already_holds_something(invoke: Invoke, tmp_path: Path) -> None:
    keep = tmp_path / "demo"
    keep.mkdir()
    (keep / "notes.txt").write_text("mine\n")
    result = invoke(["demo", "--keep", str(keep)])
    assert result.exit_code == 2
    assert f"--keep {keep} is not empty" in result.stderr
    assert "Traceback" not in result.output
    assert [p.name for p in keep.iterdir()] == ["notes.txt"]


def test_demo_tells_people_after_the_declaration_and_updates_them_after_the_mitigation(
    invoke: Invoke, tmp_path: Path
) -> None:
    keep = tmp_path / "demo"
    result = invoke(["demo", "--scenario", "total-outage", "--keep", str(keep)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    order = [
        out.index("$ incidentctl triage --declare"),
        out.index("$ incidentctl communicate send initial INC-2026-001\n"),
        out.index("$ incidentctl investigate"),
        out.index("$ incidentctl mitigate scale gateway=3"),
        out.index("$ incidentctl communicate send update INC-2026-001 --update"),
        out.index("$ incidentctl communicate send resolution INC-2026-001"),
        out.index("$ incidentctl postmortem draft INC-2026-001"),
    ]
    assert order == sorted(order)
    assert out.count("the sandbox's channels now hold:") == 3
    queued = [
        json.loads(line)["data"]
        for line in (keep / "incidents" / "INC-2026-001" / "timeline.jsonl").open()
        if json.loads(line)["kind"] == "messages_queued"
    ]
    # a P1 tells everyone the runbook's severity names, the update after the fix included
    channels = [sorted(m["channel"] for m in batch["messages"]) for batch in queued]
    assert channels == [["email", "pagerduty", "slack", "status-page"]] * 3
    assert "mitigate scale gateway=3" in json.dumps(queued[1])


def test_demo_delivers_to_the_sandboxs_channels(invoke: Invoke, tmp_path: Path) -> None:
    """End to end through the real channel clients: the incident channel with its status message edited in place
    by the update, the status-page incident, the page, and the email in the file channel's folder."""
    keep = tmp_path / "demo"
    result = invoke(["demo", "--scenario", "total-outage", "--keep", str(keep)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "not everything was delivered" not in out
    initial, update = out.split("$ incidentctl communicate send")[1:3]
    assert re.search(r"slack #inc-2026-001\S*: message \d+\.\d{6}: ", initial), initial
    assert re.search(r"statuspage: incident \w{12} https://stspg.io/\w+ investigating", initial), initial
    assert "pagerduty: INC-2026-001 triggered (trigger)" in initial
    assert "email: file outbox/email/" in initial
    assert re.search(r"slack #inc-2026-001\S*: message \d+\.\d{6}, edited in place 1x: ", update), update
    assert "(2 update(s))" in update
    assert "&gt;" not in out  # Slack's escapes are read back for people
    # a P1: the escalation check says the CTO is due at once
    check = out.split("$ incidentctl escalate check")[1].split("$ incidentctl")[0]
    assert "escalation due: L4 CTO (severity:P1)" in check
    # the initial notification, the update and the resolution
    assert len(list((keep / "outbox" / "email").iterdir())) == 3
