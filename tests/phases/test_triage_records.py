"""The triage phase and the journal, without a cluster: whose severity stands (decided on the journal's state at the
moment of writing), which looks are recorded (only changes, with the signal history still right), and which
evidence dates the impact."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.core import kube_objects as k
from tests.core import results as R
from tests.phases.contexts import phase_context

from incidentctl.adapters.alertmanager import parse_api_time
from incidentctl.core.checks import AlertsObservation, CheckKind, CheckResult, Failure, FiringAlert, Health
from incidentctl.core.incident import Declaration, Event, EventKind
from incidentctl.core.looks import DETECTED, TRIAGED, signals_on, with_history
from incidentctl.core.rules import SignalValue
from incidentctl.core.signals import builtin_signals, measured_signals
from incidentctl.core.triage import classify, decide_severity, severity_setting
from incidentctl.journal.store import Journal
from incidentctl.phases.detect import DetectReport
from incidentctl.phases.recording import record_detection
from incidentctl.phases.triage import TriageRequest, TriageResult, impact_start, run_triage
from incidentctl.runbook.model import Runbook

NOW = k.NOW


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def rb() -> Runbook:
    return R.runbook()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def journal(tmp_path: Path, clock: Clock) -> Journal:
    return Journal(tmp_path / "incidents", clock=clock, actor="triage-bot")


def report(rb: Runbook, results: Sequence[CheckResult], at: datetime = NOW) -> DetectReport:
    from incidentctl.phases.detect import SubjectStatus

    subjects = []
    for name in sorted({r.subject for r in results if r.subject}):
        mine = [r for r in results if r.subject == name]
        subjects.append(SubjectStatus(name, "component", Health.worst([r.health for r in mine]), (), ()))
    signals = {**builtin_signals(rb, results), **measured_signals(results)}
    return DetectReport("sarvanom-production", None, at, at, tuple(subjects), tuple(results), signals)


def alerts(component: str, *firing: tuple[str, str | None]) -> CheckResult:
    """An alerts check as adapters/alertmanager.py check_alerts returns it: (name, startsAt) per alert. A start
    Alertmanager's time parser cannot read ("yesterday") arrives as no start at all, as it does from the adapter."""
    seen = AlertsObservation(
        count=len(firing),
        alerts=tuple(
            FiringAlert(
                name=name,
                severity="critical",
                state="active",
                starts_at=parse_api_time(starts),
                summary=f"{component}: errors",
                labels={"alertname": name, "service": component},
                fingerprint=f"{name}{component}",
            )
            for name, starts in firing
        ),
    )
    health = Health.DEGRADED if firing else Health.OK
    return CheckResult(
        f"alerts:{component}",
        CheckKind.ALERTS,
        "http://am",
        health,
        f"{len(firing)} alerts",
        component,
        observation=seen,
        failure=Failure.ALERTS_FIRING if firing else None,
    )


def p2_results() -> list[CheckResult]:
    return R.replace(R.healthy(), R.signal("error_rate", "gateway", 0.14))


def p1_results() -> list[CheckResult]:
    from incidentctl.core.workloads import deployment_check

    return R.replace(R.healthy(), deployment_check("gateway", k.deployment("gateway", replicas=0, ready=0), "gateway"))


def triage(
    rb: Runbook, journal: Journal, detected: DetectReport, *, now: datetime = NOW, **request: Any
) -> TriageResult:
    """``triage --declare`` at ``now``, in the only open incident unless ``incident=`` names one."""
    request.setdefault("declare", True)
    return run_triage(phase_context(rb, journal, lambda: now), TriageRequest(detected, **request))


def kinds(journal: Journal, incident_id: str) -> list[str]:
    return [e.kind for e in journal.timeline(incident_id)]


# --- whose severity stands --------------------------------------------------------------------------------------


def test_a_change_made_while_triage_ran_is_not_overwritten(rb: Runbook, journal: Journal) -> None:
    """Triage read the incident (P2, its own) before detect ran; meanwhile alice set P1. The decision is taken on
    what the journal holds when triage writes, so alice's P1 stands."""
    first = triage(rb, journal, report(rb, p2_results()))
    assert first.incident is not None
    assert first.incident.severity == "P2"
    stale = journal.get(first.incident.id)
    alice = Journal(journal.directory, clock=journal._clock, actor="alice")
    alice.append(stale.id, EventKind.SEVERITY_CHANGED, {"from": "P2", "to": "P1", "message": "checkout broken"})

    outcome = triage(rb, journal, report(rb, p2_results()), incident=stale.id)

    assert outcome.severity is not None
    assert outcome.severity.action == "kept"
    # and what to do next is the runbook's for the P1 it is
    assert any(step.startswith("Immediate escalation to CTO: CTO (L4)") for step in outcome.next_steps)
    assert outcome.incident is not None
    assert outcome.incident.severity == "P1"
    assert kinds(journal, stale.id) == ["declared", "triaged", "severity_changed", "triaged"]


def test_triage_follows_the_evidence_for_a_severity_it_chose(rb: Runbook, journal: Journal) -> None:
    declared = triage(rb, journal, report(rb, p1_results()))
    assert declared.incident is not None
    assert declared.incident.severity == "P1"
    lowered = triage(rb, journal, report(rb, p2_results()))
    assert lowered.severity is not None
    assert lowered.severity.action == "lowered"
    assert lowered.incident is not None
    assert lowered.incident.severity == "P2"
    assert "P1 was set by triage (rule p1-service-down)" in lowered.severity.explanation


@pytest.mark.parametrize(
    ("current", "by_person", "proposed_results", "force", "action", "after"),
    [
        ("P1", True, "p2", False, "kept", "P1"),
        ("P1", True, "p2", True, "lowered", "P2"),
        ("P3", True, "p2", False, "raised", "P2"),
        ("P4", True, "p1", False, "raised", "P1"),
        ("P2", True, "p2", False, "unchanged", "P2"),
        ("P1", False, "p2", False, "lowered", "P2"),
        ("P3", False, "p2", False, "raised", "P2"),
    ],
)
def test_the_severity_matrix(
    rb: Runbook, current: str, by_person: bool, proposed_results: str, force: bool, action: str, after: str
) -> None:
    results = p2_results() if proposed_results == "p2" else p1_results()
    triage = classify(rb, results, report(rb, results).signals, now=NOW)
    data: dict[str, Any] = {"id": "INC-2025-001", "title": "t", "severity": current, "components": []}
    if not by_person:
        data["severity_rule"] = "some-rule"
    timeline = [Event(NOW, "alice", EventKind.DECLARED, data)]
    decision = decide_severity(list(rb.severities), severity_setting(timeline), current, triage, force=force)
    assert (decision.action, decision.severity) == (action, after)
    assert decision.forced is (force and action == "lowered")


def test_the_latest_setting_counts_and_an_unmarked_one_is_a_persons() -> None:
    declared = {"id": "INC-2025-001", "title": "t", "severity": "P2", "components": [], "severity_rule": "r"}
    timeline = [
        Event(NOW, "bot", EventKind.DECLARED, declared),
        Event(NOW, "bot", EventKind.SEVERITY_CHANGED, {"from": "P2", "to": "P3", "rule": "r"}),
        Event(NOW, "bob", EventKind.SEVERITY_CHANGED, {"from": "P3", "to": "P1"}),  # an older incidentctl, or bob
        Event(NOW, "bob", EventKind.NOTE, {"text": "paging"}),
    ]
    setting = severity_setting(timeline)
    assert setting is not None
    assert (setting.severity, setting.actor, setting.by_person) == ("P1", "bob", True)
    earlier = severity_setting(timeline[:2])
    assert earlier is not None
    assert earlier.by_person is False


# --- only changes are recorded, and the history stays right -----------------------------------------------------


def test_only_a_changed_look_is_recorded_and_the_signal_history_holds(
    rb: Runbook, journal: Journal, clock: Clock
) -> None:
    incident = journal.declare(Declaration(title="gateway gone", severity="P1"))
    gone = report(rb, p1_results())
    for minute in range(5):
        clock.now = NOW + timedelta(minutes=minute)
        record_detection(rb, gone, journal, incident.id)
    assert kinds(journal, incident.id) == ["declared", DETECTED]

    # Five looks, one recorded: service_down is still on since the first.
    later = NOW + timedelta(minutes=16)
    on = signals_on(rb, gone.signals)
    held = with_history(gone.signals, on, journal.timeline(incident.id), later)["service_down"]
    assert [sv.held_for for sv in held] == [timedelta(minutes=16)]

    # A change is recorded, and breaks the streak; going back is a change again.
    clock.now = NOW + timedelta(minutes=6)
    assert record_detection(rb, report(rb, p2_results()), journal, incident.id).event is not None
    clock.now = NOW + timedelta(minutes=7)
    back = record_detection(rb, gone, journal, incident.id)
    assert back.event is not None
    assert back.previous is not None
    assert back.previous.time == NOW + timedelta(minutes=6)
    held = with_history(gone.signals, on, journal.timeline(incident.id), later)["service_down"]
    assert [sv.held_for for sv in held] == [timedelta(minutes=9)]
    assert kinds(journal, incident.id) == ["declared", DETECTED, DETECTED, DETECTED]


def test_numbers_that_move_on_every_run_are_not_a_change(rb: Runbook, journal: Journal) -> None:
    incident = journal.declare(Declaration(title="errors", severity="P2"))
    for rate in (0.14, 0.15, 0.16):
        record_detection(
            rb, report(rb, R.replace(R.healthy(), R.signal("error_rate", "gateway", rate))), journal, incident.id
        )
    assert kinds(journal, incident.id) == ["declared", DETECTED]


def test_a_triage_that_sees_and_concludes_the_same_is_not_recorded_again(rb: Runbook, journal: Journal) -> None:
    first = triage(rb, journal, report(rb, p2_results()))
    assert first.incident is not None
    for _ in range(3):
        again = triage(rb, journal, report(rb, p2_results()))
        assert (again.action, again.recorded) == ("unchanged", False)
    # detect sees what the last triage saw: nothing new either
    assert record_detection(rb, report(rb, p2_results()), journal, first.incident.id).event is None
    assert kinds(journal, first.incident.id) == ["declared", TRIAGED]


# --- when the impact began --------------------------------------------------------------------------------------


def iso(minutes_ago: float) -> str:
    return (NOW - timedelta(minutes=minutes_ago)).isoformat().replace("+00:00", "Z")


def test_the_oldest_firing_alert_of_any_component_dates_the_impact(rb: Runbook) -> None:
    results = R.replace(
        p2_results(),
        alerts("gateway", ("HighErrorRate", iso(3)), ("HighLatency", None)),
        alerts("synthesis", ("KubePodCrashLooping", iso(8.5)), ("Garbled", "yesterday")),
        alerts("retrieval"),
    )
    start = impact_start(report(rb, results), {}, NOW)
    assert start.at == NOW - timedelta(minutes=8.5)
    assert (start.source, start.basis) == ("alert", "oldest firing alert KubePodCrashLooping on synthesis")


def test_an_alert_from_a_clock_ahead_of_ours_is_not_a_future_start(rb: Runbook) -> None:
    results = R.replace(p2_results(), alerts("gateway", ("HighErrorRate", iso(-2))))
    start = impact_start(report(rb, results), {}, NOW)
    assert (start.at, start.source) == (NOW, "triage")


def test_a_signal_the_journal_has_seen_for_longer_dates_the_impact(rb: Runbook) -> None:
    results = R.replace(p2_results(), alerts("gateway", ("HighErrorRate", iso(3))))
    held = {"error_rate": [SignalValue("error_rate", "ratio", 0.14, "gateway", held_for=timedelta(minutes=12))]}
    start = impact_start(report(rb, results), held, NOW)
    assert (start.at, start.source) == (NOW - timedelta(minutes=12), "journal")
    assert "error_rate on gateway" in start.basis


def test_without_evidence_the_impact_starts_now(rb: Runbook, journal: Journal) -> None:
    outcome = triage(rb, journal, report(rb, p2_results()))
    assert outcome.impact is not None
    assert (outcome.impact.at, outcome.impact.source) == (NOW, "triage")
    assert outcome.incident is not None
    assert outcome.incident.started_at == NOW


def test_the_declared_impact_start_and_its_evidence_are_recorded(rb: Runbook, journal: Journal, clock: Clock) -> None:
    results = R.replace(p2_results(), alerts("gateway", ("HighErrorRate", iso(8))))
    outcome = triage(rb, journal, report(rb, results))
    assert outcome.incident is not None
    assert outcome.incident.started_at == NOW - timedelta(minutes=8)
    triaged = journal.timeline(outcome.incident.id)[1].data
    assert triaged["impact_start"]["source"] == "alert"
    # The deadlines count from the impact's start, as they will on every later run.
    assert outcome.triage.deadlines[0].by == NOW - timedelta(minutes=8) + rb.severities["P2"].response_time

    clock.now = NOW + timedelta(minutes=5)
    later = triage(rb, journal, report(rb, results), now=clock.now)
    assert later.impact is not None
    assert later.impact.basis == "oldest firing alert HighErrorRate on gateway"
    assert later.triage.deadlines == outcome.triage.deadlines
