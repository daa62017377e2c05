"""``incidentctl investigate changes`` against every sandbox scenario: the suspect where a change is the cause (the
bad revision with its image and diff, the ConfigMap write), none elsewhere, the history as real kubectl counts it,
and no suspect on missing evidence."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from tests.conftest import Invoke
from tests.phases.conftest import Site
from tests.phases.test_output_schemas import valid
from typer.testing import Result

from incidentctl.cli.state import AppState
from incidentctl.sandbox.scenarios import SCENARIOS
from incidentctl.sandbox.testing import kubectl_for

BAD_IMAGE = "registry.sarvanom.com/sarvanom/synthesis:2.5.0"
GOOD_IMAGE = "registry.sarvanom.com/sarvanom/synthesis:2.4.3"


def changes(invoke: Invoke, site: Site, *args: str) -> Result:
    """The command on the sandbox's own clock (it may have been moved past the wall clock)."""
    return invoke(site.args("investigate", "changes", *args), state=AppState(clock=site.sandbox.now))


def data_of(result: Result) -> dict[str, Any]:
    assert "Traceback" not in result.output, result.output
    doc: dict[str, Any] = valid(json.loads(result.stdout), "InvestigateChanges")
    return doc["data"]  # type: ignore[no-any-return]


def history(data: dict[str, Any], component: str) -> dict[str, Any]:
    found: dict[str, Any] = next(h for h in data["histories"] if h["component"] == component)
    return found


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_every_scenario_names_its_change_or_none(invoke: Invoke, site_for: Callable[..., Site], scenario: str) -> None:
    result = changes(invoke, site_for(scenario), "-o", "json")
    data = data_of(result)
    for component in ("gateway", "retrieval", "synthesis"):
        revisions = history(data, component)["revisions"]
        assert len(revisions) >= 3
        assert all(r["changeCause"] and r["who"] and r["created"] for r in revisions), revisions
        assert sum(r["current"] for r in revisions) == 1
    for datastore in ("postgres", "redis"):
        assert history(data, datastore)["available"] is False
        assert "history not available" in history(data, datastore)["note"]
    suspect = data["suspect"]
    if scenario in ("healthy", "credential-stuffing"):  # failed logins are no 5xx: no onset of errors
        assert data["onset"] is None
        assert suspect is None
        assert data["reason"] == "no onset of errors was seen, so no change is named"
        assert result.exit_code == 0, result.output
        return
    assert data["onset"] is not None, data["onsets"]
    assert result.exit_code == (3 if suspect is not None else 0), "exit 3 when a change is suspect"
    if scenario == "bad-deploy":
        assert suspect["kind"] == "rollout"
        assert (suspect["component"], suspect["revision"], suspect["previousRevision"]) == ("synthesis", 4, 3)
        assert suspect["images"] == [{"container": "synthesis", "image": BAD_IMAGE}]
        assert suspect["changeCause"] == "deploy synthesis 2.5.0: faster tokenizer (tokenizers 0.22)"
        assert suspect["who"] == "jonas.weber"
        assert suspect["differences"] == [
            {"container": "synthesis", "field": "image", "key": None, "before": GOOD_IMAGE, "after": BAD_IMAGE}
        ]
        assert suspect["time"] <= suspect["onset"]
        assert re.fullmatch(
            r"synthesis revision 4, image synthesis:2\.5\.0, rolled out \d\d:\d\d; errors began \d\d:\d\d",
            data["summary"],
        )
    elif scenario == "bad-config":
        assert suspect["kind"] == "config"
        assert (suspect["configmap"], suspect["usedBy"], suspect["who"]) == (
            "synthesis-config",
            ["synthesis"],
            "kubectl-edit",
        )
        assert suspect["differences"] == [
            {"container": None, "field": "data", "key": "LLM_TIMEOUT_SECONDS", "before": None, "after": "2"}
        ]
        config = next(c for c in data["configs"] if c["name"] == "synthesis-config")
        assert config["timeSource"] == "managedFields"
        assert config["time"] == suspect["time"]
    elif scenario == "total-outage":  # a cleanup job scaled the gateway to zero
        assert (suspect["kind"], suspect["deployment"], suspect["replicas"]) == ("scale", "gateway", 0)
    else:
        assert suspect is None, suspect
        assert data["reason"] == "no rollout, scale-down or ConfigMap change in the 1h before the onset"


def test_the_history_is_what_kubectl_rollout_history_shows(
    invoke: Invoke, site_for: Callable[..., Site], tmp_path: Any
) -> None:
    site = site_for("bad-deploy")
    k = kubectl_for(site.sandbox, tmp_path)
    data = data_of(changes(invoke, site, "-o", "json"))
    for component in ("gateway", "retrieval", "synthesis"):
        shown = k("rollout", "history", f"deployment/{component}", "-n", "sarvanom-production")
        assert shown.returncode == 0, shown.stderr
        rows = [re.split(r"\s{2,}", line.strip(), maxsplit=1) for line in shown.stdout.splitlines()[2:] if line]
        ours = [[str(r["revision"]), r["changeCause"] or "<none>"] for r in history(data, component)["revisions"]]
        assert ours == rows
    bad = k("rollout", "history", "deployment/synthesis", "--revision=4", "-n", "sarvanom-production").stdout
    assert f"Image:\t{BAD_IMAGE}" in bad


def test_the_terminal_shows_the_suspect_its_diff_and_one_time_axis(
    invoke: Invoke, site_for: Callable[..., Site]
) -> None:
    result = changes(invoke, site_for("bad-deploy"))
    assert result.exit_code == 3, result.output
    out = result.stdout
    assert "SUSPECT synthesis revision 4, image synthesis:2.5.0, rolled out" in out
    assert f"synthesis image: {GOOD_IMAGE} -> {BAD_IMAGE}" in out
    axis = out[out.index("Time axis (UTC)") :].splitlines()[1:4]
    assert "rollout" in axis[0]
    assert axis[0].endswith("<- suspect")
    assert any(" 5xx " in line for line in axis)
    assert any(" crash " in line for line in axis)


def test_a_responders_config_change_after_the_onset_is_on_the_axis_but_not_the_suspect(
    invoke: Invoke, site_for: Callable[..., Site], tmp_path: Any
) -> None:
    site = site_for("dependency-outage")
    k = kubectl_for(site.sandbox, tmp_path)
    patched = k(
        "patch", "configmap", "synthesis-config", "-n", "sarvanom-production", "--type=merge", "-p",
        '{"data":{"CIRCUIT_BREAKER":"open"}}',
    )  # fmt: skip
    assert patched.returncode == 0, patched.stderr
    site.sandbox.advance(60)
    data = data_of(changes(invoke, site, "-o", "json"))
    config = next(c for c in data["configs"] if c["name"] == "synthesis-config")
    assert config["manager"] == "kubectl-patch"
    assert config["written"] == [{"key": "CIRCUIT_BREAKER", "value": "open"}]
    assert config["time"] > data["onset"]["time"]
    assert data["suspect"] is None


def test_an_onset_passed_in_is_on_the_axis_and_can_name_a_suspect(
    invoke: Invoke, site_for: Callable[..., Site]
) -> None:
    site = site_for("healthy")
    data = data_of(changes(invoke, site, "--onset", "1m", "--window", "5d", "-o", "json"))
    assert data["onset"]["kind"] == "errors"
    suspect = data["suspect"]
    assert (suspect["component"], suspect["revision"]) == ("gateway", 4), "gateway 1.14.2, 4 days ago"
    assert [d["field"] for d in suspect["differences"]] == ["image"]
    narrow = data_of(changes(invoke, site, "--onset", "1m", "-o", "json"))
    assert narrow["suspect"] is None


def test_prometheus_down_is_said_and_the_crash_still_dates_the_onset(
    invoke: Invoke, site_for: Callable[..., Site]
) -> None:
    site = site_for("bad-deploy")
    site.sandbox.faults.errors(503, target="prometheus")
    result = changes(invoke, site, "-o", "json")
    data = data_of(result)
    five_xx = next(o for o in data["onsets"] if o["kind"] == "5xx")
    assert five_xx["time"] is None
    assert five_xx["unreadable"] is True
    assert any("error_rate" in p for p in data["problems"])
    assert data["onset"]["kind"] == "crash"
    assert data["suspect"]["revision"] == 4
    assert result.exit_code == 3


def test_unreadable_history_names_no_suspect_and_says_so(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("bad-deploy")
    site.sandbox.faults.forbid("list", "replicasets")
    result = changes(invoke, site, "-o", "json")
    data = data_of(result)
    assert data["suspect"] is None
    assert all(not history(data, c)["available"] for c in ("gateway", "retrieval", "synthesis"))
    assert "could not read" in history(data, "synthesis")["note"]
    assert data["reason"].endswith("the rollout history of gateway, retrieval, synthesis could not be read")
    assert any(p.startswith("could not read replicasets") for p in data["problems"])
    assert result.exit_code == 3, "a look that could not see is never 'nothing changed'"


def test_a_cluster_that_cannot_be_reached_is_one_line_and_exit_4(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    site.sandbox.stop()
    result = changes(invoke, site)
    assert result.exit_code == 4, result.output
    assert "Traceback" not in result.output
    assert result.stderr.count("error:") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nosuch"], "unknown component 'nosuch'"),
        (["--since", "soon"], "--since:"),
        (["--window", "0s"], "--window: must be longer than 0s"),
        (["--onset", "yesterday-ish"], "--onset:"),
    ],
)
def test_bad_arguments_are_usage_errors(
    invoke: Invoke, site_for: Callable[..., Site], args: list[str], message: str
) -> None:
    result = changes(invoke, site_for("healthy"), *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_the_result_is_a_section_the_umbrella_can_rank_and_keep(site_for: Callable[..., Site]) -> None:
    """The suspect is a SUSPECT_CHANGE finding; the evidence is the history and the diff as JSON."""
    import io

    from incidentctl.phases.investigate.base import Rank, Section
    from incidentctl.phases.investigate.changes import ChangesRequest, run_changes

    site = site_for("bad-deploy")
    state = AppState(runbook_path=site.runbook, kubeconfig=str(site.kubeconfig), clock=site.sandbox.now, env={})
    result = run_changes(state.phase_context(), ChangesRequest(components=("synthesis",)))
    section: Section = result
    assert section.exit_code == 3
    [finding] = section.findings()
    assert finding.rank is Rank.SUSPECT_CHANGE
    assert finding.problem
    assert finding.text.startswith("synthesis revision 4, image synthesis:2.5.0, rolled out ")
    files = {}
    for evidence in section.evidence():
        out = io.BytesIO()
        evidence.write(out)
        files[evidence.path] = json.loads(out.getvalue())
    assert set(files) == {"changes/history.json", "changes/suspect.json"}
    [synthesis] = [h for h in files["changes/history.json"]["histories"] if h["component"] == "synthesis"]
    assert [r["revision"] for r in synthesis["revisions"]] == [1, 2, 3, 4]
    assert files["changes/suspect.json"]["suspect"]["differences"][0]["after"] == BAD_IMAGE


def test_cluster_text_reaches_the_terminal_without_its_escape_sequences(
    invoke: Invoke, site_for: Callable[..., Site], tmp_path: Any
) -> None:
    site = site_for("healthy")
    k = kubectl_for(site.sandbox, tmp_path)
    cause = "kubernetes.io/change-cause=deploy \x1b[2J\x1b]0;owned\x07gateway 1.14.0\rhidden"
    assert k("annotate", "deployment/gateway", "--overwrite", cause).returncode == 0
    image = "gateway=registry.sarvanom.com/sarvanom/gateway:1.14.0"
    assert k("set", "image", "deployment/gateway", image).returncode == 0
    site.sandbox.advance(120)
    result = changes(invoke, site, "--onset", "0s")
    assert result.exit_code == 3, result.output
    assert "\x1b" not in result.stdout
    assert "\x07" not in result.stdout
    assert "\r" not in result.stdout
    assert "gateway revision 5, image gateway:1.14.0" in result.stdout


def test_a_re_rollout_of_an_old_template_is_dated_by_its_write_not_its_old_replicaset(
    invoke: Invoke, site_for: Callable[..., Site], tmp_path: Any
) -> None:
    """``set image`` back to 1.14.0 (or ``rollout undo``) reuses revision 3's ReplicaSet, created 12 days ago:
    the rollout is dated by the Deployment's managedFields write of its pod template."""
    site = site_for("healthy")
    k = kubectl_for(site.sandbox, tmp_path)
    site.sandbox.advance(60)
    rolled = site.sandbox.now()
    undone = k("rollout", "undo", "deployment/gateway")
    assert undone.returncode == 0, undone.stderr
    site.sandbox.advance(120)
    data = data_of(changes(invoke, site, "--onset", "0s", "-o", "json"))
    current = next(r for r in history(data, "gateway")["revisions"] if r["current"])
    assert current["revision"] == 5
    # the annotations are revision 3's own (lena.okafor's 1.14.0); who rolled it out again is the undo's writer
    assert (current["timeSource"], current["who"], current["whoSource"]) == (
        "managedFields",
        "kubectl",
        "managedFields",
    )
    assert current["created"] == rolled.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (data["suspect"]["component"], data["suspect"]["revision"]) == ("gateway", 5)
