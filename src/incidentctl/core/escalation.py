"""The escalation matrix's rules, judged on what an incident's journal says: who is due now and why, who becomes
due when, and which levels the incident has already reached.

Two kinds of rule fire on their own. An automatic rule (``escalation.rules.automatic``: service_down for 15m,
error_rate > 20%...) holds on the incident's signals: detect and triage record every change of them in the
timeline (``escalations_on`` in each look, see :mod:`incidentctl.core.looks`), so the looks since the last change
say since when a rule has held, and a rule with ``for:`` is due that long after. A severity's time-based rule
(``severities.P2.escalation``: L3 within 30m) counts from the moment the incident took that severity.

A level is reached once: an ``escalated`` event to it (or to a higher level) covers every rule that asks for it,
so a rule is never due again, and nothing here ever proposes a level below the one reached. A rule the journal
cannot judge (no look recorded yet, or only looks of an older incidentctl that did not keep the rule) is
``unknown``, never "not due".

Pure: no I/O and no clock of its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from incidentctl.core.events import EventKind
from incidentctl.core.rules import format_value
from incidentctl.core.times import format_duration, format_elapsed

if TYPE_CHECKING:
    from incidentctl.core.incident import Event, Incident
    from incidentctl.runbook.model import AutomaticEscalation, Condition, Runbook

#: due: fires now and the level is not reached; pending: holds, due at ``due_at`` if it goes on; covered: the
#: level (or a higher one) is reached; off: does not hold; unknown: the journal cannot say.
RuleState = Literal["due", "pending", "covered", "off", "unknown"]

_LOOKS = (EventKind.DETECTED, EventKind.TRIAGED)


@dataclass(frozen=True)
class Reached:
    """A level the incident was escalated to (an ``escalated`` event)."""

    level: str
    role: str | None
    at: datetime
    by: str
    rule: str | None
    automatic: bool
    reason: str
    notified: tuple[str, ...] = ()
    batch: str | None = None


@dataclass(frozen=True)
class RuleStatus:
    #: An automatic rule's id, or ``severity:P2`` for a severity's time-based rule.
    rule: str
    kind: Literal["automatic", "severity"]
    level: str
    role: str
    state: RuleState
    #: What the rule asks for, in the runbook's terms: "service_down for 15m", "P2 for 30m".
    condition: str
    #: Why it is in this state, for people.
    why: str
    #: Since when its condition has held (None: it does not, or nobody knows).
    since: datetime | None = None
    #: When it is, was or will be due (None: off, unknown or covered without ever being due).
    due_at: datetime | None = None


@dataclass(frozen=True)
class Assessment:
    incident_id: str
    severity: str
    open: bool
    now: datetime
    rules: tuple[RuleStatus, ...]
    reached: tuple[Reached, ...]
    #: The latest look (detected/triaged) the journal has, and how many it has.
    last_look_at: datetime | None
    looks: int

    @property
    def due(self) -> list[RuleStatus]:
        return [r for r in self.rules if r.state == "due"]

    @property
    def unknown(self) -> list[RuleStatus]:
        return [r for r in self.rules if r.state == "unknown"]

    @property
    def highest_reached(self) -> Reached | None:
        return self.reached[-1] if self.reached else None


def level_rank(rb: Runbook, level: str) -> int:
    """Where a level stands in the matrix (L1 first); a level the runbook does not have ranks below all."""
    ids = [lvl.id for lvl in rb.escalation.levels]
    return ids.index(level) if level in ids else -1


def role_of(rb: Runbook, level: str) -> str:
    return next((lvl.role for lvl in rb.escalation.levels if lvl.id == level), level)


def reached_levels(rb: Runbook, timeline: Sequence[Event]) -> list[Reached]:
    """The levels reached, in the order reached; each only rises (a lower one recorded later is ignored)."""
    out: list[Reached] = []
    for event in timeline:
        if event.kind != EventKind.ESCALATED:
            continue
        data: Mapping[str, Any] = event.data
        level = str(data.get("level") or "")
        if not level or (out and level_rank(rb, level) <= level_rank(rb, out[-1].level)):
            continue
        out.append(
            Reached(
                level=level,
                role=data.get("role"),
                at=event.time,
                by=event.actor,
                rule=data.get("rule"),
                automatic=bool(data.get("automatic")),
                reason=str(data.get("reason") or ""),
                notified=tuple(str(c) for c in data.get("notified") or []),
                batch=data.get("batch"),
            )
        )
    return out


def condition_text(rb: Runbook, cond: Condition) -> str:
    unit = rb.signal_unit(cond.signal) or "ratio"
    text = cond.signal
    if cond.threshold is not None and unit != "bool":
        text += f" {cond.op} {format_value(cond.threshold, unit)}"
    if cond.for_:
        text += f" for {format_duration(cond.for_)}"
    return text


def severity_since(incident: Incident, timeline: Sequence[Event]) -> datetime:
    """When the incident took the severity it has now (declared with it, or changed to it)."""
    since = incident.declared_at
    current: str | None = None
    for event in timeline:
        if event.kind == EventKind.DECLARED:
            current, since = str(event.data.get("severity")), event.time
        elif event.kind == EventKind.SEVERITY_CHANGED and event.data.get("to") != current:
            current, since = str(event.data.get("to")), event.time
    return since


def assess(rb: Runbook, incident: Incident, timeline: Sequence[Event], now: datetime) -> Assessment:
    """Every rule that can escalate this incident, judged on its journal at ``now``."""
    reached = reached_levels(rb, timeline)
    top = level_rank(rb, reached[-1].level) if reached else -1
    looks = [e for e in timeline if e.kind in _LOOKS]
    rules: list[RuleStatus] = []
    level = rb.severities.get(incident.severity)
    if level is not None and level.escalation.level:
        rules.append(_severity_rule(rb, incident, timeline, now))
    rules.extend(_automatic(rb, rule, looks, now) for rule in rb.escalation.rules.automatic)
    judged = []
    for rule_status in rules:
        if not incident.status.is_open:
            rule_status = _with(rule_status, "off", f"the incident is {incident.status.value}", due_at=None)  # noqa: PLW2901
        elif level_rank(rb, rule_status.level) <= top:
            by = reached[-1]
            why = f"{by.level} ({by.role or role_of(rb, by.level)}) already reached"
            rule_status = _with(rule_status, "covered", why)  # noqa: PLW2901
        judged.append(rule_status)
    return Assessment(
        incident_id=incident.id,
        severity=incident.severity,
        open=incident.status.is_open,
        now=now,
        rules=tuple(judged),
        reached=tuple(reached),
        last_look_at=looks[-1].time if looks else None,
        looks=len(looks),
    )


def target(rb: Runbook, assessment: Assessment) -> tuple[str, list[RuleStatus]] | None:
    """The level to escalate to now (the highest due) and the rules that ask for it; None when nothing is due."""
    due = assessment.due
    if not due:
        return None
    level = max((r.level for r in due), key=lambda lvl: level_rank(rb, lvl))
    return level, [r for r in due if r.level == level]


def _with(status: RuleStatus, state: RuleState, why: str, **changes: Any) -> RuleStatus:
    from dataclasses import replace

    return replace(status, state=state, why=why, **changes)


def _severity_rule(rb: Runbook, incident: Incident, timeline: Sequence[Event], now: datetime) -> RuleStatus:
    level = rb.severities[incident.severity]
    target_level = level.escalation.level or ""
    within = level.escalation.within or timedelta(0)
    since = severity_since(incident, timeline)
    due_at = since + within
    condition = f"{incident.severity} for {format_duration(within)}" if within else f"{incident.severity}"
    held = format_elapsed(max(now - since, timedelta(0)))
    if now >= due_at:
        state: RuleState = "due"
        why = f"{incident.severity} for {held}: {level.escalation.description}"
    else:
        state = "pending"
        why = f"{incident.severity} for {held} of {format_duration(within)}: {level.escalation.description}"
    return RuleStatus(
        rule=f"severity:{incident.severity}",
        kind="severity",
        level=target_level,
        role=role_of(rb, target_level),
        state=state,
        condition=condition,
        why=why,
        since=since,
        due_at=due_at,
    )


def _held_at(rule: AutomaticEscalation, look: Mapping[str, Any]) -> bool | None:
    """Whether the rule held at one look; None when the look cannot say (an older look, a threshold rule)."""
    if "escalations_on" in look:
        return rule.id in (look.get("escalations_on") or [])
    if all(c.threshold is None for c in rule.when):  # on/off signals: signals_on says it
        return all(c.signal in (look.get("signals_on") or []) for c in rule.when)
    return None


def _automatic(rb: Runbook, rule: AutomaticEscalation, looks: Sequence[Event], now: datetime) -> RuleStatus:
    condition = " and ".join(condition_text(rb, c) for c in rule.when)
    base = RuleStatus(
        rule=rule.id,
        kind="automatic",
        level=rule.escalate_to,
        role=role_of(rb, rule.escalate_to),
        state="unknown",
        condition=condition,
        why="no look recorded yet: run detect or triage to see the signals",
    )
    if not looks:
        return base
    last = looks[-1]
    held = _held_at(rule, last.data)
    if held is None:
        return _with(base, "unknown", "the last look did not record this rule: run detect or triage again")
    if not held:
        return _with(base, "off", "not seen at the last look")
    since = last.time
    for event in reversed(looks):
        if _held_at(rule, event.data):
            since = event.time
        else:
            break
    need = max((c.for_ for c in rule.when if c.for_), default=timedelta(0))
    due_at = since + need
    for_how_long = format_elapsed(max(now - since, timedelta(0)))
    if now >= due_at:
        return _with(base, "due", f"{condition}: holding for {for_how_long}", since=since, due_at=due_at)
    why = f"{condition}: holding for {for_how_long} of {format_duration(need)}"
    return _with(base, "pending", why, since=since, due_at=due_at)
