"""Which stretch of time ``report daily|weekly|monthly`` covers, and which incidents are in it: those whose
impact started in the period (the corrected start); open incidents from before are listed as carried over and not
counted. Every bad ``--since``/``--until`` is one line naming the option, exit 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import Invoke
from tests.report.harness import NOW, History, ago

from incidentctl.core.events import EventKind
from incidentctl.exitcodes import ExitCode


@pytest.fixture
def history(workdir: Path, invoke: Invoke) -> History:
    return History(workdir, invoke)


@pytest.mark.parametrize(
    ("period", "since"),
    [("daily", "2026-03-30T12:00:00Z"), ("weekly", "2026-03-24T12:00:00Z"), ("monthly", "2026-03-01T12:00:00Z")],
)
def test_a_period_ends_now_and_is_as_long_as_its_name(history: History, period: str, since: str) -> None:
    data = history.json("report", period)
    assert (data["period"], data["since"], data["until"]) == (period, since, "2026-03-31T12:00:00Z")


def test_since_and_until_choose_a_calendar_month_and_a_date_until_includes_its_day(history: History) -> None:
    data = history.json("report", "monthly", "--since", "2026-02-01", "--until", "2026-02-28")
    assert (data["since"], data["until"]) == ("2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z")
    assert [m["month"] for m in data["sla"]] == ["2026-02"]


def test_since_alone_runs_for_the_period_length_and_never_past_now(history: History) -> None:
    data = history.json("report", "weekly", "--since", "2026-03-01")
    assert (data["since"], data["until"]) == ("2026-03-01T00:00:00Z", "2026-03-08T00:00:00Z")
    data = history.json("report", "weekly", "--since", "2d")
    assert (data["since"], data["until"]) == ("2026-03-29T12:00:00Z", "2026-03-31T12:00:00Z")


def test_an_incident_belongs_to_the_period_its_impact_started_in(history: History) -> None:
    before = history.worked(ago(days=1, seconds=1), title="just before")
    first = history.worked(ago(days=1), title="at the start")
    history.worked(ago(hours=1), title="inside", resolve=None)
    data = history.json("report", "daily")
    assert [i["title"] for i in data["incidents"]] == ["inside", "at the start"]  # newest first
    assert data["summary"]["count"] == 2
    assert data["summary"]["open"] == 1
    assert before not in [i["incidentId"] for i in data["incidents"]]
    assert first in [i["incidentId"] for i in data["incidents"]]
    assert data["carriedOver"] == []  # resolved: nothing carried over


def test_open_incidents_from_before_are_carried_over_and_not_counted(history: History) -> None:
    old = history.worked(ago(days=3), title="still burning", resolve=None)
    history.worked(ago(days=9), title="long over")
    data = history.json("report", "daily")
    assert data["summary"]["count"] == 0
    assert [i["incidentId"] for i in data["carriedOver"]] == [old]
    markdown = history.run("report", "daily", "-o", "markdown").stdout
    assert "still burning" in markdown
    assert "started before the period" in markdown
    assert "long over" not in markdown


def test_a_corrected_start_moves_an_incident_into_the_period_it_really_began_in(history: History) -> None:
    moved = history.worked(ago(hours=2), title="began the day before")
    history.add(
        moved,
        ago(hours=1),
        EventKind.CORRECTED,
        started_at="2026-03-29T12:00:00Z",
        was_started_at="2026-03-31T10:00:00Z",
        reason="the errors began the day before",
    )
    assert history.json("report", "daily")["incidents"] == []
    two_days = history.json("report", "daily", "--since", "2026-03-29T11:00:00Z")
    assert [i["incidentId"] for i in two_days["incidents"]] == [moved]
    assert two_days["incidents"][0]["startedAt"] == "2026-03-29T12:00:00Z"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--since", "yesterday"], "--since 'yesterday' is not"),
        (["--since", "2026-02-30"], "--since '2026-02-30' is not"),
        (["--until", "2026-13-01T00:00:00Z"], "--until"),
        (["--since", "5x"], "--since"),
        (["--since", "-3d"], "--since"),
        (["--since", ""], "--since"),
        (["--since", "2026-03-10", "--until", "2026-03-09T00:00:00Z"], "is not after --since"),
        (["--since", "2026-03-10T00:00:00Z", "--until", "2026-03-10T00:00:00Z"], "is not after --since"),
    ],
)
def test_a_time_that_cannot_be_read_is_one_line_naming_the_option(history: History, args: list[str], says: str) -> None:
    for fmt in ("table", "json"):
        result = history.run("report", "weekly", *args, "-o", fmt)
        assert result.exit_code == ExitCode.USAGE, result.output
        lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert len(lines) == 1, result.stderr
        assert says in lines[0], result.stderr
        assert "Traceback" not in result.output


def test_the_report_speaks_markdown_and_refuses_a_format_it_has_not(history: History) -> None:
    assert history.run("report", "daily", "-o", "markdown").exit_code == ExitCode.OK
    result = history.run("report", "daily", "-o", "csv")
    assert result.exit_code == ExitCode.USAGE
    assert "markdown" in result.stderr


def test_the_clock_the_report_uses_is_now(history: History) -> None:
    assert history.json("report", "daily")["generatedAt"] == f"{NOW:%Y-%m-%dT%H:%M:%SZ}"


@pytest.mark.parametrize(
    ("args", "step", "buckets"),
    [
        (["daily"], "hour", 24),
        (["weekly"], "day", 7),
        (["monthly"], "day", 30),
        (["monthly", "--since", "2025-10-01", "--until", "2026-03-31"], "month", 6),
    ],
)
def test_the_trend_is_cut_by_the_hour_the_day_or_the_month(
    history: History, args: list[str], step: str, buckets: int
) -> None:
    data = history.json("report", *args)
    assert data["step"] == step
    assert len(data["trend"]) == buckets
