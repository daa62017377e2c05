"""The report's numbers on a journal with known times: exact means and percentiles (one long incident shows in
the p90, not only in the mean), groups, trends, SLA per month, and "no data" (null in JSON) where nothing could
be measured, never 0 or 100 %."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import Invoke
from tests.report.harness import History, ago

from incidentctl.core.events import EventKind


@pytest.fixture
def history(workdir: Path, invoke: Invoke) -> History:
    return History(workdir, invoke)


def test_response_metrics_have_exact_means_and_percentiles(history: History) -> None:
    # MTTR (detected -> resolved): 10, 20, 30, 40 and one of 600 minutes
    for days, minutes in ((6, 10), (5, 20), (4, 30), (3, 40), (2, 600)):
        history.worked(ago(days=days), detect=5, ack=2, resolve=minutes, components=("gateway",))
    history.worked(ago(days=1), detect=15, ack=4, resolve=None, severity="P1", components=("gateway",))
    data = history.json("report", "weekly")
    mttr = data["summary"]["response"]["mttr"]
    # mean 140 min; linear percentiles: p50 the third of five (30), p90 at rank 3.6 -> 40 + 0.6 * 560 = 376 min
    assert mttr == {
        "count": 5,
        "meanSeconds": 140 * 60,
        "p50Seconds": 30 * 60,
        "p90Seconds": 376 * 60,
        "minSeconds": 10 * 60,
        "maxSeconds": 600 * 60,
    }
    mttd = data["summary"]["response"]["mttd"]
    assert (mttd["count"], mttd["p50Seconds"], mttd["maxSeconds"]) == (6, 300, 900)  # the open one was detected
    assert data["summary"]["response"]["mtta"]["count"] == 6
    assert data["bySeverity"]["P1"]["response"]["mttr"]["count"] == 0
    assert data["bySeverity"]["P1"]["response"]["mttr"]["meanSeconds"] is None
    assert list(data["byComponent"]) == ["gateway"]

    table = history.run("report", "weekly").stdout
    assert "2.3 h" in table
    assert "30 min" in table
    assert "6.3 h" in table
    markdown = history.run("report", "weekly", "-o", "markdown").stdout
    assert "| Mean Time to Resolution (MTTR) | 2.3 h | 30 min | 6.3 h | 5 |" in markdown


def test_rates_without_a_denominator_are_no_data(history: History) -> None:
    history.worked(ago(days=2), severity="P3")  # P3: no post-mortem required, no action item
    data = history.json("report", "weekly")
    summary = data["summary"]
    assert summary["postmortemCompletion"] is None
    assert summary["actionItemCompletion"] is None
    assert summary["escalationRate"] == 0.0  # one incident, not escalated: a real 0 %
    markdown = history.run("report", "weekly", "-o", "markdown").stdout
    assert "| Post-mortems completed | no data |" in markdown
    assert "| Action items done on time | no data |" in markdown
    assert "| Escalation rate | 0% (0 of 1) |" in markdown


def test_an_empty_journal_reports_no_data_rather_than_perfect_numbers(history: History) -> None:
    data = history.json("report", "daily")
    assert data["summary"]["count"] == 0
    assert all(s["meanSeconds"] is None and s["count"] == 0 for s in data["summary"]["response"].values())
    table = history.run("report", "daily").stdout
    assert "No incident started" in table
    assert "no data" in table
    assert "100%" not in table


def test_trends_count_incidents_per_day_and_sparkline_them(history: History) -> None:
    history.worked(ago(days=5, hours=1))  # the second day of the seven (from noon to noon)
    history.worked(ago(days=5, hours=2))
    history.worked(ago(hours=3), severity="P1")
    data = history.json("report", "weekly")
    assert data["step"] == "day"
    assert [b["count"] for b in data["trend"]] == [0, 2, 0, 0, 0, 0, 1]
    table = history.run("report", "weekly").stdout
    assert "▁█▁▁▁▁▄" in table  # the incidents per day


def test_sla_compliance_per_month_counts_overlapping_impact_once(history: History) -> None:
    # two P1s at once in March (90 min of impact in all), one P3 that does not count against the SLO
    history.worked(ago(days=3), severity="P1", detect=10, resolve=80)
    history.worked(ago(days=3, minutes=-30), severity="P1", detect=10, resolve=50)
    history.worked(ago(days=2), severity="P3", detect=10, resolve=600)
    data = history.json("report", "monthly", "--since", "2026-03-01", "--until", "2026-03-31")
    (march,) = data["sla"]
    assert march["month"] == "2026-03"
    assert march["downtimeSeconds"] == 90 * 60
    assert march["compliant"] is False  # 90 minutes is more than 0.1 % of 30.5 days (43.9 min)
    markdown = history.run("report", "monthly", "-o", "markdown").stdout
    assert "| 2026-03 (so far) | 99.8% | 99.9% | missed | 90 min |" in markdown


def test_overdue_action_items_are_listed_from_any_incident(history: History) -> None:
    old = history.worked(ago(days=60), severity="P1")
    history.add(
        old, ago(days=59), EventKind.ACTION_ADDED, id="A1", text="Add a pool alert", owner="dave", due="2026-02-10"
    )
    history.add(old, ago(days=59), EventKind.ACTION_ADDED, id="A2", text="Done one", owner="erin", due="2026-02-10")
    history.add(old, ago(days=58), EventKind.ACTION_DONE, id="A2", note="done")
    data = history.json("report", "weekly")
    assert [a["ref"] for a in data["overdueActions"]] == [f"{old}/A1"]
    markdown = history.run("report", "weekly", "-o", "markdown").stdout
    assert f"| {old}/A1 | Add a pool alert | dave | 2026-02-10 |" in markdown
