"""Which incidents ``incident list`` shows, as data a backend can apply (in Python here, in SQL elsewhere)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from incidentctl.core import times
from incidentctl.core.incident import Incident, IncidentStatus
from incidentctl.errors import UsageError

#: What ``incident list`` shows without filters: everything open, and whatever else moved in the last week (an
#: on-call rotation), so a handover sees what was just resolved.
DEFAULT_RECENT = timedelta(days=7)


@dataclass(frozen=True)
class IncidentQuery:
    statuses: frozenset[IncidentStatus] | None = None
    severities: frozenset[str] | None = None
    #: Open incidents, and others with an event at or after this time.
    active_since: datetime | None = None

    def matches(self, incident: Incident) -> bool:
        if self.statuses is not None and incident.status not in self.statuses:
            return False
        if self.severities is not None and incident.severity not in self.severities:
            return False
        if self.active_since is not None and not incident.is_open:
            last = incident.updated_at or incident.declared_at
            if last < self.active_since:
                return False
        return True


def select(incidents: Iterable[Incident], query: IncidentQuery | None) -> list[Incident]:
    """The matching incidents, newest declaration first."""
    chosen = [i for i in incidents if query is None or query.matches(i)]
    return sorted(chosen, key=lambda i: (i.declared_at, i.id), reverse=True)


def parse_point_in_time(text: str, now: datetime, *, option: str) -> datetime:
    """A duration ago (``24h``), a date (``2026-03-14``, midnight UTC) or an RFC 3339 time."""
    try:
        return times.parse_point_in_time(text, now)
    except times.NotAPointInTime as e:
        raise UsageError(f"{option} {e}") from e
    except ValueError as e:
        raise UsageError(f"{option}: {e}") from e


def parse_statuses(values: Iterable[str]) -> frozenset[IncidentStatus] | None:
    """``--status`` values; ``open`` stands for every status but resolved, ``all`` for no filter."""
    chosen: set[IncidentStatus] = set()
    for raw in values:
        for name in (part.strip().lower() for part in raw.split(",")):
            if not name:
                continue
            if name == "all":
                return None
            if name == "open":
                chosen.update(s for s in IncidentStatus if s.is_open)
                continue
            try:
                chosen.add(IncidentStatus(name))
            except ValueError as e:
                choices = ", ".join([*(s.value for s in IncidentStatus), "open", "all"])
                raise UsageError(f"unknown status {name!r}; choose {choices}") from e
    return frozenset(chosen) or None
