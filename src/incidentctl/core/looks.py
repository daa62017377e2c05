"""The looks detect and triage leave in an open incident's timeline, and whether a look is new.

Shared by both phases (which do not import each other), and pure: the runbook, a report and a timeline go in,
an event's data or a yes/no comes out. What goes into the timeline is what changed, not every look: a look is
recorded only when it differs from the last one recorded (:func:`is_new_look`), which keeps "since when" right
(:func:`with_history`), since every change of the signals that are on is recorded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from incidentctl.core.events import EventKind
from incidentctl.core.rules import SignalValue, evaluate_condition

if TYPE_CHECKING:
    from incidentctl.core.incident import Event
    from incidentctl.core.report import DetectReport
    from incidentctl.runbook.model import Runbook

#: The event detect and triage leave in an open incident's timeline (registered in core.events).
DETECTED = EventKind.DETECTED
TRIAGED = EventKind.TRIAGED


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


def escalations_on(rb: Runbook, signals: Mapping[str, Sequence[SignalValue]]) -> list[str]:
    """The automatic escalation rules whose conditions all hold now (durations aside). ``signals_on`` cannot say
    it: error_rate 15% is "on" for triage's 10% rule and still below escalation's 20%, so the rule ids are kept
    too, and ``escalate check`` reads from the timeline since when each rule has held."""
    on = []
    for rule in rb.escalation.rules.automatic:
        conditions = [c.model_copy(update={"for_": None}) for c in rule.when]
        if all(evaluate_condition(c, signals.get(c.signal, ())).holds for c in conditions):
            on.append(rule.id)
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
LOOK_FIELDS = ("health", "subjects", "failing", "signals_on", "escalations_on")
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
        "escalations_on": escalations_on(rb, report.signals),
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


def summarize(report: DetectReport) -> str:
    bad = [s for s in report.subjects if s.health.value != "ok"]
    if not bad:
        return f"all {len(report.subjects)} checked parts healthy"
    return ", ".join(f"{s.name} {s.health.value}" for s in bad)
