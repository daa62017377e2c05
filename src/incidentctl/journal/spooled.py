"""The team journal with its offline fallback: events go to the database, or to the local spool when it is away."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from incidentctl.core.incident import Declaration, Event, Incident
from incidentctl.journal.base import AppendResult, Decide, DecideOnTimeline
from incidentctl.journal.postgres.store import PostgresJournal
from incidentctl.journal.query import IncidentQuery
from incidentctl.journal.spool import Spool


class SpooledJournal:
    """Satisfies :class:`incidentctl.journal.base.JournalStore`."""

    def __init__(self, primary: PostgresJournal, spool: Spool, *, clock: Callable[[], datetime], actor: str) -> None:
        self.primary = primary
        self.spool = spool
        self._clock = clock
        self.actor = actor

    @property
    def location(self) -> str:
        return self.primary.location

    def declare(self, declaration: Declaration) -> Incident:
        return self.primary.declare(declaration)

    def append(
        self, incident_id: str, kind: str, data: Mapping[str, Any], *, event_id: str | None = None
    ) -> AppendResult:
        return self.primary.append(incident_id, kind, data, event_id=event_id)

    def append_if(self, incident_id: str, kind: str, decide: Decide, *, event_id: str | None = None) -> AppendResult:
        return self.primary.append_if(incident_id, kind, decide, event_id=event_id)

    def append_if_timeline(
        self, incident_id: str, kind: str, decide: DecideOnTimeline, *, event_id: str | None = None
    ) -> AppendResult:
        return self.primary.append_if_timeline(incident_id, kind, decide, event_id=event_id)

    def get(self, incident_id: str) -> Incident:
        return self.primary.get(incident_id)

    def timeline(self, incident_id: str) -> list[Event]:
        return self.primary.timeline(incident_id)

    def incidents(self, query: IncidentQuery | None = None) -> list[Incident]:
        return self.primary.incidents(query)

    def ingest(self, incident_id: str, events: Sequence[Event]) -> int:
        return self.primary.ingest(incident_id, events)

    def wait_for_change(self, timeout: float) -> bool:
        return self.primary.wait_for_change(timeout)

    def close(self) -> None:
        self.primary.close()

    def drain_warnings(self) -> list[str]:
        return self.primary.drain_warnings()
