"""The sandbox's Slack, Statuspage and PagerDuty stand-ins, called with requests shaped like the public APIs'
(the shapes incidentctl's channel clients send), including their errors and the faults a drill leader injects."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from incidentctl.sandbox.notify_standins import SLACK_ANNOUNCE, STATUSPAGE_PAGE, Credentials, component_id
from incidentctl.sandbox.sandbox import Sandbox

CREDS = Credentials()


@pytest.fixture
def web(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url, timeout=10) as client:
        yield client


def slack(web: httpx.Client, method: str, token: str = CREDS.slack_bot_token, **args: object) -> dict[str, Any]:
    response = web.post(
        f"/slack/api/{method}",
        json=args,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 200, response.text  # Slack's errors are HTTP 200 too
    body: dict[str, Any] = response.json()
    return body


def channel_id(answer: dict[str, Any]) -> str:
    channel = answer["channel"]
    assert isinstance(channel, dict)
    return str(channel["id"])


# -- Slack -----------------------------------------------------------------------------------------------------


def test_slack_refuses_a_missing_or_wrong_token_with_ok_false(web: httpx.Client) -> None:
    assert slack(web, "auth.test", token="xoxb-not-the-sandbox") == {"ok": False, "error": "invalid_auth"}
    bare = web.post("/slack/api/conversations.list", json={})
    assert bare.status_code == 200
    assert bare.json() == {"ok": False, "error": "not_authed"}
    assert slack(web, "chat.postMessage", channel="C0NOPE", text="x")["error"] == "channel_not_found"
    assert slack(web, "no.such.method")["error"] == "unknown_method"


def test_slack_incident_channel_invite_topic_and_status_message_edited_in_place(
    web: httpx.Client, sandbox: Sandbox
) -> None:
    created = slack(web, "conversations.create", name="inc-2026-004-api-outage", is_private=False)
    assert created["ok"] is True
    cid = channel_id(created)
    assert cid.startswith("C")
    assert slack(web, "conversations.create", name="inc-2026-004-api-outage") == {"ok": False, "error": "name_taken"}
    assert slack(web, "conversations.create", name="Has Spaces")["error"] == "invalid_name_specials"

    assert slack(web, "conversations.invite", channel=cid, users="U0SANDBOX01,U0SANDBOX02")["ok"] is True
    assert slack(web, "conversations.invite", channel=cid, users="U0SANDBOX01")["error"] == "already_in_channel"
    assert slack(web, "conversations.invite", channel=cid, users="U0NOBODY")["error"] == "user_not_found"
    topic = slack(web, "conversations.setTopic", channel=cid, topic="P1 gateway down | IC alice")
    assert topic["channel"]["topic"]["value"] == "P1 gateway down | IC alice"

    metadata = {"event_type": "incident_update", "event_payload": {"key": "INC-2026-004/initial-1/slack"}}
    posted = slack(
        web, "chat.postMessage", channel=cid, text="initial", blocks=[{"type": "divider"}], metadata=metadata
    )
    assert posted["ok"] is True
    assert posted["channel"] == cid
    ts = str(posted["ts"])
    assert ts.count(".") == 1
    assert len(ts.split(".")[1]) == 6
    reply = slack(web, "chat.postMessage", channel=cid, text="a note in the thread", thread_ts=ts)
    assert reply["ok"] is True
    edited = slack(web, "chat.update", channel=cid, ts=ts, text="update 1: mitigated", metadata=metadata)
    assert edited["ok"] is True
    assert edited["ts"] == ts
    assert edited["text"] == "update 1: mitigated"
    assert slack(web, "chat.update", channel=cid, ts="1.000001", text="x")["error"] == "message_not_found"

    plain = slack(web, "conversations.history", channel=cid)
    messages = plain["messages"]
    assert isinstance(messages, list)
    assert [m["ts"] for m in messages] == [ts]  # thread replies stay in their thread; the edit is in place
    assert messages[0]["text"] == "update 1: mitigated"
    assert messages[0]["edited"]["ts"] > ts
    assert messages[0]["reply_count"] == 1
    assert "metadata" not in messages[0]
    found = slack(web, "conversations.history", channel=cid, include_all_metadata=True)
    assert found["messages"][0]["metadata"] == metadata
    thread = slack(web, "conversations.replies", channel=cid, ts=ts)
    assert [m["text"] for m in thread["messages"]] == ["update 1: mitigated", "a note in the thread"]

    status = sandbox.notify.snapshot()["slack"]
    room = next(c for c in status["channels"] if c["id"] == cid)
    assert room["members"] == ["incidentctl", "alice", "bob"]
    assert room["messages"][0] | {"ts": ts} == {
        "ts": ts,
        "via": "api",
        "text": "update 1: mitigated",
        "thread_ts": None,
        "edits": 1,
        "key": "INC-2026-004/initial-1/slack",
    }


def test_slack_form_bodies_and_cursor_pagination(web: httpx.Client) -> None:
    for number in range(3):
        assert slack(web, "conversations.create", name=f"inc-page-{number}")["ok"] is True
    names: list[str] = []
    cursor = ""
    pages = 0
    while True:
        response = web.post(
            "/slack/api/conversations.list",
            data={"token": CREDS.slack_bot_token, "limit": "2", "cursor": cursor},
        )
        body = response.json()
        assert body["ok"] is True
        names += [c["name"] for c in body["channels"]]
        pages += 1
        cursor = body["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert pages == 2
    assert names == [SLACK_ANNOUNCE, "inc-page-0", "inc-page-1", "inc-page-2"]
    assert slack(web, "conversations.list", cursor="not-a-cursor")["error"] == "invalid_cursor"

    # chat.postMessage with a form body: blocks and metadata as JSON strings; the channel by name
    meta = json.dumps({"event_type": "incident_update", "event_payload": {"key": "k1"}})
    form = web.post(
        "/slack/api/chat.postMessage",
        data={"channel": f"#{SLACK_ANNOUNCE}", "text": "hi", "metadata": meta},
        headers={"Authorization": f"Bearer {CREDS.slack_bot_token}"},
    ).json()
    assert form["ok"] is True
    bad = web.post(
        "/slack/api/chat.postMessage",
        data={"channel": form["channel"], "text": "hi", "metadata": "{not json"},
        headers={"Authorization": f"Bearer {CREDS.slack_bot_token}"},
    ).json()
    assert bad == {"ok": False, "error": "invalid_metadata_format"}
    assert slack(web, "chat.postMessage", channel=form["channel"])["error"] == "no_text"
    # history pages too, newest first
    for n in range(3):
        slack(web, "chat.postMessage", channel=form["channel"], text=f"m{n}")
    first = slack(web, "conversations.history", channel=form["channel"], limit=2)
    assert [m["text"] for m in first["messages"]] == ["m2", "m1"]
    assert first["has_more"] is True
    cursor = first["response_metadata"]["next_cursor"]
    rest = slack(web, "conversations.history", channel=form["channel"], limit=2, cursor=cursor)
    assert [m["text"] for m in rest["messages"]] == ["m0", "hi"]
    assert rest["has_more"] is False
    assert rest["response_metadata"] == {"next_cursor": ""}


def test_slack_incoming_webhook(web: httpx.Client, sandbox: Sandbox) -> None:
    path = CREDS.slack_webhook_path()
    ok = web.post(path, json={"text": "INC-2026-004 declared", "blocks": [{"type": "divider"}]})
    assert (ok.status_code, ok.text) == (200, "ok")
    wrong = web.post(path[:-3] + "xyz", json={"text": "x"})
    assert (wrong.status_code, wrong.text) == (404, "no_service")
    assert web.post(path, content=b"{not json", headers={"Content-Type": "application/json"}).status_code == 400
    empty = web.post(path, json={})
    assert (empty.status_code, empty.text) == (400, "no_text")
    announce = next(c for c in sandbox.notify.snapshot()["slack"]["channels"] if c["name"] == SLACK_ANNOUNCE)
    assert [(m["via"], m["text"]) for m in announce["messages"]] == [("webhook", "INC-2026-004 declared")]


def test_slack_records_concurrent_posts_each_with_its_own_ts(web: httpx.Client, sandbox: Sandbox) -> None:
    cid = channel_id(slack(web, "conversations.create", name="inc-busy"))
    answers: list[dict[str, Any]] = []

    def post(n: int) -> None:
        with httpx.Client(base_url=sandbox.url, timeout=10) as client:
            answers.append(slack(client, "chat.postMessage", channel=cid, text=f"m{n}"))

    threads = [threading.Thread(target=post, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({a["ts"] for a in answers}) == 20
    room = next(c for c in sandbox.notify.snapshot()["slack"]["channels"] if c["id"] == cid)
    assert sorted(m["text"] for m in room["messages"]) == sorted(f"m{n}" for n in range(20))


# -- Statuspage ------------------------------------------------------------------------------------------------

INCIDENTS = f"/statuspage/v1/pages/{STATUSPAGE_PAGE}/incidents"
OAUTH = {"Authorization": f"OAuth {CREDS.statuspage_api_key}"}


def test_statuspage_incident_created_updated_listed_and_resolved(web: httpx.Client, sandbox: Sandbox) -> None:
    assert web.get(INCIDENTS).status_code == 401
    assert web.get(INCIDENTS, headers={"Authorization": "OAuth wrong"}).status_code == 401
    assert web.get("/statuspage/v1/pages/otherpage/incidents", headers=OAUTH).status_code == 404
    gateway = component_id("gateway")
    created = web.post(
        INCIDENTS,
        headers=OAUTH,
        json={
            "incident": {
                "name": "INC-2026-004: gateway down",
                "status": "investigating",
                "body": "We are investigating.",
                "impact_override": "critical",
                "component_ids": [gateway],
                "components": {gateway: "major_outage"},
                "deliver_notifications": True,
            }
        },
    )
    assert created.status_code == 201, created.text
    incident = created.json()
    assert len(incident["id"]) == 12
    assert incident["shortlink"].startswith("https://stspg.io/")
    assert incident["status"] == "investigating"
    assert incident["impact"] == "critical"
    assert [u["body"] for u in incident["incident_updates"]] == ["We are investigating."]
    assert incident["incident_updates"][0]["affected_components"][0] == {
        "code": gateway,
        "name": "gateway",
        "old_status": "operational",
        "new_status": "major_outage",
    }
    one = f"{INCIDENTS}/{incident['id']}"
    patched = web.patch(
        one, headers=OAUTH, json={"incident": {"status": "monitoring", "body": "A fix is rolled out."}}
    ).json()
    assert [u["status"] for u in patched["incident_updates"]] == ["monitoring", "investigating"]  # newest first
    assert patched["monitoring_at"] is not None
    assert [i["id"] for i in web.get(f"{INCIDENTS}/unresolved", headers=OAUTH).json()] == [incident["id"]]
    resolved = web.patch(
        one,
        headers=OAUTH,
        json={"incident": {"status": "resolved", "message": "Resolved.", "components": {gateway: "operational"}}},
    ).json()
    assert resolved["resolved_at"] is not None
    assert resolved["incident_updates"][0]["body"] == "Resolved."
    assert web.get(f"{INCIDENTS}/unresolved", headers=OAUTH).json() == []
    assert web.get(one, headers=OAUTH).json()["status"] == "resolved"
    assert [i["name"] for i in web.get(INCIDENTS, headers=OAUTH).json()] == ["INC-2026-004: gateway down"]
    assert web.get(f"{INCIDENTS}/nope", headers=OAUTH).status_code == 404
    bad = web.post(INCIDENTS, headers=OAUTH, json={"incident": {"name": "x", "status": "exploded"}})
    assert bad.status_code == 422
    assert web.post(INCIDENTS, headers=OAUTH, json={"incident": {"status": "investigating"}}).status_code == 422
    unknown = web.post(INCIDENTS, headers=OAUTH, json={"incident": {"name": "x", "component_ids": ["nope"]}})
    assert unknown.status_code == 422
    components = web.get(f"/statuspage/v1/pages/{STATUSPAGE_PAGE}/components", headers=OAUTH).json()
    assert {c["name"]: c["status"] for c in components}["gateway"] == "operational"
    seen = sandbox.notify.snapshot()["statuspage"]["incidents"]
    assert [(i["name"], i["status"], [u["status"] for u in i["updates"]]) for i in seen] == [
        ("INC-2026-004: gateway down", "resolved", ["investigating", "monitoring", "resolved"])
    ]


# -- PagerDuty -------------------------------------------------------------------------------------------------


def event(action: str, key: str | None = "INC-2026-004", **payload: object) -> dict[str, object]:
    body: dict[str, object] = {"routing_key": CREDS.pagerduty_routing_key, "event_action": action}
    if key is not None:
        body["dedup_key"] = key
    if action == "trigger":
        body["payload"] = {"summary": "[P1] gateway down", "source": "incidentctl", "severity": "critical"} | payload
    return body


def test_pagerduty_dedups_triggers_and_follows_ack_and_resolve(web: httpx.Client, sandbox: Sandbox) -> None:
    first = web.post("/pagerduty/v2/enqueue", json=event("trigger"))
    assert first.status_code == 202
    assert first.json() == {"status": "success", "message": "Event processed", "dedup_key": "INC-2026-004"}
    assert web.post("/pagerduty/v2/enqueue", json=event("trigger")).status_code == 202
    assert web.post("/pagerduty/v2/enqueue", json=event("acknowledge")).status_code == 202
    assert web.post("/pagerduty/v2/enqueue", json=event("resolve")).status_code == 202
    generated = web.post("/pagerduty/v2/enqueue", json=event("trigger", key=None)).json()["dedup_key"]
    assert len(generated) == 32
    seen = sandbox.notify.snapshot()["pagerduty"]["incidents"]
    assert [(i["dedup_key"], i["status"], [e["action"] for e in i["events"]]) for i in seen] == [
        ("INC-2026-004", "resolved", ["trigger", "trigger", "acknowledge", "resolve"]),
        (generated, "triggered", ["trigger"]),
    ]
    # a trigger after the resolve opens a new incident under the same key
    web.post("/pagerduty/v2/enqueue", json=event("trigger"))
    assert [i["status"] for i in sandbox.notify.snapshot()["pagerduty"]["incidents"]][:2] == ["resolved", "triggered"]
    assert all("routing_key" not in r for r in sandbox.notify.pagerduty.received)


@pytest.mark.parametrize(
    "body",
    [
        event("trigger", severity="catastrophic"),
        event("trigger", summary=""),
        event("explode"),
        event("acknowledge", key=None),
        event("trigger") | {"routing_key": "f" * 32},
        event("trigger") | {"routing_key": "short"},
        {"event_action": "trigger"},
        [1, 2],
    ],
    ids=["severity", "summary", "action", "ack-without-key", "wrong-key", "key-length", "no-key", "not-object"],
)
def test_pagerduty_invalid_events_are_400(web: httpx.Client, sandbox: Sandbox, body: object) -> None:
    answer = web.post("/pagerduty/v2/enqueue", json=body)
    assert answer.status_code == 400
    assert answer.json()["status"] == "invalid event"
    assert answer.json()["errors"]
    assert sandbox.notify.snapshot()["pagerduty"]["incidents"] == []


# -- faults ----------------------------------------------------------------------------------------------------


def test_faults_make_a_stand_in_fail_for_a_while(web: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.faults.rate_limit(retry_after=7, count=1, target="slack")
    limited = web.post("/slack/api/auth.test", json={}, headers={"Authorization": f"Bearer {CREDS.slack_bot_token}"})
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "7"
    assert limited.json() == {"ok": False, "error": "ratelimited"}
    assert slack(web, "auth.test")["ok"] is True  # the burst is over
    sandbox.faults.errors(500, count=2, target="statuspage")
    assert [web.get(INCIDENTS, headers=OAUTH).status_code for _ in range(3)] == [500, 500, 200]
    sandbox.faults.latency(30, target="pagerduty", count=1)
    with pytest.raises(httpx.ReadTimeout):
        web.post("/pagerduty/v2/enqueue", json=event("trigger"), timeout=0.5)
    # a fault on one stand-in leaves the others alone, and a drill leader adds one through the admin endpoint
    from incidentctl.sandbox.sandbox import admin_request

    admin_request(sandbox.url, sandbox.token, "faults", {"target": "pagerduty", "status": 503, "count": 1})
    assert web.post("/pagerduty/v2/enqueue", json=event("trigger")).status_code == 503
    assert web.post("/pagerduty/v2/enqueue", json=event("trigger")).status_code == 202
    admin_request(sandbox.url, sandbox.token, "faults", {"target": "slack", "hang": 30, "count": 1})
    with pytest.raises(httpx.ReadTimeout):
        web.post(CREDS.slack_webhook_path(), json={"text": "x"}, timeout=0.5)
    import urllib.error

    with pytest.raises(urllib.error.HTTPError) as refused:
        admin_request(sandbox.url, sandbox.token, "faults", {"target": "slack", "status": "many"})
    assert refused.value.code == 400
    with pytest.raises(urllib.error.HTTPError) as unknown:
        admin_request(sandbox.url, sandbox.token, "faults", {"target": "smtp", "status": 500})
    assert unknown.value.code == 400
