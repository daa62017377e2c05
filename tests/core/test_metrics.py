"""The response metrics of one incident, exact to the second, from journals with known times.

The shipped runbook's metrics: MTTD started -> detected, MTTA detected -> acknowledged, MTTR detected -> resolved,
MTTRec started -> mitigated (``monitoring``, or a healthy verification).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.core.metrics_journal import Record, at, line

from incidentctl.core.events import EventKind
from incidentctl.core.metrics import IncidentMeasures
from incidentctl.core.times import format_rfc3339


def minutes(*values: float | None) -> list[timedelta | None]:
    return [None if v is None else timedelta(minutes=v) for v in values]


def response(m: IncidentMeasures) -> list[timedelta | None]:
    return [m.durations["mttd"], m.durations["mtta"], m.durations["mttr"], m.durations["mttrec"]]


def test_a_resolved_incident_has_every_response_metric(tmp_path: Path) -> None:
    rec = Record(tmp_path)
    inc = rec.declare(at(10), started_at=at(0))
    rec.acknowledged(inc, at(14))
    rec.status(inc, at(40), "monitoring")
    rec.status(inc, at(55), "resolved")

    m = rec.measure(inc, now=at(120))

    assert m.durations == dict(zip(["mttd", "mtta", "mttr", "mttrec"], minutes(10, 4, 45, 40), strict=True))
    assert (m.impact.start, m.impact.end) == (at(0), at(40))
    assert (m.started_at, m.declared_at, m.resolved_at) == (at(0), at(10), at(55))
    assert (m.is_open, m.status, m.reopened) == (False, "resolved", 0)
    assert m.problems == []


def test_a_corrected_impact_start_moves_mttd_mttrec_and_the_impact(tmp_path: Path) -> None:
    rec = Record(tmp_path)
    inc = rec.declare(at(10))  # declared without a start: the impact began "at the declaration"
    rec.acknowledged(inc, at(14))
    rec.status(inc, at(40), "monitoring")
    rec.status(inc, at(55), "resolved")
    before = rec.measure(inc, now=at(120))
    rec.add(
        inc,
        at(90),
        EventKind.CORRECTED,
        started_at=format_rfc3339(at(-25)),
        was_started_at=format_rfc3339(at(10)),
        reason="the error rate rose at 13:35 in the gateway's dashboard",
    )

    after = rec.measure(inc, now=at(120))

    assert response(before) == minutes(0, 4, 45, 30)
    assert response(after) == minutes(35, 4, 45, 65)
    assert after.started_at == after.impact.start == at(-25)
    assert after.impact.duration(at(120)) == timedelta(minutes=65)


def test_a_reopened_incident_is_resolved_by_its_later_resolution(tmp_path: Path) -> None:
    rec = Record(tmp_path)
    inc = rec.declare(at(10), started_at=at(0))
    rec.acknowledged(inc, at(12))
    rec.status(inc, at(30), "monitoring")
    rec.status(inc, at(50), "resolved")
    rec.status(inc, at(70), "investigating")  # it came back: neither mitigated nor resolved any more
    rec.status(inc, at(95), "monitoring")
    rec.status(inc, at(130), "resolved")

    m = rec.measure(inc, now=at(200))

    assert response(m) == minutes(10, 2, 120, 95)
    assert (m.reopened, m.resolved_at, m.impact.end) == (1, at(130), at(95))


def test_a_reopened_incident_still_open_has_no_resolution_and_its_impact_lasts(tmp_path: Path) -> None:
    rec = Record(tmp_path)
    inc = rec.declare(at(10), started_at=at(0))
    rec.status(inc, at(50), "resolved")
    rec.status(inc, at(70), "identified")

    m = rec.measure(inc, now=at(100))

    assert response(m) == minutes(10, None, None, None)
    assert (m.is_open, m.resolved_at, m.reopened) == (True, None, 1)
    assert m.impact.end is None
    assert m.impact.duration(at(100)) == timedelta(minutes=100)


def test_an_open_incident_has_no_mttr_and_its_impact_lasts_until_now(tmp_path: Path) -> None:
    rec = Record(tmp_path)
    inc = rec.declare(at(10), started_at=at(0))
    rec.acknowledged(inc, at(13))

    m = rec.measure(inc, now=at(75))

    assert response(m) == minutes(10, 3, None, None)
    assert m.impact.end is None
    assert m.impact.duration(at(75)) == timedelta(minutes=75)
    assert m.is_open
    assert m.resolved_at is None


def test_mitigated_but_not_resolved_counts_recovery_only(tmp_path: Path) -> None:
    rec = Record(tmp_path)
    inc = rec.declare(at(10), started_at=at(0))
    rec.add(inc, at(33), EventKind.MITIGATION_VERIFIED, healthy=True, components=["gateway"])

    m = rec.measure(inc, now=at(60))

    assert response(m) == minutes(10, None, None, 33)
    assert m.impact.end == at(33)


def test_detected_before_declared_counts_from_the_detection(tmp_path: Path) -> None:
    rec = Record(tmp_path)
    inc = rec.declare(at(10), started_at=at(0))
    detected_early = rec.declare(at(30), started_at=at(0))
    # detect's look, timed before the declaration (detect saw it; a person declared it from the alert later)
    timeline = (tmp_path / detected_early / "timeline.jsonl").read_text(encoding="utf-8")
    look = line(at(4), EventKind.DETECTED, {"health": "down", "summary": "gateway down"})
    (tmp_path / detected_early / "timeline.jsonl").write_text(timeline + look, encoding="utf-8")
    rec.acknowledged(detected_early, at(31))
    rec.detected(inc, at(25))  # detect's look after a person declared: detected when declared
    rec.acknowledged(inc, at(26))

    early = rec.measure(detected_early, now=at(60))
    late = rec.measure(inc, now=at(60))

    assert response(early) == minutes(4, 27, None, None)
    assert response(late) == minutes(10, 16, None, None)


def test_a_second_acknowledgement_changes_nothing(tmp_path: Path) -> None:
    rec = Record(tmp_path)
    inc = rec.declare(at(10), started_at=at(0))
    rec.acknowledged(inc, at(12))
    rec.acknowledged(inc, at(40))  # a racing backend's, or a person's who did not see the first

    assert response(rec.measure(inc, now=at(60))) == minutes(10, 2, None, None)


def test_events_out_of_time_order_are_read_in_time_order_and_said(tmp_path: Path) -> None:
    rec = Record(tmp_path)
    inc = rec.declare(at(10), started_at=at(0))
    rec.status(inc, at(50), "resolved")
    # a bad merge appended another responder's lines after the resolution: an acknowledgement and a fix
    path = tmp_path / inc / "timeline.jsonl"
    merged = line(at(12), EventKind.ACKNOWLEDGED, {}) + line(at(40), EventKind.STATUS_CHANGED, {"to": "monitoring"})
    path.write_text(path.read_text(encoding="utf-8") + merged, encoding="utf-8")

    m = rec.measure(inc, now=at(60))

    assert response(m) == minutes(10, 2, 40, 40)
    assert (m.status, m.is_open, m.reopened, m.resolved_at) == ("resolved", False, 0, at(50))
    assert any("not in time order" in p for p in m.problems)


def test_a_kind_this_version_does_not_know_is_skipped(tmp_path: Path) -> None:
    rec = Record(tmp_path)
    inc = rec.declare(at(10), started_at=at(0))
    path = tmp_path / inc / "timeline.jsonl"
    newer = line(at(11), "pager_rotated", {"to": "resolved", "health": "ok"})
    path.write_text(path.read_text(encoding="utf-8") + newer, encoding="utf-8")
    rec.acknowledged(inc, at(15))

    m = rec.measure(inc, now=at(60))

    assert response(m) == minutes(10, 5, None, None)
    assert m.is_open


def test_a_start_corrected_to_after_the_detection_is_left_out_and_said(tmp_path: Path) -> None:
    rec = Record(tmp_path)
    inc = rec.declare(at(10), started_at=at(0))
    rec.status(inc, at(40), "monitoring")
    rec.add(inc, at(45), EventKind.CORRECTED, started_at=format_rfc3339(at(20)), reason="typo: 14:20, not 14:02")

    m = rec.measure(inc, now=at(60))

    assert response(m) == minutes(None, None, None, 20)
    assert m.problems == [
        f"{inc}: mttd left out: detected (2026-11-03T14:10:00Z) is before started (2026-11-03T14:20:00Z)"
    ]


def test_a_damaged_timeline_is_measured_from_what_can_be_read_and_said(tmp_path: Path) -> None:
    rec = Record(tmp_path)
    inc = rec.declare(at(10), started_at=at(0))
    rec.acknowledged(inc, at(12))
    path = tmp_path / inc / "timeline.jsonl"
    conflict = "<<<<<<< HEAD\n" + line(at(50), EventKind.STATUS_CHANGED, {"to": "resolved"}) + ">>>>>>> theirs\n"
    path.write_text(path.read_text(encoding="utf-8") + conflict, encoding="utf-8")

    m = rec.measure(inc, now=at(60))

    assert response(m) == minutes(10, 2, 40, 50)
    assert any("damaged" in p for p in m.problems)


def test_every_metric_whose_end_comes_before_its_start_is_left_out_and_said(tmp_path: Path) -> None:
    rec = Record(tmp_path)
    inc = rec.declare(at(10), started_at=at(0))
    rec.acknowledged(inc, at(12))
    rec.status(inc, at(40), "monitoring")
    rec.status(inc, at(55), "resolved")
    # a correction that puts the start after the fix: detection and recovery would both be negative
    rec.add(inc, at(90), EventKind.CORRECTED, started_at=format_rfc3339(at(45)), reason="wrong day")
    # an acknowledgement timed before anything was detected (a clock that was wrong on someone's laptop)
    acked_early = rec.declare(at(10), started_at=at(0))
    path = tmp_path / acked_early / "timeline.jsonl"
    events = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text(line(at(5), EventKind.ACKNOWLEDGED, {}) + "".join(events), encoding="utf-8")

    late_start = rec.measure(inc, now=at(120))
    early_ack = rec.measure(acked_early, now=at(120))

    assert response(late_start) == minutes(None, 2, 45, None)
    assert [p.split(":")[1] for p in late_start.problems] == [" mttd left out", " mttrec left out"]
    assert late_start.impact.duration(at(120)) == timedelta(0)
    assert response(early_ack)[:2] == [timedelta(minutes=10), None]
    assert any("mtta left out" in p for p in early_ack.problems)
