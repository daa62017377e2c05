"""The outbox and the action items live in the team journal, so two laptops share them: a message queued on one is
delivered from the other exactly once, two laptops flushing at once send each message once, and an action item
added on one is listed and closed on the other.

Each laptop is the repository's runbook with ``journal: {backend: postgres, dsn: {env: INCIDENTCTL_JOURNAL_DSN}}``
in a folder of its own (its own journal ``dir`` and spool), and the CLI run in-process as a responder would, by a
different person; the only thing they share is the database (a real PostgreSQL server). The channels are real
too: an SMTP server (aiosmtpd) and an HTTP receiver on loopback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.communicate.harness import REPO, Comms
from tests.communicate.smtp import SmtpServer

from incidentctl.core.events import EventKind
from incidentctl.core.incident import Event
from incidentctl.journal.postgres.connect import parse_dsn
from incidentctl.journal.postgres.store import PostgresJournal

DSN_ENV = "INCIDENTCTL_JOURNAL_DSN"
OUTBOX_KINDS = (EventKind.MESSAGES_QUEUED, EventKind.MESSAGE_SENDING, EventKind.MESSAGE_SENT, EventKind.MESSAGE_FAILED)


def laptop(base: Path, name: str, channels: dict[str, Any], dsn: str, actor: str, **env: str) -> Comms:
    """One responder's checkout: the repository's runbook with the team journal, a journal dir and spool of its own."""
    root = base / name
    root.mkdir()
    comms = Comms(root, channels, {"INCIDENTCTL_ACTOR": actor, DSN_ENV: dsn, **env})
    data = yaml.safe_load(comms.runbook_path.read_text(encoding="utf-8"))
    data["journal"] = {"backend": "postgres", "dir": "incidents", "dsn": {"env": DSN_ENV}, "spool": "spool"}
    comms.runbook_path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return comms


def recorded(dsn: str, incident: str) -> list[Event]:
    """The incident's timeline as the database holds it, read by a third party."""
    journal = PostgresJournal(parse_dsn(dsn), clock=lambda: datetime.now(timezone.utc), actor="auditor")
    try:
        return journal.timeline(incident)
    finally:
        journal.close()


def outbox_story(events: list[Event], key: str) -> list[tuple[str, str]]:
    """(kind, actor) of every outbox event about ``key``, in the order recorded."""
    story = []
    for event in events:
        if event.kind == EventKind.MESSAGES_QUEUED:
            if any(m["key"] == key for m in event.data["messages"]):
                story.append((event.kind, event.actor))
        elif event.kind in OUTBOX_KINDS and event.data.get("key") == key:
            story.append((event.kind, event.actor))
    return story


def assert_nothing_local(*laptops: Comms) -> None:
    """Neither laptop wrote a timeline of its own or spooled anything: every event is in the database (the
    spool's mirror of what the laptop read is a cache for offline reads, not a record)."""
    for comms in laptops:
        assert list(comms.root.rglob("timeline.jsonl")) == []
        spool = comms.root / "spool"
        pending = spool / "pending.jsonl"
        assert not pending.exists() or pending.read_bytes().strip() == b""


# --- email: queued on one laptop, delivered from the other ----------------------------------------------------


def email(server: SmtpServer) -> dict[str, Any]:
    return {
        "email": {
            "kind": "email",
            "smtp": {"host": "127.0.0.1", "port": server.port, "starttls": False},
            "from": "incidents@sarvanom.test",
            "to": ["engineering@sarvanom.test"],
        }
    }


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    server = SmtpServer(tmp_path)
    server.start()
    yield server
    server.stop()


def test_a_message_queued_on_one_laptop_is_delivered_from_the_other_exactly_once(
    tmp_path: Path, journal_dsn: str, smtp: SmtpServer
) -> None:
    alice = laptop(tmp_path, "alice", email(smtp), journal_dsn, "alice")
    bob = laptop(tmp_path, "bob", email(smtp), journal_dsn, "bob")
    bob.clock = alice.clock
    incident = alice.declare()

    smtp.stop()  # alice's mail server is unreachable from the hotel wifi: her message stays queued
    queued = alice.json("communicate", "send", "initial", code=4)["data"]["outcomes"]
    key = f"{incident}/initial-1/email"
    assert [(o["key"], o["state"]) for o in queued] == [(key, "queued")]
    smtp.start()

    alice.clock.advance(minutes=2)
    [entry] = bob.json("communicate", "status", incident)["data"]["entries"]
    assert (entry["key"], entry["state"], entry["queuedBy"]) == (key, "queued", "alice")
    flushed = bob.json("communicate", "flush", incident)["data"]["outcomes"]
    assert [(o["key"], o["state"]) for o in flushed] == [(key, "sent")]
    [mail] = smtp.received
    assert mail.message["Message-ID"] == f"<{incident}.initial-1.email@sarvanom.test>"

    assert alice.json("communicate", "flush", incident)["data"]["outcomes"] == []  # nothing left to send
    assert bob.json("communicate", "flush", incident)["data"]["outcomes"] == []
    assert len(smtp.received) == 1
    [entry] = alice.json("communicate", "status", incident)["data"]["entries"]
    assert (entry["state"], entry["queuedBy"], entry["sentBy"]) == ("sent", "alice", "bob")
    assert outbox_story(recorded(journal_dsn, incident), key) == [
        (EventKind.MESSAGES_QUEUED, "alice"),
        (EventKind.MESSAGE_SENDING, "alice"),  # her attempt, which the unreachable server failed
        (EventKind.MESSAGE_FAILED, "alice"),
        (EventKind.MESSAGE_SENDING, "bob"),
        (EventKind.MESSAGE_SENT, "bob"),
    ]
    assert_nothing_local(alice, bob)


# --- two laptops flushing at once ------------------------------------------------------------------------------


class _Receiver(BaseHTTPRequestHandler):
    """A webhook receiver on loopback that takes its time over each message, so two flushers overlap."""

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


def test_two_laptops_flushing_at_once_send_each_message_once(
    tmp_path: Path, journal_dsn: str, receiver: tuple[str, type[_Receiver]]
) -> None:
    url, handler = receiver
    hook = {"hook": {"kind": "webhook", "url": {"env": "HOOK_URL"}}}
    alice = laptop(tmp_path, "alice", hook, journal_dsn, "alice", HOOK_URL=url)
    bob = laptop(tmp_path, "bob", hook, journal_dsn, "bob", HOOK_URL=url)
    incident = alice.declare()
    handler.failing.set()
    alice.json("communicate", "send", "initial", "--to", "hook", code=4)
    for n in range(5):
        alice.json("communicate", "send", "update", "--to", "hook", "--update", f"step {n}", code=4)
    handler.failing.clear()

    def flusher(comms: Comms, actor: str) -> subprocess.Popen[bytes]:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(REPO / "src"),
            "INCIDENTCTL_ACTOR": actor,
            "NO_PROXY": "*",
            "HOOK_URL": url,
            DSN_ENV: journal_dsn,
        }
        command = [sys.executable, "-m", "incidentctl", "--runbook", str(comms.runbook_path)]
        flush = [*command, "communicate", "flush", incident, "-o", "json"]
        return subprocess.Popen(flush, env=env, stdout=subprocess.PIPE)

    flushers = [flusher(alice, "alice-cron"), flusher(bob, "bob-cron")]
    outputs = [json.loads(p.communicate(timeout=120)[0]) for p in flushers]
    assert [p.returncode for p in flushers] == [0, 0]

    keys = [f"{incident}/initial-1/hook"] + [f"{incident}/update-{n}/hook" for n in range(1, 6)]
    assert sorted(handler.keys) == sorted(keys)  # each once, none twice
    by_whom = [{o["key"] for o in out["data"]["outcomes"] if o["state"] == "sent"} for out in outputs]
    assert by_whom[0] | by_whom[1] == set(keys)  # "sent" is the message's state: by either of them
    events = recorded(journal_dsn, incident)
    claimed_by = set()
    for key in keys:  # alice's failed attempt, then one claim by one flusher, which sent it
        story = outbox_story(events, key)
        assert story[:3] == [
            (EventKind.MESSAGES_QUEUED, "alice"),
            (EventKind.MESSAGE_SENDING, "alice"),
            (EventKind.MESSAGE_FAILED, "alice"),
        ], key
        [(claim, claimer), (sent, sender)] = story[3:]
        assert (claim, sent, sender) == (EventKind.MESSAGE_SENDING, EventKind.MESSAGE_SENT, claimer), key
        claimed_by.add(claimer)
    assert claimed_by <= {"alice-cron", "bob-cron"}
    assert {e["state"] for e in bob.json("communicate", "status", incident)["data"]["entries"]} == {"sent"}
    assert_nothing_local(alice, bob)


# --- action items ------------------------------------------------------------------------------------------------


def test_action_items_added_on_one_laptop_are_listed_and_closed_on_the_other(
    tmp_path: Path, journal_dsn: str, smtp: SmtpServer
) -> None:
    alice = laptop(tmp_path, "alice", email(smtp), journal_dsn, "alice")
    bob = laptop(tmp_path, "bob", email(smtp), journal_dsn, "bob")
    bob.clock = alice.clock
    first = alice.declare()
    second = alice.declare("Search is slow")
    alice.ok("postmortem", "action", "add", first, "Alert on pool use", "--owner", "alice", "--due", "2026-03-20")
    alice.ok("postmortem", "action", "add", second, "Runbook for search", "--owner", "bob", "--due", "2026-03-18")

    listed = bob.json("postmortem", "action", "list")["data"]["items"]
    assert [(i["ref"], i["text"], i["owner"]) for i in listed] == [
        (f"{second}/A1", "Runbook for search", "bob"),
        (f"{first}/A1", "Alert on pool use", "alice"),
    ]
    added = bob.json("postmortem", "action", "add", first, "Pool dashboard", "--owner", "carol", "--due", "7d")
    assert added["data"]["item"]["ref"] == f"{first}/A2"  # numbered in the shared journal, not bob's own
    alice.clock.advance(hours=3)
    bob.ok("postmortem", "action", "done", f"{second}/A1")

    still_open = alice.json("postmortem", "action", "list", "--open")["data"]["items"]
    assert [i["ref"] for i in still_open] == [f"{first}/A1", f"{first}/A2"]
    [done] = alice.json("postmortem", "action", "list", second)["data"]["items"]
    assert done["ref"] == f"{second}/A1"
    assert done["doneBy"] == "bob"
    kinds = [(e.kind, e.actor) for e in recorded(journal_dsn, second) if e.kind.startswith("action_")]
    assert kinds == [("action_added", "alice"), ("action_done", "bob")]
    assert_nothing_local(alice, bob)
