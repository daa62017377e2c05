"""The guardrails as pure rules: each breach names its rule and says what; what they allow, they allow."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

import pytest
from tests.conftest import RUNBOOK

from incidentctl.core.guardrails import Breach, check_plan, check_where
from incidentctl.core.incident import Incident, IncidentStatus
from incidentctl.core.mitigation import ObjectRef, Plan, ReplicaChange, Write
from incidentctl.runbook.loader import load_runbook
from incidentctl.runbook.model import Runbook

T0 = datetime(2026, 3, 14, 14, 0, tzinfo=timezone.utc)
NS = "sarvanom-production"


def runbook(**guardrails: Any) -> Runbook:
    rb = load_runbook(RUNBOOK)
    rails = rb.mitigation.guardrails.model_copy(update=guardrails)
    return rb.model_copy(update={"mitigation": rb.mitigation.model_copy(update={"guardrails": rails})})


def incident(severity: str = "P2", status: IncidentStatus = IncidentStatus.INVESTIGATING) -> Incident:
    return Incident(
        id="INC-2026-004",
        title="synthesis 5xx",
        severity=severity,
        status=status,
        category=None,
        components=(),
        summary=None,
        commander=None,
        declared_by="alice",
        declared_at=T0,
        started_at=T0,
    )


def plan(action: str = "restart", **fields: Any) -> Plan:
    ref = ObjectRef("deployments", "synthesis", NS)
    base = Plan(action=action, summary=f"{action} deployment/synthesis", writes=(Write("patch", ref, body={}),))
    return replace(base, **fields)


def rule(breach: Breach | None) -> str | None:
    return breach.rule if breach is not None else None


# --- where ----------------------------------------------------------------------------------------------------


def test_no_contexts_listed_allows_any_context_even_an_unknown_one() -> None:
    assert check_where(runbook(), "anything", [NS]) is None
    assert check_where(runbook(), None, [NS]) is None


def test_a_listed_context_is_allowed_and_another_is_named_in_the_breach() -> None:
    rb = runbook(contexts=["prod-eu"])
    assert check_where(rb, "prod-eu", [NS]) is None
    breach = check_where(rb, "staging", [NS])
    assert rule(breach) == "contexts"
    assert breach is not None
    assert "'staging'" in breach.message
    assert breach.hint is not None
    assert "prod-eu" in breach.hint


def test_an_unknown_context_is_never_taken_for_an_allowed_one() -> None:
    breach = check_where(runbook(contexts=["prod-eu"]), None, [NS])
    assert rule(breach) == "contexts"
    assert breach is not None
    assert "not known" in breach.message


def test_without_namespaces_listed_only_the_runbooks_namespace_is_allowed() -> None:
    rb = runbook()
    assert check_where(rb, None, [NS]) is None
    breach = check_where(rb, None, [NS, "kube-system"])
    assert rule(breach) == "namespaces"
    assert breach is not None
    assert "'kube-system'" in breach.message


def test_listed_namespaces_are_allowed_and_replace_the_default() -> None:
    rb = runbook(namespaces=["sarvanom-canary"])
    assert check_where(rb, None, ["sarvanom-canary"]) is None
    assert rule(check_where(rb, None, [NS])) == "namespaces"


# --- the plan -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [s for s in IncidentStatus if not s.is_open])
def test_a_mitigation_needs_an_open_incident(status: IncidentStatus) -> None:
    assert rule(check_plan(runbook(), plan(), None, None)) == "incident"
    breach = check_plan(runbook(), plan(), incident(status=status), None)
    assert rule(breach) == "incident"
    assert breach is not None
    assert status.value in breach.message


def test_a_severity_not_listed_allows_every_action() -> None:
    rb = runbook(severity_actions={"P4": ["scale"]})
    assert check_plan(rb, plan("restart"), incident("P2"), None) is None


def test_a_listed_severity_allows_only_its_actions_but_always_an_undo() -> None:
    rb = runbook(severity_actions={"P4": ["scale"], "P3": []})
    assert check_plan(rb, plan("scale"), incident("P4"), None) is None
    breach = check_plan(rb, plan("restart"), incident("P4"), None)
    assert rule(breach) == "severity-actions"
    assert breach is not None
    assert breach.hint is not None
    assert "scale" in breach.hint
    assert rule(check_plan(rb, plan("scale"), incident("P3"), None)) == "severity-actions"
    assert check_plan(rb, plan("restart"), incident("P4"), None, undoing=True) is None


def test_replica_bounds_are_inclusive_and_a_component_without_bounds_is_not_judged() -> None:
    rb = load_runbook(RUNBOOK)
    bounded = next((c for c in rb.components if c.scale is not None), None)
    if bounded is None:
        pytest.skip("the runbook sets no scale bounds")
    assert bounded.scale is not None
    low, high = bounded.scale.min, bounded.scale.max
    for n, ok in ((low, True), (high, True), (low - 1, False), (high + 1, False)):
        scaled = plan("scale", replicas=(ReplicaChange(bounded.name, 2, n),))
        assert rule(check_plan(rb, scaled, incident(), None)) == (None if ok else "replica-bounds"), n
    unbounded = [c.name for c in rb.components if c.scale is None]
    if unbounded:
        scaled = plan("scale", replicas=(ReplicaChange(unbounded[0], 2, 500),))
        assert check_plan(rb, scaled, incident(), None) is None


@pytest.mark.parametrize("reason", [None, "", "   ", "\t\n"])
def test_a_destructive_plan_needs_a_reason_that_says_something(reason: str | None) -> None:
    flush = plan("flush-cache", destructive=True, datastores=("redis",))
    breach = check_plan(runbook(), flush, incident(), reason)
    assert rule(breach) == "destructive"
    assert breach is not None
    assert "redis" in breach.message
    assert check_plan(runbook(), flush, incident(), "stale keys after the bad deploy") is None


def test_the_incident_is_judged_before_anything_else() -> None:
    rb = runbook(severity_actions={"P4": []})
    flush = plan("flush-cache", destructive=True)
    assert rule(check_plan(rb, flush, incident("P4", IncidentStatus.RESOLVED), None)) == "incident"
    assert rule(check_plan(rb, flush, incident("P4"), None)) == "severity-actions"
