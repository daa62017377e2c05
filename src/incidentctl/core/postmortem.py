"""After the incident: its action items and its review stages, folded from the timeline.

The runbook's post-incident process (``postmortem.stages``: immediate review within 24 h, detailed analysis within
72 h, action items within a week) and its action items live in the journal as events (``action_added``,
``action_changed``, ``action_done``, ``review_completed``), so who owns what and what is overdue is read from the
same record as everything else and never from a document someone may have edited. Pure: ``now`` is given.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from incidentctl.core.events import EventKind
from incidentctl.core.incident import Event, Incident


@dataclass(frozen=True)
class ActionItem:
    incident_id: str
    #: ``A1``, ``A2``...: unique within its incident.
    id: str
    text: str
    owner: str | None
    #: Due by the end of that day, UTC.
    due: date | None
    added_at: datetime
    added_by: str
    area: str | None = None
    done_at: datetime | None = None
    done_by: str | None = None

    @property
    def ref(self) -> str:
        """``INC-2026-004/A2``: how commands name it across incidents."""
        return f"{self.incident_id}/{self.id}"

    @property
    def due_at(self) -> datetime | None:
        """The end of the due day (UTC): an item due today is not overdue until midnight."""
        if self.due is None:
            return None
        return datetime.combine(self.due, time(0), tzinfo=timezone.utc) + timedelta(days=1)

    def is_overdue(self, now: datetime) -> bool:
        """Past its due day and not done at ``now``: an item done late is overdue until it is done, not after."""
        due_at = self.due_at
        return due_at is not None and now >= due_at and (self.done_at is None or self.done_at > now)

    @property
    def done_on_time(self) -> bool | None:
        """True done by its due day; False done late; None while not done or without a due date."""
        if self.done_at is None or self.due_at is None:
            return None
        return self.done_at < self.due_at


def parse_due(text: str) -> date:
    """``2026-12-08`` -> that date; ValueError for anything else (a time of day, a relative date)."""
    return date.fromisoformat(text.strip())


def action_items(incident_id: str, timeline: Iterable[Event]) -> list[ActionItem]:
    """The incident's action items as the timeline leaves them, in the order they were added.

    A change or a completion of an id that was never added is ignored (it cannot be shown without its text); a
    second ``action_done`` keeps the first completion's time.
    """
    items: dict[str, ActionItem] = {}
    for event in timeline:
        data = event.data
        item_id = data.get("id")
        if not isinstance(item_id, str):
            continue
        if event.kind == EventKind.ACTION_ADDED and item_id not in items:
            items[item_id] = ActionItem(
                incident_id=incident_id,
                id=item_id,
                text=str(data.get("text") or ""),
                owner=data.get("owner") or None,
                due=_due(data.get("due")),
                added_at=event.time,
                added_by=event.actor,
                area=data.get("area") or None,
            )
        elif event.kind == EventKind.ACTION_CHANGED and item_id in items:
            changes: dict[str, object] = {}
            for name in ("text", "owner", "area"):
                if data.get(name):
                    changes[name] = data[name]
            if data.get("due"):
                changes["due"] = _due(data["due"])
            items[item_id] = dataclasses.replace(items[item_id], **changes)  # type: ignore[arg-type]
        elif event.kind == EventKind.ACTION_DONE and item_id in items and items[item_id].done_at is None:
            items[item_id] = dataclasses.replace(items[item_id], done_at=event.time, done_by=event.actor)
    return list(items.values())


def next_action_id(timeline: Iterable[Event]) -> str:
    taken = []
    for e in timeline:
        item_id = e.data.get("id")
        if e.kind == EventKind.ACTION_ADDED and isinstance(item_id, str):
            number = _ACTION_ID.fullmatch(item_id)
            if number is not None:
                taken.append(int(number.group(1)))
    return f"A{max(taken, default=0) + 1}"


#: An action item's id as ``postmortem action add`` allocates it.
_ACTION_ID = re.compile(r"A([0-9]+)")


def _due(value: object) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_due(value)
    except ValueError:
        return None


def review_due(incident: Incident, within: timedelta) -> datetime | None:
    """A review stage's deadline: ``within`` after the latest resolution; None while the incident is open (a
    reopened incident's clock starts again at its next resolution)."""
    if incident.is_open or incident.resolved_at is None:
        return None
    return incident.resolved_at + within


def completed_stages(timeline: Iterable[Event]) -> dict[str, datetime]:
    """Review stage id -> when it was first completed (``review_completed``)."""
    done: dict[str, datetime] = {}
    for event in timeline:
        stage = event.data.get("stage")
        if event.kind == EventKind.REVIEW_COMPLETED and isinstance(stage, str):
            done.setdefault(stage, event.time)
    return done
