"""Copying incidents from one journal to another (``incidentctl journal copy``), whichever backends they are.

The folder journal into the team journal when a team moves to PostgreSQL, and the team journal back out into a
folder (an export a team keeps in git). Everything goes through the :class:`~incidentctl.journal.base.JournalStore`
contract, so this module never knows which side is which, and every event keeps its id, time and actor: that is
what makes a copy idempotent (the destination's ``ingest`` skips ids it holds, so a second run copies nothing)
and what lets a later copy in the other direction recognise the events as the same ones.

What is copied, per incident, is exactly what the source can read: a damaged timeline gives its readable events
and its problems (``file:line``) are reported, never papered over with invented events; a torn last line is not an
event and is not copied. An event the journal format cannot hold (a kind this incidentctl does not know, a payload
its kind does not take) stays behind and is reported the same way.

Two journals can each have an ``INC-2026-004`` that are different incidents (two folders declared the same number
before the team shared one journal). They are told apart by the declaration's event id: a different one is a
conflict, reported and not merged, and the other incidents are still copied.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum

from incidentctl.core.events import EventKind
from incidentctl.core.incident import Damage, Event, normalize_incident_id, parse_incident_id
from incidentctl.errors import JournalError, NotFoundError, UsageError
from incidentctl.exitcodes import ExitCode
from incidentctl.journal.base import IngestConflictError, JournalStore
from incidentctl.journal.records import encode_event


class Outcome(str, Enum):
    #: Events were written (or, with a dry run, would be).
    COPIED = "copied"
    #: Every readable event is already in the destination: nothing to do.
    PRESENT = "present"
    #: The destination has another incident under this id: nothing copied.
    CONFLICT = "conflict"
    #: The source is damaged: its readable events were copied (or were there), its problems are listed.
    DAMAGED = "damaged"
    #: A journal refused (a folder that cannot be written, an event too large): nothing copied.
    FAILED = "failed"


#: Outcomes that leave the destination short of what the source holds: the command exits non-zero for them.
PROBLEM_OUTCOMES = frozenset({Outcome.CONFLICT, Outcome.DAMAGED, Outcome.FAILED})


@dataclass(frozen=True)
class IncidentCopy:
    id: str
    outcome: Outcome
    #: The events the source could read (and the journal format can hold).
    events: int
    #: Written to the destination; with a dry run, what would be written.
    copied: int
    #: Already in the destination (by event id).
    present: int
    #: What could not be read or copied, each with where it is (``INC-2026-004/timeline.jsonl:7``).
    problems: tuple[Damage, ...] = ()
    #: Why nothing was copied (a conflict, a refusal); None otherwise.
    reason: str | None = None


@dataclass(frozen=True)
class CopyResult:
    source: str
    destination: str
    dry_run: bool
    incidents: tuple[IncidentCopy, ...]

    @property
    def copied(self) -> int:
        return sum(item.copied for item in self.incidents)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for item in self.incidents if item.outcome is outcome)

    @property
    def exit_code(self) -> ExitCode:
        """3 when an incident was not copied whole (conflict, damage, refusal), so a migration script stops."""
        problems = any(item.outcome in PROBLEM_OUTCOMES for item in self.incidents)
        return ExitCode.PROBLEMS_FOUND if problems else ExitCode.OK


def copy_journal(
    source: JournalStore,
    destination: JournalStore,
    ids: Sequence[str] = (),
    *,
    dry_run: bool = False,
    on_incident: Callable[[IncidentCopy], None] | None = None,
) -> CopyResult:
    """Copy ``ids`` (every incident when empty), oldest first; ``on_incident`` hears each one as it is done.

    A named id the source does not have is refused before anything is copied. A destination that cannot be
    reached at all raises (nothing per incident could go better); anything one incident alone runs into is its
    outcome, and the others are still copied."""
    chosen = _chosen(source, ids)
    destination.incidents()  # a journal-wide problem (unreachable, no schema) stops the copy before it starts
    done: list[IncidentCopy] = []
    for incident_id in chosen:
        item = _copy_one(source, destination, incident_id, dry_run=dry_run)
        done.append(item)
        if on_incident is not None:
            on_incident(item)
    return CopyResult(source.location, destination.location, dry_run, tuple(done))


def _chosen(source: JournalStore, ids: Sequence[str]) -> list[str]:
    if not ids:
        every = [incident.id for incident in source.incidents()]
        return sorted(every, key=lambda i: parse_incident_id(i) or (0, 0))
    chosen = list(dict.fromkeys(normalize_incident_id(i) for i in ids))
    for incident_id in chosen:
        try:
            source.get(incident_id)
        except NotFoundError as e:
            raise NotFoundError(
                f"incident {incident_id} is not in {source.location}: nothing copied",
                hint="'incidentctl incident list --all' shows the ids there",
            ) from e
    return chosen


def _copy_one(source: JournalStore, destination: JournalStore, incident_id: str, *, dry_run: bool) -> IncidentCopy:
    try:
        incident = source.get(incident_id)
        events, problems = _copyable(incident_id, source.timeline(incident_id))
        problems = [*incident.problems, *problems]
        there = _timeline_or_none(destination, incident_id)
        reason = _conflict(destination, incident_id, events, there)
        if reason is not None:
            return IncidentCopy(incident_id, Outcome.CONFLICT, len(events), 0, 0, tuple(problems), reason)
        if there is None and _declaration(events) is None:
            reason = f"its declaration cannot be read, so {destination.location} cannot have it (nothing is made up)"
            return IncidentCopy(incident_id, Outcome.DAMAGED, len(events), 0, 0, tuple(problems), reason)
        known = {event.id for event in there or ()}
        fresh = [event for event in events if event.id not in known]
        copied = len(fresh) if dry_run or not fresh else destination.ingest(incident_id, fresh)
        if copied < len(fresh):  # the destination knows these ids, but not under this incident
            missed = len(fresh) - copied
            these = "1 event is" if missed == 1 else f"{missed} events are"
            problems.append(
                Damage(
                    incident_id,
                    f"{these} recorded under another incident in {destination.location} (the same event ids), "
                    "so not copied here",
                )
            )
    except IngestConflictError as e:  # declared there between the look above and the write (another laptop)
        return IncidentCopy(incident_id, Outcome.CONFLICT, len(events), 0, 0, tuple(problems), e.message)
    except (JournalError, UsageError) as e:  # this incident alone: an UnreachableError is not caught, it ends the copy
        return IncidentCopy(incident_id, Outcome.FAILED, 0, 0, 0, (), str(e))
    outcome = Outcome.DAMAGED if problems else Outcome.COPIED if copied else Outcome.PRESENT
    return IncidentCopy(incident_id, outcome, len(events), copied, len(events) - len(fresh), tuple(problems))


def _copyable(incident_id: str, events: Sequence[Event]) -> tuple[list[Event], list[Damage]]:
    """The events either journal can hold, and a problem for each other one (it stays where it is)."""
    kept: list[Event] = []
    problems: list[Damage] = []
    for event in events:
        try:
            encode_event(event)
        except ValueError as e:  # PayloadError, or a kind that is not one
            problems.append(Damage(f"{incident_id} event {event.id}", f"not copied: {e}"))
            continue
        kept.append(event)
    return kept, problems


def _timeline_or_none(journal: JournalStore, incident_id: str) -> list[Event] | None:
    try:
        return journal.timeline(incident_id)
    except NotFoundError:
        return None


def _conflict(
    destination: JournalStore, incident_id: str, events: Sequence[Event], there: Sequence[Event] | None
) -> str | None:
    """Why the destination's incident of this id is not this one, or None when it is (or there is none).

    The same declaration (by event id) is the same incident. Without a readable declaration on one side, an event
    the two share still shows it is the same one; with nothing in common there is no telling, and no merge."""
    if there is None:
        return None
    mine = _declaration(events)
    theirs = _declaration(there)
    where = f"{incident_id} in {destination.location}"
    if mine is not None and theirs is not None:
        if mine.id == theirs.id:
            return None
        return (
            f"{where} is another incident (declared by event {theirs.id} at {_when(theirs)}, "
            f"this one by {mine.id} at {_when(mine)}): not merged"
        )
    if {event.id for event in events} & {event.id for event in there}:
        return None
    side = "here" if mine is None else "there"
    return f"{where} shares no event with this one and a declaration cannot be read {side}: not merged"


def _declaration(events: Sequence[Event]) -> Event | None:
    return next((event for event in events if event.kind == EventKind.DECLARED), None)


def _when(event: Event) -> str:
    from incidentctl.core.incident import format_timestamp

    return format_timestamp(event.time)
