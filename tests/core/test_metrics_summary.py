"""Statistics, summaries, groups and trend buckets over many incidents, exact."""

from __future__ import annotations

import statistics
from datetime import timedelta
from pathlib import Path

import pytest
from tests.core.metrics_journal import Record, at, runbook

from incidentctl.core.events import EventKind
from incidentctl.core.metrics import IncidentMeasures, Stats, buckets, group, stats, summarize

M = timedelta(minutes=1)
S = timedelta(seconds=1)


def test_stats_of_nothing_is_nothing() -> None:
    assert stats([]) == Stats(0, None, None, None, None, None)


def test_stats_of_one_value_is_that_value() -> None:
    assert stats([7 * M]) == Stats(1, 7 * M, 7 * M, 7 * M, 7 * M, 7 * M)


def test_stats_are_linear_between_ranks() -> None:
    # p50 of an even count is the mean of the middle two; p90 of 1..4 is at rank 2.7: 3 + 0.7 * (4 - 3)
    assert stats([4 * M, 1 * M, 3 * M, 2 * M]) == Stats(4, 150 * S, 150 * S, 222 * S, 1 * M, 4 * M)
    # one long incident: the mean says 22m, the median what a responder usually sees; p90 at rank 3.6: 5 + 0.6 * 91
    assert stats([2 * M, 3 * M, 4 * M, 5 * M, 96 * M]) == Stats(5, 22 * M, 4 * M, 3576 * S, 2 * M, 96 * M)


@pytest.mark.parametrize(
    "seconds", [[1, 2], [10, 20, 30], [5, 1, 4, 2, 3, 9, 7], [60, 61, 600, 3600, 86400, 7, 7, 7, 2, 13]]
)
def test_percentiles_are_the_inclusive_quantiles(seconds: list[int]) -> None:
    expected = statistics.quantiles([s * 1_000_000 for s in seconds], n=10, method="inclusive")
    got = stats([s * S for s in seconds])
    assert got.p50 == timedelta(microseconds=round(expected[4]))
    assert got.p90 == timedelta(microseconds=round(expected[8]))


def test_the_mean_is_exact_to_the_microsecond() -> None:
    assert stats([timedelta(microseconds=1), timedelta(microseconds=2)]).mean == timedelta(microseconds=2)  # 1.5: even
    assert stats([S, S, 2 * S]).mean == timedelta(microseconds=1_333_333)


def fleet(tmp_path: Path) -> Record:
    """Four incidents: a resolved P1 with a complete post-mortem, escalated; a resolved P2 without its stages;
    a P2 still open (detected, not resolved); a resolved P3 on two components."""
    rec = Record(tmp_path)
    p1 = rec.declare(at(10), severity="P1", started_at=at(0), category="infrastructure", components=("gateway",))
    rec.acknowledged(p1, at(12))
    rec.add(p1, at(13), EventKind.ESCALATED, level="L4", role="CTO")
    rec.status(p1, at(70), "resolved")  # mttr 60m
    for stage in ("immediate-review", "detailed-analysis", "action-items"):
        rec.add(p1, at(200), EventKind.REVIEW_COMPLETED, stage=stage)
    rec.add(p1, at(201), EventKind.ACTION_ADDED, id="A1", text="Alert on 502s", owner="bob", due="2026-11-04")
    rec.add(p1, at(202), EventKind.ACTION_DONE, id="A1")
    rec.add(p1, at(203), EventKind.ACTION_ADDED, id="A2", text="Canary", owner="eve", due="2026-11-04")

    p2 = rec.declare(at(20), severity="P2", started_at=at(5), category="performance", components=("gateway",))
    rec.acknowledged(p2, at(30))
    rec.status(p2, at(50), "resolved")  # mttr 30m

    still = rec.declare(at(100), severity="P2", started_at=at(95), category="performance")
    rec.acknowledged(still, at(101))

    p3 = rec.declare(at(300), severity="P3", started_at=at(290), components=("retrieval", "synthesis"))
    rec.acknowledged(p3, at(306))
    rec.status(p3, at(320), "resolved")  # mttr 20m, and reopened
    rec.status(p3, at(330), "investigating")
    rec.status(p3, at(345), "resolved")  # mttr 45m
    return rec


def measures(rec: Record, now_minutes: float = 60 * 24 * 2) -> list[IncidentMeasures]:
    return [rec.measure(i.id, now=at(now_minutes)) for i in rec.journal.incidents()]


def test_a_summary_counts_what_it_can_and_says_none_for_what_it_cannot(tmp_path: Path) -> None:
    rb = runbook()
    summary = summarize(rb, measures(fleet(tmp_path)))

    assert (summary.count, summary.open) == (4, 1)
    assert summary.by_status == {"resolved": 3, "investigating": 1}
    assert summary.by_severity == {"P1": 1, "P2": 2, "P3": 1, "P4": 0}
    # MTTD over all four (the open one was detected); MTTR over the three resolved only
    assert summary.response["mttd"] == stats([10 * M, 15 * M, 5 * M, 10 * M])
    assert summary.response["mttr"] == stats([60 * M, 30 * M, 45 * M])
    assert summary.response["mtta"] == stats([2 * M, 10 * M, 1 * M, 6 * M])
    assert (summary.escalated, summary.escalation_rate) == (1, 0.25)
    # the P1 and the resolved P2 need a post-mortem (the open P2 not yet): one of two is complete
    assert (summary.postmortems_required, summary.postmortems_complete, summary.postmortem_completion) == (2, 1, 0.5)
    # A1 done on time; A2 overdue since 2026-11-05 00:00
    assert (summary.actions_due, summary.actions_done_on_time, summary.action_item_completion) == (2, 1, 0.5)
    assert (summary.reopened, summary.reopenings) == (1, 1)
    assert summary.updates_due > 0
    assert summary.communication_timeliness == 0.0  # nobody sent anything


def test_rates_of_nothing_are_none_never_a_hundred_percent(tmp_path: Path) -> None:
    rec = Record(tmp_path)
    inc = rec.declare(at(0), severity="P4")  # no post-mortem needed, no action items, nothing due yet

    summary = summarize(runbook(), [rec.measure(inc, now=at(1))])
    empty = summarize(runbook(), [])

    assert (summary.postmortem_completion, summary.action_item_completion) == (None, None)
    assert summary.communication_timeliness is None
    assert summary.escalation_rate == 0.0
    assert (empty.count, empty.escalation_rate, empty.response["mttr"]) == (0, None, stats([]))


def test_groups_by_severity_category_and_component(tmp_path: Path) -> None:
    rb = runbook()
    ms = measures(fleet(tmp_path))

    by_severity = group(rb, ms, "severity")
    by_category = group(rb, ms, "category")
    by_component = group(rb, ms, "component")

    assert {k: v.count for k, v in by_severity.items()} == {"P1": 1, "P2": 2, "P3": 1, "P4": 0}
    assert list(by_category) == ["infrastructure", "performance", "(none)"]
    assert {k: v.count for k, v in by_category.items()} == {"infrastructure": 1, "performance": 2, "(none)": 1}
    # the P3 counts for both its components, the open P2 (no component) in (none), last
    assert {k: v.count for k, v in by_component.items()} == {"gateway": 2, "retrieval": 1, "synthesis": 1, "(none)": 1}
    assert list(by_component)[-1] == "(none)"
    assert by_severity["P2"].response["mttr"] == stats([30 * M])


def test_buckets_by_day_and_by_month(tmp_path: Path) -> None:
    rec = Record(tmp_path)
    day = timedelta(days=1)
    nov3 = at(0).replace(hour=0)
    a = rec.declare(at(10), severity="P1", started_at=at(0))  # 11-03 14:00
    rec.status(a, at(40), "resolved")  # mttr 30m
    b = rec.declare(at(60 * 24 + 5), severity="P2", started_at=at(60 * 24))  # 11-04
    rec.status(b, at(60 * 24 + 15), "resolved")  # mttr 10m
    c = rec.declare(at(60 * 24 + 60), severity="P2", started_at=at(60 * 24 + 60))  # 11-04, still open
    d = rec.declare(at(60 * 24 * 30), severity="P3", started_at=at(60 * 24 * 30))  # 12-03
    ms = [rec.measure(i, now=at(60 * 24 * 31)) for i in (a, b, c, d)]

    daily = buckets(ms, nov3, nov3 + 3 * day, day)
    monthly = buckets(ms, nov3, at(60 * 24 * 31), "month")

    assert [(x.start, x.end, x.count) for x in daily] == [
        (nov3, nov3 + day, 1),
        (nov3 + day, nov3 + 2 * day, 2),
        (nov3 + 2 * day, nov3 + 3 * day, 0),
    ]
    assert daily[1].by_severity == {"P1": 0, "P2": 2, "P3": 0}
    assert [x.mttr_p50 for x in daily] == [30 * M, 10 * M, None]
    assert [(x.start.month, x.start.day, x.end.month, x.end.day, x.count) for x in monthly] == [
        (11, 3, 12, 1, 3),
        (12, 1, 12, 4, 1),
    ]


def test_a_bucket_step_of_nothing_is_refused() -> None:
    with pytest.raises(ValueError, match="longer than zero"):
        buckets([], at(0), at(10), timedelta(0))
