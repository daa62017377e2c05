"""What a message says of the impact when the journal holds little: no look is no evidence, and a look that
checked nothing is never "healthy"."""

from __future__ import annotations

from datetime import datetime, timezone

from incidentctl.core.events import EventKind
from incidentctl.core.incident import Event
from incidentctl.core.situation import impact_lines, service_state

T0 = datetime(2026, 3, 14, 14, 30, tzinfo=timezone.utc)


def look(**data: object) -> Event:
    return Event(T0, "detect", EventKind.DETECTED, dict(data))


def test_no_look_says_nothing_of_the_impact() -> None:
    assert impact_lines([]) == []
    assert service_state([]) is None


def test_a_look_that_checked_nothing_is_not_healthy() -> None:
    assert impact_lines([look(health="ok", subjects={})]) == ["As of 14:30 UTC: no part could be checked"]
    assert impact_lines([look(health=None, subjects={})]) == ["As of 14:30 UTC: no part could be checked"]
    assert impact_lines([look(health="ok", subjects={"gateway": "ok", "redis": "ok"})]) == [
        "As of 14:30 UTC: all 2 checked parts healthy"
    ]


def test_the_latest_look_wins_and_names_what_is_down() -> None:
    timeline = [
        look(health="degraded", subjects={"gateway": "degraded"}, problems=["signal:error_rate:gateway: 0.14"]),
        look(health="down", subjects={"gateway": "down", "redis": "ok"}, problems=["deployment:gateway: 0/3 ready"]),
    ]
    assert impact_lines(timeline) == ["As of 14:30 UTC: gateway down", "deployment:gateway: 0/3 ready"]
    assert service_state(timeline) == "down"
