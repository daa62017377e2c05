"""``postmortem status`` and ``postmortem complete``: the runbook's review stages (immediate review within 24 h,
detailed analysis within 72 h, action items within a week) counted from the incident's latest resolution, on a
journal with known times; exit 3 exactly from the moment a stage is overdue."""

from __future__ import annotations

from typing import Any

import pytest
from tests.postmortem.flow_harness import Postmortems


def resolved_p2(pm: Postmortems, title: str = "Gateway returns 502", severity: str = "P2") -> str:
    pm.at("2026-03-14T14:30:00Z")
    incident = pm.declare(title, severity)
    pm.at("2026-03-14T18:00:00Z")
    pm.resolve(incident)
    return incident


def stages(pm: Postmortems, *args: str, code: int) -> dict[str, dict[str, Any]]:
    [review] = pm.json("postmortem", "status", *args, code=code)["data"]["incidents"]
    return {s["id"]: s for s in review["stages"]}


def test_an_open_incident_has_its_stages_ahead_and_nothing_due(pm: Postmortems) -> None:
    pm.at("2026-03-14T14:30:00Z")
    incident = pm.declare()
    pm.at("2026-04-30T00:00:00Z")  # however long it stays open, nothing is due until it is resolved
    seen = stages(pm, code=0)
    assert [(s["state"], s["dueAt"]) for s in seen.values()] == [("not-yet", None)] * 3
    assert seen["detailed-analysis"]["steps"] == [
        "Conduct post-mortem meeting",
        "Analyze contributing factors",
        "Identify improvement opportunities",
    ]
    assert "resolved" in pm.ok("postmortem", "status", incident).stdout


def test_each_deadline_counts_from_the_resolution_and_fires_exactly_then(pm: Postmortems) -> None:
    incident = resolved_p2(pm)
    due = {
        "immediate-review": "2026-03-15T18:00:00Z",
        "detailed-analysis": "2026-03-17T18:00:00Z",
        "action-items": "2026-03-21T18:00:00Z",
    }
    assert {sid: s["dueAt"] for sid, s in stages(pm, code=0).items()} == due

    pm.at("2026-03-15T17:59:59Z")
    assert {s["state"] for s in stages(pm, code=0).values()} == {"due"}
    pm.at("2026-03-15T18:00:00Z")
    seen = stages(pm, code=3)
    assert [s["state"] for s in seen.values()] == ["overdue", "due", "due"]
    table = pm.run("postmortem", "status")
    assert table.exit_code == 3
    assert "overdue by" in table.stdout

    pm.ok("postmortem", "complete", incident, "immediate-review", "--note", "timeline and root cause agreed")
    pm.at("2026-03-17T17:59:59Z")
    seen = stages(pm, code=0)
    assert seen["immediate-review"]["state"] == "done"
    assert seen["immediate-review"]["late"] is True  # completed after its deadline
    assert seen["immediate-review"]["doneBy"] == "alice"
    pm.at("2026-03-17T18:00:00Z")
    assert stages(pm, code=3)["detailed-analysis"]["state"] == "overdue"
    pm.ok("postmortem", "complete", incident, "detailed-analysis")  # at its deadline: late
    pm.at("2026-03-21T17:59:59Z")
    seen = stages(pm, code=0)
    assert (seen["detailed-analysis"]["late"], seen["action-items"]["state"]) == (True, "due")
    pm.ok("postmortem", "complete", incident, "Action-Items")  # any case; a second before its deadline
    pm.at("2026-03-21T18:00:00Z")
    assert stages(pm, incident, code=0)["action-items"]["late"] is False

    # complete: left out of the overview, still shown when named or with --all
    assert pm.json("postmortem", "status")["data"]["incidents"] == []
    assert "no post-mortem is due" in pm.ok("postmortem", "status").stdout
    [review] = pm.json("postmortem", "status", "--all")["data"]["incidents"]
    assert review["complete"] is True
    assert pm.json("postmortem", "status", incident)["data"]["incidents"][0]["complete"] is True


def test_a_reopened_incident_counts_from_its_latest_resolution(pm: Postmortems) -> None:
    incident = resolved_p2(pm)
    pm.at("2026-03-15T10:00:00Z")
    pm.reopen(incident)
    pm.at("2026-03-15T19:00:00Z")  # past the first resolution's deadline, but open again: nothing is due
    assert {s["state"] for s in stages(pm, code=0).values()} == {"not-yet"}
    pm.at("2026-03-16T12:00:00Z")
    pm.resolve(incident)
    pm.at("2026-03-17T11:59:59Z")
    assert stages(pm, code=0)["immediate-review"]["dueAt"] == "2026-03-17T12:00:00Z"
    pm.at("2026-03-17T12:00:00Z")
    assert stages(pm, code=3)["immediate-review"]["state"] == "overdue"


def test_a_severity_that_needs_no_post_mortem_is_left_out(pm: Postmortems) -> None:
    p3 = resolved_p2(pm, "Slow search", "P3")
    p1 = pm.declare("Everything is down", "P1")
    pm.resolve(p1)
    pm.at("2026-03-30T00:00:00Z")  # long past every deadline
    overview = pm.json("postmortem", "status", code=3)["data"]["incidents"]
    assert [r["incidentId"] for r in overview] == [p1]
    [named] = pm.json("postmortem", "status", p3)["data"]["incidents"]
    assert (named["required"], named["overdue"]) == (False, False)
    assert {(s["state"], s["dueAt"]) for s in named["stages"]} == {("not-required", None)}
    assert any("no post-mortem is required" in h for h in named["hints"])


def test_the_hints_say_what_is_missing(pm: Postmortems) -> None:
    incident = resolved_p2(pm)
    [review] = pm.json("postmortem", "status")["data"]["incidents"]
    assert (review["draft"], review["meetingAt"], review["actionItems"]) == (None, None, 0)
    assert any(f"postmortem draft {incident}" in h for h in review["hints"])
    assert any(f"postmortem schedule {incident}" in h for h in review["hints"])
    journal = pm.journal()
    journal.append(incident, "postmortem_drafted", {"path": "incidents/x/postmortem.md", "to_write": ["lessons"]})
    journal.append(incident, "postmortem_scheduled", {"at": "2026-03-16T10:00:00Z", "duration_s": 3600})
    journal.append(incident, "action_added", {"id": "A1", "text": "add a pool alert"})
    [review] = pm.json("postmortem", "status")["data"]["incidents"]
    assert review["draft"] == "incidents/x/postmortem.md"
    assert review["meetingAt"] == "2026-03-16T10:00:00Z"
    assert (review["unowned"], review["undated"]) == ([f"{incident}/A1"], [f"{incident}/A1"])


def test_completing_twice_records_once_and_says_when(pm: Postmortems) -> None:
    incident = resolved_p2(pm)
    first = pm.json("postmortem", "complete", incident, "immediate-review")["data"]
    assert (first["recorded"], first["completedAt"], first["completedBy"]) == (True, "2026-03-14T18:00:00Z", "alice")
    pm.at("2026-03-14T19:00:00Z")
    again = pm.json("postmortem", "complete", incident, "immediate-review")["data"]
    assert (again["recorded"], again["completedAt"]) == (False, "2026-03-14T18:00:00Z")
    assert "completed already" in pm.ok("postmortem", "complete", incident, "immediate-review").stdout
    assert pm.kinds(incident, "review_completed") == [{"stage": "immediate-review"}]


def test_an_unknown_stage_lists_the_stages_and_an_open_incident_is_refused(pm: Postmortems) -> None:
    pm.at("2026-03-14T14:30:00Z")
    incident = pm.declare()
    said = pm.fails("postmortem", "complete", incident, "retro", code=2)
    assert "immediate-review, detailed-analysis, action-items" in said
    said = pm.fails("postmortem", "complete", incident, "immediate-review", code=2)
    assert "still investigating" in said
    assert f"incident status {incident} resolved" in said
    assert pm.kinds(incident, "review_completed") == []
    assert "INC-2026-999" in pm.fails("postmortem", "status", "INC-2026-999", code=2)


@pytest.mark.parametrize("note", ["done\x1b[2J\nBCC: x", "y" * 2001])
def test_a_note_is_kept_as_written_and_shown_safely_or_refused_when_too_long(pm: Postmortems, note: str) -> None:
    incident = resolved_p2(pm)
    if len(note) > 2000:
        assert "--note" in pm.fails("postmortem", "complete", incident, "immediate-review", "--note", note, code=2)
        assert pm.kinds(incident, "review_completed") == []
        return
    pm.ok("postmortem", "complete", incident, "immediate-review", "--note", note)
    assert pm.kinds(incident, "review_completed")[0]["note"] == note
    assert "\x1b" not in pm.ok("incident", "timeline", incident).stdout
