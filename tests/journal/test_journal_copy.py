"""Copying incidents between journals: the folder journal's ``ingest``, and ``copy_journal`` between two folders.

The same copy against the real PostgreSQL server is in test_journal_copy_postgres.py; here both sides are folder
journals, which is enough to pin down what the copy itself decides (it never knows which backend it talks to).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from incidentctl.core.incident import Declaration, Event, new_event_id
from incidentctl.errors import JournalError, NotFoundError
from incidentctl.exitcodes import ExitCode
from incidentctl.journal.base import IngestConflictError
from incidentctl.journal.copy import Outcome, copy_journal
from incidentctl.journal.records import legacy_event_id
from incidentctl.journal.store import Journal

T0 = datetime(2026, 3, 14, 14, 30, tzinfo=timezone.utc)
OLD_TIMELINE = Path(__file__).parent / "data" / "timeline-v0.1.jsonl"


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def folder(path: Path, actor: str = "alice") -> Journal:
    return Journal(path, clock=Clock(), actor=actor)


def declare(journal: Journal, title: str = "Database connection failure") -> str:
    return journal.declare(Declaration(title=title, severity="P1", components=("gateway",))).id


def shape(events: list[Event]) -> list[tuple[str, datetime, str, str, dict[str, object]]]:
    """What a copy must keep of each event, in order (the id is not part of Event's equality, so it is named)."""
    return [(e.id, e.time, e.actor, e.kind, e.data) for e in events]


#: The v0.1 file's own incident: its first nine lines (the tenth declares another incident).
LEGACY_LINES = OLD_TIMELINE.read_bytes().splitlines(keepends=True)[:9]


def legacy_journal(root: Path) -> Journal:
    """A journal written before events had ids, as incidentctl 0.1 left it."""
    (root / "INC-2025-001").mkdir(parents=True)
    (root / "INC-2025-001" / "timeline.jsonl").write_bytes(b"".join(LEGACY_LINES))
    return folder(root)


@pytest.fixture
def source(tmp_path: Path) -> Journal:
    journal = folder(tmp_path / "from")
    first = declare(journal)
    journal.append(first, "note", {"text": "pool exhausted\nsecond line \x1b[31mred\x1b[0m ünïcødé"})
    journal.append(first, "acknowledged", {})
    second = declare(journal, "Checkout slow")
    journal.append(second, "note", {"text": "looking"})
    return journal


def test_a_copy_keeps_every_event_id_time_actor_kind_and_data_in_order(source: Journal, tmp_path: Path) -> None:
    target = folder(tmp_path / "to", actor="bob")
    result = copy_journal(source, target)

    assert [(i.id, i.outcome, i.copied) for i in result.incidents] == [
        ("INC-2026-001", Outcome.COPIED, 3),
        ("INC-2026-002", Outcome.COPIED, 2),
    ]
    assert result.exit_code is ExitCode.OK
    for incident_id in ("INC-2026-001", "INC-2026-002"):
        assert shape(target.timeline(incident_id)) == shape(source.timeline(incident_id))
        assert target.get(incident_id) == source.get(incident_id)  # the snapshot folds to the same state
    assert "alice" in (tmp_path / "to" / "INC-2026-001" / "incident.yaml").read_text(encoding="utf-8")


def test_copying_twice_writes_once(source: Journal, tmp_path: Path) -> None:
    target = folder(tmp_path / "to")
    copy_journal(source, target)
    before = (tmp_path / "to" / "INC-2026-001" / "timeline.jsonl").read_bytes()

    again = copy_journal(source, target)

    assert [(i.outcome, i.copied, i.present) for i in again.incidents] == [
        (Outcome.PRESENT, 0, 3),
        (Outcome.PRESENT, 0, 2),
    ]
    assert (tmp_path / "to" / "INC-2026-001" / "timeline.jsonl").read_bytes() == before


def test_events_added_after_a_copy_are_all_the_next_copy_writes(source: Journal, tmp_path: Path) -> None:
    target = folder(tmp_path / "to")
    copy_journal(source, target)
    source.append("INC-2026-001", "note", {"text": "later"})

    again = copy_journal(source, target, ["inc-2026-1"])

    assert [(i.id, i.outcome, i.copied, i.present) for i in again.incidents] == [("INC-2026-001", Outcome.COPIED, 1, 3)]
    assert shape(target.timeline("INC-2026-001")) == shape(source.timeline("INC-2026-001"))


def test_a_dry_run_counts_and_writes_nothing(source: Journal, tmp_path: Path) -> None:
    result = copy_journal(source, folder(tmp_path / "to"), dry_run=True)

    assert [(i.outcome, i.copied) for i in result.incidents] == [(Outcome.COPIED, 3), (Outcome.COPIED, 2)]
    assert result.copied == 5
    assert not (tmp_path / "to").exists()


def test_a_named_incident_the_source_lacks_copies_nothing(source: Journal, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="INC-2026-009 is not in"):
        copy_journal(source, folder(tmp_path / "to"), ["INC-2026-001", "INC-2026-009"])
    assert not (tmp_path / "to").exists()


def test_another_incident_under_the_same_id_is_a_conflict_and_the_others_are_copied(
    source: Journal, tmp_path: Path
) -> None:
    target = folder(tmp_path / "to", actor="carol")
    declare(target, "Something else entirely")  # INC-2026-001 there is not the source's INC-2026-001
    mine = (tmp_path / "to" / "INC-2026-001" / "timeline.jsonl").read_bytes()

    result = copy_journal(source, target)

    conflict, copied = result.incidents
    assert conflict.outcome is Outcome.CONFLICT
    assert conflict.copied == 0
    assert conflict.reason is not None
    assert "another incident" in conflict.reason
    assert (tmp_path / "to" / "INC-2026-001" / "timeline.jsonl").read_bytes() == mine
    assert (copied.id, copied.outcome, copied.copied) == ("INC-2026-002", Outcome.COPIED, 2)
    assert result.exit_code is ExitCode.PROBLEMS_FOUND


def test_a_damaged_incident_gives_its_readable_events_and_names_each_damaged_line(
    source: Journal, tmp_path: Path
) -> None:
    path = tmp_path / "from" / "INC-2026-001" / "timeline.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    lines.insert(2, b'{"time": "not a time", "actor": "x", "kind": "note", "data": {}}\n')
    lines.insert(3, b"<<<<<<< HEAD\n")
    path.write_bytes(b"".join(lines))
    damaged_source = folder(tmp_path / "from")
    target = folder(tmp_path / "to")

    result = copy_journal(damaged_source, target, ["INC-2026-001"])

    (item,) = result.incidents
    assert (item.outcome, item.events, item.copied) == (Outcome.DAMAGED, 3, 3)
    assert [p.where for p in item.problems] == ["INC-2026-001/timeline.jsonl:3", "INC-2026-001/timeline.jsonl:4"]
    assert shape(target.timeline("INC-2026-001")) == shape(source.timeline("INC-2026-001"))
    assert result.exit_code is ExitCode.PROBLEMS_FOUND
    assert not target.get("INC-2026-001").damaged  # the copy holds what could be read, and nothing made up


def test_a_torn_last_line_is_not_copied(source: Journal, tmp_path: Path) -> None:
    with (tmp_path / "from" / "INC-2026-002" / "timeline.jsonl").open("ab") as handle:
        handle.write(b'{"id":"x","time":"2026-03-14T15:00:00Z","actor":"al')  # a crash mid-write
    target = folder(tmp_path / "to")

    result = copy_journal(folder(tmp_path / "from"), target, ["INC-2026-002"])

    assert [(i.outcome, i.copied) for i in result.incidents] == [(Outcome.COPIED, 2)]
    assert [e.kind for e in target.timeline("INC-2026-002")] == ["declared", "note"]


def test_an_incident_whose_declaration_is_lost_is_not_created_elsewhere(source: Journal, tmp_path: Path) -> None:
    path = tmp_path / "from" / "INC-2026-001" / "timeline.jsonl"
    first, *rest = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"\0" * len(first) + b"\n" + b"".join(rest))  # the declaration zeroed by a crash
    target = folder(tmp_path / "to")

    result = copy_journal(folder(tmp_path / "from"), target, ["INC-2026-001"])

    (item,) = result.incidents
    assert (item.outcome, item.copied) == (Outcome.DAMAGED, 0)
    assert item.reason is not None
    assert "declaration cannot be read" in item.reason
    assert target.ids() == []


def test_legacy_lines_get_their_derived_ids_and_a_second_copy_skips_them(tmp_path: Path) -> None:
    source = legacy_journal(tmp_path / "old")
    target = folder(tmp_path / "to")

    copy_journal(source, target)
    again = copy_journal(legacy_journal(tmp_path / "old2"), target)

    raw = [line.rstrip(b"\n") for line in LEGACY_LINES]
    expected = [legacy_event_id("INC-2025-001", n, line) for n, line in enumerate(raw, 1)]
    assert [e.id for e in target.timeline("INC-2025-001")] == expected
    written = [
        json.loads(line) for line in (tmp_path / "to" / "INC-2025-001" / "timeline.jsonl").read_text().splitlines()
    ]
    assert [line["id"] for line in written] == expected  # the copy writes the ids down
    assert [(i.outcome, i.copied) for i in again.incidents] == [(Outcome.PRESENT, 0)]


def test_a_second_declaration_inside_a_timeline_is_copied_as_it_stands_and_named(tmp_path: Path) -> None:
    (tmp_path / "old" / "INC-2025-001").mkdir(parents=True)
    (tmp_path / "old" / "INC-2025-001" / "timeline.jsonl").write_bytes(OLD_TIMELINE.read_bytes())
    source = folder(tmp_path / "old")
    target = folder(tmp_path / "to")

    (item,) = copy_journal(source, target).incidents

    assert (item.outcome, item.copied) == (Outcome.DAMAGED, len(source.timeline("INC-2025-001")))
    assert [p.where for p in item.problems] == ["INC-2025-001/timeline.jsonl:10"]
    assert shape(target.timeline("INC-2025-001")) == shape(source.timeline("INC-2025-001"))
    assert [p.problem for p in target.get("INC-2025-001").problems] == [p.problem for p in item.problems]


def test_an_event_the_format_cannot_hold_stays_behind_and_is_named(source: Journal, tmp_path: Path) -> None:
    with (tmp_path / "from" / "INC-2026-002" / "timeline.jsonl").open("ab") as handle:
        line = {"id": "e-future", "time": "2026-03-14T15:00:00Z", "actor": "a", "kind": "from_the_future", "data": {}}
        handle.write(json.dumps(line).encode() + b"\n")
    target = folder(tmp_path / "to")

    (item,) = copy_journal(folder(tmp_path / "from"), target, ["INC-2026-002"]).incidents

    assert (item.outcome, item.copied) == (Outcome.DAMAGED, 2)
    assert [p.where for p in item.problems] == ["INC-2026-002 event e-future"]
    assert "from_the_future" in item.problems[0].problem


# --- the folder journal's ingest ----------------------------------------------------------------------------------


def test_ingest_claims_the_incident_and_the_next_declaration_gets_the_next_number(
    source: Journal, tmp_path: Path
) -> None:
    target = folder(tmp_path / "to")
    events = source.timeline("INC-2026-002")
    renumbered = [
        Event(e.time, e.actor, e.kind, {**e.data, "id": "INC-2026-007"} if e.kind == "declared" else e.data, id=e.id)
        for e in events
    ]

    assert target.ingest("INC-2026-007", renumbered) == 2
    assert target.ingest("INC-2026-007", renumbered) == 0

    assert declare(target) == "INC-2026-008"
    assert (tmp_path / "to" / ".gitignore").is_file()


def test_ingest_refuses_an_incident_without_its_declaration_and_leaves_nothing(source: Journal, tmp_path: Path) -> None:
    target = folder(tmp_path / "to")
    notes = source.timeline("INC-2026-001")[1:]

    with pytest.raises(JournalError, match="do not declare it"):
        target.ingest("INC-2026-001", notes)
    assert target.ids() == []
    assert not (tmp_path / "to" / "INC-2026-001").exists()


def test_ingest_refuses_another_declaration_under_the_incidents_lock(source: Journal, tmp_path: Path) -> None:
    target = folder(tmp_path / "to")
    declare(target, "Another one")

    with pytest.raises(IngestConflictError, match="another incident"):
        target.ingest("INC-2026-001", source.timeline("INC-2026-001"))
    assert len(target.timeline("INC-2026-001")) == 1


def test_ingest_refuses_an_empty_incident_folder(source: Journal, tmp_path: Path) -> None:
    (tmp_path / "to" / "INC-2026-001").mkdir(parents=True)  # a declaration in progress elsewhere
    target = folder(tmp_path / "to")

    with pytest.raises(JournalError, match="holds no record") as caught:
        target.ingest("INC-2026-001", source.timeline("INC-2026-001"))
    assert caught.value.hint is not None
    assert "remove the empty folder" in caught.value.hint
    assert list((tmp_path / "to" / "INC-2026-001").iterdir()) == []


def test_ingest_writes_beside_the_evidence_a_team_journal_keeps_in_the_folder(source: Journal, tmp_path: Path) -> None:
    evidence = tmp_path / "to" / "INC-2026-001" / "evidence" / "pods.json"
    evidence.parent.mkdir(parents=True)
    evidence.write_text("{}", encoding="utf-8")
    target = folder(tmp_path / "to")

    assert target.ingest("INC-2026-001", source.timeline("INC-2026-001")) == 3

    assert shape(target.timeline("INC-2026-001")) == shape(source.timeline("INC-2026-001"))
    assert evidence.read_text(encoding="utf-8") == "{}"


def test_ingest_closes_off_a_torn_last_line_first(source: Journal, tmp_path: Path) -> None:
    target = folder(tmp_path / "to")
    events = source.timeline("INC-2026-001")
    target.ingest("INC-2026-001", events[:1])
    path = tmp_path / "to" / "INC-2026-001" / "timeline.jsonl"
    with path.open("ab") as handle:
        handle.write(b'{"time":"2026-')

    assert target.ingest("INC-2026-001", events) == 2

    kinds = [e.kind for e in target.timeline("INC-2026-001")]
    assert kinds == ["declared", "journal_repaired", "note", "acknowledged"]
    assert not target.get("INC-2026-001").damaged
    assert any("closed off a torn last line" in w for w in target.drain_warnings())


def test_ingest_needs_every_event_id(tmp_path: Path) -> None:
    event = Event(T0, "a", "declared", {"id": "INC-2026-001", "title": "t", "severity": "P1"})
    with pytest.raises(ValueError, match="keep their ids"):
        folder(tmp_path).ingest("INC-2026-001", [event])


def test_ingest_writes_all_of_a_long_history_in_one_piece(source: Journal, tmp_path: Path) -> None:
    events = source.timeline("INC-2026-001")
    many = [
        *events,
        *(Event(T0 + timedelta(minutes=i), "bot", "note", {"text": f"n{i}"}, id=new_event_id()) for i in range(2000)),
    ]
    target = folder(tmp_path / "to")

    assert target.ingest("INC-2026-001", many) == len(many)
    assert shape(target.timeline("INC-2026-001")) == shape(many)
    assert target.get("INC-2026-001").notes == 2001
