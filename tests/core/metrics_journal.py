"""A journal with known times for the metric tests: the repository's runbook, a real journal store in a temporary
folder, and a clock the test sets before each append, so every event lands at the time the test names."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from incidentctl.core.events import EventKind
from incidentctl.core.incident import Declaration, Event, Incident
from incidentctl.core.metrics import IncidentMeasures, measure
from incidentctl.journal.store import Journal
from incidentctl.runbook.loader import load_runbook
from incidentctl.runbook.model import Runbook

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 3, 14, 0, tzinfo=timezone.utc)


def at(minutes: float = 0, *, start: datetime = T0) -> datetime:
    """``minutes`` after ``start`` (T0 unless given)."""
    return start + timedelta(minutes=minutes)


def runbook() -> Runbook:
    return load_runbook(REPO / "runbook.yaml")


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class Record:
    """A journal the test writes at the times it chooses; ``measure`` reads it back as ``report`` will."""

    def __init__(self, directory: Path) -> None:
        self.clock = Clock()
        self.journal = Journal(directory, clock=self.clock, actor="alice")

    def declare(self, when: datetime, severity: str = "P2", **fields: Any) -> str:
        self.clock.now = when
        fields.setdefault("title", "Gateway returns 502")
        return self.journal.declare(Declaration(severity=severity, **fields)).id

    def add(self, incident_id: str, when: datetime, kind: str, **data: Any) -> None:
        self.append(incident_id, when, kind, data)

    def append(self, incident_id: str, when: datetime, kind: str, data: dict[str, Any]) -> None:
        self.clock.now = when
        self.journal.append(incident_id, kind, data)

    def status(self, incident_id: str, when: datetime, to: str) -> None:
        self.add(incident_id, when, EventKind.STATUS_CHANGED, to=to)

    def detected(self, incident_id: str, when: datetime) -> None:
        self.add(incident_id, when, EventKind.DETECTED, health="down", summary="gateway down")

    def acknowledged(self, incident_id: str, when: datetime) -> None:
        self.add(incident_id, when, EventKind.ACKNOWLEDGED)

    def sent(
        self,
        incident_id: str,
        when: datetime,
        *,
        kind: str = "update",
        channel: str = "slack",
        channel_kind: str = "slack",
        outcome: str = EventKind.MESSAGE_SENT,
    ) -> None:
        """A message queued and, a second later, delivered (or failed, with ``outcome``) at ``when``."""
        batch = f"{kind}-{len(self.timeline(incident_id))}"
        key = f"{incident_id}/{batch}/{channel}"
        message = {"key": key, "channel": channel, "channel_kind": channel_kind, "text": f"{kind} text"}
        queued = {"batch": batch, "kind": kind, "messages": [message]}
        self.append(incident_id, when - timedelta(seconds=1), EventKind.MESSAGES_QUEUED, queued)
        extra: dict[str, Any] = (
            {"retryable": False, "error": "channel_not_found"} if outcome != EventKind.MESSAGE_SENT else {}
        )
        self.add(incident_id, when, outcome, key=key, channel=channel, **extra)

    def incident(self, incident_id: str) -> Incident:
        return self.journal.get(incident_id)

    def timeline(self, incident_id: str) -> list[Event]:
        return self.journal.timeline(incident_id)

    def measure(self, incident_id: str, now: datetime, rb: Runbook | None = None) -> IncidentMeasures:
        return measure(rb or runbook(), self.incident(incident_id), self.timeline(incident_id), now)


def line(when: datetime, kind: str, data: dict[str, Any], actor: str = "bob") -> str:
    """A timeline line as the journal writes it, for a test that edits the file as a bad merge or a newer
    incidentctl would (a kind this version does not know, a line out of time order)."""
    import json

    from incidentctl.core.times import format_rfc3339

    return json.dumps({"time": format_rfc3339(when), "actor": actor, "kind": kind, "data": data}) + "\n"
