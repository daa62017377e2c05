"""The team journal's offline spool against a real PostgreSQL server that goes away and comes back.

Each test has a server of its own (``own_postgres_server``) so it can stop it in the middle of a run, and a
SpooledJournal per "command" (a fresh one is what the next incidentctl invocation would open).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest

from incidentctl.core.events import EventKind
from incidentctl.core.incident import Declaration, Event, new_event_id
from incidentctl.journal.postgres.connect import JournalUnreachableError, parse_dsn
from incidentctl.journal.postgres.schema import migrate
from incidentctl.journal.postgres.store import PostgresJournal
from incidentctl.journal.spool import PENDING, UPLOADED, Spool
from incidentctl.journal.spooled import SpooledJournal

if TYPE_CHECKING:
    from tests.pgserver import PostgresServer

START = datetime(2026, 3, 4, 5, 0, tzinfo=timezone.utc)


@pytest.fixture
def dsn(own_postgres_server: PostgresServer) -> str:
    created = own_postgres_server.create_database()
    with psycopg.connect(created, autocommit=True) as conn:
        migrate(conn, applied_by="tests")
    return created


class Clock:
    """A clock that moves a second per reading, so every event has a time of its own to check."""

    def __init__(self) -> None:
        self._ticks = itertools.count()

    def __call__(self) -> datetime:
        return START + timedelta(seconds=next(self._ticks))


@pytest.fixture
def clock() -> Clock:
    return Clock()


Open = Callable[..., SpooledJournal]


@pytest.fixture
def open_journal(dsn: str, tmp_path: Path, clock: Clock) -> Iterator[Open]:
    """A new SpooledJournal, as one command opens it; closed at the end of the test."""
    opened: list[SpooledJournal] = []

    def make(actor: str = "alice", primary: type[PostgresJournal] = PostgresJournal) -> SpooledJournal:
        store = primary(parse_dsn(dsn), clock=clock, actor=actor, connect_timeout=2)
        journal = SpooledJournal(store, Spool(tmp_path / "spool"), clock=clock, actor=actor)
        opened.append(journal)
        return journal

    yield make
    for journal in opened:
        journal.close()


def rows(dsn: str, incident_id: str) -> list[tuple[str, str, datetime, str]]:
    """What the database holds for an incident, in its order: (kind, note text, time, actor)."""
    with psycopg.connect(dsn) as conn:
        found = conn.execute(
            "SELECT kind, data::text, time, actor FROM incidentctl.events WHERE incident_id = %s ORDER BY seq",
            (incident_id,),
        ).fetchall()
    return [(kind, json.loads(data).get("text", ""), when, actor) for kind, data, when, actor in found]


def declare(journal: SpooledJournal, title: str = "Gateway 5xx") -> str:
    return journal.declare(Declaration(title=title, severity="P2")).id


def note(journal: SpooledJournal, incident_id: str, text: str) -> Event:
    event = journal.append(incident_id, EventKind.NOTE, {"text": text}).event
    assert event is not None
    return event


def spooled_lines(tmp_path: Path) -> list[bytes]:
    return (tmp_path / "spool" / PENDING).read_bytes().splitlines()


def test_stopping_the_server_mid_run_loses_no_note_and_the_next_command_uploads_each_once_in_order(
    open_journal: Open, own_postgres_server: PostgresServer, dsn: str, tmp_path: Path
) -> None:
    first = open_journal()
    incident_id = declare(first)
    written: list[Event] = []
    for n in range(20):
        if n == 8:
            own_postgres_server.stop()
        written.append(note(first, incident_id, f"note {n}"))
    warnings = first.drain_warnings()
    assert len(warnings) == 1
    assert warnings[0].startswith("the team journal at postgres://127.0.0.1:")
    assert "recorded 12 events in the local spool (12 waiting); 'incidentctl journal sync' uploads them" in warnings[0]
    assert len(spooled_lines(tmp_path)) == 12
    first.close()

    own_postgres_server.start()
    second = open_journal(actor="bob")
    note(second, incident_id, "after the outage")

    expected = [("declared", "", START, "alice")] + [(EventKind.NOTE, e.data["text"], e.time, "alice") for e in written]
    assert rows(dsn, incident_id) == [*expected, ("note", "after the outage", rows(dsn, incident_id)[-1][2], "bob")]
    assert [e.id for e in second.timeline(incident_id)][1:21] == [e.id for e in written]
    assert any("uploaded 12 event(s) recorded offline" in w for w in second.drain_warnings())
    assert not (tmp_path / "spool" / PENDING).exists()  # nothing left to upload, nothing to upload again

    third = open_journal()
    assert third.sync().uploaded == 0
    assert len(rows(dsn, incident_id)) == 22


def test_offline_decisions_use_the_mirror_and_the_spooled_events(
    open_journal: Open, own_postgres_server: PostgresServer
) -> None:
    journal = open_journal()
    incident_id = declare(journal)
    journal.get(incident_id)
    own_postgres_server.stop()

    acked = journal.append_if(
        incident_id, EventKind.ACKNOWLEDGED, lambda i: None if i.acknowledged_at else {"by": "alice"}
    )
    again = journal.append_if(
        incident_id, EventKind.ACKNOWLEDGED, lambda i: None if i.acknowledged_at else {"by": "alice"}
    )
    assert acked.event is not None
    assert acked.incident.acknowledged_at is not None
    assert again.event is None  # decided on the spooled acknowledgement: recorded once

    shown = journal.get(incident_id)
    assert shown.acknowledged_at == acked.event.time
    assert [e.kind for e in journal.timeline(incident_id)] == ["declared", "acknowledged"]
    warned = journal.drain_warnings()
    assert any(f"{incident_id} as this laptop last read it, at 2026-03-04T05:00:" in w for w in warned)


def test_claims_and_numbered_kinds_are_refused_offline_and_nothing_is_spooled(
    open_journal: Open, own_postgres_server: PostgresServer, tmp_path: Path
) -> None:
    journal = open_journal()
    incident_id = declare(journal)
    own_postgres_server.stop()
    for kind in (EventKind.MESSAGE_SENDING, EventKind.MESSAGES_QUEUED, EventKind.MITIGATION_PLANNED):
        with pytest.raises(JournalUnreachableError, match=f"and {kind} events are decided against it"):
            journal.append_if_timeline(incident_id, kind, lambda _i, _t: {"key": "k"})
    with pytest.raises(JournalUnreachableError) as planned:
        journal.append_if_timeline(incident_id, EventKind.MITIGATION_PLANNED, lambda _i, _t: {"id": "M1"})
    assert planned.value.hint is not None
    assert "make the change with kubectl and record it with 'incidentctl incident note'" in planned.value.hint
    with pytest.raises(JournalUnreachableError, match="incident ids are allocated by it; nothing was recorded"):
        declare(journal)
    assert not (tmp_path / "spool" / PENDING).exists()


def test_an_incident_never_read_here_is_not_decided_on_offline(
    open_journal: Open, own_postgres_server: PostgresServer, tmp_path: Path
) -> None:
    other_laptop = open_journal()
    incident_id = declare(other_laptop)
    other_laptop.close()
    (tmp_path / "spool" / "mirror" / f"{incident_id}.jsonl").unlink()  # as if declared on someone else's laptop
    own_postgres_server.stop()
    journal = open_journal()
    with pytest.raises(JournalUnreachableError, match=f"{incident_id} was never read on this laptop") as caught:
        note(journal, incident_id, "lost?")
    assert "nothing was recorded" in caught.value.message
    assert caught.value.hint is not None
    assert "once the database is reachable" in caught.value.hint
    with pytest.raises(JournalUnreachableError, match="never read on this laptop"):
        journal.timeline(incident_id)
    assert not (tmp_path / "spool" / PENDING).exists()


class StopsAfterFirstIngest(PostgresJournal):
    """The connection breaks (the server stops) right after the first incident's events are committed."""

    server: PostgresServer

    def ingest(self, incident_id: str, events: Sequence[Event]) -> int:
        written = super().ingest(incident_id, events)
        self.server.stop()
        return written


def test_a_sync_broken_half_way_resumes_without_sending_again(
    open_journal: Open, own_postgres_server: PostgresServer, dsn: str, tmp_path: Path
) -> None:
    setup = open_journal()
    first, second = declare(setup, "one"), declare(setup, "two")
    own_postgres_server.stop()
    for n in range(3):
        note(setup, first, f"first {n}")
    for n in range(4):
        note(setup, second, f"second {n}")
    setup.close()

    own_postgres_server.start()
    StopsAfterFirstIngest.server = own_postgres_server
    breaking = open_journal(primary=StopsAfterFirstIngest)
    with pytest.raises(JournalUnreachableError):
        breaking.sync()
    assert [r[1] for r in rows_when_up(own_postgres_server, dsn, first)][1:] == ["first 0", "first 1", "first 2"]
    uploaded = (tmp_path / "spool" / UPLOADED).read_text().split()
    assert len(uploaded) == 3
    assert len(spooled_lines(tmp_path)) == 7

    resumed = open_journal().sync()
    assert (resumed.uploaded, resumed.skipped, resumed.incidents) == (4, 0, (second,))
    assert [r[1] for r in rows(dsn, first)][1:] == ["first 0", "first 1", "first 2"]
    assert [r[1] for r in rows(dsn, second)][1:] == ["second 0", "second 1", "second 2", "second 3"]


def rows_when_up(server: PostgresServer, dsn: str, incident_id: str) -> list[tuple[str, str, datetime, str]]:
    server.start()
    return rows(dsn, incident_id)


def test_a_sync_that_died_before_noting_what_it_sent_sends_again_and_the_database_keeps_one(
    open_journal: Open, own_postgres_server: PostgresServer, dsn: str, tmp_path: Path
) -> None:
    setup = open_journal()
    incident_id = declare(setup)
    own_postgres_server.stop()
    for n in range(5):
        note(setup, incident_id, f"note {n}")
    own_postgres_server.start()
    pending = (tmp_path / "spool" / PENDING).read_bytes()
    assert open_journal().sync().uploaded == 5
    (tmp_path / "spool" / PENDING).write_bytes(pending)  # the commit happened; the record of it did not

    again = open_journal().sync()
    assert (again.uploaded, again.skipped) == (0, 5)
    assert [r[1] for r in rows(dsn, incident_id)][1:] == [f"note {n}" for n in range(5)]


def test_an_append_whose_commit_happened_before_the_outage_is_recorded_once(
    open_journal: Open, own_postgres_server: PostgresServer, dsn: str
) -> None:
    journal = open_journal()
    incident_id = declare(journal)
    event = note(journal, incident_id, "committed")
    own_postgres_server.stop()
    retried = journal.append(incident_id, EventKind.NOTE, {"text": "committed"}, event_id=event.id)
    assert retried.event == event
    assert retried.event.id == event.id
    own_postgres_server.start()
    open_journal().sync()
    assert [r[1] for r in rows(dsn, incident_id)] == ["", "committed"]


def test_a_damaged_spool_line_is_reported_with_its_place_and_kept(
    open_journal: Open, own_postgres_server: PostgresServer, dsn: str, tmp_path: Path
) -> None:
    setup = open_journal()
    incident_id = declare(setup)
    own_postgres_server.stop()
    note(setup, incident_id, "before")
    path = tmp_path / "spool" / PENDING
    damage = b'{"incident":"INC-2026-001","time":"not a time"}\n\x1b[2Jnot json at all\n'
    with path.open("ab") as f:
        f.write(damage)
    note(setup, incident_id, "after")
    with path.open("ab") as f:
        f.write(b'{"incident":"INC-2026-001","id":"torn')  # a write cut short by a crash
    own_postgres_server.start()

    result = open_journal().sync()
    assert result.uploaded == 2
    assert [r[1] for r in rows(dsn, incident_id)][1:] == ["before", "after"]
    assert [d.split(": ", 1)[0] for d in result.damaged] == [f"{path}:{n}" for n in (2, 3, 5)]
    assert "'time' 'not a time' is not an RFC 3339 time" in result.damaged[0]
    assert "torn last line" in result.damaged[2]
    assert damage in path.read_bytes()  # nothing dropped: a person mends or deletes it

    later = open_journal()
    assert later.sync().damaged == result.damaged  # reported every time, uploaded never twice
    assert len(rows(dsn, incident_id)) == 3


def test_the_next_line_after_a_torn_one_starts_afresh(
    open_journal: Open, own_postgres_server: PostgresServer, tmp_path: Path
) -> None:
    journal = open_journal()
    incident_id = declare(journal)
    own_postgres_server.stop()
    note(journal, incident_id, "one")
    with (tmp_path / "spool" / PENDING).open("ab") as f:
        f.write(b'{"incident":"INC-')
    note(journal, incident_id, "two")
    contents = Spool(tmp_path / "spool").read()
    assert [s.event.data["text"] for s in contents.pending] == ["one", "two"]
    assert [d.split(": ", 1)[0] for d in contents.damaged] == [f"{tmp_path / 'spool' / PENDING}:2"]
    assert "not valid JSON" in contents.damaged[0]


def test_events_the_database_refuses_are_kept_and_the_other_incidents_still_go(
    open_journal: Open, own_postgres_server: PostgresServer, dsn: str, tmp_path: Path
) -> None:
    setup = open_journal()
    known = declare(setup)
    spool = Spool(tmp_path / "spool")

    def event(n: int) -> Event:
        return Event(time=START, actor="alice", kind=EventKind.NOTE, data={"text": f"x{n}"}, id=new_event_id())

    spool.add("INC-2026-099", event(1))  # an incident the database does not have (a copied spool, a reset database)
    spool.add(known, event(2))
    spool.add("INC-2026-099", event(3))
    command = open_journal()
    assert declare(command) == "INC-2026-002"  # the automatic upload keeps what it cannot send, and goes on
    warned = command.drain_warnings()
    path = tmp_path / "spool" / PENDING
    assert any(f"{path}:1: 1 event(s) of INC-2026-099 refused: INC-2026-099 is not in postgres://" in w for w in warned)
    assert any(f"{path}:3: 1 event(s) of INC-2026-099 after a refused one (kept)" in w for w in warned)
    assert [r[1] for r in rows(dsn, known)] == ["", "x2"]
    assert [s.event.data["text"] for s in spool.read().pending] == ["x1", "x3"]
    again = open_journal().sync()  # reported every time until a person deals with it, the rest not sent again
    assert again.uploaded == 0
    assert [d.split(": ", 1)[1] for d in again.damaged] == [
        f"2 event(s) of INC-2026-099 refused: INC-2026-099 is not in {command.location}, and these events do not "
        "declare it (kept)"
    ]


def test_no_secret_in_the_spool_or_the_messages(
    own_postgres_server: PostgresServer, dsn: str, tmp_path: Path, clock: Clock
) -> None:
    secret = "s3cret-Pa55word"
    with_password = dsn.replace("incidentctl@", f"incidentctl:{secret}@")  # the test server trusts any password
    store = PostgresJournal(parse_dsn(with_password), clock=clock, actor="alice", connect_timeout=2)
    journal = SpooledJournal(store, Spool(tmp_path / "spool"), clock=clock, actor="alice")
    incident_id = declare(journal)
    own_postgres_server.stop()
    note(journal, incident_id, "offline")
    said = [*journal.drain_warnings()]
    with pytest.raises(JournalUnreachableError) as caught:
        declare(journal)
    said += [str(caught.value), caught.value.hint or ""]
    journal.close()
    assert all(secret not in line for line in said)
    for path in (tmp_path / "spool").rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def spooled_note(text: str) -> Event:
    return Event(time=START, actor="alice", kind=EventKind.NOTE, data={"text": text}, id=new_event_id())


def test_a_reader_sees_lines_another_process_adds_and_a_spool_started_afresh(tmp_path: Path) -> None:
    reader, writer = Spool(tmp_path / "spool"), Spool(tmp_path / "spool")
    writer.add("INC-2026-001", spooled_note("one"))
    assert [s.event.data["text"] for s in reader.read().pending] == ["one"]
    writer.add("INC-2026-002", spooled_note("two\nwith a newline \x1b[31m"))
    assert [(s.incident_id, s.line) for s in reader.read().pending] == [("INC-2026-001", 1), ("INC-2026-002", 2)]
    assert (tmp_path / "spool").stat().st_mode & 0o077 == 0  # private: the events may say more than a title
    assert reader.pending_path.stat().st_mode & 0o077 == 0
    writer.clear()
    assert reader.read().pending == []
    writer.add("INC-2026-003", spooled_note("three"))
    assert [(s.incident_id, s.line, s.event.data["text"]) for s in reader.read().pending] == [
        ("INC-2026-003", 1, "three")
    ]


def test_a_huge_or_foreign_line_is_reported_not_loaded(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    spool.add("INC-2026-001", spooled_note("one"))
    with spool.pending_path.open("ab") as f:
        f.write(b"x" * (2 << 20) + b"\n")
        f.write(b'{"incident":"../../etc/passwd","id":"x","time":"2026-03-04T05:00:00Z","actor":"a","kind":"note"}\n')
        f.write(b"[1, 2]\n")
    contents = spool.read()
    assert [s.event.data["text"] for s in contents.pending] == ["one"]
    assert [d.split(": ", 1)[0] for d in contents.damaged] == [f"{spool.pending_path}:{n}" for n in (2, 3, 4)]
    assert "2,097,152 bytes, longer than any event" in contents.damaged[0]
    assert "not a JSON object but an array" in contents.damaged[2]
