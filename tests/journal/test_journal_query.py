"""How `incident list` filters are read: durations, dates and statuses."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from incidentctl.core.incident import IncidentStatus
from incidentctl.core.times import parse_duration
from incidentctl.errors import UsageError
from incidentctl.journal.query import parse_point_in_time, parse_statuses

NOW = datetime(2026, 3, 14, 14, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("45m", timedelta(minutes=45)),
        ("24h", timedelta(hours=24)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        ("1h30m", timedelta(minutes=90)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "h", "1y", "yesterday", "2026-03-01"])
def test_what_is_not_a_duration(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_a_point_in_time_is_a_duration_ago_a_date_or_a_time() -> None:
    assert parse_point_in_time("24h", NOW, option="--since") == NOW - timedelta(hours=24)
    assert parse_point_in_time("2026-03-01", NOW, option="--since") == datetime(2026, 3, 1, tzinfo=timezone.utc)
    assert parse_point_in_time("2026-03-14T15:00:00+01:00", NOW, option="--since") == NOW - timedelta(minutes=30)
    with pytest.raises(UsageError, match=r"--since 'last tuesday' is not a duration \(45m, 24h, 7d\)"):
        parse_point_in_time("last tuesday", NOW, option="--since")


def test_statuses_accept_open_all_and_commas() -> None:
    assert parse_statuses(["open"]) == frozenset(
        {IncidentStatus.INVESTIGATING, IncidentStatus.IDENTIFIED, IncidentStatus.MONITORING}
    )
    assert parse_statuses(["resolved,monitoring"]) == frozenset({IncidentStatus.RESOLVED, IncidentStatus.MONITORING})
    assert parse_statuses(["all"]) is None
    assert parse_statuses([]) is None
    with pytest.raises(UsageError, match="unknown status 'closed'; choose investigating, identified"):
        parse_statuses(["closed"])
