"""Which open incident a phase records in, and recording a look there only when it is new.

Shared by the phases that leave looks in a timeline (detect, triage); the decision whether a look is new is
:func:`incidentctl.core.looks.is_new_look`, taken under the journal's lock so that two runs at once record one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from incidentctl.core.looks import DETECTED, detection_event, is_new_look, last_look

if TYPE_CHECKING:
    from incidentctl.core.incident import Event, Incident
    from incidentctl.core.report import DetectReport
    from incidentctl.journal.base import JournalStore
    from incidentctl.runbook.model import Runbook


@dataclass(frozen=True)
class Recorded:
    """What recording a look did: the event written, or None when the last recorded look saw the same."""

    event: Event | None
    #: The latest look recorded before this one (detected or triaged).
    previous: Event | None


@dataclass(frozen=True)
class OpenIncident:
    """The incident a phase records in: the one named, else the only open one."""

    incident: Incident | None
    #: With several open and none named: their ids (newest first), so the user can be told to name one.
    ambiguous: tuple[str, ...] = ()


def open_incident(journal: JournalStore, explicit: str | None) -> OpenIncident:
    """The incident named (``--incident``), else the only open one; with several open, none (and which they are:
    recording in a guessed one would put one outage's evidence in another's timeline)."""
    from incidentctl.core.incident import IncidentStatus, normalize_incident_id
    from incidentctl.journal.query import IncidentQuery

    if explicit:
        return OpenIncident(journal.get(normalize_incident_id(explicit)))
    query = IncidentQuery(statuses=frozenset(s for s in IncidentStatus if s.is_open))
    open_ones = journal.incidents(query)
    if len(open_ones) == 1:
        return OpenIncident(open_ones[0])
    return OpenIncident(None, tuple(i.id for i in open_ones))


def require_incident(journal: JournalStore, explicit: str | None, *, usage: str) -> Incident:
    """The incident named, else the only open one; none or several open is one line saying which and how to name
    one (``usage``: the command as the hint shows it, ``communicate status``)."""
    from incidentctl.errors import UsageError

    found = open_incident(journal, explicit)
    if found.incident is None:
        if found.ambiguous:
            raise UsageError(
                f"{len(found.ambiguous)} incidents are open ({', '.join(found.ambiguous[:5])})",
                hint=f"name one: {usage} INC-YYYY-NNN",
            )
        raise UsageError("no incident is open", hint="declare one (incident declare) or name a closed one by its id")
    return found.incident


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
