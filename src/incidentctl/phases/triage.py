"""triage: the runbook's classification from live signals, and declaring (or updating) the incident.

Replaces ``assess_impact.sh``, ``determine_severity.sh``, ``check_affected_services.sh`` and the three
``check_*_impact.sh`` scripts. What detect saw goes through the runbook's rules (core.triage); with ``--declare``
the incident is opened, or the open one is updated (a severity change is its own event), with the evidence.
Rules with a duration ("service down for 15 minutes") are judged against the open incident's timeline: the
journal remembers since when each signal has been on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from incidentctl.core.incident import Declaration, Event, EventKind, Incident
from incidentctl.core.rules import SignalValue, evaluate_condition
from incidentctl.core.triage import Triage, classify

if TYPE_CHECKING:
    from incidentctl.journal.base import JournalStore
    from incidentctl.phases.detect import DetectReport
    from incidentctl.runbook.model import Runbook

#: The event detect and triage leave in an open incident's timeline.
DETECTED = "detected"
TRIAGED = "triaged"


@dataclass(frozen=True)
class TriageOutcome:
    triage: Triage
    incident: Incident | None
    #: "declared", "updated", "unchanged" or None (nothing recorded)
    action: str | None
    next_steps: tuple[str, ...]


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


def detection_event(rb: Runbook, report: DetectReport) -> dict[str, Any]:
    """What a detect run leaves in the open incident's timeline (compact: the table, not every raw fact)."""
    return {
        "health": report.health.value,
        "summary": summarize(report),
        "subjects": {s.name: s.health.value for s in report.subjects},
        "problems": [f"{r.check}: {r.summary}" for r in report.problems][:50],
        "signals_on": signals_on(rb, report.signals),
        "duration_s": round(report.duration_s, 3),
    }


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
) -> TriageOutcome:
    on_now = signals_on(rb, report.signals)
    signals: Mapping[str, Sequence[SignalValue]] = report.signals
    if incident is not None and journal is not None:
        signals = with_history(report.signals, on_now, journal.timeline(incident.id), now)
    result = classify(rb, report.results, signals, now=now, since=incident.started_at if incident is not None else None)
    action: str | None = None
    if declare and journal is not None and result.severity is not None:
        record = {
            "summary": result.reason,
            "severity": result.severity,
            "reason": result.reason,
            "rule": result.decided_by,
            "category": result.category,
            "components": list(result.components),
            "users_affected": result.users_affected,
            "evidence": list(result.evidence)[:50],
            "signals_on": on_now,
        }
        if incident is None:
            incident = journal.declare(
                Declaration(
                    title=title or default_title(report, result),
                    severity=result.severity,
                    category=result.category,
                    components=result.components,
                    summary=result.reason,
                )
            )
            journal.append(incident.id, TRIAGED, record)
            action = "declared"
        else:
            journal.append(incident.id, TRIAGED, record)
            action = "unchanged"
            if incident.severity != result.severity:
                journal.append(
                    incident.id,
                    EventKind.SEVERITY_CHANGED,
                    {"from": incident.severity, "to": result.severity, "message": result.reason},
                )
                action = "updated"
            incident = journal.get(incident.id)
    return TriageOutcome(result, incident, action, next_steps(rb, result, incident))


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
            f"{s.description.lower()} within {_dur(s.within.total_seconds())}" for s in rb.postmortem.stages.values()
        )
        steps.append(f"post-mortem required: {stages}")
    return tuple(steps)


def _dur(seconds: float) -> str:
    from incidentctl.core.rules import format_seconds

    if seconds >= 86400 * 7 and seconds % (86400 * 7) == 0:
        return f"{int(seconds // (86400 * 7))}w"
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{int(seconds // 3600)}h"
    return format_seconds(seconds)
