"""Which stretch of time a report covers, and which incidents belong to it.

The period ends now unless ``--until`` says otherwise, and is as long as its name: a daily report is the last
24 hours, a weekly one the last 7 days, a monthly one the last 30 days (the SLO's window, so a monthly report and
the error budget look at the same stretch). A calendar month is ``--since 2026-03-01 --until 2026-03-31``: a
plain date given to ``--until`` includes that day. ``--since`` alone starts the period there and runs it for the
period's length (never past now).

An incident belongs to the period its impact started in (the corrected start, as every metric counts it:
``core.metrics.in_period``), so every incident is counted in exactly one daily report and the days add up to the
week. Incidents still open whose impact started earlier are shown too, marked as carried over, since an open
incident is what a report's reader must not miss; they do not change the period's counts or metrics. SLA
compliance is per calendar month over every impact window that touches the month, whenever it started.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from incidentctl.core import times
from incidentctl.errors import UsageError

Period = Literal["daily", "weekly", "monthly"]

PERIODS: tuple[Period, ...] = ("daily", "weekly", "monthly")

LENGTH: dict[Period, timedelta] = {
    "daily": timedelta(days=1),
    "weekly": timedelta(days=7),
    "monthly": timedelta(days=30),
}

#: How finely a trend is cut: by the hour, the day or the calendar month.
Step = Literal["hour", "day", "month"]


def step(span: timedelta) -> Step:
    """By the hour up to two days, by the day up to about two months, by the month beyond (a year of days is
    not a chart anyone reads)."""
    if span <= timedelta(days=2):
        return "hour"
    return "day" if span <= timedelta(days=62) else "month"


_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


@dataclass(frozen=True)
class Window:
    """``since`` inclusive, ``until`` exclusive."""

    since: datetime
    until: datetime

    def holds(self, moment: datetime) -> bool:
        return self.since <= moment < self.until

    @property
    def step(self) -> Step:
        return step(self.until - self.since)


def window(period: Period, since: str | None, until: str | None, now: datetime) -> Window:
    """The period the options ask for; a usage error naming the option for a time that cannot be read, or for a
    period that ends before it starts."""
    end = _point(until, now, "--until", end_of_day=True) if until is not None else None
    start = _point(since, now, "--since", end_of_day=False) if since is not None else None
    if start is None:
        end = end if end is not None else now
        start = end - LENGTH[period]
    elif end is None:
        end = min(start + LENGTH[period], max(now, start))
    if end <= start:
        raise UsageError(
            f"--until ({times.format_rfc3339(end)}) is not after --since ({times.format_rfc3339(start)})",
            hint="give --until a later time than --since, or leave one of them out",
        )
    return Window(start, end)


def _point(text: str, now: datetime, option: str, *, end_of_day: bool) -> datetime:
    try:
        moment = times.parse_point_in_time(text, now)
    except times.NotAPointInTime as e:
        raise UsageError(f"{option} {e}") from e
    except ValueError as e:
        raise UsageError(f"{option}: {e}") from e
    if end_of_day and _DATE.fullmatch(text.strip()):
        moment += timedelta(days=1)  # --until 2026-03-31 includes the 31st
    return moment
