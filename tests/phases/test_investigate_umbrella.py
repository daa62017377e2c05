"""`investigate` with no subcommand against the sandbox: every view at once, findings ranked with problems first,
the worst view's exit code, a view that could not look said as a problem, and the evidence kept in the open
incident (redacted) with one event in its timeline, or a note once when there is nowhere to keep it."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from tests.conftest import RUNBOOK, Invoke
from tests.phases.conftest import Site, run
from tests.phases.test_investigate_errors_sandbox import FAULTS
from typer.testing import CliRunner

from incidentctl.cli.app import app
from incidentctl.cli.state import AppState
from incidentctl.phases.investigate.base import Finding, Rank
from incidentctl.phases.investigate.run import VIEWS, InvestigateResult, ViewOutcome, worst_exit

T0 = datetime(2026, 3, 14, 14, 30, tzinfo=timezone.utc)
SECRET = "T0KEN-w3bhook-5ecret"


def _doc(result: Any) -> dict[str, Any]:
    doc = json.loads(result.stdout)
    assert doc["kind"] == "Investigate", doc
    schema = json.loads(CliRunner().invoke(app, ["schema", "output", "Investigate"], obj=AppState()).stdout)
    jsonschema.Draft202012Validator(schema).validate(doc)
    return doc["data"]  # type: ignore[no-any-return]


def _declare(invoke: Invoke, site: Site, env: dict[str, str] | None = None) -> str:
    result = invoke(site.args("triage", "--declare", "-o", "json"), env=env)
    assert result.exit_code in (0, 3), result.output
    incident: str = json.loads(result.stdout)["data"]["incident"]
    assert incident
    return incident


def test_every_view_on_the_branch_runs_and_a_healthy_cluster_exits_0(
    invoke: Invoke, site_for: Callable[..., Site]
) -> None:
    site = site_for("healthy")
    result = run(invoke, site, "investigate", "-o", "json")
    assert result.exit_code == 0, result.output
    data = _doc(result)
    assert [v["name"] for v in data["views"]] == [v.name for v in VIEWS]
    assert all(v["exitCode"] == 0 and v["error"] is None for v in data["views"])
    assert data["datastores"]["health"] == "ok"
    assert data["dependencies"]["health"] == "ok"
    assert data["findings"]
    assert not any(f["problem"] for f in data["findings"])


#: scenario -> (rank, words) of a problem the summary must show, besides the fault's NEW error templates
NAMED = {
    "bad-deploy": ("suspect_change", "synthesis revision 4, image synthesis:2.5.0"),
    "bad-config": ("suspect_change", "configmap synthesis-config (used by synthesis) changed"),
    "db-outage": ("datastores", "postgres DOWN"),
    "dependency-outage": ("dependencies", "openai DOWN"),
    "memory-leak": ("crashes", "OOMKilled"),
    "traffic-spike": ("resource_pressure", "throttled"),
    "cache-corruption": ("new_errors", "NEW error template"),
}


@pytest.mark.parametrize("scenario", sorted(NAMED))
def test_every_scenario_is_named_with_its_new_templates_ranked_first(
    invoke: Invoke, site_for: Callable[..., Site], scenario: str
) -> None:
    site = site_for(scenario)
    result = run(invoke, site, "investigate", "-o", "json")
    assert result.exit_code == 3, result.output
    data = _doc(result)
    assert all(v["error"] is None for v in data["views"]), data["views"]
    problems = [f for f in data["findings"] if f["problem"]]
    rank, words = NAMED[scenario]
    assert any(f["rank"] == rank and words in f["text"] for f in problems), problems
    new = [t["pattern"] for t in data["errors"]["templates"] if t["status"] == "new"]
    for fault in FAULTS.get(scenario, []):
        assert any(fault in pattern for pattern in new), f"{scenario}: no NEW template with {fault!r}"
    if scenario in FAULTS:
        assert any(f["rank"] == "new_errors" for f in problems)
    flags = [f["problem"] for f in data["findings"]]
    assert flags == sorted(flags, reverse=True)  # every problem before anything fine
    ranks = [list(Rank.__members__).index(f["rank"].upper()) for f in problems]
    assert ranks == sorted(ranks)  # the suspect change first, then NEW templates, crashes, ...
    if rank == "suspect_change":
        assert problems[0]["text"].startswith(words.split(" (")[0])


def test_the_summary_table_fits_the_screen_and_leads_with_the_problem(
    invoke: Invoke, site_for: Callable[..., Site]
) -> None:
    site = site_for("db-outage")
    result = run(invoke, site, "investigate")
    assert result.exit_code == 3, result.output
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    names = ", ".join(v.name for v in VIEWS)
    assert re.match(rf"\d+ problem\(s\) found \({names}; ", lines[0]), lines[0]
    marks = [line[0] for line in lines[1:]]
    assert marks == sorted(marks, key=lambda m: m != "!")  # problems first
    assert any(line.startswith("! datastores: postgres DOWN") for line in lines)


def test_findings_sort_problems_first_then_by_rank_and_a_failed_view_is_a_problem() -> None:
    class Fake:
        def __init__(self, code: int, *found: Finding) -> None:
            self.exit_code, self._found = code, found

        def findings(self) -> list[Finding]:
            return list(self._found)

        def evidence(self) -> list[Any]:
            return []

    outcomes = (
        ViewOutcome("dependencies", Rank.DEPENDENCIES, Fake(3, Finding(Rank.DEPENDENCIES, "openai DOWN"))),
        ViewOutcome("datastores", Rank.DATASTORES, Fake(0, Finding(Rank.DATASTORES, "redis OK", problem=False))),
        ViewOutcome("changes", Rank.SUSPECT_CHANGE, Fake(3, Finding(Rank.SUSPECT_CHANGE, "synthesis rev 5"))),
        ViewOutcome("resources", Rank.RESOURCE_PRESSURE, error="metrics API absent", error_code=4),
    )
    result = InvestigateResult(outcomes, T0, T0)
    assert [(f.rank, f.problem) for f in result.findings()] == [
        (Rank.SUSPECT_CHANGE, True),
        (Rank.RESOURCE_PRESSURE, True),
        (Rank.DEPENDENCIES, True),
        (Rank.DATASTORES, False),
    ]
    assert result.findings()[1].text == "resources: could not look: metrics API absent"
    assert result.exit_code == 4


class Found:
    """A view's result as the umbrella sees it."""

    def __init__(self, code: int, *found: Finding) -> None:
        self.exit_code, self._found = code, found

    def findings(self) -> list[Finding]:
        return list(self._found)

    def evidence(self) -> list[Any]:
        return []


def test_a_view_that_needs_another_gets_its_result_and_a_failing_view_is_a_problem(tmp_path: Path) -> None:
    from tests.phases.contexts import phase_context

    from incidentctl.journal.store import Journal
    from incidentctl.phases.investigate.run import InvestigateRequest, View, run_investigate
    from incidentctl.phases.investigate.saving import NO_SAVE
    from incidentctl.runbook.loader import load_runbook

    seen: dict[str, Any] = {}

    def errors(_ctx: Any, _done: Any) -> Found:
        return Found(3, Finding(Rank.NEW_ERRORS, "NEW: segfault in synthesis"))

    def changes(_ctx: Any, done: Any) -> Found:
        seen.update(done)
        return Found(0, Finding(Rank.SUSPECT_CHANGE, "no change before the onset", problem=False))

    def broken(_ctx: Any, _done: Any) -> Found:
        raise KeyError("a bug")

    views = (
        View("errors", Rank.NEW_ERRORS, errors),
        View("broken", Rank.CRASHES, broken),
        View("changes", Rank.SUSPECT_CHANGE, changes, needs=("errors", "broken")),
    )
    rb = load_runbook(RUNBOOK)
    ctx = phase_context(rb, Journal(tmp_path, clock=lambda: T0, actor="t"), lambda: T0)
    result = run_investigate(ctx, InvestigateRequest(evidence=NO_SAVE, views=views))
    assert set(seen) == {"errors"}  # the failed view is left out, and changes still ran
    assert [v.name for v in result.views] == ["errors", "broken", "changes"]
    assert [(f.rank, f.problem) for f in result.findings()] == [
        (Rank.NEW_ERRORS, True),
        (Rank.CRASHES, True),
        (Rank.SUSPECT_CHANGE, False),
    ]
    assert result.findings()[1].text == "broken: could not look: KeyError: 'a bug'"
    assert result.exit_code == 1  # a bug outranks what the other views found


@pytest.mark.parametrize(
    ("codes", "worst"),
    [([], 0), ([0, 0], 0), ([0, 3], 3), ([3, 4, 0], 4), ([4, 3], 4), ([3, 2], 2), ([4, 1], 1)],
)
def test_the_exit_code_is_the_worst_of_the_views(codes: list[int], worst: int) -> None:
    assert worst_exit(codes) == worst


def test_a_cluster_that_cannot_be_reached_is_a_view_that_could_not_look_exit_4(
    invoke: Invoke, site_for: Callable[..., Site], tmp_path: Path
) -> None:
    site = site_for("healthy")
    doc: dict[str, Any] = yaml.safe_load(site.kubeconfig.read_text())
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    for cluster in doc["clusters"]:
        cluster["cluster"]["server"] = f"http://127.0.0.1:{port}"
    dead = tmp_path / "dead-kubeconfig"
    dead.write_text(yaml.safe_dump(doc))
    result = invoke(["--runbook", str(site.runbook), "--kubeconfig", str(dead), "investigate", "-o", "json"])
    assert result.exit_code == 4, result.output
    data = _doc(result)
    assert data["findings"][0]["problem"] is True
    texts = [f["text"] for f in data["findings"] if f["problem"]]
    assert any(t.startswith("datastores: could not look: cannot reach the Kubernetes API") for t in texts), texts
    assert data["datastores"]["health"] == "unknown"
    assert "healthy" not in result.stdout
    assert data["dependencies"]["health"] == "ok"  # the other view still looked


def _plant_secret(site: Site) -> dict[str, str]:
    """A runbook secret this run never uses (the Slack webhook), quoted in a dependency's URL path: only the
    runbook's secrets tell that it is one."""
    rb = yaml.safe_load(site.runbook.read_text())
    rb["dependencies"][1]["check"]["url"] += f"/{SECRET}"
    site.runbook.write_text(yaml.safe_dump(rb, sort_keys=False))
    return {"INCIDENTCTL_SLACK_WEBHOOK_URL": SECRET}


def test_evidence_is_kept_in_the_open_incident_redacted_with_one_event(
    invoke: Invoke, site_for: Callable[..., Site]
) -> None:
    site = site_for("db-outage")
    env = _plant_secret(site)
    incident = _declare(invoke, site, env)
    result = invoke(site.args("investigate", "-o", "json"), env=env)
    assert result.exit_code == 3, result.output
    data = _doc(result)
    evidence = data["evidence"]
    assert (evidence["saved"], evidence["incident"]) == (True, incident)
    run_folder = site.journal / incident / evidence["folder"]
    assert run_folder.parent == site.journal / incident / "evidence"
    assert run_folder.name.endswith("-all")
    files = sorted(str(p.relative_to(run_folder)) for p in run_folder.rglob("*") if p.is_file())
    assert {"datastores/checks.json", "dependencies/checks.json", "errors/templates.json"} <= set(files)
    assert {f.split("/")[0] for f in files} == {
        "datastores",
        "dependencies",
        "errors",
        "changes",
        "logs",
        "resources",
        "events",
    }
    assert sorted(f["path"] for f in evidence["files"]) == files
    kept = json.loads((run_folder / "datastores" / "checks.json").read_text())
    postgres = next(c for c in kept["checks"] if c["subject"] == "postgres")
    assert postgres["health"] == "down"
    assert "remaining connection slots" in postgres["summary"]
    for path in run_folder.rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text()
    assert "***" in (run_folder / "dependencies" / "checks.json").read_text()
    assert SECRET not in result.stdout
    assert SECRET not in result.stderr

    timeline = json.loads(invoke(site.args("incident", "timeline", incident, "-o", "json")).stdout)
    events = [e for e in timeline["data"]["events"] if e["kind"] == "evidence_collected"]
    assert len(events) == 1
    assert events[0]["data"]["folder"] == evidence["folder"]
    assert events[0]["data"]["files"] == len(files)
    assert events[0]["data"]["views"] == [v.name for v in VIEWS]
    assert SECRET not in json.dumps(timeline)
    table = invoke(site.args("incident", "timeline", incident))
    assert f"evidence collected: {len(files)} files ({', '.join(v.name for v in VIEWS)}) in " in table.stdout


def test_a_single_view_keeps_its_own_folder(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("dependency-outage")
    incident = _declare(invoke, site)
    result = run(invoke, site, "investigate", "dependencies")
    assert result.exit_code == 3, result.output
    (folder,) = (site.journal / incident / "evidence").iterdir()
    assert folder.name.endswith("-dependencies")
    assert (folder / "dependencies" / "checks.json").is_file()
    assert f"recorded in {incident}" in result.stderr


def test_with_no_open_incident_nothing_is_saved_and_it_is_said_once(
    invoke: Invoke, site_for: Callable[..., Site]
) -> None:
    site = site_for("db-outage")
    result = run(invoke, site, "investigate")
    assert result.exit_code == 3, result.output
    assert result.stderr.count("no open incident: evidence not saved") == 1
    assert not site.journal.exists() or not any(site.journal.glob("INC-*"))
    as_json = run(invoke, site, "investigate", "-o", "json")
    assert _doc(as_json)["evidence"]["saved"] is False
    assert "no open incident" in _doc(as_json)["evidence"]["note"]


def test_no_save_keeps_nothing_and_says_nothing(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("db-outage")
    incident = _declare(invoke, site)
    result = run(invoke, site, "investigate", "--no-save")
    assert result.exit_code == 3, result.output
    assert not (site.journal / incident / "evidence").exists()
    assert "evidence" not in result.stderr
    timeline = json.loads(invoke(site.args("incident", "timeline", incident, "-o", "json")).stdout)
    assert not [e for e in timeline["data"]["events"] if e["kind"] == "evidence_collected"]


def test_the_options_work_before_the_view_too(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("db-outage")
    incident = _declare(invoke, site)
    skipped = run(invoke, site, "investigate", "--no-save", "datastores")
    assert skipped.exit_code == 3, skipped.output
    assert not (site.journal / incident / "evidence").exists()
    refused = run(invoke, site, "investigate", "--incident", "INC-2026-999", "datastores")
    assert refused.exit_code == 2, refused.output


def test_incident_picks_one_of_several_open(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("db-outage")
    first = _declare(invoke, site)
    second = invoke(site.args("incident", "declare", "-t", "another outage", "-s", "P3", "-o", "json"))
    assert second.exit_code == 0, second.output
    ambiguous = run(invoke, site, "investigate")
    assert "2 incidents are open" in ambiguous.stderr
    assert "--incident" in ambiguous.stderr
    assert not (site.journal / first / "evidence").exists()
    picked = run(invoke, site, "investigate", "--incident", first)
    assert picked.exit_code == 3, picked.output
    assert (site.journal / first / "evidence").is_dir()


def test_an_unknown_incident_is_a_usage_error_after_the_results(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    result = run(invoke, site, "investigate", "--incident", "INC-2026-999")
    assert result.exit_code == 2, result.output
    assert "INC-2026-999 not found" in result.stderr


def test_a_linked_evidence_folder_is_refused_after_the_results_are_shown(
    invoke: Invoke, site_for: Callable[..., Site], tmp_path: Path
) -> None:
    site = site_for("db-outage")
    incident = _declare(invoke, site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (site.journal / incident / "evidence").symlink_to(elsewhere, target_is_directory=True)
    result = run(invoke, site, "investigate")
    assert result.exit_code == 2, result.output
    assert "postgres DOWN" in result.stdout  # what was seen is shown first
    assert "symbolic link" in result.stderr
    assert "Traceback" not in result.output
    assert list(elsewhere.iterdir()) == []


def test_the_summary_is_cut_to_the_screen_with_the_rest_counted() -> None:
    import io

    from rich.console import Console

    from incidentctl.render.investigate import summary_renderable

    class Many:
        exit_code = 3

        def findings(self) -> list[Finding]:
            return [Finding(Rank.DEPENDENCIES, f"dependency-{i} DOWN: refused") for i in range(30)]

        def evidence(self) -> list[Any]:
            return []

    result = InvestigateResult((ViewOutcome("dependencies", Rank.DEPENDENCIES, Many()),), T0, T0)
    out = io.StringIO()
    console = Console(file=out, width=80, height=12, color_system=None)
    console.print(summary_renderable(result, console.height, console.width))
    lines = out.getvalue().splitlines()
    assert len(lines) <= 12
    assert lines[0].startswith("30 problem(s) found")
    assert lines[2].startswith("! dependencies: dependency-0 DOWN")
    shown = sum(1 for line in lines if line.startswith("! "))
    assert lines[-1].startswith(f"… {30 - shown} more ({30 - shown} problem(s))")
