"""``communicate due`` on a journal with known times: the severity's cadence counts from the declaration until a
message of the cadence (initial, update, resolution) goes out on a channel that is not manual, then from it;
overdue exits 3, for a cron job or CI."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from pytest_httpx import HTTPXMock
from tests.communicate.harness import T0, Comms

HOOK = "https://hooks.example.com/incidents/T0KEN-s3cr3t"
CHANNELS = {
    "hook": {"kind": "webhook", "url": {"env": "HOOK_URL"}},
    "war-room": {"kind": "manual", "description": "Video conference - incident war room"},
}


@pytest.fixture
def comms(comms_factory: Callable[..., Comms]) -> Comms:
    return comms_factory(CHANNELS, {"HOOK_URL": HOOK})


def test_a_p2_declared_14_minutes_ago_is_not_due_and_at_16_minutes_is_overdue(comms: Comms) -> None:
    incident = comms.declare(severity="P2")
    comms.clock.advance(minutes=14)
    [item] = comms.json("communicate", "due")["data"]["items"]
    assert item["incidentId"] == incident
    assert (item["severity"], item["interval"], item["lastSent"]) == ("P2", "PT15M", None)
    assert item["dueAt"] == "2026-03-14T14:45:00Z"
    assert item["overdue"] is False

    comms.clock.advance(minutes=2)
    [item] = comms.json("communicate", "due", code=3)["data"]["items"]
    assert (item["overdue"], item["lateBy"]) == (True, "PT1M")
    table = comms.run("communicate", "due")
    assert table.exit_code == 3
    assert "overdue by 1m" in table.stdout


def test_an_update_sent_resets_the_cadence_and_a_manual_item_does_not(comms: Comms, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=HOOK, status_code=200)
    comms.declare(severity="P2")
    comms.clock.advance(minutes=10)
    comms.ok("communicate", "send", "update", "--update", "Rolled back", "--to", "hook")
    comms.clock.advance(minutes=16)
    comms.ok("communicate", "send", "update", "--to", "war-room")  # a to-do for a person, not an update sent
    comms.ok("communicate", "done", "INC-2026-001/update-2/war-room")
    [item] = comms.json("communicate", "due", code=3)["data"]["items"]
    assert item["lastSent"] == "2026-03-14T14:40:00Z"
    assert item["dueAt"] == "2026-03-14T14:55:00Z"
    assert item["lateBy"] == "PT1M"


def test_an_update_that_stayed_queued_does_not_count(comms: Comms, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=HOOK, status_code=404)
    comms.declare(severity="P2")
    comms.clock.advance(minutes=5)
    comms.json("communicate", "send", "update", "--to", "hook", code=4)
    comms.clock.advance(minutes=11)
    [item] = comms.json("communicate", "due", code=3)["data"]["items"]
    assert item["lastSent"] is None


def test_every_open_incident_is_listed_with_its_own_cadence_and_a_resolved_one_is_not(comms: Comms) -> None:
    p2 = comms.declare("Gateway returns 502", severity="P2")
    p3 = comms.declare("Search is slow", severity="P3")
    gone = comms.declare("Old outage", severity="P1")
    comms.ok("incident", "status", gone, "resolved")
    comms.clock.advance(minutes=20)
    items = comms.json("communicate", "due", code=3)["data"]["items"]
    assert {i["incidentId"]: (i["interval"], i["overdue"]) for i in items} == {
        p2: ("PT15M", True),
        p3: ("PT1H", False),
    }
    comms.clock.now = T0 + timedelta(minutes=5)
    assert comms.json("communicate", "due")["data"]["items"][0]["overdue"] is False


def test_no_open_incident_says_so_and_exits_0(comms: Comms) -> None:
    result = comms.run("communicate", "due")
    assert result.exit_code == 0, result.stderr
    assert "No open incident" in result.stdout
    assert comms.json("communicate", "due")["data"]["items"] == []
