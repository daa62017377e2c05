"""SLA compliance per calendar month: the union of the impact windows of the severities that take availability
down (``slo.counts``), against the shipped SLO of 99.9 %."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from tests.core.metrics_journal import REPO, Record, runbook

from incidentctl.core.metrics import IncidentMeasures, sla_by_month
from incidentctl.runbook.loader import load_runbook
from incidentctl.runbook.problems import RunbookInvalid

H = timedelta(hours=1)
M = timedelta(minutes=1)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=timezone.utc)


def incident(rec: Record, severity: str, start: datetime, back: datetime | None, *, now: datetime) -> IncidentMeasures:
    """An incident whose impact ran from ``start`` until it was mitigated at ``back`` (None: still on)."""
    inc = rec.declare(start + 5 * M, severity=severity, started_at=start)
    if back is not None:
        rec.status(inc, back, "monitoring")
        rec.status(inc, back + 30 * M, "resolved")
    return rec.measure(inc, now=now)


def test_overlapping_incidents_are_down_once_and_minor_ones_not_at_all(tmp_path: Path) -> None:
    rec = Record(tmp_path)
    now = utc(2026, 12, 15)
    ms = [
        incident(rec, "P1", utc(2026, 11, 3, 10), utc(2026, 11, 3, 11), now=now),
        incident(rec, "P2", utc(2026, 11, 3, 10, 30), utc(2026, 11, 3, 12), now=now),  # overlaps: 10:00-12:00
        incident(rec, "P3", utc(2026, 11, 3, 13), utc(2026, 11, 3, 14), now=now),  # a P3 takes nothing down
        incident(rec, "P2", utc(2026, 11, 20, 8), utc(2026, 11, 20, 8, 24), now=now),
    ]

    (nov,) = sla_by_month(runbook(), ms, utc(2026, 11, 1), utc(2026, 12, 1), now)

    assert (nov.month, nov.start, nov.end) == ("2026-11", utc(2026, 11, 1), utc(2026, 12, 1))
    assert nov.downtime == 2 * H + 24 * M
    assert nov.availability == pytest.approx(1 - (144 * 60) / (30 * 86400), rel=1e-12)
    assert nov.budget == timedelta(minutes=43, seconds=12)  # 30 days * 0.1 %
    assert nov.budget_consumed == pytest.approx(144 / 43.2, rel=1e-12)
    assert nov.compliant is False
    assert nov.target == pytest.approx(0.999, rel=1e-12)
    assert nov.incidents == (ms[0].incident_id, ms[1].incident_id, ms[3].incident_id)


def test_a_window_across_a_month_boundary_counts_in_both(tmp_path: Path) -> None:
    rec = Record(tmp_path)
    now = utc(2026, 12, 15)
    ms = [incident(rec, "P1", utc(2026, 10, 31, 23, 30), utc(2026, 11, 1, 0, 10), now=now)]

    oct_, nov = sla_by_month(runbook(), ms, utc(2026, 10, 1), utc(2026, 12, 1), now)

    assert (oct_.month, oct_.downtime, nov.month, nov.downtime) == ("2026-10", 30 * M, "2026-11", 10 * M)
    assert oct_.budget == timedelta(minutes=44, seconds=38, milliseconds=400)  # 31 days * 0.1 %
    assert oct_.compliant
    assert nov.compliant


def test_leap_february_has_twenty_nine_days_of_budget(tmp_path: Path) -> None:
    now = utc(2028, 6, 1)
    ms = [incident(Record(tmp_path), "P1", utc(2028, 2, 29, 23), utc(2028, 3, 1, 1), now=now)]

    feb, mar = sla_by_month(runbook(), ms, utc(2028, 2, 1), utc(2028, 4, 1), now)
    (feb_2027,) = sla_by_month(runbook(), [], utc(2027, 2, 1), utc(2027, 3, 1), now)

    assert (feb.end - feb.start, feb.downtime, mar.downtime) == (timedelta(days=29), H, H)
    assert feb.budget == timedelta(minutes=41, seconds=45, milliseconds=600)
    assert feb_2027.budget == timedelta(minutes=40, seconds=19, milliseconds=200)
    assert (feb_2027.downtime, feb_2027.availability, feb_2027.budget_consumed) == (timedelta(0), 1.0, 0.0)


def test_the_current_month_counts_until_now_and_an_open_incident_lasts_until_now(tmp_path: Path) -> None:
    rec = Record(tmp_path)
    now = utc(2026, 12, 3, 12)
    ms = [incident(rec, "P1", utc(2026, 12, 3, 10), None, now=now)]

    months = sla_by_month(runbook(), ms, utc(2026, 11, 1), utc(2027, 2, 1), now)

    assert [m.month for m in months] == ["2026-11", "2026-12"]  # no month after now
    dec = months[1]
    assert (dec.start, dec.end, dec.downtime) == (utc(2026, 12, 1), now, 2 * H)
    # the budget is the whole month's (a bad first days is not a missed month yet); availability is so far
    assert dec.budget == timedelta(days=31) * 0.001
    assert dec.availability == pytest.approx(1 - 2 / 60, rel=1e-12)
    assert dec.partial is True
    assert months[0].partial is False
    assert dec.compliant is False  # 2 h down is more than December's 44.6 min, whatever is still to come


def test_a_month_down_for_exactly_its_budget_is_compliant_and_a_second_more_is_not(tmp_path: Path) -> None:
    rec = Record(tmp_path)
    now = utc(2027, 1, 15)
    start = utc(2026, 11, 3, 10)
    exactly = [incident(rec, "P1", start, start + timedelta(minutes=43, seconds=12), now=now)]
    over = [incident(rec, "P1", start, start + timedelta(minutes=43, seconds=13), now=now)]

    (fits,) = sla_by_month(runbook(), exactly, utc(2026, 11, 1), utc(2026, 12, 1), now)
    (past,) = sla_by_month(runbook(), over, utc(2026, 11, 1), utc(2026, 12, 1), now)

    assert fits.compliant is True
    assert fits.budget_consumed == pytest.approx(1.0, rel=1e-12)
    assert past.compliant is False


def test_the_runbook_says_which_severities_count(tmp_path: Path) -> None:
    rb = runbook()
    assert rb.slo is not None
    assert rb.slo.counts == ["P1", "P2"]
    only_p1 = rb.model_copy(update={"slo": rb.slo.model_copy(update={"counts": ["P1"]})})
    now = utc(2026, 12, 15)
    rec = Record(tmp_path)
    ms = [
        incident(rec, "P1", utc(2026, 11, 3, 10), utc(2026, 11, 3, 11), now=now),
        incident(rec, "P2", utc(2026, 11, 4, 10), utc(2026, 11, 4, 11), now=now),
    ]

    (nov,) = sla_by_month(only_p1, ms, utc(2026, 11, 1), utc(2026, 12, 1), now)

    assert nov.downtime == H


def test_no_slo_no_compliance() -> None:
    rb = runbook().model_copy(update={"slo": None})
    assert sla_by_month(rb, [], utc(2026, 11, 1), utc(2026, 12, 1), utc(2026, 12, 15)) == []


def test_a_severity_the_runbook_does_not_have_is_a_located_problem(tmp_path: Path) -> None:
    text = (REPO / "runbook.yaml").read_text(encoding="utf-8")
    assert "  counts: [P1, P2]\n" in text
    path = tmp_path / "runbook.yaml"
    path.write_text(text.replace("  counts: [P1, P2]\n", "  counts: [P1, P0]\n"), encoding="utf-8")

    with pytest.raises(RunbookInvalid) as caught:
        load_runbook(path)

    (problem,) = caught.value.problems
    assert problem.message == "unknown severity 'P0'"
    assert str(caught.value).startswith(f"{path}:")
    assert "slo.counts[1]: unknown severity 'P0'" in str(caught.value)
