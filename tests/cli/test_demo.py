"""`incidentctl demo`: the whole flow on the built-in sandbox, with nothing but the package installed.

Every scenario is played once (a module-scoped fixture per scenario, shared by the pytest-xdist workers through a
file lock, as pytest-xdist's documentation shows), by a responder whose environment names a real journal, runbook
and cluster, with the demo's folder left where ``TMPDIR`` says; every assertion about that scenario reads that run.
"""

from __future__ import annotations

import json
import os
import re
import select
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
import pytest
from filelock import FileLock
from tests.conftest import RUNBOOK, Invoke
from typer.testing import CliRunner

from incidentctl.cli.app import app
from incidentctl.cli.state import AppState
from incidentctl.sandbox.scenarios import SCENARIOS

REPO = Path(__file__).resolve().parents[2]

#: What each scenario's post-mortem names in its Root Cause section, from the evidence the tool recorded (the
#: line naming the fix does not count): every group must match, by one of its case-insensitive substrings.
CAUSES: dict[str, list[tuple[str, ...]]] = {
    "bad-deploy": [("2.5.0",)],
    "db-outage": [("connection slots",)],
    "dependency-outage": [("openai",), ("timed out", "readtimeout")],
    "memory-leak": [("memoryerror", "oomkilled")],
    "traffic-spike": [("queue full", "cpu")],
    "bad-config": [("synthesis-config",)],
    "cache-corruption": [("cached embedding", "stale cache")],
    "total-outage": [("gateway",), ("scaled", "replicas")],
    "credential-stuffing": [("credentialstuffing", "invalid credentials", "401")],
}


@dataclass(frozen=True)
class Played:
    """One demo run, as the reader saw it and as it left its folder."""

    scenario: str
    exit_code: int
    stdout: str
    stderr: str
    #: the demo's own folder, made by the demo under the responder's TMPDIR
    folder: str
    #: the responder's real journal before and after the demo
    real_before: dict[str, str]
    real_after: dict[str, str]

    @property
    def path(self) -> Path:
        return Path(self.folder)

    def incidents(self) -> list[str]:
        return sorted(p.name for p in (self.path / "incidents").glob("INC-*"))

    def timeline(self, incident: str) -> list[dict[str, object]]:
        lines = (self.path / "incidents" / incident / "timeline.jsonl").read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines]


def _run(args: list[str], *, env: dict[str, str], cwd: Path, state: AppState | None = None) -> tuple[int, str, str]:
    st = state or AppState()
    st.env, st.cwd = {"INCIDENTCTL_ACTOR": "tester", **env}, cwd
    result = CliRunner().invoke(app, args, obj=st)
    return result.exit_code, result.stdout, result.stderr


def _snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*")) if p.is_file()}


def _play(scenario: str, root: Path) -> Played:
    """A responder with a real journal, runbook and cluster configured runs the demo: none of them is touched."""
    home = root / "responder"
    home.mkdir(parents=True)
    (home / "runbook.yaml").write_text(RUNBOOK.read_text(encoding="utf-8"), encoding="utf-8")
    real = home / "real-journal"
    env = {"INCIDENTCTL_JOURNAL": str(real)}
    code, out, err = _run(["incident", "declare", "-t", "checkout totally broken", "-s", "P1"], env=env, cwd=home)
    assert code == 0, out + err
    before = _snapshot(real)
    bogus = home / "nowhere" / "kubeconfig"
    tmp = root / "tmp"
    tmp.mkdir()
    env |= {"INCIDENTCTL_RUNBOOK": str(home / "runbook.yaml"), "KUBECONFIG": str(bogus), "TMPDIR": str(tmp)}
    args = ["demo", "--scenario", scenario, "--runbook", str(home / "runbook.yaml"), "--kubeconfig", str(bogus)]
    code, out, err = _run([*args, "--context", "production", "-n", "nosuch"], env=env, cwd=home)
    made = sorted(tmp.glob("incidentctl-demo-*"))
    assert len(made) == 1, (made, out, err)
    return Played(scenario, code, out, err, str(made[0]), before, _snapshot(real))


@pytest.fixture(scope="module")
def played(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Played:
    """The demo of ``request.param``, played once for every test and every pytest-xdist worker."""
    scenario: str = request.param
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    root = shared / f"demo-{scenario}"
    record = shared / f"demo-{scenario}.json"
    with FileLock(str(shared / f"demo-{scenario}.lock")):
        if record.is_file():
            return Played(**json.loads(record.read_text(encoding="utf-8")))
        result = _play(scenario, root)
        record.write_text(json.dumps(asdict(result)), encoding="utf-8")
        return result


def _root_cause(document: str) -> str:
    """The post-mortem's Root Cause section without the line that names the fix (a fix is not a cause)."""
    section = document.split("\n## Root Cause\n", 1)[1].split("\n## ", 1)[0]
    return "\n".join(line for line in section.splitlines() if not line.startswith("- Fixed by:"))


@pytest.mark.parametrize("played", list(SCENARIOS), indirect=True)
def test_every_scenario_plays_to_the_end_on_its_own_folder_whatever_the_environment_names(played: Played) -> None:
    assert played.exit_code == 0, played.stdout + played.stderr
    assert played.real_after == played.real_before
    out = played.stdout
    assert f"The demo's folder: {played.folder}" in out
    # the sandbox is gone: its kubeconfig with it, and the runbook left behind says so
    assert not (played.path / "kubeconfig").exists()
    assert "the sandbox cluster was stopped" in (played.path / "runbook.yaml").read_text(encoding="utf-8")
    assert "is stopped" in out
    incidents = played.incidents()
    if played.scenario == "healthy":
        assert incidents == []
        assert "nothing to declare" in out
        assert "$ incidentctl incident ack" not in out
        assert "No incident was declared, so there is no incident folder or post-mortem." in out
        assert not list(played.path.glob("*postmortem*"))
        return
    assert incidents == ["INC-2026-001"]
    incident = played.path / "incidents" / incidents[0]
    assert f"The incident's folder: {incident}" in out
    fix = SCENARIOS[played.scenario].fix
    assert fix, played.scenario
    # the scenario's own fix, through the real command, and the checks found it healthy afterwards
    assert f"$ incidentctl {shlex.join(fix)}\n" in out
    events = played.timeline(incidents[0])
    kinds = [e["kind"] for e in events]
    mitigation = [e for e in events if str(e["kind"]).startswith("mitigation_")]
    assert [e["kind"] for e in mitigation[-3:]] == ["mitigation_planned", "mitigation_applied", "mitigation_verified"]
    verified = mitigation[-1]["data"]
    assert isinstance(verified, dict)
    assert verified["healthy"] is True, verified
    assert any(line.startswith("verified: ") for line in out.splitlines()), out
    # then the status update, and the incident resolved after the verification
    assert kinds.index("mitigation_verified") < len(kinds) - 1 - kinds[::-1].index("messages_queued")
    resolved = [e for e in events if e["kind"] == "status_changed" and e["data"]["to"] == "resolved"]  # type: ignore[index]
    assert len(resolved) == 1
    assert kinds.index("mitigation_verified") < events.index(resolved[0])
    # the post-mortem it leaves names the cause, from what the tool recorded
    postmortem = played.path / f"{incidents[0]}-postmortem.md"
    assert f"The post-mortem: {postmortem}" in out
    cause = _root_cause(postmortem.read_text(encoding="utf-8")).lower()
    for group in CAUSES[played.scenario]:
        assert any(word in cause for word in group), (group, cause)
    if played.scenario == "total-outage":  # the deployment scaled to zero: its replicas, 0
        assert re.search(r"(scaled|replicas)\D{0,40}\b0\b|\b0\b\D{0,40}(scaled|replicas)", cause), cause


#: Each step's heading: the runbook's section (as the seed runbook titles it) and the lines it replaces.
STEPS = [
    ("Detect", "Incident Response Procedures 1.1 Incident Detection", "kubectl get pods -n sarvanom-production"),
    ("Triage and declare", "Incident Response Procedures 1.2 Incident Triage", "./scripts/determine_severity.sh"),
    ("Tell people", "Incident Response Procedures 1.3 Initial Communication", "./scripts/create_incident_channel.sh"),
    ("Acknowledge", "Incident Classification 1.1 Critical (P1) to 1.4 Low (P4)", "Response Time"),
    ("Investigate", "Incident Response Procedures 2.1 System Analysis", "kubectl top pods -n sarvanom-production"),
    ("Mitigate", "Incident Response Procedures 3.3 Permanent Fix", "kubectl rollout undo deployment/synthesis"),
    ("Verify", "Incident Response Procedures 3.3 Permanent Fix", "./scripts/verify_fix.sh"),
    ("Status update", "Incident Response Procedures 4.1 Status Updates", "./scripts/send_status_update.sh"),
    ("Escalation check", "Escalation Procedures 2.1 Automatic Escalation", "Escalation Procedures 2.2"),
    ("Resolve", "Incident Communication 2.3 Resolution Notification", "./scripts/update_incident_status.sh"),
    ("Post-mortem", "Post-Incident Analysis 1.1 Immediate Review", "./scripts/generate_incident_timeline.sh"),
    ("Report", "Incident Metrics 2.1 Daily Reports", "Incident Metrics 1.1 Response Metrics"),
]


@pytest.mark.parametrize("played", ["bad-deploy"], indirect=True)
def test_the_steps_follow_the_runbook_each_under_the_section_it_replaces(played: Played) -> None:
    out = played.stdout
    numbered = [name for name, _section, _line in STEPS if name != "Verify"]
    headings = [out.index(f"Step {n}/{len(numbered)}: {name} ─") for n, name in enumerate(numbered, 1)]
    assert headings == sorted(headings), out
    replaces = [line for line in out.splitlines() if line.startswith("replaces: ")]
    for name, section, line in STEPS:
        assert any(section in said and line in said for said in replaces), (name, section, line, replaces)
    commands = [
        "$ incidentctl detect\n",
        "$ incidentctl triage --declare\n",
        "$ incidentctl communicate send initial INC-2026-001\n",
        "$ incidentctl incident ack INC-2026-001\n",
        "$ incidentctl investigate\n",
        "$ incidentctl mitigate rollback synthesis\n",
        "Verify: the rollout awaited",
        "$ incidentctl communicate send update INC-2026-001 --update",
        "$ incidentctl escalate check INC-2026-001\n",
        "$ incidentctl incident status INC-2026-001 resolved",
        "$ incidentctl communicate send resolution INC-2026-001\n",
        "$ incidentctl postmortem draft INC-2026-001 --file",
        "$ incidentctl report daily\n",
    ]
    where = [out.index(c) for c in commands]
    assert where == sorted(where), out


@pytest.mark.parametrize("played", ["db-outage"], indirect=True)
def test_demo_runs_the_flow_and_leaves_a_journal(played: Played) -> None:
    out = played.stdout
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
    kinds = [e["kind"] for e in played.timeline("INC-2026-001")]
    # the messages' own events (claimed, sent, failed) are the channels' story, told in the tests below
    assert [k for k in kinds if not str(k).startswith("message_")] == [
        "declared",
        "triaged",
        "messages_queued",
        "acknowledged",
        "evidence_collected",
        "mitigation_planned",
        "mitigation_applied",
        "mitigation_verified",
        "messages_queued",
        "status_changed",
        "messages_queued",
        "postmortem_drafted",
    ]
    assert list((played.path / "incidents" / "INC-2026-001" / "evidence").glob("*-all/datastores/checks.json"))
    # the flow ends with the resolution, the post-mortem (left for the reader) and a short report
    document = (played.path / "INC-2026-001-postmortem.md").read_text(encoding="utf-8")
    assert "\n# Post-Mortem: " in document
    assert "```mermaid" in document
    for text in ("declared P2 High", "triaged: P2", "→ resolved"):
        assert text in document, text
    assert "$ incidentctl report daily" in out
    # the report's tables wrap a metric's name to the terminal's width (its abbreviation may go to the next line)
    assert "Mean Time to Resolution" in " ".join(out.split())
    assert "(MTTR)" in out
    assert (played.path / "runbook.yaml").is_file()


@pytest.mark.parametrize("played", ["memory-leak"], indirect=True)
def test_demo_mitigates_with_the_plan_shown_confirms_on_screen_and_verifies(played: Played) -> None:
    out, err = played.stdout, played.stderr
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
    timeline = (played.path / "INC-2026-001-postmortem.md").read_text(encoding="utf-8")
    for text in (f"mitigation {action} planned: restart deployment/retrieval", f"mitigation {action} applied"):
        assert text in timeline, text
    assert f"mitigation {action} verified" in timeline


@pytest.mark.parametrize("played", ["bad-config"], indirect=True)
def test_bad_config_is_fixed_by_the_sandboxs_hotfix_manifest(played: Played) -> None:
    assert "$ incidentctl mitigate apply\n" in played.stdout
    assert "configmap/synthesis-config" in played.stderr
    assert "    +  LLM_TIMEOUT_SECONDS: '30'" in played.stderr
    assert "verified: " in played.stdout


@pytest.mark.parametrize("played", ["total-outage"], indirect=True)
def test_demo_tells_people_after_the_declaration_and_updates_them_after_the_mitigation(played: Played) -> None:
    out = played.stdout
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
    queued = [e["data"] for e in played.timeline("INC-2026-001") if e["kind"] == "messages_queued"]
    # a P1 tells everyone the runbook's severity names, the update after the fix included
    channels = [sorted(m["channel"] for m in batch["messages"]) for batch in queued]  # type: ignore[index]
    assert channels == [["email", "pagerduty", "slack", "status-page"]] * 3
    assert "mitigate scale gateway=3" in json.dumps(queued[1])


@pytest.mark.parametrize("played", ["total-outage"], indirect=True)
def test_demo_delivers_to_the_sandboxs_channels(played: Played) -> None:
    """End to end through the real channel clients: the incident channel with its status message edited in place
    by the update, the status-page incident, the page, and the email in the file channel's folder."""
    out = played.stdout
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
    assert len(list((played.path / "outbox" / "email").iterdir())) == 3


def test_demo_refuses_machine_output_and_unknown_scenarios(invoke: Invoke) -> None:
    machine = invoke(["demo", "-o", "json"])
    assert machine.exit_code == 2
    assert "the demo is for people" in machine.stderr
    unknown = invoke(["demo", "--scenario", "meteor"])
    assert unknown.exit_code == 2
    assert "unknown scenario 'meteor'" in unknown.stderr


def _keep_targets(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    full = tmp_path / "full"
    full.mkdir()
    (full / "notes.txt").write_text("mine\n")
    yield full, "is not empty"
    file = tmp_path / "file.txt"
    file.write_text("mine\n")
    yield file, "is not a folder"
    to_file = tmp_path / "to-file"
    to_file.symlink_to(file)
    yield to_file, "is not a folder"
    to_full = tmp_path / "to-full"
    to_full.symlink_to(full)
    yield to_full, "is not empty"
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "gone")
    yield dangling, "is a symlink to nothing"
    yield file / "below", "cannot be made"


def test_demo_keep_refuses_what_is_not_a_new_or_empty_folder(invoke: Invoke, tmp_path: Path) -> None:
    for keep, said in list(_keep_targets(tmp_path)):
        made = _snapshot(tmp_path)
        result = invoke(["demo", "--keep", str(keep)])
        assert result.exit_code == 2, (keep, result.output)
        assert said in result.stderr, (keep, result.stderr)
        assert f"--keep {keep}" in result.stderr
        assert result.stderr.count("error:") == 1, result.stderr
        assert "Traceback" not in result.output
        assert _snapshot(tmp_path) == made


def _sandbox_stopped(out: str) -> None:
    url = re.search(r"sandbox cluster (http://127\.0\.0\.1:\d+)", out)
    assert url, out
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url.group(1)}/version", timeout=5)


def test_demo_keep_leaves_everything_in_the_folder_named(invoke: Invoke, tmp_path: Path) -> None:
    keep = tmp_path / "demo"
    result = invoke(["demo", "--scenario", "healthy", "--keep", str(keep)])
    assert result.exit_code == 0, result.output
    assert f"The demo's folder: {keep}" in result.stdout
    assert (keep / "runbook.yaml").is_file()
    assert (keep / "secrets").is_dir()
    assert not (keep / "kubeconfig").exists()
    _sandbox_stopped(result.stdout)


class Answers:
    """The responder at --step's pauses: yes for the first ``runs`` steps, then q."""

    def __init__(self, runs: int) -> None:
        self.runs = runs
        self.asked: list[str] = []

    def __call__(self, question: str) -> bool:
        self.asked.append(question)
        return len(self.asked) <= self.runs


def test_step_pauses_before_each_step_and_q_ends_the_demo_cleanly(invoke: Invoke, tmp_path: Path) -> None:
    answers = Answers(runs=2)
    keep = tmp_path / "demo"
    result = invoke(
        ["demo", "--step", "--scenario", "bad-deploy", "--keep", str(keep)], state=AppState(confirm=answers)
    )
    assert result.exit_code == 0, result.output
    assert [q.split(":")[0] for q in answers.asked] == ["Step 1/11", "Step 2/11", "Step 3/11"]
    assert "Tell people" in answers.asked[2]
    out = result.stdout
    assert "$ incidentctl detect\n" in out
    assert "$ incidentctl triage --declare\n" in out
    assert "$ incidentctl communicate" not in out
    assert "stopped before step 3 (Tell people)" in out
    # the folders are still printed: the incident was declared, no post-mortem drafted
    assert f"The incident's folder: {keep / 'incidents' / 'INC-2026-001'}" in out
    assert "No post-mortem was drafted" in out
    _sandbox_stopped(out)


def test_step_without_a_terminal_says_so_once_and_runs_on(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke(["demo", "--step", "--scenario", "healthy", "--keep", str(tmp_path / "demo")], input="q\n")
    assert result.exit_code == 0, result.output
    assert result.stderr.count("does not pause") == 1, result.stderr
    assert "$ incidentctl triage --declare" in result.stdout
    assert "stopped before" not in result.stdout


def test_step_on_a_real_terminal_runs_on_enter_and_stops_on_q(tmp_path: Path) -> None:
    """Through a pseudo-terminal, as a person at a terminal runs it: Enter runs the step, q ends the demo."""
    import pty

    keep = tmp_path / "demo"
    primary, secondary = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("INCIDENTCTL_") and k != "KUBECONFIG"}
    env |= {"PYTHONPATH": str(REPO / "src"), "NO_COLOR": "1", "COLUMNS": "100", "TERM": "dumb"}
    cmd = [sys.executable, "-m", "incidentctl", "demo", "--step", "--scenario", "healthy", "--keep", str(keep)]
    proc = subprocess.Popen(cmd, stdin=secondary, stdout=secondary, stderr=secondary, env=env, cwd=tmp_path)
    os.close(secondary)
    seen = b""
    replies = [b"\n", b"q\n"]
    try:
        while True:
            ready, _, _ = select.select([primary], [], [], 120)
            assert ready, f"the demo stopped answering: {seen.decode(errors='replace')}"  # a hang, not a time limit
            try:
                chunk = os.read(primary, 4096)
            except OSError:  # the demo exited and closed the terminal
                break
            if not chunk:
                break
            seen += chunk
            if replies and seen.count(b"Enter runs it, q stops") > 2 - len(replies):
                os.write(primary, replies.pop(0))
    finally:
        os.close(primary)
        code = proc.wait()
    text = seen.decode(errors="replace").replace("\r\n", "\n")
    assert code == 0, text
    assert text.count("Enter runs it, q stops") == 2, text
    assert "$ incidentctl detect" in text
    assert "$ incidentctl triage" not in text
    assert "stopped before step 2" in text
    assert f"The demo's folder: {keep}" in text


def test_ctrl_c_in_the_middle_of_a_step_stops_the_sandbox_and_leaves_the_folder(invoke: Invoke, tmp_path: Path) -> None:
    keep = tmp_path / "demo"

    def interrupted(_seconds: float) -> None:
        if list((keep / "incidents").glob("INC-*/timeline.jsonl")):  # once the incident is declared
            raise KeyboardInterrupt

    result = invoke(["demo", "--scenario", "bad-deploy", "--keep", str(keep)], state=AppState(sleep=interrupted))
    assert result.exit_code == 130, result.output
    assert "Traceback" not in result.output
    assert "interrupted" in result.stderr
    assert f"The demo's folder: {keep}" in result.stdout
    assert f"The incident's folder: {keep / 'incidents' / 'INC-2026-001'}" in result.stdout
    assert (keep / "incidents" / "INC-2026-001" / "timeline.jsonl").is_file()
    assert "$ incidentctl postmortem" not in result.stdout
    _sandbox_stopped(result.stdout)


def test_ctrl_c_reaches_the_demo_as_a_signal(tmp_path: Path) -> None:
    """A real SIGINT while a step runs: exit 130, the folder left and named."""
    keep = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if not k.startswith("INCIDENTCTL_") and k != "KUBECONFIG"}
    env |= {"PYTHONPATH": str(REPO / "src"), "NO_COLOR": "1"}
    cmd = [sys.executable, "-m", "incidentctl", "demo", "--scenario", "bad-deploy", "--keep", str(keep)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path, text=True)
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("$ incidentctl investigate"):
            proc.send_signal(signal.SIGINT)
            break
    rest, err = proc.communicate()
    out = "".join(lines) + rest
    assert proc.returncode == 130, out + err
    assert "Traceback" not in err
    assert f"The demo's folder: {keep}" in out
    assert (keep / "incidents" / "INC-2026-001" / "timeline.jsonl").is_file()
