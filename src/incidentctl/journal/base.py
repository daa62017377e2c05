"""The interface every journal backend offers; the folder-per-incident store is the embedded default.

It is deliberately small and expressed in domain terms (incidents and events, never files), so a team
backend on a shared store can implement it: PostgreSQL (one row per event, ``SELECT ... FOR UPDATE`` around
the guard) or the Kubernetes API of a management cluster (optimistic concurrency on ``resourceVersion``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from incidentctl.core.incident import Declaration, Event, Incident
from incidentctl.errors import JournalError
from incidentctl.journal.query import IncidentQuery

#: Decides, from the incident's state at the moment of writing, what to record: the event's data, or None
#: when there is nothing to record (the change is already there); raising refuses. A backend runs it
#: atomically with the append, so two people acknowledging at once record one acknowledgement.
Decide = Callable[[Incident], Mapping[str, Any] | None]

#: A :data:`Decide` that also sees the timeline as of the moment of writing, for decisions the folded state
#: does not capture (who set the severity; whether the last look recorded saw the same thing).
DecideOnTimeline = Callable[[Incident, Sequence[Event]], Mapping[str, Any] | None]


class IngestConflictError(JournalError):
    """:meth:`JournalStore.ingest` was given an incident whose declaration is not the one recorded under its id:
    another incident that shares the number (two journals declared it apart). Never merged."""

    reason = "IngestConflict"


@dataclass(frozen=True)
class AppendResult:
    #: The state after the append (or the unchanged state when there was nothing to record).
    incident: Incident
    #: The event written, or None when there was nothing to record.
    event: Event | None


class JournalStore(Protocol):
    """What every backend offers: the folder journal (:mod:`incidentctl.journal.store`), the team journal on
    PostgreSQL (:mod:`incidentctl.journal.postgres`), and the spooling wrapper around it
    (:mod:`incidentctl.journal.spooled`).

    ``event_id`` (every append): the id the event is recorded under. A caller that may repeat an append (after a
    lost connection, from a spool) passes the same id each time; an event already recorded under it is returned
    as it stands and nothing is written twice. Without it the store draws a fresh one.
    """

    @property
    def location(self) -> str:
        """Where the journal lives, for messages (a directory, a database; never a password)."""
        ...

    def declare(self, declaration: Declaration) -> Incident:
        """Allocate the next id (``INC-<year>-<NNN>``, safe against concurrent declarations) and record it."""
        ...

    def append(
        self, incident_id: str, kind: str, data: Mapping[str, Any], *, event_id: str | None = None
    ) -> AppendResult:
        """Append one event of any kind (later phases add their own kinds without changing the store)."""
        ...

    def append_if(self, incident_id: str, kind: str, decide: Decide, *, event_id: str | None = None) -> AppendResult:
        """Append an event whose data depends on the current state, or nothing if ``decide`` says so."""
        ...

    def append_if_timeline(
        self, incident_id: str, kind: str, decide: DecideOnTimeline, *, event_id: str | None = None
    ) -> AppendResult:
        """As :meth:`append_if`, with ``decide`` also given the timeline, read under the same guard."""
        ...

    def get(self, incident_id: str) -> Incident: ...

    def timeline(self, incident_id: str) -> list[Event]: ...

    def incidents(self, query: IncidentQuery | None = None) -> list[Incident]:
        """Incidents matching ``query``, newest first."""
        ...

    def ingest(self, incident_id: str, events: Sequence[Event]) -> int:
        """Record events made elsewhere (a copy between backends, a spool), keeping each one's id, time and actor.

        Events already here (by id) are skipped, so ingesting the same events twice writes them once; an incident
        this journal does not have is created under the same id (its first event must be its declaration).
        Returns how many events were written."""
        ...

    def wait_for_change(self, timeout: float) -> bool:
        """Block until something may have been recorded (by anyone) or ``timeout`` seconds pass; True on a change.

        May wake without a change (a caller re-reads and finds nothing new): it is a doorbell, not a delivery."""
        ...

    def close(self) -> None:
        """Release connections and watches; the store may not be used afterwards."""
        ...

    def drain_warnings(self) -> list[str]:
        """Problems met while reading that did not stop the command (a torn last line); each reported once."""
        ...
