"""The process measures of one incident: update timeliness, escalation, post-mortem stages and action items.

The shipped runbook's P2: the initial notification within 15m (``response_time``), an update every 15m
(``update_interval``); P3: within 1h, then every hour.
"""

from __future__ import annotations

from pathlib import Path

from tests.core.metrics_journal import Record, at

from incidentctl.core.events import EventKind


def updates(rec: Record, inc: str, now_minutes: float) -> tuple[int, int]:
    m = rec.measure(inc, now=at(now_minutes))
    return m.updates_due, m.updates_on_time


def test_updates_on_time_and_late_are_counted_per_due_point(tmp_path: Path) -> None:
    rec = Record(tmp_path)
    inc = rec.declare(at(0))
    rec.sent(inc, at(10), kind="initial")  # due 14:15: on time; the next is due 14:25
    rec.sent(inc, at(30))  # 14:25 missed; owed again at 14:40, which this meets; the next is due 14:45
    rec.status(inc, at(44), "resolved")  # nothing is owed once resolved

    assert updates(rec, inc, 120) == (3, 2)


def test_no_message_at_all_misses_every_interval_until_now(tmp_path: Path) -> None:
    rec = Record(tmp_path)
    inc = rec.declare(at(0))

    assert updates(rec, inc, 14) == (0, 0)  # nothing was due yet
    assert updates(rec, inc, 15) == (1, 0)  # the initial notification, due at 14:15 and not sent
    assert updates(rec, inc, 61) == (4, 0)  # 14:15, 14:30, 14:45, 15:00


def test_a_message_sent_exactly_at_its_due_time_is_on_time(tmp_path: Path) -> None:
    rec = Record(tmp_path)
    inc = rec.declare(at(0))
    rec.sent(inc, at(15), kind="initial")
    rec.sent(inc, at(30))

    assert updates(rec, inc, 45) == (3, 2)  # 14:15 and 14:30 met; 14:45 owed and not (yet) sent


def test_only_messages_that_went_out_count(tmp_path: Path) -> None:
    rec = Record(tmp_path)
    inc = rec.declare(at(0))
    rec.sent(inc, at(5), kind="initial", outcome=EventKind.MESSAGE_FAILED)  # refused by Slack
    rec.sent(inc, at(6), kind="initial", channel="war-room", channel_kind="manual")  # a person's checklist item
    rec.sent(inc, at(7), kind="escalation")  # tells the CTO, not the incident's state
    rec.status(inc, at(20), "resolved")

    assert updates(rec, inc, 60) == (1, 0)


def test_the_severity_in_force_sets_the_interval(tmp_path: Path) -> None:
    rec = Record(tmp_path)
    inc = rec.declare(at(0), severity="P3")  # initial due within 1h
    rec.sent(inc, at(50), kind="initial")  # on time; the next is due 15:50 at P3's hourly pace
    rec.add(inc, at(55), EventKind.SEVERITY_CHANGED, to="P2")
    rec.status(inc, at(100), "resolved")

    assert updates(rec, inc, 200) == (1, 1)


def test_nothing_is_owed_while_resolved_and_a_reopening_owes_an_update(tmp_path: Path) -> None:
    rec = Record(tmp_path)
    inc = rec.declare(at(0))
    rec.sent(inc, at(5), kind="initial")
    rec.status(inc, at(10), "resolved")
    rec.sent(inc, at(11), kind="resolution")
    rec.status(inc, at(300), "investigating")  # hours later it is back: an update within 15m
    rec.sent(inc, at(310))
    rec.status(inc, at(320), "resolved")

    assert updates(rec, inc, 400) == (2, 2)


def test_escalation_reaches_its_highest_level(tmp_path: Path) -> None:
    rec = Record(tmp_path)
    calm = rec.declare(at(0))
    hot = rec.declare(at(0))
    rec.add(hot, at(5), EventKind.ESCALATED, level="L3", role="Engineering Manager")
    rec.add(hot, at(9), EventKind.ESCALATED, level="L4", role="CTO")
    rec.add(hot, at(12), EventKind.ESCALATED, level="L2", role="Senior Engineer")  # lower: does not lower it

    assert (rec.measure(calm, at(20)).escalated, rec.measure(calm, at(20)).highest_level) == (False, None)
    assert (rec.measure(hot, at(20)).escalated, rec.measure(hot, at(20)).highest_level) == (True, "L4")


def test_a_post_mortem_is_complete_when_every_stage_is(tmp_path: Path) -> None:
    rec = Record(tmp_path)
    inc = rec.declare(at(0), severity="P1")
    minor = rec.declare(at(0), severity="P4")
    rec.status(inc, at(30), "resolved")
    rec.add(inc, at(60), EventKind.REVIEW_COMPLETED, stage="immediate-review")
    rec.add(inc, at(61), EventKind.REVIEW_COMPLETED, stage="detailed-analysis")
    halfway = rec.measure(inc, at(100))
    rec.add(inc, at(62), EventKind.REVIEW_COMPLETED, stage="action-items")

    assert (halfway.postmortem_required, halfway.postmortem_complete) == (True, False)
    assert rec.measure(inc, at(100)).postmortem_complete
    assert not rec.measure(minor, at(100)).postmortem_required


def test_action_items_due_and_done_on_time(tmp_path: Path) -> None:
    rec = Record(tmp_path)
    inc = rec.declare(at(0))  # 2026-11-03
    rec.add(inc, at(60), EventKind.ACTION_ADDED, id="A1", text="Alert on 502s", owner="bob", due="2026-11-04")
    rec.add(inc, at(61), EventKind.ACTION_ADDED, id="A2", text="Canary the gateway", owner="eve", due="2026-11-05")
    rec.add(inc, at(62), EventKind.ACTION_ADDED, id="A3", text="Runbook page", owner="eve", due="2026-11-30")
    rec.add(inc, at(63), EventKind.ACTION_ADDED, id="A4", text="Write it down", owner="eve")  # no due date
    rec.add(inc, at(64), EventKind.ACTION_ADDED, id="A5", text="Load test", owner="bob", due="2026-11-30")
    rec.add(inc, at(60 * 24), EventKind.ACTION_DONE, id="A1")  # 11-04 14:00: on its due day
    rec.add(inc, at(60 * 24 * 3), EventKind.ACTION_DONE, id="A2")  # 11-06: a day late
    rec.add(inc, at(60 * 24 * 4), EventKind.ACTION_DONE, id="A5")  # 11-07: early
    rec.add(inc, at(60 * 24 * 4 + 1), EventKind.ACTION_DONE, id="A4")

    m = rec.measure(inc, now=at(60 * 24 * 5))  # 2026-11-08: A3 is not due yet

    assert (m.action_items, m.actions_due, m.actions_done_on_time) == (5, 3, 2)
