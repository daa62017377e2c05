"""``postmortem action add|list|change|done``: action items journalled with ids allocated under the journal's lock,
listed across incidents, overdue exactly from the end of their due day (UTC), and done late counted as late."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from tests.postmortem.flow_harness import Postmortems

from incidentctl.phases.postmortem.actions import AddRequest, add


def items(pm: Postmortems, *args: str, code: int = 0) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = pm.json("postmortem", "action", "list", *args, code=code)["data"]["items"]
    return found


def declared(pm: Postmortems, title: str = "Gateway returns 502") -> str:
    pm.at("2026-03-14T14:30:00Z")
    return pm.declare(title)


def test_an_item_is_journalled_with_the_next_id_and_its_fields(pm: Postmortems) -> None:
    incident = declared(pm)
    added = pm.json(
        "postmortem", "action", "add", incident, "Alert on pool use", "--owner", "alice", "--due", "2026-03-21",
        "--area", "testing",
    )["data"]  # fmt: skip
    assert added["item"]["ref"] == f"{incident}/A1"
    assert (added["item"]["area"], added["item"]["dueAt"]) == ("technical/Testing", "2026-03-22T00:00:00Z")
    pm.ok("postmortem", "action", "add", incident, "Runbook for pool", "--owner", "bob", "--due", "1w")
    assert pm.kinds(incident, "action_added") == [
        {"id": "A1", "text": "Alert on pool use", "owner": "alice", "due": "2026-03-21", "area": "technical/Testing"},
        {"id": "A2", "text": "Runbook for pool", "owner": "bob", "due": "2026-03-21"},
    ]
    assert "action item A2 added: Runbook for pool, owner bob" in pm.ok("incident", "timeline", incident).stdout
    printed = pm.ok("postmortem", "action", "add", incident, "Third", "--owner", "carol", "--due", "7d").stdout
    assert f"{incident}/A3 added" in printed


def test_ids_are_allocated_under_the_lock_when_people_add_at_once(pm: Postmortems) -> None:
    incident = declared(pm)
    errors: list[BaseException] = []

    def adding(n: int) -> None:
        try:
            add(pm.state().phase_context(cluster=False), AddRequest(incident, f"item {n}", "alice", "7d"))
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=adding, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(d["id"] for d in pm.kinds(incident, "action_added")) == sorted(f"A{n}" for n in range(1, 9))


def test_overdue_fires_exactly_at_the_end_of_the_due_day_and_done_late_is_late(pm: Postmortems) -> None:
    incident = declared(pm)
    pm.ok("postmortem", "action", "add", incident, "Pool alert", "--owner", "alice", "--due", "2026-03-16")
    pm.ok("postmortem", "action", "add", incident, "Pool runbook", "--owner", "bob", "--due", "2026-03-16")

    pm.at("2026-03-16T23:59:59Z")
    assert items(pm, "--overdue", code=0) == []
    assert [i["state"] for i in items(pm)] == ["open", "open"]
    pm.ok("postmortem", "action", "done", f"{incident}/A2", "--note", "written")  # in time
    pm.at("2026-03-17T00:00:00Z")
    [late] = items(pm, "--overdue", code=3)
    assert (late["ref"], late["state"], late["overdue"]) == (f"{incident}/A1", "overdue", True)
    table = pm.run("postmortem", "action", "list", "--overdue")
    assert table.exit_code == 3
    assert f"{incident}/A1" in table.stdout
    assert pm.run("postmortem", "action", "list").exit_code == 0  # a plain list never fails

    pm.at("2026-03-17T09:00:00Z")
    pm.ok("postmortem", "action", "done", incident, "a1")
    assert items(pm, "--overdue", code=0) == []  # done: nobody is nagged any more
    by_ref = {i["id"]: i for i in items(pm)}
    assert (by_ref["A1"]["state"], by_ref["A1"]["doneOnTime"]) == ("done-late", False)
    assert (by_ref["A2"]["state"], by_ref["A2"]["doneOnTime"]) == ("done", True)


def test_done_twice_says_so_and_succeeds(pm: Postmortems) -> None:
    incident = declared(pm)
    pm.ok("postmortem", "action", "add", incident, "Pool alert", "--owner", "alice", "--due", "7d")
    pm.ok("postmortem", "action", "done", f"{incident}/A1")
    pm.at("2026-03-15T10:00:00Z")
    again = pm.json("postmortem", "action", "done", f"{incident}/A1")["data"]
    assert (again["recorded"], again["item"]["doneAt"]) == (False, "2026-03-14T14:30:00Z")
    assert "done already" in pm.ok("postmortem", "action", "done", f"{incident}/A1").stdout
    assert len(pm.kinds(incident, "action_done")) == 1


def test_a_change_records_only_what_changes(pm: Postmortems) -> None:
    incident = declared(pm)
    pm.ok("postmortem", "action", "add", incident, "Pool alert", "--owner", "alice", "--due", "2026-03-16")
    changed = pm.json(
        "postmortem", "action", "change", f"{incident}/A1", "--owner", "carol", "--due", "2026-03-20",
        "--text", "Pool alert", "--reason", "alice is away",
    )["data"]  # fmt: skip
    assert (changed["recorded"], changed["changed"]) == (True, ["owner", "due"])
    assert pm.kinds(incident, "action_changed") == [
        {"id": "A1", "owner": "carol", "due": "2026-03-20", "reason": "alice is away"}
    ]
    pm.at("2026-03-18T00:00:00Z")
    assert items(pm, "--overdue", code=0) == []  # the new due date counts
    same = pm.json("postmortem", "action", "change", incident, "A1", "--owner", "carol")["data"]
    assert same["recorded"] is False
    assert "say what changes" in pm.fails("postmortem", "action", "change", f"{incident}/A1", code=2)


def test_list_spans_incidents_and_filters_by_owner_and_open(pm: Postmortems) -> None:
    first = declared(pm)
    second = pm.declare("Search is slow")
    pm.ok("postmortem", "action", "add", first, "A", "--owner", "Alice", "--due", "2026-03-20")
    pm.ok("postmortem", "action", "add", second, "B", "--owner", "bob", "--due", "2026-03-18")
    pm.ok("postmortem", "action", "add", second, "C", "--owner", "alice", "--due", "2026-03-19")
    pm.ok("postmortem", "action", "done", f"{second}/A2")
    assert [i["text"] for i in items(pm)] == ["B", "C", "A"]  # soonest due first
    assert [i["text"] for i in items(pm, "--owner", "ALICE")] == ["C", "A"]
    assert [i["text"] for i in items(pm, "--owner", "alice", "--open")] == ["A"]
    assert [i["text"] for i in items(pm, second)] == ["B", "C"]
    assert "no action items (owned by nobody)" in pm.ok("postmortem", "action", "list", "--owner", "nobody").stdout


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--owner", "x\r\nBCC: evil", "--due", "7d"], "--owner"),
        (["--owner", "al\x1b[31mice", "--due", "7d"], "--owner"),
        (["--owner", "a" * 255, "--due", "7d"], "--owner"),
        (["--owner", "  ", "--due", "7d"], "--owner"),
        (["--owner", "alice", "--due", "99999-01-01"], "--due"),
        (["--owner", "alice", "--due", "2026-02-30"], "--due"),
        (["--owner", "alice", "--due", f"{10**30}s"], "--due"),
        (["--owner", "alice", "--due", "tomorrow"], "--due"),
        (["--owner", "alice", "--due", "2026-03-21T10:00:00Z"], "--due"),
        (["--owner", "alice", "--due", "9999-12-31"], "--due"),
        (["--owner", "alice", "--due", "7d", "--area", "Vibes"], "technical/Testing"),
    ],
)
def test_what_is_not_an_owner_a_due_date_or_an_area_is_one_line_and_nothing_is_recorded(
    pm: Postmortems, args: list[str], said: str
) -> None:
    incident = declared(pm)
    stderr = pm.fails("postmortem", "action", "add", incident, "Pool alert", *args, code=2)
    assert said in stderr
    assert pm.kinds(incident, "action_added") == []


def test_text_is_kept_as_written_shown_safely_and_capped(pm: Postmortems) -> None:
    incident = declared(pm)
    text = "rotate \x1b[2Jkeys\nthen check"
    pm.ok("postmortem", "action", "add", incident, text, "--owner", "alice", "--due", "7d")
    assert pm.kinds(incident, "action_added")[0]["text"] == text
    listed = pm.ok("postmortem", "action", "list").stdout
    assert "\x1b" not in listed
    assert "rotate" in listed
    assert "TEXT" in pm.fails(
        "postmortem", "action", "add", incident, "y" * 2001, "--owner", "a", "--due", "7d", code=2
    )


@pytest.mark.parametrize(
    ("ref", "said"),
    [("INC-2026-001", "does not name an action item"), ("INC-2026-001/B1", "not an action item id"),
     ("INC-2026-001/A9", "its items: A1"), ("INC-2026-077/A1", "INC-2026-077")],
)  # fmt: skip
def test_a_ref_that_names_no_item_is_one_line(pm: Postmortems, ref: str, said: str) -> None:
    incident = declared(pm)
    assert incident == "INC-2026-001"
    pm.ok("postmortem", "action", "add", incident, "Pool alert", "--owner", "alice", "--due", "7d")
    assert said in pm.fails("postmortem", "action", "done", ref, code=2)
    assert pm.kinds(incident, "action_done") == []
