"""Statuspage through the outbox, against a stand-in shaped like its REST API (pytest-httpx): the first message
creates the public incident, later ones patch it, the resolution resolves it and its components; rate limits,
server errors and timeouts are retried, a 400 is not; a sender stopped after creating it never opens a second
public incident; the API key is nowhere."""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock
from tests.communicate.harness import Comms, Killed
from tests.communicate.leaks import assert_nowhere

API = "https://api.statuspage.test"
PAGE = f"{API}/v1/pages/kctbh9vrtdwd"
KEY = "sp-4p1-k3y-0123456789abcdef"
CHANNELS = {
    "status-page": {
        "kind": "statuspage",
        "audience": "external",
        "page_id": "kctbh9vrtdwd",
        "api_key": {"env": "SP_KEY"},
        "url": API,
        "components": {"gateway": "8kbf7d35c070", "retrieval": "vtnh60py4yd7"},
    }
}


class FakeStatuspage:
    """The page's incidents as Statuspage keeps them: created by POST, updated by PATCH (newest update first),
    listed by GET; every answer shaped like the API reference's."""

    def __init__(self, comms: Comms) -> None:
        self.comms = comms
        self.incidents: dict[str, dict[str, Any]] = {}
        self._ids = (f"p31zjtct2j{n:02d}" for n in itertools.count(1))
        self._updates = (f"upd{n:04d}" for n in itertools.count(1))

    def _now(self) -> str:
        return (self.comms.clock.now + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    def _update(self, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": next(self._updates),
            "status": body["status"],
            "body": body["body"],
            "created_at": self._now(),
            "display_at": self._now(),
            "affected_components": [{"code": c, "new_status": s} for c, s in (body.get("components") or {}).items()],
        }

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("Authorization") != f"OAuth {KEY}":
            return httpx.Response(401, json={"error": "Could not authenticate"})
        path = request.url.path.removeprefix("/v1/pages/kctbh9vrtdwd")
        if request.method == "POST" and path == "/incidents":
            body = json.loads(request.content)["incident"]
            incident = {
                "id": next(self._ids),
                "name": body["name"],
                "status": body["status"],
                "impact": body.get("impact_override", "none"),
                "shortlink": f"https://stspg.io/{len(self.incidents) + 1}x",
                "created_at": self._now(),
                "resolved_at": None,
                "page_id": "kctbh9vrtdwd",
                "components": [{"id": c, "status": s} for c, s in (body.get("components") or {}).items()],
                "incident_updates": [self._update(body)],
            }
            self.incidents[incident["id"]] = incident
            return httpx.Response(201, json=incident)
        if request.method == "GET" and path == "/incidents/unresolved":
            return httpx.Response(200, json=[i for i in self.incidents.values() if i["status"] != "resolved"])
        if request.method == "GET" and path == "/incidents":
            q = request.url.params.get("q", "")
            return httpx.Response(200, json=[i for i in self.incidents.values() if q in i["name"]])
        incident_id = path.removeprefix("/incidents/")
        found = self.incidents.get(incident_id)
        if found is None:
            return httpx.Response(404, json={"error": "Incident not found"})
        if request.method == "GET":
            return httpx.Response(200, json=found)
        if request.method == "PATCH":
            body = json.loads(request.content)["incident"]
            found["status"] = body["status"]
            found["incident_updates"].insert(0, self._update(body))
            return httpx.Response(200, json=found)
        return httpx.Response(405)


@pytest.fixture
def comms(comms_factory: Callable[..., Comms]) -> Comms:
    return comms_factory(CHANNELS, {"SP_KEY": KEY})


@pytest.fixture
def page(comms: Comms) -> FakeStatuspage:
    return FakeStatuspage(comms)


def declare(comms: Comms, title: str = "Search is failing for some users") -> str:
    return comms.ok(
        "incident", "declare", "--title", title, "--severity", "P2", "--component", "gateway"
    ).stdout.strip()


def writes(httpx_mock: HTTPXMock) -> list[tuple[str, dict[str, Any]]]:
    return [(r.method, json.loads(r.content)) for r in httpx_mock.get_requests() if r.method in ("POST", "PATCH")]


def test_the_first_message_creates_the_public_incident_and_later_ones_patch_it(
    comms: Comms, page: FakeStatuspage, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_callback(page, is_reusable=True)
    incident = declare(comms)
    first = comms.json("communicate", "send", "initial")["data"]["outcomes"][0]

    [(method, created)] = writes(httpx_mock)
    assert method == "POST"
    # public: the status page template's name, never the internal title or id
    assert created["incident"]["name"] == "Service disruption"
    assert "Search is failing" not in json.dumps(created)
    assert incident not in json.dumps(created)
    assert created["incident"]["status"] == "investigating"
    assert created["incident"]["impact_override"] == "major"
    assert created["incident"]["component_ids"] == ["8kbf7d35c070"]
    assert created["incident"]["components"] == {"8kbf7d35c070": "partial_outage"}
    assert created["incident"]["deliver_notifications"] is True
    assert created["incident"]["body"].startswith("We are investigating reports of degraded service")
    [public_id] = page.incidents
    assert first["receipt"] == {"incident_id": public_id, "shortlink": "https://stspg.io/1x"}

    comms.ok("incident", "status", incident, "identified")
    comms.ok("communicate", "send", "update", "--update", "A bad deploy of the gateway; rolling back.")
    comms.ok("incident", "status", incident, "resolved")
    comms.ok("communicate", "send", "resolution", incident, "--resolution", "The rollback restored service.")

    (_, update), (_, resolution) = writes(httpx_mock)[1:]
    assert [r.method for r in httpx_mock.get_requests() if r.method == "PATCH"] == ["PATCH", "PATCH"]
    assert all(r.url.path.endswith(f"/incidents/{public_id}") for r in httpx_mock.get_requests(method="PATCH"))
    assert update["incident"]["status"] == "identified"
    assert update["incident"]["body"].startswith("A bad deploy of the gateway; rolling back.")
    assert update["incident"]["components"] == {"8kbf7d35c070": "partial_outage"}
    assert resolution["incident"]["status"] == "resolved"
    assert resolution["incident"]["components"] == {"8kbf7d35c070": "operational"}
    assert "The rollback restored service." in resolution["incident"]["body"]
    assert len(page.incidents) == 1
    assert page.incidents[public_id]["status"] == "resolved"
    assert len(page.incidents[public_id]["incident_updates"]) == 3


def test_rate_limits_wait_for_retry_after_server_errors_and_timeouts_are_retried(
    comms: Comms, page: FakeStatuspage, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(method="POST", url=f"{PAGE}/incidents", status_code=429, headers={"Retry-After": "7"})
    httpx_mock.add_response(method="POST", url=f"{PAGE}/incidents", status_code=420, text="Enhance your calm")
    httpx_mock.add_response(method="POST", url=f"{PAGE}/incidents", status_code=502, text="Bad Gateway")
    httpx_mock.add_callback(page, is_reusable=True)
    declare(comms)
    sent = comms.json("communicate", "send", "initial")["data"]["outcomes"][0]
    assert (sent["state"], sent["attempts"]) == ("sent", 4)
    assert comms.sleeps == [7.0, 2.0, 4.0]
    assert len(page.incidents) == 1


def test_a_timeout_after_statuspage_created_the_incident_does_not_create_a_second(
    comms: Comms, page: FakeStatuspage, httpx_mock: HTTPXMock
) -> None:
    """The request reached Statuspage and the answer was lost: the retry finds the incident instead of posting."""

    def created_then_timed_out(request: httpx.Request) -> httpx.Response:
        page(request)
        raise httpx.ReadTimeout("timed out", request=request)

    httpx_mock.add_callback(created_then_timed_out, method="POST", url=f"{PAGE}/incidents")
    httpx_mock.add_callback(page, is_reusable=True)
    declare(comms)
    sent = comms.json("communicate", "send", "initial")["data"]["outcomes"][0]
    assert (sent["state"], sent["attempts"]) == ("sent", 2)
    assert len(page.incidents) == 1
    assert len(httpx_mock.get_requests(method="POST")) == 1


def test_a_400_is_not_retried_and_stays_failed_with_the_reason(
    comms: Comms, page: FakeStatuspage, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(
        method="POST", url=f"{PAGE}/incidents", status_code=400, json={"error": "Component ids are invalid"}
    )
    httpx_mock.add_callback(page, is_reusable=True)
    declare(comms)
    failed = comms.json("communicate", "send", "initial", code=4)["data"]["outcomes"][0]
    assert (failed["state"], failed["reason"], failed["attempts"]) == ("failed", "client", 1)
    assert "HTTP 400" in failed["error"]
    assert "Component ids are invalid" in failed["error"]
    assert comms.sleeps == []


def test_a_failed_delivery_is_created_exactly_once_by_flush(
    comms: Comms, page: FakeStatuspage, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_exception(httpx.ConnectError("refused"), is_reusable=True)
    incident = declare(comms)
    queued = comms.json("communicate", "send", "initial", code=4)["data"]["outcomes"][0]
    assert (queued["state"], queued["reason"]) == ("queued", "connection")

    httpx_mock.reset()
    httpx_mock.add_callback(page, is_reusable=True)
    assert comms.json("communicate", "flush")["data"]["outcomes"][0]["state"] == "sent"
    assert comms.json("communicate", "flush")["data"]["outcomes"] == []  # nothing sent again
    assert len(page.incidents) == 1
    assert len(httpx_mock.get_requests(method="POST")) == 1
    [entry] = comms.json("communicate", "status", incident)["data"]["entries"]
    assert entry["state"] == "sent"


def test_a_sender_stopped_after_creating_the_incident_never_creates_a_second(
    comms: Comms, page: FakeStatuspage, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_callback(page, is_reusable=True)
    declare(comms)
    comms.stop_after_send("status-page")
    with pytest.raises(Killed):
        comms.run("communicate", "send", "initial")
    comms.clock.advance(minutes=3)
    assert comms.json("communicate", "status")["data"]["entries"][0]["state"] == "in-doubt"

    flushed = comms.json("communicate", "flush")["data"]["outcomes"][0]
    assert (flushed["state"], flushed["recovered"]) == ("sent", True)
    assert len(page.incidents) == 1
    assert len(httpx_mock.get_requests(method="POST")) == 1

    # the next message patches the incident found, and a stop after that patch is found again too
    comms.stop_after_send("status-page")
    with pytest.raises(Killed):
        comms.run("communicate", "send", "update", "--update", "Rolling back the gateway.")
    comms.clock.advance(minutes=3)
    flushed = comms.json("communicate", "flush")["data"]["outcomes"]
    assert [(o["key"].split("/")[1], o["state"], o["recovered"]) for o in flushed] == [("update-1", "sent", True)]
    [public] = page.incidents.values()
    assert public["incident_updates"][0]["body"].startswith("Rolling back the gateway.")  # newest first
    assert len(httpx_mock.get_requests(method="PATCH")) == 1


def test_an_incident_of_the_same_name_from_before_is_not_taken_for_ours(
    comms: Comms, page: FakeStatuspage, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_callback(page, is_reusable=True)
    declare(comms)
    comms.ok("communicate", "send", "initial")
    comms.clock.advance(hours=2)
    again = declare(comms)  # the same outage, declared again two hours later
    comms.ok("communicate", "send", "initial", again)
    assert len(page.incidents) == 2


def test_the_api_key_is_in_no_output_journal_or_debug_log(
    comms: Comms, page: FakeStatuspage, httpx_mock: HTTPXMock, caplog: pytest.LogCaptureFixture
) -> None:
    httpx_mock.add_response(method="POST", url=f"{PAGE}/incidents", status_code=401, text=f"bad key OAuth {KEY}")
    httpx_mock.add_callback(page, is_reusable=True)
    caplog.set_level(logging.DEBUG)
    declare(comms)
    results = [
        comms.run("--debug", "communicate", "preview", "initial"),
        comms.run("--debug", "communicate", "send", "initial", "-o", "json"),
        comms.run("--debug", "communicate", "flush", "--retry-failed"),
        comms.run("--debug", "communicate", "status", "-o", "json"),
    ]
    assert [r.exit_code for r in results] == [0, 4, 0, 0]
    assert "HTTP 401" in results[1].stdout
    assert_nowhere(KEY, results, comms.root, caplog.text)
