"""triage: the runbook's classification from live signals, and declaring (or updating) the incident.

Replaces ``assess_impact.sh``, ``determine_severity.sh``, ``check_affected_services.sh`` and the three
``check_*_impact.sh`` scripts. What detect saw goes through the runbook's rules (core.triage); with ``--declare``
the incident is opened, or the open one is updated (a severity change is its own event), with the evidence.
Rules with a duration ("service down for 15 minutes") are judged against the open incident's timeline: the
journal remembers since when each signal has been on.

What goes into the timeline is what changed, not every look: a detected or triaged event is only appended when
it differs from the last look recorded (``core.looks.is_new_look``), which keeps "since when" right, since every
change of the signals that are on is recorded. A severity a person set is never lowered without ``force_severity``, and
a declared incident's impact starts with the earliest evidence (:func:`impact_start`), so MTTD means something.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from incidentctl.core.checks import Health
from incidentctl.core.incident import Declaration, Event, EventKind, Incident, format_timestamp, parse_timestamp
from incidentctl.core.looks import DETECTED as DETECTED  # noqa: PLC0414 - kept importable from here
from incidentctl.core.looks import TRIAGED as TRIAGED  # noqa: PLC0414
from incidentctl.core.looks import look, signals_on, with_history
from incidentctl.core.report import DetectReport
from incidentctl.core.rules import SignalValue
from incidentctl.core.times import format_duration
from incidentctl.core.triage import (
    SeverityDecision,
    Triage,
    classify,
    deadlines,
    decide_severity,
    severity_setting,
)
from incidentctl.exitcodes import ExitCode
from incidentctl.phases.recording import open_incident, record_look

if TYPE_CHECKING:
    from incidentctl.phases.context import PhaseContext
    from incidentctl.runbook.model import Runbook


@dataclass(frozen=True)
class TriageRequest:
    """What the user asked triage for, with what detect saw (triage does not run detect itself: phases do not
    call each other, the CLI hands one's result to the next)."""

    report: DetectReport
    #: ``--declare``: open the incident, or update the open one.
    declare: bool = False
    #: ``--title`` when declaring (None: from the findings).
    title: str | None = None
    #: ``--force-severity``: set the severity the rules choose even if that lowers one a person set.
    force_severity: bool = False
    #: ``--incident``: the incident to update (None: the only open one, if there is one).
    incident: str | None = None


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
class TriageResult:
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
    #: 0 when detect saw nothing wrong, 3 when it found problems (whatever the severity).
    exit_code: ExitCode = ExitCode.OK
    #: Several incidents are open and none was named: their ids; none of them was updated.
    ambiguous: tuple[str, ...] = ()


#: The name the renderers know the result by.
TriageOutcome = TriageResult


@dataclass(frozen=True)
class _Assessment:
    """Triage's conclusion about an open incident, from its timeline as read at one moment."""

    triage: Triage
    impact: ImpactStart


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


def run_triage(ctx: PhaseContext, request: TriageRequest) -> TriageResult:
    """Classify what detect saw; with ``declare``, open the incident or update the open one.

    A severity a person set is never lowered unless ``force_severity``; worse evidence raises any severity. For an
    open incident the decision is taken under the journal's lock, on the incident and timeline as recorded at
    that moment (not as read before): a person's change made meanwhile is never overwritten, and a rule with a
    duration is judged on the streak the journal holds then. Only a look that differs from the last one recorded
    is appended (see :func:`incidentctl.core.looks.is_new_look`).
    """
    rb, report, now = ctx.runbook, request.report, ctx.clock()
    if report.cluster_error is not None:  # triage needs the whole picture, not what was left in view
        raise report.cluster_error
    exit_code = ExitCode.OK if not report.problems else ExitCode.PROBLEMS_FOUND
    journal = ctx.journal()
    target = open_incident(journal, request.incident)
    incident = target.incident
    if incident is None:
        impact = impact_start(report, report.signals, now)
        result = classify(rb, report.results, report.signals, now=now, since=impact.at)
        if not (request.declare and result.severity is not None):
            steps = next_steps(rb, result, None)
            return TriageResult(
                result, None, None, steps, impact=impact, exit_code=exit_code, ambiguous=target.ambiguous
            )
        incident = journal.declare(
            Declaration(
                title=request.title or default_title(report, result),
                severity=result.severity,
                category=result.category,
                components=result.components,
                summary=result.reason,
                started_at=impact.at,
                severity_rule=result.decided_by,
            )
        )
        record = _record(rb, report, result) | {
            "incident_severity": result.severity,
            "decision": "declared",
            "impact_start": {"at": format_timestamp(impact.at), "source": impact.source, "basis": impact.basis},
        }
        incident = journal.append(incident.id, TRIAGED, record).incident
        steps = next_steps(rb, result, incident)
        return TriageResult(result, incident, "declared", steps, impact=impact, recorded=True, exit_code=exit_code)

    preview = _assess(rb, report, incident, journal.timeline(incident.id), now)
    if not (request.declare and preview.triage.severity is not None):
        steps = next_steps(rb, preview.triage, incident)
        return TriageResult(preview.triage, incident, None, steps, impact=preview.impact, exit_code=exit_code)

    decided: list[tuple[_Assessment, SeverityDecision]] = []
    order = list(rb.severities)

    def decide(current: Incident, timeline: Sequence[Event]) -> Mapping[str, Any] | None:
        assessment = _assess(rb, report, current, timeline, now)  # re-made on what is recorded now
        decision = decide_severity(
            order, severity_setting(timeline), current.severity, assessment.triage, force=request.force_severity
        )
        decided.append((assessment, decision))
        if not decision.changes:
            return None
        change: dict[str, Any] = {
            "from": decision.current,
            "to": decision.severity,
            "message": decision.explanation,
            "rule": assessment.triage.decided_by,  # marks the severity as triage's: severity_setting reads it
        }
        if decision.forced:
            change["forced"] = True
        return change

    changed = journal.append_if_timeline(incident.id, EventKind.SEVERITY_CHANGED, decide)
    assessment, decision = decided[-1]
    result = assessment.triage
    record = _record(rb, report, result) | {"incident_severity": decision.severity, "decision": decision.action}
    if decision.action != "unchanged":
        record |= {"summary": decision.explanation, "severity_decision": decision.explanation}
    recorded = record_look(journal, incident.id, TRIAGED, record)
    incident = journal.get(incident.id)
    # The next steps are the runbook's for the severity the incident has (a P1 kept stays a P1 to act on).
    kept = replace(result, severity=decision.severity, deadlines=deadlines(rb, decision.severity, incident.started_at))
    return TriageResult(
        result,
        incident,
        "updated" if changed.event is not None else "unchanged",
        next_steps(rb, kept, incident),
        severity=decision,
        impact=assessment.impact,
        recorded=recorded.event is not None,
        exit_code=exit_code,
    )


def _assess(
    rb: Runbook, report: DetectReport, incident: Incident, timeline: Sequence[Event], now: datetime
) -> _Assessment:
    """The classification of an open incident: each signal that is on, held as long as the timeline says, and
    deadlines from the incident's start. A function of the timeline, so it can be re-made under the lock."""
    signals = with_history(report.signals, signals_on(rb, report.signals), timeline, now)
    result = classify(rb, report.results, signals, now=now, since=incident.started_at)
    return _Assessment(result, recorded_impact(incident, timeline))


def _record(rb: Runbook, report: DetectReport, result: Triage) -> dict[str, Any]:
    """The triaged event's data: the look, and what triage concluded from it."""
    return {
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
