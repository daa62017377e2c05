"""``postmortem schedule ID --at TIME [--ics FILE]``: the meeting journalled, and an RFC 5545 invitation that a
calendar reads back as one event, updated in place (same UID, higher SEQUENCE) when the meeting moves; nothing a
person typed can add a line to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import icalendar
import pytest
from tests.postmortem.flow_harness import Postmortems, at


def resolved(pm: Postmortems, title: str = "Gateway returns 502") -> str:
    pm.at("2026-03-14T14:30:00Z")
    incident = pm.declare(title)
    pm.at("2026-03-14T18:00:00Z")
    pm.resolve(incident)
    return incident


def event_of(path: Path) -> Any:
    calendar = icalendar.Calendar.from_ical(path.read_bytes())
    [event] = calendar.walk("VEVENT")
    assert calendar["METHOD"] == "REQUEST"
    return event


def attendees(event: Any) -> list[str]:
    found = event.get("ATTENDEE", [])
    return [str(a) for a in (found if isinstance(found, list) else [found])]


def test_the_meeting_is_journalled_and_its_invitation_reads_back(pm: Postmortems, tmp_path: Path) -> None:
    incident = resolved(pm)
    ics = tmp_path / "meeting.ics"
    done = pm.json(
        "postmortem", "schedule", incident, "--at", "2026-03-16T10:00:00+01:00", "--duration", "45m",
        "--where", "Room 4, 2nd floor", "--attendee", "alice@example.com", "--attendee", "Bob <bob@example.com>",
        "--attendee", "Carol", "--attendee", "ALICE@example.com", "--ics", str(ics),
    )["data"]  # fmt: skip
    assert (done["recorded"], done["sequence"], done["past"], done["ics"]) == (True, 0, False, str(ics))
    assert pm.kinds(incident, "postmortem_scheduled") == [
        {
            "at": "2026-03-16T09:00:00Z",
            "duration_s": 2700,
            "where": "Room 4, 2nd floor",
            "attendees": ["alice@example.com", "Bob <bob@example.com>", "Carol"],
        }
    ]
    event = event_of(ics)
    assert event.decoded("DTSTART") == at("2026-03-16T09:00:00Z")
    assert event.decoded("DTEND") == at("2026-03-16T09:45:00Z")
    assert event["DTSTART"].to_ical() == b"20260316T090000Z"  # written in UTC
    assert str(event["UID"]) == done["uid"]
    assert event.decoded("SEQUENCE") == 0
    assert str(event["SUMMARY"]) == f"Post-mortem: {incident} Gateway returns 502"
    assert str(event["LOCATION"]) == "Room 4, 2nd floor"
    assert attendees(event) == ["mailto:alice@example.com", "mailto:bob@example.com"]
    assert event["ATTENDEE"][1].params["CN"] == "Bob"
    description = str(event["DESCRIPTION"])
    assert f"incidentctl incident timeline {incident}" in description
    assert "Impact began 2026-03-14T14:30:00Z, resolved 2026-03-14T18:00:00Z" in description
    assert "Also invited: Carol" in description
    assert pm.json("postmortem", "status", incident)["data"]["incidents"][0]["meetingAt"] == "2026-03-16T09:00:00Z"


def test_rescheduling_updates_the_same_event_and_the_same_schedule_records_nothing(
    pm: Postmortems, tmp_path: Path
) -> None:
    incident = resolved(pm)
    ics = tmp_path / "meeting.ics"
    pm.ok("postmortem", "schedule", incident, "--at", "2026-03-16T10:00:00Z", "--ics", str(ics))
    uid = str(event_of(ics)["UID"])
    pm.at("2026-03-15T09:00:00Z")
    moved = pm.json("postmortem", "schedule", incident, "--at", "2026-03-17T10:00:00Z", "--ics", str(ics))["data"]
    assert (moved["recorded"], moved["sequence"]) == (True, 1)
    event = event_of(ics)
    assert (str(event["UID"]), event.decoded("SEQUENCE")) == (uid, 1)
    assert event.decoded("DTSTART") == at("2026-03-17T10:00:00Z")
    ics.unlink()
    again = pm.json("postmortem", "schedule", incident, "--at", "2026-03-17T10:00:00Z", "--ics", str(ics))["data"]
    assert (again["recorded"], again["sequence"]) == (False, 1)
    assert event_of(ics).decoded("SEQUENCE") == 1  # a lost file is written again
    assert len(pm.kinds(incident, "postmortem_scheduled")) == 2


def test_a_meeting_that_happened_is_recorded_and_said(pm: Postmortems) -> None:
    incident = resolved(pm)
    pm.at("2026-03-16T12:00:00Z")
    result = pm.run("postmortem", "schedule", incident, "--at", "2026-03-16T10:00:00Z")
    assert result.exit_code == 0
    assert "in the past" in result.stderr
    assert pm.kinds(incident, "postmortem_scheduled")[0]["at"] == "2026-03-16T10:00:00Z"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--at", str(10**30)], "--at"),
        (["--at", "2026-02-30T10:00:00Z"], "--at"),
        (["--at", "99999-01-01T00:00:00Z"], "--at"),
        (["--at", "2026-03-16T10:00"], "time zone"),
        (["--at", "2026-03-14T14:00:00Z"], "before"),
        (["--at", "2028-03-16T10:00:00Z"], "more than a year ahead"),
        (["--at", "2026-03-16T10:00:00Z", "--duration", "0"], "--duration"),
        (["--at", "2026-03-16T10:00:00Z", "--duration", "13h"], "--duration"),
        (["--at", "2026-03-16T10:00:00Z", "--duration", f"{10**30}s"], "--duration"),
        (["--at", "2026-03-16T10:00:00Z", "--attendee", "x\r\nBCC: evil"], "--attendee"),
        (["--at", "2026-03-16T10:00:00Z", "--attendee", "evil@example.com\r\nBCC: x@y.z"], "--attendee"),
        (["--at", "2026-03-16T10:00:00Z", "--attendee", "a@b"], "not an e-mail address"),
        (["--at", "2026-03-16T10:00:00Z", "--attendee", "Eve <eve@example.com>; x@y.z"], "not an e-mail address"),
        (["--at", "2026-03-16T10:00:00Z", "--where", "Room 4\nATTENDEE:mailto:evil@example.com"], "--where"),
        (["--at", "2026-03-16T10:00:00Z", "--where", "w" * 300], "--where"),
    ],
)
def test_what_is_no_time_duration_attendee_or_place_is_one_line_and_nothing_is_written(
    pm: Postmortems, tmp_path: Path, args: list[str], said: str
) -> None:
    incident = resolved(pm)
    ics = tmp_path / "meeting.ics"
    stderr = pm.fails("postmortem", "schedule", incident, *args, "--ics", str(ics), code=2)
    assert said in stderr
    assert pm.kinds(incident, "postmortem_scheduled") == []
    assert not ics.exists()


def test_a_title_with_line_breaks_and_control_characters_stays_in_its_summary(pm: Postmortems, tmp_path: Path) -> None:
    incident = resolved(pm, "Gateway\r\nATTENDEE:mailto:evil@example.com\x1b[2J; down, again")
    ics = tmp_path / "meeting.ics"
    pm.ok("postmortem", "schedule", incident, "--at", "2026-03-16T10:00:00Z", "--attendee", "a@example.com",
          "--ics", str(ics))  # fmt: skip
    raw = ics.read_bytes()
    assert b"\x1b" not in raw
    assert b"\nATTENDEE:mailto:evil" not in raw
    event = event_of(ics)
    assert attendees(event) == ["mailto:a@example.com"]
    summary = str(event["SUMMARY"])
    assert summary.startswith(f"Post-mortem: {incident} Gateway ⏎ ATTENDEE:mailto:evil@example.com")
    assert summary.endswith("; down, again")
    assert "\n" not in summary


def test_an_invitation_that_cannot_be_written_says_where_and_loses_nothing(pm: Postmortems, tmp_path: Path) -> None:
    incident = resolved(pm)
    missing = tmp_path / "no-such-folder" / "meeting.ics"
    stderr = pm.fails("postmortem", "schedule", incident, "--at", "2026-03-16T10:00:00Z", "--ics", str(missing), code=2)
    assert str(missing) in stderr
    assert "recorded in the journal" in stderr
    assert len(pm.kinds(incident, "postmortem_scheduled")) == 1
    good = tmp_path / "meeting.ics"
    again = pm.json("postmortem", "schedule", incident, "--at", "2026-03-16T10:00:00Z", "--ics", str(good))["data"]
    assert again["recorded"] is False
    assert event_of(good).decoded("DTSTART") == at("2026-03-16T10:00:00Z")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".meeting")] == []
