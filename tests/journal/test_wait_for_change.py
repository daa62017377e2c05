"""The journal's doorbell on both backends, and the follower built on it: every event once, none skipped.

Each test writes through a second store (another responder's laptop) and follows through the first, so what is
proven is what two processes see of each other, on the folder journal and on a real PostgreSQL server.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from incidentctl.core.events import EventKind
from incidentctl.core.incident import Declaration, Incident
from incidentctl.errors import UnreachableError
from incidentctl.journal.base import JournalStore
from incidentctl.journal.follow import Back, Incidents, Lost, NewEvents, follow_timeline, watch_incidents
from incidentctl.journal.query import IncidentQuery

#: A wait that is never reached when the doorbell works (a test that hangs this long has failed anyway).
LONG = 15.0

Opener = Callable[[str], JournalStore]


def _now() -> datetime:
    return datetime.now(timezone.utc)


@pytest.fixture(params=["folder", "postgres"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens stores on one journal, each as a separate responder would (its own connection, its own reader)."""
    opened: list[JournalStore] = []
    if request.param == "folder":
        from incidentctl.journal.store import Journal

        def open_one(actor: str) -> JournalStore:
            store = Journal(tmp_path / "incidents", clock=_now, actor=actor)
            opened.append(store)
            return store
    else:
        from incidentctl.journal.postgres.connect import parse_dsn
        from incidentctl.journal.postgres.store import PostgresJournal

        dsn = request.getfixturevalue("journal_dsn")

        def open_one(actor: str) -> JournalStore:
            pg = PostgresJournal(parse_dsn(dsn), clock=_now, actor=actor)
            opened.append(pg)
            return pg

    yield open_one
    for store in opened:
        store.close()


def _declare(store: JournalStore) -> str:
    return store.declare(Declaration(title="Database connection failure", severity="P1")).id


def test_the_first_wait_rings_at_once_then_only_for_a_change(open_store: Opener) -> None:
    follower, writer = open_store("alice"), open_store("bob")
    incident_id = _declare(writer)
    # the follower read before it began to wait: the first wait cannot know what it missed, so it rings
    assert follower.wait_for_change(LONG) is True
    assert follower.wait_for_change(0.3) is False
    writer.append(incident_id, EventKind.NOTE, {"text": "from bob"})
    assert follower.wait_for_change(LONG) is True
    assert follower.wait_for_change(0.3) is False  # one append, one ring: nothing is left over to ring again


def test_an_event_recorded_between_two_waits_rings_the_next(open_store: Opener) -> None:
    """The follower is busy printing when bob writes: the next wait must not start from "now" and miss it."""
    follower, writer = open_store("alice"), open_store("bob")
    incident_id = _declare(writer)
    assert follower.wait_for_change(LONG) is True
    assert follower.wait_for_change(0.2) is False
    writer.append(incident_id, EventKind.NOTE, {"text": "while alice was busy"})
    assert follower.wait_for_change(LONG) is True


def test_a_declaration_rings_too(open_store: Opener) -> None:
    follower, writer = open_store("alice"), open_store("bob")
    _declare(writer)
    assert follower.wait_for_change(LONG) is True
    assert follower.wait_for_change(0.2) is False
    _declare(writer)
    assert follower.wait_for_change(LONG) is True


def test_many_events_at_once_are_each_followed_exactly_once(open_store: Opener) -> None:
    follower, first_writer, second_writer = open_store("alice"), open_store("bob"), open_store("carol")
    incident_id = _declare(first_writer)
    stream = follow_timeline(follower, incident_id, wait=LONG)
    first = next(stream)
    assert isinstance(first, NewEvents)
    assert [e.kind for e in first.events] == ["declared"]

    def burst(store: JournalStore, name: str) -> None:
        for n in range(40):
            store.append(incident_id, EventKind.NOTE, {"text": f"{name} {n}"})

    writers = [
        threading.Thread(target=burst, args=(first_writer, "bob")),
        threading.Thread(target=burst, args=(second_writer, "carol")),
    ]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    followed = list(first.events)
    while len(followed) < 81:
        item = next(stream)
        assert isinstance(item, NewEvents)
        followed.extend(item.events)
    recorded = open_store("dave").timeline(incident_id)
    assert [e.id for e in followed] == [e.id for e in recorded]  # the journal's order, each event once
    assert len({e.id for e in followed}) == 81
    for name in ("bob", "carol"):  # and every writer's events in the order they were written
        texts = [e.data["text"] for e in followed if e.kind == "note" and e.actor == name]
        assert texts == [f"{name} {n}" for n in range(40)]


def test_watching_the_list_sees_a_new_incident_and_a_change(open_store: Opener) -> None:
    follower, writer = open_store("alice"), open_store("bob")
    first_id = _declare(writer)
    stream = watch_incidents(follower, IncidentQuery, wait=LONG)

    def next_change() -> list[Incident]:
        while True:
            item = next(stream)
            assert isinstance(item, Incidents)
            if item.changed:
                return item.incidents

    assert [i.id for i in next_change()] == [first_id]
    second_id = _declare(writer)
    assert [i.id for i in next_change()] == [second_id, first_id]
    writer.append(first_id, EventKind.ACKNOWLEDGED, {})
    assert {i.id: i.acknowledged_by for i in next_change()} == {first_id: "bob", second_id: None}


# --- the team journal going away while it is followed -----------------------------------------------------------


def test_a_lost_server_is_said_retried_and_caught_up_on(own_postgres_server: object) -> None:
    from tests.pgserver import PostgresServer

    from incidentctl.journal.postgres.connect import JournalUnreachableError, parse_dsn
    from incidentctl.journal.postgres.schema import migrate
    from incidentctl.journal.postgres.store import PostgresJournal

    assert isinstance(own_postgres_server, PostgresServer)
    server = own_postgres_server
    dsn = server.create_database()
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        migrate(conn, applied_by="tests")
    target = parse_dsn(dsn)
    follower = PostgresJournal(target, clock=_now, actor="alice", connect_timeout=2)
    writer = PostgresJournal(target, clock=_now, actor="bob", connect_timeout=2)
    pauses: list[float] = []
    try:
        incident_id = _declare(writer)
        stream = follow_timeline(follower, incident_id, wait=LONG, sleep=pauses.append)
        assert isinstance(next(stream), NewEvents)
        assert follower.wait_for_change(0.1) is True  # listening (the follow's first wait does the same)
        server.stop()
        with pytest.raises(JournalUnreachableError) as raised:
            follower.wait_for_change(LONG)
        assert "cannot reach the team journal at postgres://127.0.0.1:" in str(raised.value)
        assert "incidentctl@" not in str(raised.value)  # the DSN's user (or password) is never in a message
        lost = next(stream)
        assert isinstance(lost, Lost)
        assert isinstance(lost.error, UnreachableError)
        server.start()
        writer.close()  # bob's command ended with the outage; his next one connects anew
        writer = PostgresJournal(target, clock=_now, actor="bob", connect_timeout=2)
        writer.append(incident_id, EventKind.NOTE, {"text": "written while alice's follow was reconnecting"})
        back = next(stream)
        assert isinstance(back, Back), back
        caught_up = next(stream)  # at once: what came in while away is read in the round that found it back
        assert isinstance(caught_up, NewEvents)
        assert [e.data.get("text") for e in caught_up.events] == ["written while alice's follow was reconnecting"]
        assert pauses, "the follow paused between attempts instead of spinning"
    finally:
        follower.close()
        writer.close()
