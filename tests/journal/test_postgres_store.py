"""What the team journal alone has to get right: a connection lost in the middle of a command, a lock another
client never lets go of, rows it cannot read, and lists of many incidents, on a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import psycopg
import pytest
from tests import pgserver
from tests.journal.conftest import migrated

from incidentctl.core.incident import Declaration, Event, new_event_id
from incidentctl.errors import JournalError
from incidentctl.journal.postgres.connect import APPLICATION_NAME, JournalUnreachableError, parse_dsn
from incidentctl.journal.postgres.store import PostgresJournal


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@pytest.fixture
def opened() -> Iterator[list[PostgresJournal]]:
    stores: list[PostgresJournal] = []
    yield stores
    for store in stores:
        store.close()


def journal(dsn: str, opened: list[PostgresJournal], actor: str = "alice", **options: Any) -> PostgresJournal:
    store = PostgresJournal(parse_dsn(dsn), clock=utc_now, actor=actor, **options)
    opened.append(store)
    return store


def declare(store: PostgresJournal) -> str:
    return store.declare(Declaration(title="db down", severity="P1", components=("gateway",))).id


def terminate_our_backends(dsn: str) -> int:
    """End every incidentctl connection to the database, as a DBA or a failover would."""
    with psycopg.connect(dsn, autocommit=True) as admin:
        row = admin.execute(
            """SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
               WHERE datname = current_database() AND application_name = %s AND pid <> pg_backend_pid()""",
            (APPLICATION_NAME,),
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_an_append_after_the_backend_was_terminated_reconnects_and_writes_once(
    journal_dsn: str, opened: list[PostgresJournal]
) -> None:
    store = journal(journal_dsn, opened)
    incident_id = declare(store)
    assert terminate_our_backends(journal_dsn) == 1
    result = store.append(incident_id, "note", {"text": "after the failover"})
    assert result.event is not None
    assert [e.kind for e in journal(journal_dsn, opened, "bob").timeline(incident_id)] == ["declared", "note"]


def test_a_retry_with_the_same_event_id_after_a_lost_connection_never_duplicates(
    journal_dsn: str, opened: list[PostgresJournal]
) -> None:
    """The first attempt committed, then the connection died before the caller knew: the caller (or the spool)
    tries again with the same id, on a store that has never read the incident, and gets the first event back."""
    store = journal(journal_dsn, opened)
    incident_id = declare(store)
    event_id = new_event_id()
    first = store.append(incident_id, "note", {"text": "once"}, event_id=event_id)
    fresh = journal(journal_dsn, opened, "alice-again")
    fresh.incidents()  # connected, so the termination below breaks a live connection
    for retry in (store, fresh):
        assert terminate_our_backends(journal_dsn) >= 1
        again = retry.append(incident_id, "note", {"text": "once"}, event_id=event_id)
        assert again.event == first.event
        assert again.event is not None
        assert again.event.id == event_id
    timeline = journal(journal_dsn, opened, "reader").timeline(incident_id)
    assert [e.id for e in timeline if e.kind == "note"] == [event_id]


def test_a_declaration_retried_after_a_lost_connection_declares_once(
    journal_dsn: str, opened: list[PostgresJournal]
) -> None:
    store = journal(journal_dsn, opened)
    first = declare(store)
    assert terminate_our_backends(journal_dsn) == 1
    second = declare(store)
    year = utc_now().year
    assert (first, second) == (f"INC-{year}-001", f"INC-{year}-002")
    assert [i.id for i in store.incidents()] == [second, first]


def test_a_server_restarted_between_commands_is_reconnected_to(
    own_postgres_server: pgserver.PostgresServer, opened: list[PostgresJournal]
) -> None:
    dsn = migrated(own_postgres_server.create_database())
    store = journal(dsn, opened)
    incident_id = declare(store)
    own_postgres_server.stop("fast")
    with pytest.raises(JournalUnreachableError) as caught:
        store.append(incident_id, "note", {"text": "while it is down"})
    assert str(caught.value).startswith(f"cannot reach the team journal at {store.location}")
    own_postgres_server.start()
    store.append(incident_id, "note", {"text": "after the restart"})
    own_postgres_server.stop("immediate")  # a crash, not a shutdown: the open connection just breaks
    own_postgres_server.start()
    store.append(incident_id, "note", {"text": "after the crash"})
    assert [e.data.get("text") for e in store.timeline(incident_id)][1:] == ["after the restart", "after the crash"]


@pytest.mark.parametrize(
    "timeouts",
    [{"lock_timeout": 0.2}, {"lock_timeout": 30.0, "statement_timeout": 0.2}],
    ids=["lock-timeout", "statement-timeout"],
)
def test_a_lock_held_by_a_stuck_client_times_out_naming_the_incident(
    journal_dsn: str, opened: list[PostgresJournal], timeouts: dict[str, float]
) -> None:
    store = journal(journal_dsn, opened, "alice", **timeouts)
    incident_id = declare(store)
    with psycopg.connect(journal_dsn) as stuck:  # a transaction left open with the incident's row locked
        stuck.execute("SELECT 1 FROM incidentctl.incidents WHERE id = %s FOR UPDATE", (incident_id,))
        with pytest.raises(JournalError) as caught:
            store.append(incident_id, "note", {"text": "blocked"})
        stuck.rollback()
    assert not isinstance(caught.value, JournalUnreachableError)  # a stuck lock is not an outage to spool
    assert f"on {incident_id}" in caught.value.message
    assert "nothing was written" in caught.value.message
    store.append(incident_id, "note", {"text": "once the lock is gone"})
    assert [e.data.get("text") for e in store.timeline(incident_id)][1:] == ["once the lock is gone"]


def test_a_row_that_cannot_be_replayed_is_a_problem_naming_its_event_id(
    journal_dsn: str, opened: list[PostgresJournal]
) -> None:
    """Rows written by hand (or by a broken client): the readable events still count, each bad one is named."""
    store = journal(journal_dsn, opened)
    incident_id = declare(store)
    store.append(incident_id, "note", {"text": "before"})
    bad = {"not-an-object": "[1, 2]", "bad-status": '{"to": "nonsense"}'}
    with psycopg.connect(journal_dsn, autocommit=True) as conn:
        for event_id, data in bad.items():
            conn.execute(
                """INSERT INTO incidentctl.events (incident_id, event_id, time, actor, kind, data)
                   VALUES (%s, %s, now(), 'mallory', %s, %s::json)""",
                (incident_id, event_id, "note" if event_id == "not-an-object" else "status_changed", data),
            )
    store.append(incident_id, "note", {"text": "after"})

    reader = journal(journal_dsn, opened, "bob")
    incident = reader.get(incident_id)
    assert incident.notes == 2
    assert incident.damaged
    assert sorted(p.where for p in incident.problems) == sorted(f"{incident_id} event {i}" for i in bad)
    warnings = reader.drain_warnings()
    assert any(w.startswith(f"{incident_id} event not-an-object:") for w in warnings)
    [listed] = reader.incidents()
    assert listed.damaged


def test_a_list_of_many_incidents_is_one_query(journal_dsn: str, opened: list[PostgresJournal]) -> None:
    writer = journal(journal_dsn, opened)
    ids = [declare(writer) for _ in range(30)]
    for incident_id in ids[::3]:
        writer.append(incident_id, "note", {"text": "x"})

    reader = journal(journal_dsn, opened, "bob")
    reader.get(ids[0])  # connected (and one incident cached)
    conn = reader._conn
    assert conn is not None
    statements: list[str] = []
    execute = conn.execute

    def counting(query: Any, *args: Any, **kwargs: Any) -> Any:
        statements.append(str(query))
        return execute(query, *args, **kwargs)

    conn.execute = counting  # type: ignore[method-assign]
    listed = reader.incidents()
    assert len(statements) == 1
    assert [i.id for i in listed] == ids[::-1]
    assert sum(i.notes for i in listed) == len(ids[::3])

    writer.append(ids[5], "note", {"text": "later"})
    statements.clear()
    assert sum(i.notes for i in reader.incidents()) == len(ids[::3]) + 1  # catches up on what is new
    assert len(statements) == 1


def test_a_damaged_spool_event_with_a_nul_in_its_id_is_refused_whole(
    journal_dsn: str, postgres_server: pgserver.PostgresServer, opened: list[PostgresJournal]
) -> None:
    """PostgreSQL's text refuses NUL: an ingest carrying one (a damaged spool) is one error, and none of its
    events are written, so the spool can keep them and say so."""
    source = journal(journal_dsn, opened)
    incident_id = declare(source)
    good = source.append(incident_id, "note", {"text": "fine"}).event
    assert good is not None
    broken = Event(time=utc_now(), actor="bob", kind="note", data={"text": "x"}, id="bad\0id")
    target = journal(migrated(postgres_server.create_database()), opened)
    with pytest.raises(JournalError) as caught:
        target.ingest(incident_id, [*source.timeline(incident_id), broken])
    assert not isinstance(caught.value, JournalUnreachableError)
    assert target.incidents() == []
