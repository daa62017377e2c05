"""``incident correct ID --started-at TIME --reason TEXT`` and ``incident note --tag``: a late-known impact start is
journalled as a correction (never by editing history) and every figure counts from it; a note can be marked for
its post-mortem section."""

from __future__ import annotations

import pytest
from tests.postmortem.flow_harness import Postmortems, at

from incidentctl.core.metrics import impact_window


def test_a_corrected_start_is_journalled_with_the_old_value_and_counts_everywhere(pm: Postmortems) -> None:
    pm.at("2026-03-14T14:30:00Z")
    incident = pm.declare()
    pm.at("2026-03-14T16:00:00Z")
    pm.ok("incident", "correct", incident, "--started-at", "2026-03-14T14:05:00Z", "--reason", "5xx began at 14:05")

    [corrected] = pm.kinds(incident, "corrected")
    assert corrected == {
        "started_at": "2026-03-14T14:05:00Z",
        "was_started_at": "2026-03-14T14:30:00Z",
        "reason": "5xx began at 14:05",
    }
    shown = pm.json("incident", "show", incident)["data"]
    assert shown["startedAt"] == "2026-03-14T14:05:00Z"
    assert "Impact began" in pm.ok("incident", "show", incident).stdout
    timeline = pm.ok("incident", "timeline", incident).stdout
    assert "impact start corrected to 2026-03-14T14:05:00Z (was 2026-03-14T14:30:00Z): 5xx began at 14:05" in timeline

    pm.resolve(incident)
    window = impact_window(pm.incident(incident), pm.events(incident))
    assert (window.start, window.end) == (at("2026-03-14T14:05:00Z"), at("2026-03-14T16:00:00Z"))


def test_a_relative_start_counts_back_from_now_and_the_same_start_records_nothing(pm: Postmortems) -> None:
    pm.at("2026-03-14T14:30:00Z")
    incident = pm.declare()
    pm.ok("incident", "correct", incident, "--started-at", "45m", "--reason", "alerts at 13:45")
    assert pm.incident(incident).started_at == at("2026-03-14T13:45:00Z")
    again = pm.run("incident", "correct", incident, "--started-at", "2026-03-14T13:45:00Z", "--reason", "same")
    assert again.exit_code == 0
    assert "nothing recorded" in again.stderr
    assert len(pm.kinds(incident, "corrected")) == 1


def test_an_impact_cannot_start_after_it_was_detected_or_in_the_future(pm: Postmortems) -> None:
    pm.at("2026-03-14T14:30:00Z")
    incident = pm.declare()
    pm.at("2026-03-14T15:00:00Z")
    after = pm.fails("incident", "correct", incident, "--started-at", "2026-03-14T14:31:00Z", "--reason", "x", code=2)
    assert "after" in after
    assert "detected (2026-03-14T14:30:00Z)" in after
    future = pm.fails("incident", "correct", incident, "--started-at", "2026-03-14T15:01:00Z", "--reason", "x", code=2)
    assert "in the future" in future
    # exactly at the detection is allowed
    pm.ok("incident", "correct", incident, "--started-at", "2026-03-14T14:30:00Z", "--reason", "x")
    assert pm.kinds(incident, "corrected") == []  # it already started then
    assert pm.incident(incident).started_at == at("2026-03-14T14:30:00Z")


@pytest.mark.parametrize(
    "when",
    ["99999-01-01", "2026-02-30", "2026-02-30T10:00:00Z", f"{10**30}s", "yesterday", "2026-03-14T10:00:00"],
)
def test_a_time_that_is_no_time_is_one_line_and_nothing_is_recorded(pm: Postmortems, when: str) -> None:
    pm.at("2026-03-14T14:30:00Z")
    incident = pm.declare()
    said = pm.fails("incident", "correct", incident, "--started-at", when, "--reason", "x", code=2)
    assert "--started-at" in said
    assert len(said.strip().splitlines()) <= 2
    assert pm.kinds(incident, "corrected") == []


@pytest.mark.parametrize("reason", ["", "   ", "x" * 1001])
def test_a_correction_needs_a_reason_of_reasonable_length(pm: Postmortems, reason: str) -> None:
    pm.at("2026-03-14T14:30:00Z")
    incident = pm.declare()
    said = pm.fails("incident", "correct", incident, "--started-at", "1h", "--reason", reason, code=2)
    assert "--reason" in said
    assert pm.kinds(incident, "corrected") == []


def test_a_reason_with_control_characters_is_kept_and_shown_safely(pm: Postmortems) -> None:
    pm.at("2026-03-14T14:30:00Z")
    incident = pm.declare()
    pm.ok("incident", "correct", incident, "--started-at", "1h", "--reason", "line one\nline two \x1b[31mred")
    assert pm.kinds(incident, "corrected")[0]["reason"] == "line one\nline two \x1b[31mred"
    shown = pm.ok("incident", "timeline", incident).stdout
    assert "\x1b[31m" not in shown
    assert "line one ⏎ line two" in shown


def test_a_tagged_note_keeps_its_tag_and_an_unknown_tag_lists_the_tags(pm: Postmortems) -> None:
    incident = pm.declare()
    pm.ok("incident", "note", incident, "pool exhausted by the retry storm", "--tag", "Root-Cause")
    assert pm.kinds(incident, "note") == [{"text": "pool exhausted by the retry storm", "tag": "root-cause"}]
    assert "root-cause: pool exhausted" in pm.ok("incident", "timeline", incident).stdout
    said = pm.fails("incident", "note", incident, "hmm", "--tag", "rootcause", code=2)
    assert "root-cause, contributing-factor, lesson, resolution, impact" in said
    pm.ok("incident", "note", incident, "plain")
    assert pm.kinds(incident, "note")[-1] == {"text": "plain"}
