"""``copy_journal`` between a folder journal and the team journal on a real PostgreSQL server, both ways."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg
import pytest
from tests import pgserver

from incidentctl.core.incident import Declaration, Event
from incidentctl.errors import UnreachableError
from incidentctl.exitcodes import ExitCode
from incidentctl.journal.base import IngestConflictError
from incidentctl.journal.copy import IncidentCopy, Outcome, copy_journal
from incidentctl.journal.postgres.connect import parse_dsn
from incidentctl.journal.postgres.schema import migrate
from incidentctl.journal.postgres.store import PostgresJournal
from incidentctl.journal.store import Journal

T0 = datetime(2026, 3, 14, 14, 30, 0, 123456, tzinfo=timezone.utc)
OLD_TIMELINE = Path(__file__).parent / "data" / "timeline-v0.1.jsonl"


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1, microseconds=7)
        return self.now


def team(dsn: str, actor: str = "bob", clock: Callable[[], datetime] | None = None) -> PostgresJournal:
    return PostgresJournal(parse_dsn(dsn), clock=clock or Clock(), actor=actor, connect_timeout=5)


def shape(events: list[Event]) -> list[tuple[str, datetime, str, str, dict[str, object]]]:
    return [(e.id, e.time, e.actor, e.kind, e.data) for e in events]


@pytest.fixture
def source(tmp_path: Path) -> Journal:
    """Three incidents as responders leave them: a legacy one without ids, and two with notes and changes."""
    (tmp_path / "from" / "INC-2025-001").mkdir(parents=True)
    legacy = OLD_TIMELINE.read_bytes().splitlines(keepends=True)[:9]  # the tenth line declares another incident
    (tmp_path / "from" / "INC-2025-001" / "timeline.jsonl").write_bytes(b"".join(legacy))
    journal = Journal(tmp_path / "from", clock=Clock(), actor="alice")
    first = journal.declare(Declaration(title="Checkout down", severity="P1", components=("gateway",))).id
    journal.append(first, "note", {"text": "line one\nline two\t\x1b]0;title\x07 ✓ \u202e"})
    journal.append(first, "acknowledged", {})
    journal.append(first, "status_changed", {"from": "investigating", "to": "identified"})
    second = journal.declare(Declaration(title="Search slow", severity="P3")).id
    journal.append(second, "note", {"text": "x" * 50_000})
    return journal


@pytest.fixture
def database(journal_dsn: str) -> Iterator[PostgresJournal]:
    store = team(journal_dsn)
    yield store
    store.close()


def test_folder_to_postgres_to_folder_gives_back_the_same_events_in_the_same_order(
    source: Journal, database: PostgresJournal, tmp_path: Path
) -> None:
    up = copy_journal(source, database)
    back = Journal(tmp_path / "back", clock=Clock(), actor="carol")
    down = copy_journal(database, back)

    ids = ["INC-2025-001", "INC-2026-001", "INC-2026-002"]
    assert [i.id for i in up.incidents] == ids
    assert [i.id for i in down.incidents] == ids
    assert up.exit_code is ExitCode.OK
    assert down.exit_code is ExitCode.OK
    for incident_id in ids:
        original = shape(source.timeline(incident_id))
        assert shape(database.timeline(incident_id)) == original
        assert shape(back.timeline(incident_id)) == original
        assert back.get(incident_id) == source.get(incident_id)
    assert up.copied == down.copied == sum(len(source.timeline(i)) for i in ids)


def test_copying_twice_copies_nothing_the_second_time(source: Journal, database: PostgresJournal) -> None:
    copy_journal(source, database)
    again = copy_journal(source, database)

    assert {i.outcome for i in again.incidents} == {Outcome.PRESENT}
    assert again.copied == 0
    assert len(database.timeline("INC-2026-001")) == 4


def test_legacy_events_keep_their_derived_ids_in_the_database(source: Journal, database: PostgresJournal) -> None:
    copy_journal(source, database, ["INC-2025-001"])

    derived = [e.id for e in source.timeline("INC-2025-001")]
    assert len(derived) == 9
    assert [e.id for e in team(database.target.dsn).timeline("INC-2025-001")] == derived


def test_a_declaration_after_the_copy_gets_the_next_free_number(source: Journal, database: PostgresJournal) -> None:
    copy_journal(source, database)

    this_year = team(database.target.dsn, "dave", clock=lambda: datetime(2026, 5, 1, tzinfo=timezone.utc))
    declared = this_year.declare(Declaration(title="New one", severity="P2"))
    this_year.close()
    last_year = team(database.target.dsn, "dave", clock=lambda: datetime(2025, 12, 31, tzinfo=timezone.utc))
    older = last_year.declare(Declaration(title="The legacy incident's year", severity="P2"))
    last_year.close()

    assert declared.id == "INC-2026-003"
    assert older.id == "INC-2025-002"


def test_an_incident_declared_in_the_database_under_the_same_id_is_a_conflict(
    source: Journal, database: PostgresJournal
) -> None:
    laptop = team(database.target.dsn, "erin", clock=lambda: datetime(2026, 2, 1, tzinfo=timezone.utc))
    theirs = laptop.declare(Declaration(title="Someone else's incident", severity="P4"))
    laptop.close()
    assert theirs.id == "INC-2026-001"

    result = copy_journal(source, database)

    outcomes = {i.id: i.outcome for i in result.incidents}
    assert outcomes == {
        "INC-2025-001": Outcome.COPIED,
        "INC-2026-001": Outcome.CONFLICT,
        "INC-2026-002": Outcome.COPIED,
    }
    assert result.exit_code is ExitCode.PROBLEMS_FOUND
    assert [e.actor for e in database.timeline("INC-2026-001")] == ["erin"]  # not merged into theirs


def test_postgres_to_a_folder_that_already_has_some_of_it_adds_the_rest(
    source: Journal, database: PostgresJournal, tmp_path: Path
) -> None:
    copy_journal(source, database)
    database.append("INC-2026-001", "note", {"text": "recorded in the team journal"})

    result = copy_journal(database, source, ["INC-2026-001"])

    (item,) = result.incidents
    assert (item.outcome, item.copied, item.present) == (Outcome.COPIED, 1, 4)
    assert shape(source.timeline("INC-2026-001")) == shape(database.timeline("INC-2026-001"))


def test_a_dry_run_into_the_database_writes_nothing(source: Journal, database: PostgresJournal) -> None:
    result = copy_journal(source, database, dry_run=True)

    assert result.copied == 9 + 4 + 2
    assert database.incidents() == []


def test_an_unreachable_database_stops_the_copy_before_anything(source: Journal) -> None:
    gone = PostgresJournal(
        parse_dsn("postgresql://u:hunter2@127.0.0.1:1/nothing"), clock=Clock(), actor="a", connect_timeout=1
    )
    with pytest.raises(UnreachableError) as caught:
        copy_journal(source, gone)
    assert "hunter2" not in str(caught.value)


def test_the_team_journals_ingest_refuses_another_declaration_itself(
    source: Journal, database: PostgresJournal
) -> None:
    """What the copy checks first, the store checks again under the incident's row lock: a declaration made in
    between (another laptop drawing the same number) is still never merged into."""
    laptop = team(database.target.dsn, "erin", clock=lambda: datetime(2026, 2, 1, tzinfo=timezone.utc))
    laptop.declare(Declaration(title="Someone else's incident", severity="P4"))
    laptop.close()

    with pytest.raises(IngestConflictError, match="is another incident"):
        database.ingest("INC-2026-001", source.timeline("INC-2026-001"))
    assert [e.actor for e in database.timeline("INC-2026-001")] == ["erin"]
    assert database.ingest("INC-2026-001", database.timeline("INC-2026-001")) == 0  # its own events: nothing new


def test_a_server_that_goes_away_mid_copy_stops_it_and_the_next_run_writes_each_event_once(
    source: Journal, own_postgres_server: pgserver.PostgresServer
) -> None:
    dsn = own_postgres_server.create_database()
    with psycopg.connect(dsn, autocommit=True) as conn:
        migrate(conn, applied_by="tests")
    store = team(dsn)

    def stop_after_the_first(item: IncidentCopy) -> None:
        if item.id == "INC-2025-001":
            own_postgres_server.stop(mode="immediate")

    with pytest.raises(UnreachableError):
        copy_journal(source, store, on_incident=stop_after_the_first)
    own_postgres_server.start()
    resumed = copy_journal(source, team(dsn))

    assert [(i.id, i.outcome) for i in resumed.incidents] == [
        ("INC-2025-001", Outcome.PRESENT),
        ("INC-2026-001", Outcome.COPIED),
        ("INC-2026-002", Outcome.COPIED),
    ]
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT count(*), count(DISTINCT event_id) FROM incidentctl.events").fetchone()
    assert row == (15, 15)


class DeclaredMeanwhile(PostgresJournal):
    """The team journal, with another laptop declaring the next number just before each ingest is written."""

    def ingest(self, incident_id: str, events: Sequence[Event]) -> int:
        other = team(self.target.dsn, "erin", clock=lambda: datetime(2026, 2, 1, tzinfo=timezone.utc))
        other.declare(Declaration(title="Declared while the copy looked", severity="P4"))
        other.close()
        return super().ingest(incident_id, events)


def test_an_incident_declared_between_the_copys_look_and_its_write_is_a_conflict(
    source: Journal, journal_dsn: str
) -> None:
    racing = DeclaredMeanwhile(parse_dsn(journal_dsn), clock=Clock(), actor="bob")

    (item,) = copy_journal(source, racing, ["INC-2026-001"]).incidents
    racing.close()

    assert (item.outcome, item.copied) == (Outcome.CONFLICT, 0)
    assert [e.actor for e in team(journal_dsn).timeline("INC-2026-001")] == ["erin"]


def test_events_the_database_holds_under_another_incident_are_named_not_counted(
    source: Journal, database: PostgresJournal, tmp_path: Path
) -> None:
    copy_journal(source, database, ["INC-2026-002"])
    renamed = tmp_path / "renamed"  # the same folder copied under another number (a hand-made "copy")
    (renamed / "INC-2026-009").mkdir(parents=True)
    lines = (tmp_path / "from" / "INC-2026-002" / "timeline.jsonl").read_bytes().splitlines(keepends=True)
    declared = json.loads(lines[0])
    declared["id"], declared["data"]["id"] = "a-new-declaration", "INC-2026-009"
    text = json.dumps(declared).encode() + b"\n" + b"".join(lines[1:])
    (renamed / "INC-2026-009" / "timeline.jsonl").write_bytes(text)

    (item,) = copy_journal(Journal(renamed, clock=Clock(), actor="a"), database).incidents

    assert (item.outcome, item.copied) == (Outcome.DAMAGED, 1)
    assert [p.problem for p in item.problems] == [
        f"1 event is recorded under another incident in {database.location} (the same event ids), so not copied here"
    ]
