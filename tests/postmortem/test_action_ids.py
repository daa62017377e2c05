"""Action item ids are allocated after the highest ``A<n>`` the timeline holds; ids of another shape (typed by a
newer version, or by hand) neither break the count nor get reused."""

from __future__ import annotations

from datetime import datetime, timezone

from incidentctl.core.events import EventKind
from incidentctl.core.incident import Event
from incidentctl.core.postmortem import next_action_id

T0 = datetime(2026, 3, 14, 14, 30, tzinfo=timezone.utc)


def _added(item_id: object) -> Event:
    return Event(T0, "alice", EventKind.ACTION_ADDED, {"id": item_id, "text": "x"})


def test_the_next_id_follows_the_highest_and_ignores_other_shapes() -> None:
    assert next_action_id([]) == "A1"
    timeline = [_added("A1"), _added("A7"), _added("B9"), _added("A"), _added("A٣"), _added(12), _added("A2x")]
    assert next_action_id(timeline) == "A8"
