"""The pure parts of the triage phase: which signals are "on" (what the journal remembers), how long each has held
according to earlier detect/triage runs in the timeline, and the runbook's next steps for the severity."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
from tests.core import kube_objects as k
from tests.core import results as R

from incidentctl.core.checks import CheckKind, CheckResult, Health
from incidentctl.core.incident import Event, EventKind, Incident, fold
from incidentctl.core.looks import DETECTED, TRIAGED, signals_on, with_history
from incidentctl.core.rules import SignalValue, evaluate_condition
from incidentctl.core.signals import builtin_signals, measured_signals
from incidentctl.core.triage import Triage, classify
from incidentctl.core.workloads import deployment_check
from incidentctl.phases.triage import next_steps
from incidentctl.runbook.model import Runbook

NOW = k.NOW


@pytest.fixture(scope="module")
def rb() -> Runbook:
    return R.runbook()


def signals_of(rb: Runbook, results: Sequence[CheckResult]) -> dict[str, list[SignalValue]]:
    return {**builtin_signals(rb, results), **measured_signals(results)}


def gateway_gone() -> list[CheckResult]:
    return R.replace(R.healthy(), deployment_check("gateway", k.deployment("gateway", replicas=0, ready=0), "gateway"))


def at(minutes_ago: float) -> datetime:
    return NOW - timedelta(minutes=minutes_ago)


def event(kind: str, minutes_ago: float, **data: Any) -> Event:
    return Event(time=at(minutes_ago), actor="alice", kind=kind, data=data)


def declared(minutes_ago: float = 30, severity: str = "P1") -> Event:
    return event(
        EventKind.DECLARED,
        minutes_ago,
        id="INC-2025-0042",
        title="gateway: scaled to 0 replicas",
        severity=severity,
        category="application/service",
        components=["gateway"],
    )


# --- signals_on -------------------------------------------------------------------------------------------------


def test_nothing_is_on_when_healthy(rb: Runbook) -> None:
    assert signals_on(rb, signals_of(rb, R.healthy())) == []


def test_signals_on_are_those_some_rule_fires_on(rb: Runbook) -> None:
    results = R.replace(R.healthy(), *R.workload("synthesis", ready=0), R.signal("error_rate", "synthesis", 0.14))
    assert signals_on(rb, signals_of(rb, results)) == ["components_degraded", "error_rate", "partial_outage"]


def test_a_rules_duration_does_not_keep_a_signal_off(rb: Runbook) -> None:
    """service_down is on from the first sighting, though the escalation rule wants 15 minutes of it: the
    journal must remember it from the start for the 15 minutes to be counted at all."""
    on = signals_on(rb, signals_of(rb, gateway_gone()))
    assert "service_down" in on
    assert "partial_outage" not in on


def test_an_error_rate_under_every_threshold_is_off(rb: Runbook) -> None:
    results = R.replace(R.healthy(), R.signal("error_rate", "gateway", 0.08))
    assert signals_on(rb, signals_of(rb, results)) == []


def test_the_escalation_rules_count_too(rb: Runbook) -> None:
    """security_breach appears in no severity rule, only in the escalation matrix."""
    signals = builtin_signals(rb, R.healthy(), declared=["security_breach"])
    assert signals_on(rb, signals) == ["security_breach"]


# --- with_history -----------------------------------------------------------------------------------------------


def held(signals: dict[str, list[SignalValue]], name: str) -> list[timedelta | None]:
    return [sv.held_for for sv in signals[name]]


def test_a_signal_has_held_since_the_first_run_of_an_unbroken_streak(rb: Runbook) -> None:
    timeline = [
        declared(40),
        event(DETECTED, 35, signals_on=[]),
        event(DETECTED, 20, signals_on=["service_down"]),
        event(EventKind.NOTE, 15, text="paging the platform team"),
        event(TRIAGED, 10, signals_on=["service_down", "components_degraded"]),
    ]
    signals = signals_of(rb, gateway_gone())
    out = with_history(signals, ["service_down", "components_degraded"], timeline, NOW)
    assert held(out, "service_down") == [timedelta(minutes=20)]
    assert held(out, "components_degraded") == [timedelta(minutes=10)]
    # Signals that are off now keep no duration.
    assert held(out, "error_rate") == [None, None, None]
    assert set(out) == set(signals)


def test_a_break_in_the_streak_restarts_the_clock(rb: Runbook) -> None:
    timeline = [
        declared(60),
        event(DETECTED, 50, signals_on=["service_down"]),
        event(DETECTED, 40, signals_on=[]),
        event(DETECTED, 5, signals_on=["service_down"]),
    ]
    out = with_history(signals_of(rb, gateway_gone()), ["service_down"], timeline, NOW)
    assert held(out, "service_down") == [timedelta(minutes=5)]


def test_a_signal_first_seen_now_has_held_for_nothing_yet(rb: Runbook) -> None:
    timeline = [declared(30), event(TRIAGED, 10, signals_on=["components_degraded"])]
    out = with_history(signals_of(rb, gateway_gone()), ["service_down"], timeline, NOW)
    assert held(out, "service_down") == [timedelta(0)]


def test_the_held_time_decides_a_rule_with_a_duration(rb: Runbook) -> None:
    """The runbook's automatic escalation "service down for 15 minutes", judged over successive runs."""
    [rule] = [r for r in rb.escalation.rules.automatic if r.id == "service-down-15m"]
    [condition] = rule.when
    signals = signals_of(rb, gateway_gone())
    on = signals_on(rb, signals)

    early = [declared(30), event(DETECTED, 4, signals_on=on)]
    pending = evaluate_condition(condition, with_history(signals, on, early, NOW)["service_down"])
    assert (pending.holds, pending.pending) == (False, True)
    assert pending.text == "service_down on gateway for 4m of 15m"

    later = [declared(30), event(DETECTED, 16, signals_on=on), event(TRIAGED, 8, signals_on=on)]
    due = evaluate_condition(condition, with_history(signals, on, later, NOW)["service_down"])
    assert (due.holds, due.text) == (True, "service_down on gateway for 16m")


# --- next_steps -------------------------------------------------------------------------------------------------


def triaged(rb: Runbook, results: Sequence[CheckResult], since: datetime | None) -> Triage:
    return classify(rb, results, signals_of(rb, results), now=NOW, since=since)


def incident(*extra: Event, severity: str = "P2") -> Incident:
    return fold([declared(60, severity=severity), *extra])


def test_before_declaring_the_first_step_is_to_declare(rb: Runbook) -> None:
    t = triaged(rb, R.replace(R.healthy(), R.signal("error_rate", "gateway", 0.14)), since=None)
    assert next_steps(rb, t, None) == (
        "declare the incident: incidentctl triage --declare",
        "respond (High): on-call (L1) by 12:15 UTC",
        "Escalate to Engineering Manager within 30 minutes: Engineering Manager (L3) by 12:30 UTC",
        "first status update: slack, email, status-page by 12:15 UTC",
        "post-mortem required: immediate review within 24h, detailed analysis within 72h, action items within 1w",
    )


def test_an_open_unacknowledged_incident_is_to_be_acknowledged(rb: Runbook) -> None:
    inc = incident()
    t = triaged(rb, R.replace(R.healthy(), R.signal("error_rate", "gateway", 0.14)), since=inc.started_at)
    steps = next_steps(rb, t, inc)
    assert steps[0] == "respond (High): on-call (L1) by 11:15 UTC"
    assert "acknowledge: incidentctl incident ack INC-2025-0042" in steps
    assert not any(s.startswith("declare") for s in steps)


def test_an_acknowledged_incident_is_not_asked_again(rb: Runbook) -> None:
    inc = incident(event(EventKind.ACKNOWLEDGED, 50))
    t = triaged(rb, R.replace(R.healthy(), R.signal("error_rate", "gateway", 0.14)), since=inc.started_at)
    assert not any(s.startswith("acknowledge") for s in next_steps(rb, t, inc))


def test_p1_escalates_to_the_cto_at_the_start(rb: Runbook) -> None:
    inc = incident(severity="P1")
    t = triaged(rb, gateway_gone(), since=inc.started_at)
    steps = next_steps(rb, t, inc)
    assert steps[1] == "Immediate escalation to CTO: CTO (L4) by 11:00 UTC"
    assert steps[-1].startswith("post-mortem required: ")


def test_p3_needs_no_post_mortem(rb: Runbook) -> None:
    t = triaged(rb, R.replace(R.healthy(), *R.workload("retrieval", ready=2)), since=None)
    assert t.severity == "P3"
    steps = next_steps(rb, t, None)
    assert "Escalate to Senior Engineer within 2 hours: Senior Operations Engineer (L2) by 14:00 UTC" in steps
    assert not any(s.startswith("post-mortem") for s in steps)


def test_p4_standard_support_has_no_deadline(rb: Runbook) -> None:
    forbidden = CheckResult(
        "pods:retrieval", CheckKind.PODS, "pods of retrieval", Health.UNKNOWN, "forbidden", "retrieval"
    )
    t = triaged(rb, R.replace(R.healthy(), forbidden), since=None)
    assert t.severity == "P4"
    assert "Standard support process: standard support" in next_steps(rb, t, None)


def test_healthy_has_no_next_steps(rb: Runbook) -> None:
    assert next_steps(rb, triaged(rb, R.healthy(), since=None), None) == ()
