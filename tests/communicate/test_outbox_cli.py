"""The outbox through the CLI, where it must hold under pressure: two flushers at once, a torn journal, manual
channels a person ticks off, what ``status`` shows, where each kind goes by default, a cron job's ``flush --all``,
and secrets kept out of every output, the journal and ``--debug`` logs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jsonschema
import pytest
from pytest_httpx import HTTPXMock
from tests.communicate.harness import REPO, Comms, Killed

HOOK = "https://hooks.example.com/incidents/T0KEN-s3cr3t"
CHANNELS = {
    "hook": {"kind": "webhook", "url": {"env": "HOOK_URL"}, "headers": {"Authorization": {"env": "HOOK_AUTH"}}},
    "war-room": {"kind": "manual", "description": "Video conference - incident war room"},
    "press": {"kind": "manual", "audience": "external", "description": "Press releases for major incidents"},
}
SECRETS = {"HOOK_URL": HOOK, "HOOK_AUTH": "Bearer sk-live-9f8e7d6c5b4a"}


@pytest.fixture
def comms(comms_factory: Callable[..., Comms]) -> Comms:
    return comms_factory(CHANNELS, SECRETS)


# --- two flushers at once ----------------------------------------------------------------------------------


class _Receiver(BaseHTTPRequestHandler):
    """A webhook receiver on loopback that takes its time, so two flushers overlap."""

    keys: list[str]
    failing: threading.Event

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.failing.is_set():
            self.send_response(503)
        else:
            time.sleep(0.2)
            self.keys.append(self.headers["Idempotency-Key"])
            self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[_Receiver]]]:
    handler = type("Receiver", (_Receiver,), {"keys": [], "failing": threading.Event()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", handler
    finally:
        server.shutdown()
        server.server_close()


def test_two_flushers_at_once_deliver_each_message_exactly_once(
    comms_factory: Callable[..., Comms], receiver: tuple[str, type[_Receiver]]
) -> None:
    url, handler = receiver
    comms = comms_factory(CHANNELS, {**SECRETS, "HOOK_URL": url})
    handler.failing.set()
    incident = comms.declare()
    comms.json("communicate", "send", "initial", "--to", "hook", code=4)
    for n in range(5):
        comms.json("communicate", "send", "update", "--to", "hook", "--update", f"step {n}", code=4)
    handler.failing.clear()

    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(REPO / "src"),
        "INCIDENTCTL_ACTOR": "cron",
        "NO_PROXY": "*",
        **SECRETS,
        "HOOK_URL": url,
    }
    command = [sys.executable, "-m", "incidentctl", "--runbook", str(comms.runbook_path)]
    flushers = [
        subprocess.Popen([*command, "communicate", "flush", incident, "-o", "json"], env=env, stdout=subprocess.PIPE)
        for _ in range(2)
    ]
    outputs = [json.loads(p.communicate(timeout=120)[0]) for p in flushers]
    assert [p.returncode for p in flushers] == [0, 0]

    keys = [f"{incident}/initial-1/hook"] + [f"{incident}/update-{n}/hook" for n in range(1, 6)]
    assert sorted(handler.keys) == sorted(keys)  # each once, none twice
    by_whom = [{o["key"] for o in out["data"]["outcomes"] if o["state"] == "sent"} for out in outputs]
    assert by_whom[0] | by_whom[1] == set(keys)
    status = comms.json("communicate", "status", incident)["data"]["entries"]
    assert {e["state"] for e in status} == {"sent"}


# --- a torn journal ----------------------------------------------------------------------------------------


def test_a_torn_last_line_loses_no_queued_message(comms: Comms, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=HOOK, status_code=503, is_reusable=True)
    incident = comms.declare()
    comms.json("communicate", "send", "initial", "--to", "hook", code=4)
    timeline = comms.root / "incidents" / incident / "timeline.jsonl"
    with timeline.open("a", encoding="utf-8") as f:
        f.write('{"time":"2026-03-14T14:31:00Z","actor":"bob","kind":"message_sen')  # the crash mid-write

    [entry] = comms.json("communicate", "status")["data"]["entries"]
    assert (entry["key"], entry["state"]) == (f"{incident}/initial-1/hook", "queued")
    httpx_mock.reset()
    httpx_mock.add_response(url=HOOK, status_code=200)
    assert [o["state"] for o in comms.json("communicate", "flush")["data"]["outcomes"]] == ["sent"]
    assert len(httpx_mock.get_requests()) == 1
    [entry] = comms.json("communicate", "status")["data"]["entries"]
    assert entry["state"] == "sent"


@pytest.mark.parametrize(
    "damaged",
    [
        {"key": "{key}", "attempt": "many"},  # a field of the wrong type
        {"key": "{key}", "attempt": -1, "host": ["not", "a", "host"]},
        {"key": ["{key}"]},  # the key itself of the wrong type
    ],
)
def test_a_hand_edited_outbox_event_is_skipped_not_a_crash(
    comms: Comms, httpx_mock: HTTPXMock, damaged: dict[str, object]
) -> None:
    httpx_mock.add_response(url=HOOK, status_code=503, is_reusable=True)
    incident = comms.declare()
    comms.json("communicate", "send", "initial", "--to", "hook", code=4)
    key = f"{incident}/initial-1/hook"
    data = json.loads(json.dumps(damaged).replace("{key}", key))
    timeline = comms.root / "incidents" / incident / "timeline.jsonl"
    with timeline.open("a", encoding="utf-8") as f:
        f.write(json.dumps({"time": "2026-03-14T14:31:00Z", "actor": "bob", "kind": "message_sending", "data": data}))
        f.write("\n")

    [entry] = comms.json("communicate", "status")["data"]["entries"]
    assert (entry["key"], entry["state"]) == (key, "queued"), "the damaged claim is not taken for a real one"
    httpx_mock.reset()
    httpx_mock.add_response(url=HOOK, status_code=200)
    assert [o["state"] for o in comms.json("communicate", "flush")["data"]["outcomes"]] == ["sent"]
    assert len(httpx_mock.get_requests()) == 1


# --- status: every state, who and when ---------------------------------------------------------------------


def test_status_lists_sent_queued_failed_in_doubt_and_to_do_with_who_and_when(
    comms: Comms, httpx_mock: HTTPXMock
) -> None:
    incident = comms.declare()
    httpx_mock.add_response(url=HOOK, status_code=200)
    comms.ok("communicate", "send", "initial", "--to", "hook", "--to", "war-room")
    comms.clock.advance(minutes=1)
    httpx_mock.add_response(url=HOOK, status_code=503, is_reusable=True)
    comms.json("communicate", "send", "update", "--to", "hook", code=4)
    httpx_mock.reset()
    comms.clock.advance(minutes=1)
    httpx_mock.add_response(url=HOOK, status_code=410, text="gone")
    comms.json("communicate", "send", "update", "--to", "hook", code=4)
    comms.clock.advance(minutes=1)
    httpx_mock.add_response(url=HOOK, status_code=200)
    comms.stop_after_send("hook")
    with pytest.raises(Killed):
        comms.run("communicate", "send", "resolution", "--to", "hook")
    comms.clock.advance(minutes=5)

    entries = {e["key"]: e for e in comms.json("communicate", "status")["data"]["entries"]}
    states = {key.removeprefix(f"{incident}/"): e["state"] for key, e in entries.items()}
    assert states == {
        "initial-1/hook": "sent",
        "initial-1/war-room": "to-do",
        "update-1/hook": "queued",
        "update-2/hook": "failed",
        "resolution-1/hook": "in-doubt",
    }
    sent = entries[f"{incident}/initial-1/hook"]
    assert (sent["queuedBy"], sent["sentBy"], sent["sentAt"]) == ("alice", "alice", "2026-03-14T14:30:00Z")
    assert "HTTP 503" in entries[f"{incident}/update-1/hook"]["error"]
    assert "HTTP 410" in entries[f"{incident}/update-2/hook"]["error"]
    doubt = entries[f"{incident}/resolution-1/hook"]
    assert (doubt["claimedBy"], doubt["claimedAt"]) == ("alice", "2026-03-14T14:33:00Z")

    table = comms.run("communicate", "status").stdout
    for word in ("sent", "to-do", "queued", "failed", "in-doubt", "HTTP 410", "alice", "14:33"):
        assert word in table
    assert f"{incident}/update-2/hook" in table  # the key, whole, to copy into `communicate done`


# --- manual channels ---------------------------------------------------------------------------------------


def test_manual_channels_are_checklist_items_in_the_timeline_and_done_ticks_them(
    comms: Comms, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(url=HOOK, status_code=200)
    incident = comms.declare(severity="P1")
    sent = comms.json("communicate", "send", "initial", "--to", "hook", "--to", "war-room", "--to", "press")
    assert {o["channel"]: o["state"] for o in sent["data"]["outcomes"]} == {
        "hook": "sent",
        "war-room": "to-do",
        "press": "to-do",
    }
    assert len(httpx_mock.get_requests()) == 1

    timeline = comms.run("incident", "timeline", incident).stdout
    assert "to do by hand: war-room (Video conference - incident war room)" in timeline
    assert "press (Press releases for major incidents)" in timeline

    comms.clock.advance(minutes=4)
    comms.env["INCIDENTCTL_ACTOR"] = "bob"
    done = comms.json("communicate", "done", f"{incident}/initial-1/war-room")["data"]["outcomes"]
    assert [(o["channel"], o["state"]) for o in done] == [("war-room", "sent")]
    entries = {e["channel"]: e for e in comms.json("communicate", "status")["data"]["entries"]}
    assert (entries["war-room"]["state"], entries["war-room"]["byHand"]) == ("sent", True)
    assert (entries["war-room"]["sentBy"], entries["war-room"]["sentAt"]) == ("bob", "2026-03-14T14:34:00Z")
    assert entries["press"]["state"] == "to-do"
    assert "done by hand" in comms.run("incident", "timeline", incident).stdout


def test_done_with_a_key_the_incident_does_not_have_is_one_line_exit_2(comms: Comms) -> None:
    comms.declare()
    result = comms.run("communicate", "done", "INC-2026-001/initial-9/press")
    assert result.exit_code == 2
    assert "INC-2026-001/initial-9/press" in result.stderr.splitlines()[0]
    assert "Traceback" not in result.stderr


# --- where a message goes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "word", ["nobody", "Executives", "hook,war-room", "../hook", ""], ids=["unknown", "case", "list", "path", "empty"]
)
@pytest.mark.parametrize("command", ["preview", "send"])
def test_to_a_word_that_is_no_audience_or_channel_is_one_line_exit_2(comms: Comms, command: str, word: str) -> None:
    incident = comms.declare()
    result = comms.run("communicate", command, "update", "--to", word)
    assert result.exit_code == 2, result.stdout
    line = result.stderr.strip().splitlines()[0]
    assert "not an audience or a channel" in line
    assert "Traceback" not in result.stderr
    assert [e["kind"] for e in comms.timeline(incident)] == ["declared"]  # nothing queued


def test_an_unknown_kind_is_one_line_exit_2(comms: Comms) -> None:
    comms.declare()
    result = comms.run("communicate", "send", "newsletter")
    assert result.exit_code == 2
    assert "newsletter" in result.stderr.splitlines()[0]


@pytest.mark.parametrize(
    ("kind", "audience", "channel"),
    [
        ("executive-summary", "executives", "email"),
        ("status-page", "customers", "status-page"),
        ("support", "support", "customer-support"),
    ],
)
def test_each_audience_kind_goes_to_its_audience_by_default(
    comms_factory: Callable[..., Comms], kind: str, audience: str, channel: str
) -> None:
    channels = {
        name: {"kind": "webhook", "url": {"env": "HOOK_URL"}}
        for name in ("hook", "email", "status-page", "customer-support")
    }
    comms = comms_factory(channels, SECRETS)
    comms.declare()
    drafts = comms.json("communicate", "preview", kind)["data"]["drafts"]
    assert [(d["channel"], d["audience"]) for d in drafts] == [(channel, audience)]


# --- flush -------------------------------------------------------------------------------------------------


def test_flush_with_nothing_queued_says_so_and_exits_0(comms: Comms, httpx_mock: HTTPXMock) -> None:
    comms.declare()
    result = comms.run("communicate", "flush")
    assert result.exit_code == 0, result.stderr
    assert "nothing queued" in result.stdout
    httpx_mock.add_response(url=HOOK, status_code=200)
    comms.ok("communicate", "send", "initial", "--to", "hook", "--to", "war-room")
    result = comms.run("communicate", "flush")
    assert result.exit_code == 0
    assert "nothing queued" in result.stdout  # the sent one and a person's to-do are nothing to flush
    assert comms.json("communicate", "flush")["data"]["outcomes"] == []


def test_flush_all_delivers_every_open_incidents_queue(comms: Comms, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=HOOK, status_code=503, is_reusable=True)
    first = comms.declare("Gateway returns 502")
    comms.json("communicate", "send", "initial", first, "--to", "hook", code=4)
    second = comms.declare("Search is slow", severity="P3")
    comms.json("communicate", "send", "initial", second, "--to", "hook", code=4)
    httpx_mock.reset()
    httpx_mock.add_response(url=HOOK, status_code=200, is_reusable=True)

    result = comms.run("communicate", "flush")
    assert result.exit_code == 2  # two are open: which one?
    flushed = comms.json("communicate", "flush", "--all")["data"]
    assert {(o["key"], o["state"]) for o in flushed["outcomes"]} == {
        (f"{first}/initial-1/hook", "sent"),
        (f"{second}/initial-1/hook", "sent"),
    }
    assert len(httpx_mock.get_requests()) == 2
    assert comms.json("communicate", "flush", "--all")["data"]["outcomes"] == []


def test_flush_all_with_an_incident_named_is_one_line_exit_2(comms: Comms) -> None:
    incident = comms.declare()
    result = comms.run("communicate", "flush", incident, "--all")
    assert result.exit_code == 2
    assert "--all" in result.stderr.splitlines()[0]


# --- secrets -----------------------------------------------------------------------------------------------


def test_no_secret_reaches_output_the_journal_or_debug_logs(comms: Comms, httpx_mock: HTTPXMock) -> None:
    secrets = ["T0KEN-s3cr3t", "sk-live-9f8e7d6c5b4a"]
    httpx_mock.add_response(
        url=HOOK, status_code=404, text=f"no hook at {HOOK} for Bearer sk-live-9f8e7d6c5b4a", is_reusable=True
    )
    incident = comms.declare()
    outputs = [
        comms.run("--debug", "communicate", "send", "initial", "--to", "hook"),
        comms.run("--debug", "communicate", "flush", "--retry-failed"),
        comms.run("--debug", "communicate", "status", "-o", "json"),
        comms.run("--debug", "communicate", "preview", "update", "--update", f"see {HOOK}"),
    ]
    assert "HTTP Request: POST" in outputs[0].stderr  # --debug shows httpx's own log lines
    for result in outputs:
        for secret in secrets:
            assert secret not in result.stdout
            assert secret not in result.stderr
    journal = "".join(p.read_text(encoding="utf-8") for p in (comms.root / "incidents" / incident).rglob("*.*"))
    assert "HTTP 404" in journal
    for secret in secrets:
        assert secret not in journal
    request = httpx_mock.get_requests()[0]
    assert request.headers["Authorization"] == "Bearer sk-live-9f8e7d6c5b4a"  # the channel itself got it


def test_the_outbox_json_is_what_the_published_schema_says(comms: Comms) -> None:
    comms.declare()
    comms.ok("communicate", "send", "initial", "--to", "war-room")
    document = comms.json("communicate", "status")
    schema = json.loads((REPO / "schemas" / "output" / "Outbox.schema.json").read_text(encoding="utf-8"))
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(document)) == []
    [entry] = document["data"]["entries"]
    assert (entry["channel"], entry["state"]) == ("war-room", "to-do")
