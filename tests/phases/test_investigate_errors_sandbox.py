"""``investigate errors`` against every sandbox scenario: the fault's NEW templates are named, healthy has none."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from tests.conftest import Invoke
from tests.phases.conftest import Site, run

from incidentctl.phases.investigate.base import Rank
from incidentctl.phases.investigate.errors import ErrorsRequest, run_errors

#: scenario -> words that only the fault's own error lines hold (one per NEW template it must produce)
FAULTS = {
    "bad-deploy": ["upstream synthesis reset the connection", "worker crashed while handling", "Segmentation fault"],
    "db-outage": ["upstream retrieval: <*>", "remaining connection slots are reserved"],
    "dependency-outage": ["upstream synthesis timed out", "httpx.ReadTimeout"],
    "memory-leak": ["upstream retrieval reset", "MemoryError: cannot allocate"],
    "traffic-spike": ["request queue full"],
    "cache-corruption": ["cached embedding for", "cited source ids not in retrieved set", "upstream retrieval: <*>"],
    "bad-config": ["upstream synthesis: <*> deadline exceeded", "cancelled at the configured deadline"],
}


def test_every_fault_scenario_is_covered() -> None:
    from incidentctl.sandbox.scenarios import SCENARIOS

    # total-outage: no gateway pod is left to write a line; credential-stuffing: failed logins are 401s, no errors
    assert set(FAULTS) == set(SCENARIOS) - {"healthy", "total-outage", "credential-stuffing"}


def _errors(invoke: Invoke, site: Site, *args: str) -> tuple[int, dict[str, Any]]:
    result = run(invoke, site, "-o", "json", "investigate", "errors", *args)
    doc = json.loads(result.stdout)
    assert doc["kind"] == "ErrorTemplates", result.output
    data: dict[str, Any] = doc["data"]
    return result.exit_code, data


def test_healthy_has_no_new_template(site_for: Callable[..., Site], invoke: Invoke) -> None:
    code, data = _errors(invoke, site_for("healthy"))
    assert code == 0
    assert data["problems"] == []
    assert data["templates"], "the healthy services log a few errors of their own: steady ones"
    assert [t["pattern"] for t in data["templates"] if t["status"] == "new"] == []
    assert {t["status"] for t in data["templates"]} <= {"steady", "grew"}
    assert all(t["baselineCount"] > 0 for t in data["templates"])
    assert data["lines"] > data["errorLines"] > 0


@pytest.mark.parametrize("scenario", sorted(FAULTS))
def test_each_fault_is_named_by_its_new_templates(site_for: Callable[..., Site], invoke: Invoke, scenario: str) -> None:
    code, data = _errors(invoke, site_for(scenario))
    assert code == 3
    new = [t for t in data["templates"] if t["status"] == "new"]
    for words in FAULTS[scenario]:
        assert any(words in t["pattern"] for t in new), f"{scenario}: no NEW template with {words!r}"
    for t in new:  # only the fault is new: start-up lines of restarted pods are no errors
        assert any(words in t["pattern"] for words in FAULTS[scenario]), t["pattern"]
        assert t["baselineCount"] == 0
        assert t["pods"]
        assert t["firstSeen"] is not None
        assert t["example"]


def test_previous_containers_of_a_crash_loop_are_mined(site_for: Callable[..., Site], invoke: Invoke) -> None:
    """The segfault is only in the log of each crashed container's previous instance."""
    _, data = _errors(invoke, site_for("bad-deploy"), "synthesis")
    (crash,) = [t for t in data["templates"] if "Segmentation fault" in t["pattern"]]
    assert crash["status"] == "new"
    assert all(pod.startswith("synthesis-") for pod in crash["pods"])
    assert all("gateway" not in t["pattern"] for t in data["templates"]), "only synthesis was asked for"


def test_the_view_as_a_section(site_for: Callable[..., Site], invoke: Invoke) -> None:
    """What the umbrella shows: one finding per NEW template, ranked as new errors; the templates as evidence."""
    import io

    from incidentctl.cli.state import AppState

    site = site_for("traffic-spike")
    state = AppState(runbook_path=site.runbook, kubeconfig=str(site.kubeconfig))
    state.env = {"INCIDENTCTL_ACTOR": "tester"}
    result = run_errors(state.phase_context(), ErrorsRequest())
    findings = result.findings()
    assert [f.rank for f in findings] == [Rank.NEW_ERRORS]
    assert "request queue full" in findings[0].text
    assert "gateway-" in findings[0].text
    (evidence,) = result.evidence()
    out = io.BytesIO()
    evidence.write(out)
    kept = json.loads(out.getvalue())
    assert kept[0]["status"] == "new"
    assert set(kept[0]) == {"pattern", "count", "baselineCount", "status", "firstSeen", "lastSeen", "pods", "example"}


def test_examples_are_redacted_with_the_runbook_secrets(site_for: Callable[..., Site]) -> None:
    """An example is a real log line: a secret value in it (here a stand-in the secrets were told of) is masked
    in the patterns, the examples and the evidence."""
    import io

    from incidentctl.adapters.secrets import MASK
    from incidentctl.cli.state import AppState

    site = site_for("traffic-spike")
    state = AppState(runbook_path=site.runbook, kubeconfig=str(site.kubeconfig))
    state.env = {"INCIDENTCTL_ACTOR": "tester"}
    ctx = state.phase_context()
    ctx.secrets.remember("queue full")
    result = run_errors(ctx, ErrorsRequest(components=("gateway",)))
    new = result.new[0]
    assert "queue full" not in new.example
    assert f"request {MASK}" in new.example
    assert "queue full" not in new.pattern
    out = io.BytesIO()
    for evidence in result.evidence():
        evidence.write(out)
    assert b"queue full" not in out.getvalue()
    assert "queue full" not in " ".join(f.text for f in result.findings())


def test_an_unknown_component_and_a_bad_window_are_usage_errors(site_for: Callable[..., Site], invoke: Invoke) -> None:
    site = site_for("healthy")
    result = run(invoke, site, "investigate", "errors", "nosuch")
    assert result.exit_code == 2
    assert "no component named nosuch" in result.stderr
    result = run(invoke, site, "investigate", "errors", "--since", "0s")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --since:")
    assert "Traceback" not in result.output


def test_an_unreachable_cluster_is_never_no_new_errors(site_for: Callable[..., Site], invoke: Invoke) -> None:
    site = site_for("bad-deploy")
    site.sandbox.stop()
    result = run(invoke, site, "-o", "json", "investigate", "errors")
    assert result.exit_code == 4, result.output
    data = json.loads(result.stdout)["data"]
    assert data["templates"] == []
    assert data["problems"]
    table = run(invoke, site, "investigate", "errors")
    assert "could not be read" in table.stdout + table.stderr
