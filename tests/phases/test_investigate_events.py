"""``investigate events`` against the sandbox's scenarios: Warning events grouped by reason and object, with the
counts and times real ``kubectl get events`` has for the same events, in both event shapes."""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import Invoke
from tests.phases.conftest import Site, run
from tests.phases.test_output_schemas import document

from incidentctl.cli.state import AppState
from incidentctl.core.times import parse_rfc3339
from incidentctl.phases.investigate.events import EventsRequest, run_events
from incidentctl.sandbox import resources as sandbox_resources
from incidentctl.sandbox import world
from incidentctl.sandbox.testing import kubectl_for

pytestmark = pytest.mark.integration


def events(invoke: Invoke, site: Site, *args: str) -> tuple[int, dict[str, Any]]:
    """The command at the cluster's time (the sandbox's clock is frozen; ``--since`` counts back from it)."""
    state = AppState(clock=site.sandbox.now)
    result = invoke(site.args("investigate", "events", "-o", "json", *args), state=state)
    assert result.exit_code in (0, 3), result.output
    return result.exit_code, document(result, "InvestigateEvents")["data"]


def kubectl_warnings(site: Site, tmp_path: Path) -> Counter[tuple[str, str]]:
    """What kubectl sees: occurrences per (reason, Kind/name), from count or series.count."""
    out = kubectl_for(site.sandbox, tmp_path)("get", "events", "--field-selector", "type=Warning", "-o", "json")
    counts: Counter[tuple[str, str]] = Counter()
    for e in json.loads(out.stdout)["items"]:
        n = (e.get("series") or {}).get("count") or e.get("count") or 1
        counts[(e["reason"], f"{e['involvedObject']['kind']}/{e['involvedObject']['name']}")] += n
    return counts


def test_bad_deploy_groups_the_crash_loop_back_offs_with_kubectls_counts(
    invoke: Invoke, site_for: Callable[..., Site], tmp_path: Path
) -> None:
    site = site_for("bad-deploy")
    code, data = events(invoke, site)
    assert code == 3
    ours = Counter({(g["reason"], f"{g['kind']}/{g['name']}"): g["count"] for g in data["groups"]})
    assert ours == kubectl_warnings(site, tmp_path)
    backoffs = [g for g in data["groups"] if g["reason"] == "BackOff"]
    assert len(backoffs) == 2
    assert all(g["name"].startswith("synthesis-") and g["count"] > 1 for g in backoffs)
    assert all(g["message"].startswith("Back-off restarting failed container synthesis") for g in backoffs)
    seen = [parse_rfc3339(g["lastSeen"]) for g in data["groups"]]
    assert seen == sorted(seen, reverse=True)
    assert [f["rank"] for f in data["findings"]] == ["EVENTS"] * len(data["groups"])
    assert data["findings"][0]["text"].startswith(f"BackOff Pod/{data['groups'][0]['name']} x")


def test_db_outage_shows_the_failing_readiness_probe(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    code, data = events(invoke, site_for("db-outage"))
    assert code == 3
    (unhealthy,) = [g for g in data["groups"] if g["reason"] == "Unhealthy"]
    assert unhealthy["name"] == "postgres-0"
    assert unhealthy["message"].startswith("Readiness probe failed: psql: error: connection to server")
    assert unhealthy["source"] == "kubelet"


def test_failed_scheduling_from_the_events_api_is_counted_by_its_series(
    invoke: Invoke, site_for: Callable[..., Site], tmp_path: Path
) -> None:
    site = site_for("healthy")
    assert kubectl_for(site.sandbox, tmp_path)("scale", "deploy/gateway", "--replicas=30").returncode == 0
    site.sandbox.advance(150)
    code, data = events(invoke, site)
    assert code == 3
    failed = [g for g in data["groups"] if g["reason"] == "FailedScheduling"]
    assert failed
    assert any(g["count"] > 1 for g in failed), "a series of FailedScheduling counts every occurrence"
    assert all(g["lastSeen"] is not None and g["source"] == "default-scheduler" for g in failed)
    ours = Counter({(g["reason"], f"{g['kind']}/{g['name']}"): g["count"] for g in data["groups"]})
    assert ours == kubectl_warnings(site, tmp_path)


def test_healthy_has_none_and_says_so_as_fine(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    code, data = events(invoke, site)
    assert code == 0
    assert data["groups"] == []
    assert data["findings"] == [
        {"rank": "EVENTS", "text": f"no Warning events in namespace {world.NAMESPACE} in the last 1h", "problem": False}
    ]
    table = run(invoke, site, "investigate", "events")
    assert table.exit_code == 0
    assert "no Warning events" in table.stdout


def test_since_keeps_what_was_last_seen_within_the_window(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("bad-deploy")
    _, wide = events(invoke, site)
    _, narrow = events(invoke, site, "--since", "50s")
    since = parse_rfc3339(narrow["since"])
    assert since == parse_rfc3339(wide["since"]) + timedelta(hours=1) - timedelta(seconds=50)
    expected = [g for g in wide["groups"] if parse_rfc3339(g["lastSeen"]) >= since]
    assert narrow["groups"] == expected
    assert 0 < len(expected) < len(wide["groups"])


def test_event_text_cannot_drive_the_terminal(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    sb = site.sandbox
    with sb.store.lock:
        pod = sb.store.list(sandbox_resources.PODS, world.NAMESPACE)[0]
        sb.sim.events.record(
            pod, "Warning", "Hostile", "title\x1b]0;pwned\x07 and\x1b[2J\nforged line\u202e", component="kubelet"
        )
    result = run(invoke, site, "investigate", "events")
    assert result.exit_code == 3
    assert "\x1b" not in result.stdout
    assert "\x07" not in result.stdout
    assert "\u202e" not in result.stdout
    assert "forged line" in result.stdout
    _, data = events(invoke, site)  # the data keeps the message as the cluster has it
    assert data["groups"][0]["message"] == "title\x1b]0;pwned\x07 and\x1b[2J\nforged line\u202e"


def test_refused_events_are_one_line_and_exit_4(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    site.sandbox.faults.forbid("list", "events")
    result = run(invoke, site, "investigate", "events")
    assert result.exit_code == 4
    assert "Traceback" not in result.output
    assert result.stderr.startswith("error: list events in namespace sarvanom-production: ")
    json_result = run(invoke, site, "investigate", "events", "-o", "json")
    assert json_result.exit_code == 4
    assert document(json_result, "Error")["error"]["exitCode"] == 4


def test_bad_since_is_a_usage_error(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    result = run(invoke, site_for("healthy"), "investigate", "events", "--since", "-5m")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --since: ")


def test_evidence_is_the_raw_warning_events_redacted(site_for: Callable[..., Site]) -> None:
    site = site_for("bad-deploy")
    secret = "s3cr3t-token-0123456789"
    sb = site.sandbox
    with sb.store.lock:
        pod = sb.store.list(sandbox_resources.PODS, world.NAMESPACE)[0]
        sb.sim.events.record(pod, "Warning", "Leaky", f"Authorization: Bearer {secret}", component="kubelet")
    ctx = AppState(runbook_path=site.runbook, kubeconfig=str(site.kubeconfig), env={}).phase_context()
    ctx.secrets.remember(secret)
    result = run_events(ctx, EventsRequest())
    (evidence,) = result.evidence()
    assert evidence.path == "events/warnings.json"
    out = io.BytesIO()
    evidence.write(out)
    assert secret.encode() not in out.getvalue()
    saved = json.loads(out.getvalue())
    assert {e["reason"] for e in saved} == {g.reason for g in result.groups}
    assert all(e["type"] == "Warning" for e in saved)
    assert isinstance(result.since, datetime)


@pytest.mark.parametrize("width", [80, 140])
def test_the_table_fits_the_terminal_and_never_shortens_an_object(site_for: Callable[..., Site], width: int) -> None:
    from rich.console import Console

    from incidentctl.render.investigate_events import events_table

    site = site_for("bad-deploy")
    ctx = AppState(runbook_path=site.runbook, kubeconfig=str(site.kubeconfig), env={}, clock=site.sandbox.now)
    result = run_events(ctx.phase_context(), EventsRequest())
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=True, color_system=None, soft_wrap=False)
    events_table(console, result)
    lines = buffer.getvalue().splitlines()
    assert all(len(line) <= width for line in lines), lines
    assert "…" not in buffer.getvalue()
    for g in result.groups:
        assert any(f"{g.reason} {g.object}" in line for line in lines), g.object


def test_a_namespace_that_does_not_exist_is_never_no_events(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    result = run(invoke, site_for("healthy"), "-n", "sarvanom-prod", "investigate", "events")
    assert result.exit_code != 0
    assert result.stderr.startswith("error: namespace 'sarvanom-prod' does not exist on ")
    assert "no Warning events" not in result.stdout
