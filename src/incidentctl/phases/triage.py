"""triage: the runbook's classification from live signals, and declaring (or updating) the incident.

Replaces ``assess_impact.sh``, ``determine_severity.sh``, ``check_affected_services.sh`` and the three
``check_*_impact.sh`` scripts. What detect saw goes through the runbook's rules (core.triage); with ``--declare``
the incident is opened, or the open one is updated (a severity change is its own event), with the evidence.
Rules with a duration ("service down for 15 minutes") are judged against the open incident's timeline: the
journal remembers since when each signal has been on.

What goes into the timeline is what changed, not every look: a detected or triaged event is only appended when
it differs from the last look recorded (:func:`is_new_look`), which keeps "since when" right, since every change
of the signals that are on is recorded. A severity a person set is never lowered without ``force_severity``, and
a declared incident's impact starts with the earliest evidence (:func:`impact_start`), so MTTD means something.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from incidentctl.core.checks import Health
from incidentctl.core.incident import Declaration, Event, EventKind, Incident, format_timestamp, parse_timestamp
from incidentctl.core.rules import SignalValue, evaluate_condition
from incidentctl.core.times import format_duration
from incidentctl.core.triage import (
    SeverityDecision,
    Triage,
    classify,
    deadlines,
    decide_severity,
    severity_setting,
)

if TYPE_CHECKING:
    from incidentctl.journal.base import JournalStore
    from incidentctl.phases.detect import DetectReport
    from incidentctl.runbook.model import Runbook

#: The event detect and triage leave in an open incident's timeline.
DETECTED = "detected"
TRIAGED = "triaged"


@dataclass(frozen=True)
class ImpactStart:
    """When the impact began, and the evidence that says so."""

    at: datetime
    #: "alert" (the oldest firing alert's startsAt), "journal" (the first recorded look that saw a signal that
    #: is still on), "triage" (no earlier evidence: the time of this triage) or "declared" (an open incident
    #: whose start was not set by triage)
    source: str
    #: For people: "oldest firing alert HighErrorRate on synthesis".
    basis: str


@dataclass(frozen=True)
class TriageOutcome:
    triage: Triage
    incident: Incident | None
    #: "declared", "updated" (the severity changed), "unchanged" or None (nothing recorded)
    action: str | None
    next_steps: tuple[str, ...]
    #: What triage did with an open incident's severity, and why (None when it declared or did not record).
    severity: SeverityDecision | None = None
    #: When the impact began: the evidence triage declares with, or what the open incident records.
    impact: ImpactStart | None = None
    #: Whether this look was recorded in the timeline (False when it saw what the last recorded look saw).
    recorded: bool = False


@dataclass(frozen=True)
class Recorded:
    """What recording a look did: the event written, or None when the last recorded look saw the same."""

    event: Event | None
    #: The latest look recorded before this one (detected or triaged).
    previous: Event | None


def signals_on(rb: Runbook, signals: Mapping[str, Sequence[SignalValue]]) -> list[str]:
    """The signals some runbook rule considers "on" now (ignoring durations): what the journal remembers."""
    conditions = [c for r in rb.triage.rules for c in r.when] + [
        c for r in rb.escalation.rules.automatic for c in r.when
    ]
    on = []
    for name, values in signals.items():
        mine = [c.model_copy(update={"for_": None}) for c in conditions if c.signal == name]
        if any(evaluate_condition(c, values).holds for c in mine):
            on.append(name)
    return sorted(on)


def with_history(
    signals: Mapping[str, Sequence[SignalValue]], on_now: Sequence[str], timeline: Sequence[Event], now: datetime
) -> dict[str, list[SignalValue]]:
    """Give each signal that is on now the time it has been on without a break, from earlier detect/triage runs."""
    since: dict[str, datetime] = {}
    for name in on_now:
        start = now
        for event in reversed(timeline):
            if event.kind not in (DETECTED, TRIAGED):
                continue
            if name in (event.data.get("signals_on") or []):
                start = event.time
            else:
                break
        since[name] = start
    return {
        name: [replace(sv, held_for=now - since[name]) if name in since else sv for sv in values]
        for name, values in signals.items()
    }


#: What makes a look new: the state of things, not the numbers of the moment (a latency or an error rate moves on
#: every run). Every change of ``signals_on`` is recorded, so an unchanged look since event X means "on since X"
#: for :func:`with_history`.
LOOK_FIELDS = ("health", "subjects", "failing", "signals_on")
#: And what makes a triage new besides: its conclusion, and the incident's severity after it (a severity it kept
#: or changed; a change is also its own event).
TRIAGE_FIELDS = ("severity", "rule", "category", "components", "incident_severity")


def look(rb: Runbook, report: DetectReport) -> dict[str, Any]:
    """The parts of a detect run that say whether anything changed (:data:`LOOK_FIELDS`)."""
    return {
        "health": report.health.value,
        "subjects": {s.name: s.health.value for s in report.subjects},
        "failing": {r.check: r.health.value for r in sorted(report.problems, key=lambda r: r.check)},
        "signals_on": signals_on(rb, report.signals),
    }


def detection_event(rb: Runbook, report: DetectReport) -> dict[str, Any]:
    """What a detect run leaves in the open incident's timeline (compact: the table, not every raw fact)."""
    return {
        **look(rb, report),
        "summary": summarize(report),
        "problems": [f"{r.check}: {r.summary}" for r in report.problems][:50],
        "duration_s": round(report.duration_s, 3),
    }


def last_look(timeline: Sequence[Event]) -> Event | None:
    return next((e for e in reversed(timeline) if e.kind in (DETECTED, TRIAGED)), None)


def is_new_look(timeline: Sequence[Event], kind: str, data: Mapping[str, Any]) -> bool:
    """Record what changed, not every look: a look is new when it differs from the last one recorded (of either
    kind) in :data:`LOOK_FIELDS`, and a triage also when it concludes otherwise than the last triage."""
    previous = last_look(timeline)
    if previous is None or any(previous.data.get(f) != data.get(f) for f in LOOK_FIELDS):
        return True
    if kind != TRIAGED:
        return False
    last_triage = next((e for e in reversed(timeline) if e.kind == TRIAGED), None)
    return last_triage is None or any(last_triage.data.get(f) != data.get(f) for f in TRIAGE_FIELDS)


def record_look(journal: JournalStore, incident_id: str, kind: str, data: Mapping[str, Any]) -> Recorded:
    """Append a detected/triaged event unless the last recorded look saw the same, deciding under the journal's
    lock so that two runs at once record one look."""
    previous: list[Event | None] = [None]

    def decide(_incident: Incident, timeline: Sequence[Event]) -> Mapping[str, Any] | None:
        previous[0] = last_look(timeline)
        return data if is_new_look(timeline, kind, data) else None

    result = journal.append_if_timeline(incident_id, kind, decide)
    return Recorded(result.event, previous[0])


def record_detection(rb: Runbook, report: DetectReport, journal: JournalStore, incident_id: str) -> Recorded:
    """What detect leaves in the open incident: its look, when it differs from the last one recorded."""
    return record_look(journal, incident_id, DETECTED, detection_event(rb, report))


def impact_start(report: DetectReport, signals: Mapping[str, Sequence[SignalValue]], now: datetime) -> ImpactStart:
    """The earliest evidence of the impact: the oldest firing alert (Alertmanager's ``startsAt``), or the first
    recorded look that saw a signal that is still on, else now. Never later than now (a clock ahead of ours)."""
    candidates: list[ImpactStart] = []
    for r in report.results:
        if r.kind != "alerts" or r.health is Health.OK:
            continue
        for alert in r.observed.get("alerts") or []:
            raw = alert.get("startsAt") if isinstance(alert, Mapping) else None
            try:
                since = parse_timestamp(str(raw)) if raw else None
            except ValueError:
                since = None
            if since is not None:
                where = f" on {r.subject}" if r.subject else ""
                basis = f"oldest firing alert {alert.get('name') or '(unnamed)'}{where}"
                candidates.append(ImpactStart(since, "alert", basis))
    for name, values in signals.items():
        for sv in values:
            if sv.held_for is not None and sv.held_for > timedelta(0):
                where = f" on {sv.subject}" if sv.subject else ""
                since = now - sv.held_for
                candidates.append(ImpactStart(since, "journal", f"first recorded look with {name}{where} on"))
    earliest = min(candidates, key=lambda c: c.at, default=None)
    if earliest is None or earliest.at >= now:
        return ImpactStart(now, "triage", "no earlier evidence: the time of this triage")
    return earliest


def recorded_impact(incident: Incident, timeline: Sequence[Event]) -> ImpactStart:
    """An open incident's impact start with the evidence triage declared it with, when that is what it records."""
    recorded = format_timestamp(incident.started_at)
    for event in timeline:
        start = event.data.get("impact_start") if event.kind == TRIAGED else None
        if isinstance(start, Mapping) and start.get("at") == recorded:
            return ImpactStart(incident.started_at, str(start.get("source")), str(start.get("basis")))
    declared = next((e for e in timeline if e.kind == EventKind.DECLARED), None)
    if declared is not None and declared.data.get("started_at"):
        return ImpactStart(incident.started_at, "declared", f"as {declared.actor} declared it")
    return ImpactStart(incident.started_at, "declared", "the time it was declared (no earlier evidence recorded)")


def summarize(report: DetectReport) -> str:
    bad = [s for s in report.subjects if s.health.value != "ok"]
    if not bad:
        return f"all {len(report.subjects)} checked parts healthy"
    return ", ".join(f"{s.name} {s.health.value}" for s in bad)


def run_triage(
    rb: Runbook,
    report: DetectReport,
    *,
    now: datetime,
    journal: JournalStore | None,
    incident: Incident | None,
    declare: bool,
    title: str | None = None,
    force_severity: bool = False,
) -> TriageOutcome:
    """Classify; with ``declare``, open the incident or update the open one.

    A severity a person set is never lowered unless ``force_severity``; worse evidence raises any severity. The
    decision is taken under the journal's lock, on the severity as recorded at that moment (not as read before
    detect ran), so a person's change made meanwhile is never overwritten. Only a look that differs from the last
    one recorded is appended (see :func:`is_new_look`).
    """
    on_now = signals_on(rb, report.signals)
    signals: Mapping[str, Sequence[SignalValue]] = report.signals
    impact: ImpactStart | None = None
    if incident is not None and journal is not None:
        timeline = journal.timeline(incident.id)
        signals = with_history(report.signals, on_now, timeline, now)
        impact = recorded_impact(incident, timeline)
    elif incident is None:
        impact = impact_start(report, signals, now)
    since = incident.started_at if incident is not None else impact.at if impact is not None else None
    result = classify(rb, report.results, signals, now=now, since=since)
    if not (declare and journal is not None and result.severity is not None):
        return TriageOutcome(result, incident, None, next_steps(rb, result, incident), impact=impact)
    record: dict[str, Any] = {
        **look(rb, report),
        "summary": result.reason,
        "severity": result.severity,
        "reason": result.reason,
        "rule": result.decided_by,
        "category": result.category,
        "components": list(result.components),
        "users_affected": result.users_affected,
        "evidence": list(result.evidence)[:50],
    }
    if incident is None:
        assert impact is not None  # computed above for every incident still to be declared
        incident = journal.declare(
            Declaration(
                title=title or default_title(report, result),
                severity=result.severity,
                category=result.category,
                components=result.components,
                summary=result.reason,
                started_at=impact.at,
                severity_rule=result.decided_by,
            )
        )
        record |= {
            "incident_severity": result.severity,
            "decision": "declared",
            "impact_start": {"at": format_timestamp(impact.at), "source": impact.source, "basis": impact.basis},
        }
        incident = journal.append(incident.id, TRIAGED, record).incident
        return TriageOutcome(
            result, incident, "declared", next_steps(rb, result, incident), impact=impact, recorded=True
        )

    decisions: list[SeverityDecision] = []
    order = list(rb.severities)

    def decide(current: Incident, timeline: Sequence[Event]) -> Mapping[str, Any] | None:
        decision = decide_severity(order, severity_setting(timeline), current.severity, result, force=force_severity)
        decisions.append(decision)
        if not decision.changes:
            return None
        change: dict[str, Any] = {
            "from": decision.current,
            "to": decision.severity,
            "message": decision.explanation,
            "rule": result.decided_by,  # marks the severity as triage's: severity_setting reads it
        }
        if decision.forced:
            change["forced"] = True
        return change

    changed = journal.append_if_timeline(incident.id, EventKind.SEVERITY_CHANGED, decide)
    decision = decisions[-1]
    record |= {"incident_severity": decision.severity, "decision": decision.action}
    if decision.action != "unchanged":
        record |= {"summary": decision.explanation, "severity_decision": decision.explanation}
    recorded = record_look(journal, incident.id, TRIAGED, record)
    incident = journal.get(incident.id)
    # The next steps are the runbook's for the severity the incident has (a P1 kept stays a P1 to act on).
    kept = replace(result, severity=decision.severity, deadlines=deadlines(rb, decision.severity, incident.started_at))
    return TriageOutcome(
        result,
        incident,
        "updated" if changed.event is not None else "unchanged",
        next_steps(rb, kept, incident),
        severity=decision,
        impact=impact,
        recorded=recorded.event is not None,
    )


#: Which findings make the best title: the cause-like ones before their symptoms.
_TITLE_ORDER = {"datastore": 0, "dependency": 1, "pods": 2, "deployment": 3, "ingress": 4, "service": 5}


def default_title(report: DetectReport, result: Triage) -> str:
    """ "synthesis: 2/4 pods ready (CrashLoopBackOff); error_rate 40.8% > 10% on gateway": the most telling
    finding, then what decided the severity."""
    problems = sorted(report.problems, key=lambda r: (_TITLE_ORDER.get(r.kind, 9), -r.health.rank))
    decided = result.reason.split(": ", 1)[-1].split(" (rule ")[0]
    if not problems:
        return decided[:120]
    top = problems[0]
    head = f"{top.subject or top.target}: {top.summary}"
    return (head if decided in head else f"{head}; {decided}")[:120]


def next_steps(rb: Runbook, result: Triage, incident: Incident | None) -> tuple[str, ...]:
    """The runbook's next moves for this severity, with the deadlines that apply."""
    if result.severity is None:
        return ()
    ref = incident.id if incident is not None else "<ID>"
    steps = []
    if incident is None:
        steps.append("declare the incident: incidentctl triage --declare")
    for d in result.deadlines:
        by = f" by {d.by.astimezone(timezone.utc).strftime('%H:%M UTC')}" if d.by is not None else ""
        steps.append(f"{d.what}: {d.who}{by}")
    if incident is not None and incident.acknowledged_at is None:
        steps.append(f"acknowledge: incidentctl incident ack {ref}")
    if result.severity in rb.postmortem.required_for:
        stages = ", ".join(
            f"{s.description.lower()} within {format_duration(s.within)}" for s in rb.postmortem.stages.values()
        )
        steps.append(f"post-mortem required: {stages}")
    return tuple(steps)
