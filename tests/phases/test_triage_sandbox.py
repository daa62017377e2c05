"""`incidentctl triage` against the sandbox: each scenario gets the severity the runbook's rules give it, with the
rule that decided it, and `--declare` opens or updates the incident with the evidence."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from tests.conftest import Invoke
from tests.phases.conftest import Site, run


def _triage(result: Any) -> dict[str, Any]:
    doc = json.loads(result.stdout)
    assert doc["kind"] == "Triage"
    return doc["data"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("scenario", "severity", "rule", "component"),
    [
        ("bad-deploy", "P2", "p2-error-rate", "synthesis"),
        ("db-outage", "P2", "p2-error-rate", "retrieval"),
        ("dependency-outage", "P2", "p2-error-rate", "synthesis"),
        ("memory-leak", "P2", "p2-error-rate", "retrieval"),
        ("traffic-spike", "P2", "p2-error-rate", "gateway"),
        ("cache-corruption", "P2", "p2-error-rate", "gateway"),
    ],
)
def test_each_scenario_gets_its_severity_and_the_deciding_rule(
    invoke: Invoke, site_for: Callable[..., Site], scenario: str, severity: str, rule: str, component: str
) -> None:
    site = site_for(scenario)
    result = run(invoke, site, "triage", "-o", "json")
    assert result.exit_code == 3, result.output
    data = _triage(result)
    assert data["severity"] == severity
    assert data["decidedBy"] == rule
    assert data["reason"].startswith(f"{severity}: error_rate ")
    assert f"(rule {rule})" in data["reason"]
    assert component in data["components"]
    assert data["severityName"] == "High"
    assert data["deadlines"][1]["who"] == "Engineering Manager (L3)"
    matched = [r["rule"] for r in data["rules"] if r["matched"]]
    assert rule in matched
    assert "p1-service-down" not in matched


def test_the_runbook_decides_what_else_matched(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    data = _triage(run(invoke, site_for("traffic-spike"), "triage", "-o", "json"))
    matched = {r["rule"] for r in data["rules"] if r["matched"]}
    assert {"p2-error-rate", "p2-response-time"} <= matched
    latency = next(r for r in data["rules"] if r["rule"] == "p2-response-time")
    assert "response_time" in latency["because"]
    assert "> 30s" in latency["because"]


def test_a_gateway_with_no_replicas_is_a_complete_outage(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    from kubernetes import client

    from incidentctl.sandbox.testing import load_client

    site = site_for("healthy")
    api = client.AppsV1Api(load_client(site.sandbox, site.kubeconfig.parent / "client-kubeconfig"))
    api.patch_namespaced_deployment_scale("gateway", "sarvanom-production", {"spec": {"replicas": 0}})
    site.sandbox.advance(120)

    data = _triage(run(invoke, site, "triage", "-o", "json"))

    assert data["severity"] == "P1"
    assert data["decidedBy"] == "p1-service-down"
    assert data["usersAffected"] == 1.0
    assert data["deadlines"][1]["who"] == "CTO (L4)"
    assert data["notify"] == ["slack", "email", "status-page", "pagerduty"]


def test_healthy_means_no_incident(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    result = run(invoke, site, "triage", "--declare", "-o", "json")
    assert result.exit_code == 0
    data = _triage(result)
    assert data["healthy"] is True
    assert data["severity"] is None
    assert data["incident"] is None
    listed = json.loads(run(invoke, site, "incident", "list", "-A", "-o", "json").stdout)
    assert listed["data"]["items"] == []


def test_declare_opens_the_incident_with_the_evidence(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("db-outage")
    result = run(invoke, site, "triage", "--declare")
    assert result.exit_code == 3
    assert "declared INC-" in result.stderr
    assert "P2 High" in result.stdout
    assert "Next steps" in result.stdout

    incidents = json.loads(run(invoke, site, "incident", "list", "-o", "json").stdout)["data"]["items"]
    assert len(incidents) == 1
    incident = incidents[0]
    assert incident["severity"] == "P2"
    assert incident["category"] == "infrastructure/database"
    assert "retrieval" in incident["components"]

    timeline = json.loads(run(invoke, site, "incident", "timeline", incident["id"], "-o", "json").stdout)
    kinds = [e["kind"] for e in timeline["data"]["events"]]
    assert kinds == ["declared", "triaged"]
    triaged = timeline["data"]["events"][1]["data"]
    assert triaged["rule"] == "p2-error-rate"
    assert any("postgres" in line for line in triaged["evidence"])


def test_triage_again_updates_the_open_incident(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("bad-deploy")
    first = _triage(run(invoke, site, "triage", "--declare", "-o", "json"))
    assert first["action"] == "declared"
    again = _triage(run(invoke, site, "triage", "--declare", "-o", "json"))
    assert again["action"] == "unchanged"
    assert again["incident"] == first["incident"]

    run(invoke, site, "incident", "severity", first["incident"], "P3", "-m", "looked minor at first")
    third = _triage(run(invoke, site, "triage", "--declare", "-o", "json"))
    assert third["action"] == "updated"
    timeline = json.loads(run(invoke, site, "incident", "timeline", first["incident"], "-o", "json").stdout)
    changes = [e["data"] for e in timeline["data"]["events"] if e["kind"] == "severity_changed"]
    assert changes[-1]["from"] == "P3"
    assert changes[-1]["to"] == "P2"
    assert len(json.loads(run(invoke, site, "incident", "list", "-o", "json").stdout)["data"]["items"]) == 1
