"""Incidents as a fold over their timeline.

The timeline (an append-only list of events) is the only record; an :class:`Incident` is what you get by
replaying it. That keeps every store simple (it only appends and reads lines), makes the history impossible to
lose by editing state, and lets later phases add event kinds without touching old records: what each kind changes
is registered in :mod:`incidentctl.core.events`, and :func:`fold` skips kinds it does not know, so an older
incidentctl still reads a newer journal.

The rules for what a command may record (acknowledge once, reopen a resolved incident, ...) live here too, as
pure functions a store runs under its lock, so two engineers acting at once cannot both "first" acknowledge.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

from incidentctl.core.times import format_rfc3339, parse_rfc3339
from incidentctl.errors import UsageError

if TYPE_CHECKING:
    from incidentctl.core.events import EventKind as EventKind  # noqa: PLC0414 - callers import it from here


def __getattr__(name: str) -> Any:
    """``EventKind`` is registered in :mod:`incidentctl.core.events` and still importable from here; it is loaded
    on first use, because the registry's payload models need pydantic, which ``incidentctl --help`` must not pay for.
    """
    if name == "EventKind":
        from incidentctl.core.events import EventKind

        return EventKind
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class IncidentStatus(Enum):
    """The statuses the runbook's notifications and status page speak of."""

    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"

    @property
    def is_open(self) -> bool:
        return self is not IncidentStatus.RESOLVED


@dataclass(frozen=True)
class Event:
    time: datetime
    actor: str
    kind: str
    data: dict[str, Any] = field(default_factory=dict)
    #: Unique across every journal (:func:`new_event_id`), given by the store when the event is recorded and kept
    #: by every copy, so an append that is retried, spooled or copied is recognised and never written twice.
    #: Empty until then; not part of equality, which compares what happened, not which record says so.
    id: str = field(default="", compare=False)


def new_event_id() -> str:
    """A fresh event id: a random UUID, which no two writers, laptops or databases will ever both draw."""
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Damage:
    """One part of an incident's files that could not be read or replayed: where, and what is wrong with it."""

    #: ``INC-2026-004/timeline.jsonl:7`` (a line), or a file alone when the whole file is the problem
    where: str
    problem: str


#: Where an incident's state came from (see :func:`recover`).
STATE_FROM_TIMELINE = "timeline"
STATE_FROM_SNAPSHOT = "snapshot"
STATE_FROM_EVENTS = "events"


@dataclass(frozen=True)
class Incident:
    id: str
    title: str
    severity: str
    status: IncidentStatus
    category: str | None
    components: tuple[str, ...]
    summary: str | None
    commander: str | None
    declared_by: str
    declared_at: datetime
    #: When the impact began (``--started-at``), else the declaration time. MTTD counts from it.
    started_at: datetime
    #: The technical lead (the seed's notifications sign with the incident commander and the technical lead).
    tech_lead: str | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    resolved_at: datetime | None = None
    #: The time of the latest event of any kind.
    updated_at: datetime | None = None
    notes: int = 0
    events: int = 0
    #: How often a resolved incident was set back to an open status.
    reopened: int = 0
    #: Part of the record could not be read: the state is the best reading of the rest (see :func:`recover`).
    damaged: bool = False
    problems: tuple[Damage, ...] = ()
    #: ``timeline``, ``snapshot`` (incident.yaml, the timeline lost its declaration) or ``events`` (neither).
    state_from: str = STATE_FROM_TIMELINE

    @property
    def is_open(self) -> bool:
        return self.status.is_open


class TimelineError(ValueError):
    """A timeline that cannot be folded; ``index`` is the 0-based position of the offending event."""

    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.index = index


# --- time stamps --------------------------------------------------------------------------------------------


format_timestamp = format_rfc3339
parse_timestamp = parse_rfc3339


# --- ids ----------------------------------------------------------------------------------------------------

#: ASCII digits only, and at most nine of them: an id becomes a folder name, so it must stay short and plain.
_ID = re.compile(r"INC-([0-9]{4})-([0-9]{1,9})", re.IGNORECASE)


def format_incident_id(year: int, number: int) -> str:
    return f"INC-{year:04d}-{number:03d}"


def parse_incident_id(text: str) -> tuple[int, int] | None:
    """``INC-2026-004`` -> (2026, 4); also the forgiving spellings ``inc-2026-4``. None if it is not an id."""
    match = _ID.fullmatch(text.strip())
    if match is None or int(match.group(2)) == 0:
        return None
    return int(match.group(1)), int(match.group(2))


def normalize_incident_id(text: str) -> str:
    parsed = parse_incident_id(text)
    if parsed is None:
        raise UsageError(f"{text!r} is not an incident id (they look like INC-2026-004)")
    return format_incident_id(*parsed)


# --- folding ------------------------------------------------------------------------------------------------


def fold(events: Iterable[Event]) -> Incident:
    """Replay a timeline into the incident's current state. The first event must be ``declared``."""
    incident: Incident | None = None
    for index, event in enumerate(events):
        incident = _declared(event, index) if incident is None else apply(incident, event, index=index)
    if incident is None:
        raise TimelineError("the timeline is empty", 0)
    return incident


def apply(incident: Incident, event: Event, *, index: int = 0) -> Incident:
    """One step of :func:`fold`: the state after ``event``, as its kind's registration says. Unknown kinds only
    move ``updated_at``."""
    from incidentctl.core import events  # loaded on first use: see __getattr__

    changes: dict[str, Any] = {
        "events": incident.events + 1,
        "updated_at": max(incident.updated_at or event.time, event.time),
    }
    if event.kind == events.EventKind.DECLARED:
        raise TimelineError(f"{incident.id} is declared a second time", index)
    found = events.spec(event.kind)
    if found is not None and found.apply is not None:
        try:
            changes.update(found.apply(incident, event, found.read(event.data)))
        except events.PayloadError as e:
            raise TimelineError(str(e), index) from e
    return dataclasses.replace(incident, **changes)


# --- folding what is left of a damaged timeline ------------------------------------------------------------


def replay(incident: Incident | None, event: Event, *, incident_id: str, index: int = 0) -> Incident:
    """One step of a fold that survives damage: like :func:`apply`, but a timeline may start without its
    declaration (the line was lost), in which case the events replay onto :func:`placeholder`.

    Raises :class:`TimelineError` when this event cannot be replayed; the caller records that as damage and
    carries on from the state before it, since every event is a fact of its own.
    """
    if incident is None:
        from incidentctl.core.events import EventKind

        if event.kind == EventKind.DECLARED:
            return _declared(event, index)
        incident = placeholder(incident_id, event.time)
    return apply(incident, event, index=index)


def placeholder(incident_id: str, since: datetime) -> Incident:
    """An incident whose declaration cannot be read from anywhere: what is known, and open.

    Open (investigating) because an unknown state must never pass for a finished one: a wrong "open" gets
    noticed and fixed with ``incident status``, a wrong "resolved" hides a live incident from everyone.
    """
    return Incident(
        id=incident_id,
        title="(unknown: the declaration cannot be read)",
        severity="?",
        status=IncidentStatus.INVESTIGATING,
        category=None,
        components=(),
        summary=None,
        commander=None,
        declared_by="unknown",
        declared_at=since,
        started_at=since,
        updated_at=since,
        state_from=STATE_FROM_EVENTS,
    )


def recover(
    incident_id: str,
    folded: Incident | None,
    problems: Sequence[Damage],
    *,
    snapshot: Incident | None = None,
    since: datetime,
) -> Incident:
    """What a damaged incident folds to, from what could be read.

    - The timeline still has a readable declaration: the fold of every readable event, in file order, skipping
      the lines that cannot be read and the events that cannot be replayed. The timeline is the record and each
      line is a fact of its own (a note, an acknowledgement, a status), so a lost line loses that fact and no
      other. This is also what reads a bad git merge right: the conflict markers are unreadable, both sides'
      events are not. The snapshot is not preferred even where it may be newer: it is derived, may be stale or
      edited by hand, and is as likely to be the damaged file.
    - The declaration is lost (the line, or the whole timeline: missing, empty, zeroed) and ``incident.yaml``
      is readable: the snapshot, which is the fold as of the last append (so it already counts the events still
      in the timeline, and is not replayed again). Appends keep it current from then on.
    - Neither: :func:`placeholder` (id and time known, title and severity not, open) with the readable events
      replayed onto it, so an acknowledgement or a status change still counts.

    In every case the id is the folder's (what commands address), the incident is marked ``damaged`` with each
    problem's ``file:line``, and ``state_from`` says which of the three it is. The damaged lines themselves are
    left as written: the journal is append-only, and a person decides how to mend them.
    """
    if folded is not None and folded.state_from == STATE_FROM_TIMELINE:
        base = folded
    elif snapshot is not None:
        base = dataclasses.replace(snapshot, state_from=STATE_FROM_SNAPSHOT)
    else:
        base = folded if folded is not None else placeholder(incident_id, since)
    return dataclasses.replace(base, id=incident_id, damaged=bool(problems), problems=tuple(problems))


def _declared(event: Event, index: int) -> Incident:
    from incidentctl.core import events

    if event.kind != events.EventKind.DECLARED:
        raise TimelineError(f"the timeline starts with a {event.kind!r} event, not 'declared'", index)
    try:
        data = events.DECLARED.read(event.data)
    except events.PayloadError as e:
        raise TimelineError(str(e), index) from e
    started_at = event.time
    if data.started_at is not None:
        try:
            started_at = parse_timestamp(data.started_at)
        except ValueError as e:
            raise TimelineError(f"declared: started_at {data.started_at!r} is not an RFC 3339 time", index) from e
    return Incident(
        id=data.id,
        title=data.title,
        severity=data.severity,
        status=_status(data.status, index),
        category=data.category,
        components=tuple(data.components),
        summary=data.summary,
        commander=data.commander,
        tech_lead=data.tech_lead,
        declared_by=event.actor,
        declared_at=event.time,
        started_at=started_at,
        updated_at=event.time,
        events=1,
    )


def _status(value: Any, index: int) -> IncidentStatus:
    try:
        return IncidentStatus(value)
    except ValueError as e:
        raise TimelineError(f"{value!r} is not an incident status", index) from e


# --- what the runbook allows --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Catalogue:
    """The names a runbook allows, as plain data, so these rules need no runbook loader."""

    #: severity id ("P1") -> its name ("Critical"), most severe first
    severities: Mapping[str, str]
    #: category ("infrastructure") -> its kinds ("database", "network", ...)
    categories: Mapping[str, Sequence[str]]
    components: Sequence[str]


def normalize_severity(value: str, catalogue: Catalogue) -> str:
    """``p1``, ``P1`` and ``critical`` all mean P1: nobody should fight the spelling at 3 a.m."""
    wanted = value.strip().lower()
    for level, name in catalogue.severities.items():
        if wanted in (level.lower(), name.lower()):
            return level
    choices = ", ".join(f"{level} ({name})" for level, name in catalogue.severities.items())
    raise UsageError(f"unknown severity {value!r}; the runbook defines {choices}")


def normalize_category(value: str, catalogue: Catalogue) -> str:
    """``infrastructure`` or ``infrastructure/database``; both parts must be in the runbook."""
    category, _, kind = value.strip().lower().partition("/")
    if category not in catalogue.categories:
        choices = ", ".join(catalogue.categories)
        raise UsageError(f"unknown category {category!r}; the runbook defines {choices}")
    if not kind:
        return category
    kinds = catalogue.categories[category]
    if kind not in kinds:
        choices = ", ".join(f"{category}/{k}" for k in kinds)
        raise UsageError(f"unknown kind {kind!r} in category {category!r}; choose {choices}")
    return f"{category}/{kind}"


def normalize_components(values: Iterable[str], catalogue: Catalogue) -> tuple[str, ...]:
    """Known component names, each once, in the order given (``--component a,b`` or repeated)."""
    result: list[str] = []
    for raw in values:
        for name in (part.strip() for part in raw.split(",")):
            if not name:
                continue
            if name not in catalogue.components:
                choices = ", ".join(catalogue.components)
                raise UsageError(f"unknown component {name!r}; the runbook defines {choices}")
            if name not in result:
                result.append(name)
    return tuple(result)


@dataclass(frozen=True)
class Declaration:
    """What ``incident declare`` records, already checked against the runbook."""

    title: str
    severity: str
    category: str | None = None
    components: tuple[str, ...] = ()
    summary: str | None = None
    started_at: datetime | None = None
    commander: str | None = None
    tech_lead: str | None = None
    #: The triage rule that chose the severity; None when a person chose it (triage then never lowers it).
    severity_rule: str | None = None

    def event_data(self, incident_id: str) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": incident_id,
            "title": self.title,
            "severity": self.severity,
            "status": IncidentStatus.INVESTIGATING.value,
            "components": list(self.components),
        }
        if self.category is not None:
            data["category"] = self.category
        if self.summary:
            data["summary"] = self.summary
        if self.started_at is not None:
            data["started_at"] = format_timestamp(self.started_at)
        if self.commander:
            data["commander"] = self.commander
        if self.tech_lead:
            data["tech_lead"] = self.tech_lead
        if self.severity_rule:
            data["severity_rule"] = self.severity_rule
        return data


def check_declaration(declaration: Declaration, now: datetime) -> None:
    if not declaration.title.strip():
        raise UsageError("the title is empty; say in a few words what is broken")
    if declaration.started_at is not None and declaration.started_at > now:
        raise UsageError(
            f"--started-at {format_timestamp(declaration.started_at)} is in the future (now is {format_timestamp(now)})"
        )


# --- what may be recorded -----------------------------------------------------------------------------------
# Each returns True when the event should be appended and False when it would change nothing (the command then
# says so and succeeds, so scripts can repeat it); it raises UsageError for what makes no sense.


def should_acknowledge(incident: Incident) -> bool:
    if incident.acknowledged_at is not None:
        return False
    if incident.status is IncidentStatus.RESOLVED:
        raise UsageError(
            f"{incident.id} is resolved; there is nothing left to acknowledge",
            hint=f"to reopen it: incidentctl incident status {incident.id} investigating",
        )
    return True


def should_change_status(incident: Incident, to: IncidentStatus) -> bool:
    """Any status may follow any other, including reopening a resolved incident.

    Real incidents go back and forth (monitoring shows the fix did not hold; a resolved incident recurs within
    the hour), and the timeline keeps every step, so a forced order would only push people into declaring a
    duplicate incident. A reopened incident's ``resolved_at`` is cleared until it is resolved again.
    """
    return incident.status is not to


def should_change_severity(incident: Incident, to: str) -> bool:
    """Re-classifying after resolution is allowed: post-mortems often find it was worse than declared."""
    return incident.severity != to


def role_changes(
    incident: Incident, *, commander: str | None = None, tech_lead: str | None = None
) -> dict[str, str | None] | None:
    """The roles to record: each role given (None: not given) whose holder changes, by name, or None (to clear it)
    for an empty or blank name. None when nothing would change.

    A name is kept as typed, less the blanks around it (the journal is evidence; it is made safe when shown).
    """
    changes: dict[str, str | None] = {}
    for role, name in (("commander", commander), ("tech_lead", tech_lead)):
        if name is None:
            continue
        holder = name.strip() or None
        if getattr(incident, role) != holder:
            changes[role] = holder
    return changes or None


def normalize_note_tag(value: str) -> str:
    """``--tag``: one of :data:`incidentctl.core.events.NOTE_TAGS`, any case; UsageError listing them otherwise."""
    from incidentctl.core.events import NOTE_TAGS

    tag = value.strip().lower().replace("_", "-")
    if tag not in NOTE_TAGS:
        raise UsageError(f"--tag {value!r} is not a note tag", hint=f"one of {', '.join(NOTE_TAGS)}")
    return tag


#: The longest reason a correction keeps: a sentence or a paragraph, not a pasted log.
MAX_REASON = 1000


def correction(
    incident: Incident, timeline: Sequence[Event], started_at: datetime, reason: str, now: datetime
) -> dict[str, Any] | None:
    """The ``corrected`` event that moves the impact's start to ``started_at``, or None when it starts then already.

    Refused in the future, and after the incident was detected (or declared, whichever came first): an impact
    cannot begin after someone saw it, and a later start would make MTTD negative. The reason is required, since
    a correction changes every metric after the fact and the post-mortem must be able to say why.
    """
    from incidentctl.core.events import Milestone, milestones

    why = reason.strip()
    if not why:
        raise UsageError("say why the start is corrected: --reason TEXT", hint="the reason is kept in the timeline")
    if len(why) > MAX_REASON:
        raise UsageError(f"--reason is {len(why)} characters long; at most {MAX_REASON} are kept")
    if started_at > now:
        raise UsageError(
            f"--started-at {format_timestamp(started_at)} is in the future (now is {format_timestamp(now)})"
        )
    detected = milestones(timeline).get(Milestone.DETECTED, incident.declared_at)
    if started_at > detected:
        raise UsageError(
            f"--started-at {format_timestamp(started_at)} is after {incident.id} was detected "
            f"({format_timestamp(detected)}); an impact cannot start after it was seen",
            hint="give the time the impact began, at or before the detection",
        )
    if started_at == incident.started_at:
        return None
    return {
        "started_at": format_timestamp(started_at),
        "was_started_at": format_timestamp(incident.started_at),
        "reason": why,
    }
