"""PagerDuty Events API v2 through the outbox (pytest-httpx, shaped like PagerDuty's reference): trigger,
acknowledge and resolve with the incident id as dedup key, the event's fields, 429/5xx/timeouts retried, a 400
invalid event not; a sender stopped after sending sends again with the same dedup key (PagerDuty folds it); the
routing key is nowhere but in the request body."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock
from tests.communicate.harness import Comms, Killed
from tests.communicate.leaks import assert_nowhere

URL = "https://events.pagerduty.test/v2/enqueue"
ROUTING_KEY = "R0UT1NGk3y0123456789abcdefABCDEF"
CHANNELS = {"pagerduty": {"kind": "pagerduty", "routing_key": {"env": "PD_KEY"}, "url": URL}}


def accepted(dedup_key: str) -> dict[str, Any]:
    return {"status": "success", "message": "Event processed", "dedup_key": dedup_key}


@pytest.fixture
def comms(comms_factory: Callable[..., Comms]) -> Comms:
    return comms_factory(CHANNELS, {"PD_KEY": ROUTING_KEY})


def declare(comms: Comms, severity: str = "P1") -> str:
    return comms.ok(
        "incident",
        "declare",
        "--title",
        "Gateway serves nobody",
        "--severity",
        severity,
        "--component",
        "gateway",
        "--category",
        "infrastructure",
    ).stdout.strip()


def events(httpx_mock: HTTPXMock) -> list[dict[str, Any]]:
    return [json.loads(r.content) for r in httpx_mock.get_requests()]


def test_trigger_acknowledge_and_resolve_with_the_incident_id_as_dedup_key(comms: Comms, httpx_mock: HTTPXMock) -> None:
    incident = declare(comms)
    httpx_mock.add_response(url=URL, method="POST", status_code=202, json=accepted(incident), is_reusable=True)
    sent = comms.json("communicate", "send", "initial")["data"]["outcomes"][0]
    assert sent["receipt"] == {"dedup_key": incident}
    comms.ok("communicate", "send", "update", "--update", "Still looking")  # nobody on it yet: pages on
    comms.ok("incident", "status", incident, "identified")
    comms.ok("communicate", "send", "update", "--update", "Found it: a bad deploy")
    comms.ok("incident", "status", incident, "resolved")
    comms.ok("communicate", "send", "resolution", incident)

    first, still, handled, resolved = events(httpx_mock)
    assert first["routing_key"] == ROUTING_KEY
    assert first["event_action"] == "trigger"
    assert first["dedup_key"] == incident
    assert first["payload"]["source"] == "incidentctl"
    assert first["payload"]["severity"] == "critical"
    assert first["payload"]["component"] == "gateway"
    assert first["payload"]["group"] == "sarvanom-production"
    assert first["payload"]["class"] == "infrastructure"
    assert first["payload"]["summary"] == comms.json("communicate", "status", incident)["data"]["entries"][0]["subject"]
    assert first["payload"]["custom_details"]["incident"] == incident
    assert [e["event_action"] for e in (still, handled, resolved)] == ["trigger", "acknowledge", "resolve"]
    assert {e["dedup_key"] for e in (still, handled, resolved)} == {incident}


@pytest.mark.parametrize(("severity", "expected"), [("P1", "critical"), ("P2", "error"), ("P3", "warning")])
def test_the_event_severity_follows_the_incident_severity(
    comms: Comms, httpx_mock: HTTPXMock, severity: str, expected: str
) -> None:
    httpx_mock.add_response(url=URL, status_code=202, json=accepted("x"))
    declare(comms, severity)
    comms.ok("communicate", "send", "initial", "--to", "pagerduty")
    [event] = events(httpx_mock)
    assert event["payload"]["severity"] == expected


def test_a_summary_is_one_line_of_at_most_1024_characters(comms: Comms, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, status_code=202, json=accepted("x"))
    comms.ok("incident", "declare", "--title", "x" * 2000 + "\r\nforged", "--severity", "P1")
    comms.ok("communicate", "send", "initial")
    [event] = events(httpx_mock)
    assert len(event["payload"]["summary"]) <= 1024
    assert "\n" not in event["payload"]["summary"]
    assert "\r" not in event["payload"]["summary"]


def test_rate_limits_and_server_errors_and_timeouts_are_retried(comms: Comms, httpx_mock: HTTPXMock) -> None:
    incident = declare(comms)
    httpx_mock.add_response(url=URL, status_code=429, headers={"Retry-After": "3"}, json={"status": "throttled"})
    httpx_mock.add_response(url=URL, status_code=500, text="Internal Server Error")
    httpx_mock.add_exception(httpx.ReadTimeout("timed out"), url=URL)
    httpx_mock.add_response(url=URL, status_code=202, json=accepted(incident))
    sent = comms.json("communicate", "send", "initial")["data"]["outcomes"][0]
    assert (sent["state"], sent["attempts"]) == ("sent", 4)
    assert comms.sleeps == [3.0, 2.0, 4.0]
    assert {e["dedup_key"] for e in events(httpx_mock)} == {incident}


def test_an_invalid_event_is_not_retried(comms: Comms, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=URL,
        status_code=400,
        json={
            "status": "invalid event",
            "message": "Event object is invalid",
            "errors": ["Length of 'routing_key' is incorrect"],
        },
    )
    declare(comms)
    failed = comms.json("communicate", "send", "initial", code=4)["data"]["outcomes"][0]
    assert (failed["state"], failed["reason"], failed["attempts"]) == ("failed", "client", 1)
    assert "HTTP 400" in failed["error"]
    assert len(httpx_mock.get_requests()) == 1


def test_a_failed_delivery_is_delivered_exactly_once_by_flush(comms: Comms, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, status_code=503, is_reusable=True)
    incident = declare(comms)
    assert comms.json("communicate", "send", "initial", code=4)["data"]["outcomes"][0]["state"] == "queued"

    httpx_mock.reset()
    httpx_mock.add_response(url=URL, status_code=202, json=accepted(incident))
    assert comms.json("communicate", "flush")["data"]["outcomes"][0]["state"] == "sent"
    assert comms.json("communicate", "flush")["data"]["outcomes"] == []  # nothing sent again
    assert len(httpx_mock.get_requests()) == 1


def test_a_sender_stopped_after_sending_sends_again_with_the_same_dedup_key(
    comms: Comms, httpx_mock: HTTPXMock
) -> None:
    incident = declare(comms)
    httpx_mock.add_response(url=URL, status_code=202, json=accepted(incident), is_reusable=True)
    comms.stop_after_send("pagerduty")
    with pytest.raises(Killed):
        comms.run("communicate", "send", "initial")
    comms.clock.advance(minutes=3)
    assert comms.json("communicate", "status")["data"]["entries"][0]["state"] == "in-doubt"

    assert comms.json("communicate", "flush")["data"]["outcomes"][0]["state"] == "sent"
    first, again = events(httpx_mock)
    assert first == again  # the same event: PagerDuty folds it into the one alert of this dedup key
    assert first["dedup_key"] == incident
    assert comms.json("communicate", "flush")["data"]["outcomes"] == []
    assert len(httpx_mock.get_requests()) == 2


def test_the_routing_key_is_in_no_output_journal_or_debug_log(
    comms: Comms, httpx_mock: HTTPXMock, caplog: pytest.LogCaptureFixture
) -> None:
    httpx_mock.add_response(url=URL, status_code=400, json={"status": "invalid event", "errors": [ROUTING_KEY]})
    httpx_mock.add_response(url=URL, status_code=202, json=accepted("x"))
    caplog.set_level(logging.DEBUG)
    declare(comms)
    results = [
        comms.run("--debug", "communicate", "preview", "initial", "-o", "json"),
        comms.run("--debug", "communicate", "send", "initial", "-o", "json"),
        comms.run("--debug", "communicate", "flush", "--retry-failed"),
        comms.run("--debug", "communicate", "status"),
    ]
    assert [r.exit_code for r in results] == [0, 4, 0, 0]
    assert "HTTP 400" in results[1].stdout
    assert all(json.loads(r.content)["routing_key"] == ROUTING_KEY for r in httpx_mock.get_requests())
    assert_nowhere(ROUTING_KEY, results, comms.root, caplog.text)
