"""The outbox end to end on the generic JSON webhook: queued before sent, retried, kept when it fails, delivered
exactly once by a flush, left in doubt (never sent twice) when the sender stopped after sending."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from pytest_httpx import HTTPXMock
from tests.communicate.harness import Comms, Killed

HOOK = "https://hooks.example.com/incidents/T0KEN-s3cr3t"
WEBHOOK = {"hook": {"kind": "webhook", "url": {"env": "HOOK_URL"}}}


@pytest.fixture
def comms(comms_factory: Callable[..., Comms]) -> Comms:
    return comms_factory(WEBHOOK, {"HOOK_URL": HOOK})


def test_send_posts_the_rendered_initial_notification_and_records_it(comms: Comms, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=HOOK, method="POST", status_code=200)
    incident = comms.declare()
    sent = comms.json("communicate", "send", "initial", "--impact", "Search returns 502 for 40% of users")

    [request] = httpx_mock.get_requests()
    body = request.read().decode()
    assert request.headers["Idempotency-Key"] == f"{incident}/initial-1/hook"
    assert "Gateway returns 502" in body
    assert "Search returns 502 for 40% of users" in body
    assert [o["state"] for o in sent["data"]["outcomes"]] == ["sent"]
    kinds = [e["kind"] for e in comms.timeline(incident)]
    assert kinds[-3:] == ["messages_queued", "message_sending", "message_sent"]


def test_a_server_error_is_retried_and_a_404_is_not(comms: Comms, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=HOOK, status_code=503)
    httpx_mock.add_response(url=HOOK, status_code=200)
    comms.declare()
    assert comms.json("communicate", "send", "initial")["data"]["outcomes"][0]["attempts"] == 2
    assert comms.sleeps == [1.0]

    httpx_mock.add_response(url=HOOK, status_code=404, text="no_service")
    failed = comms.json("communicate", "send", "update", "--update", "Rolled back", code=4)["data"]["outcomes"][0]
    assert (failed["state"], failed["reason"], failed["attempts"]) == ("failed", "client", 1)
    assert "HTTP 404" in failed["error"]
    assert "T0KEN" not in failed["error"]


def test_a_failed_delivery_stays_queued_and_flush_delivers_it_exactly_once(comms: Comms, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_exception(httpx.ConnectError("refused"), url=HOOK, is_reusable=True)
    incident = comms.declare()
    queued = comms.json("communicate", "send", "initial", code=4)["data"]["outcomes"][0]
    assert (queued["state"], queued["attempts"]) == ("queued", 4)

    httpx_mock.reset()
    httpx_mock.add_response(url=HOOK, status_code=200)
    assert comms.json("communicate", "flush")["data"]["outcomes"][0]["state"] == "sent"
    assert comms.json("communicate", "flush")["data"]["outcomes"] == []  # nothing sent again
    assert len(httpx_mock.get_requests()) == 1
    status = comms.json("communicate", "status", incident)["data"]["entries"]
    assert [(e["state"], e["attempts"]) for e in status] == [("sent", 5)]


def test_a_sender_stopped_after_sending_leaves_the_webhook_message_in_doubt_not_sent_twice(
    comms: Comms, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(url=HOOK, status_code=200, is_reusable=True)
    incident = comms.declare()
    comms.stop_after_send("hook")
    with pytest.raises(Killed):
        comms.run("communicate", "send", "initial")
    comms.clock.advance(minutes=3)  # past the claim's lease: the sender is gone
    entry = comms.json("communicate", "status")["data"]["entries"][0]
    assert entry["state"] == "in-doubt"
    assert comms.json("communicate", "flush", code=4)["data"]["outcomes"][0]["state"] == "in-doubt"
    assert len(httpx_mock.get_requests()) == 1
    done = comms.json("communicate", "done", f"{incident}/initial-1/hook")["data"]["outcomes"][0]
    assert done["state"] == "sent"
    assert len(httpx_mock.get_requests()) == 1
