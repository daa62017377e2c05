"""The journal's contract on both backends (ids, appends, guarded appends, queries, retries), then what the folder
journal alone does with its files (the snapshot, torn and damaged lines, the folder layout)."""

from __future__ import annotations

import json
import os
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from tests.journal.conftest import Backend

from incidentctl.core.incident import Declaration, IncidentStatus, new_event_id, should_acknowledge
from incidentctl.errors import JournalError, NotFoundError, UsageError
from incidentctl.journal.base import JournalStore
from incidentctl.journal.query import IncidentQuery
from incidentctl.journal.store import Journal

T0 = datetime(2026, 3, 14, 14, 30, tzinfo=timezone.utc)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(backend: Backend, clock: Clock) -> JournalStore:
    """The store under test: the folder journal or the team journal (see tests/journal/conftest.py)."""
    return backend.open("alice", clock)


@pytest.fixture
def journal(tmp_path: Path, clock: Clock) -> Journal:
    """The folder journal alone, for the tests about its files."""
    return Journal(tmp_path / "incidents", clock=clock, actor="alice")


def declare(journal: JournalStore, title: str = "Database connection failure", severity: str = "P1") -> str:
    return journal.declare(Declaration(title=title, severity=severity, components=("gateway",))).id


def lines(journal: Journal, incident_id: str) -> list[str]:
    return (journal.directory / incident_id / "timeline.jsonl").read_text(encoding="utf-8").splitlines()


# --- the contract, on both backends ------------------------------------------------------------------------


def test_each_backend_satisfies_the_interface(store: JournalStore, backend: Backend) -> None:
    if backend.name == "folder":
        assert store.location == backend.spec
    else:
        assert store.location.startswith("postgres://127.0.0.1:")
        assert store.location.endswith("/" + backend.spec.rsplit("/", 1)[1])


def test_an_empty_journal_holds_no_incidents(store: JournalStore) -> None:
    assert store.incidents() == []


def test_ids_count_up_per_year(store: JournalStore, clock: Clock) -> None:
    assert [declare(store) for _ in range(3)] == ["INC-2026-001", "INC-2026-002", "INC-2026-003"]
    clock.now = datetime(2027, 1, 1, 0, 5, tzinfo=timezone.utc)
    assert declare(store) == "INC-2027-001"
    assert [i.id for i in store.incidents()] == ["INC-2027-001", "INC-2026-003", "INC-2026-002", "INC-2026-001"]


def test_appends_are_read_back_by_another_writer(store: JournalStore, backend: Backend, clock: Clock) -> None:
    incident_id = declare(store)
    clock.now = T0 + timedelta(minutes=3)
    result = store.append(incident_id, "note", {"text": "gateway pods restarting"})
    assert result.event is not None
    assert result.event.actor == "alice"
    assert result.incident.notes == 1
    clock.now = T0 + timedelta(minutes=20)
    store.append(incident_id, "status_changed", {"from": "investigating", "to": "resolved"})

    fresh = backend.open("bob", clock)  # another process reading it
    assert [(e.kind, e.actor, e.time) for e in fresh.timeline(incident_id)] == [
        ("declared", "alice", T0),
        ("note", "alice", T0 + timedelta(minutes=3)),
        ("status_changed", "alice", T0 + timedelta(minutes=20)),
    ]
    incident = fresh.get(incident_id)
    assert incident.status is IncidentStatus.RESOLVED
    assert incident.resolved_at == T0 + timedelta(minutes=20)
    assert incident.notes == 1
    assert store.get(incident_id) == incident


def test_append_if_records_nothing_when_told_so(store: JournalStore) -> None:
    incident_id = declare(store)
    first = store.append_if(incident_id, "acknowledged", lambda i: {} if should_acknowledge(i) else None)
    second = store.append_if(incident_id, "acknowledged", lambda i: {} if should_acknowledge(i) else None)
    assert first.event is not None
    assert second.event is None
    assert second.incident.acknowledged_at == T0
    assert [e.kind for e in store.timeline(incident_id)] == ["declared", "acknowledged"]


def test_a_refusing_decision_writes_nothing(store: JournalStore, backend: Backend) -> None:
    incident_id = declare(store)

    def refuse(_: object) -> None:
        raise UsageError("no")

    with pytest.raises(UsageError):
        store.append_if(incident_id, "note", refuse)
    assert [e.kind for e in backend.open("bob").timeline(incident_id)] == ["declared"]
    store.append(incident_id, "note", {"text": "the store still works after a refusal"})
    assert store.get(incident_id).notes == 1


def test_unknown_ids_are_not_found_with_a_hint(store: JournalStore) -> None:
    declare(store)
    with pytest.raises(NotFoundError) as caught:
        store.get("INC-2026-999")
    assert caught.value.message == "incident INC-2026-999 not found"
    assert caught.value.hint is not None
    assert "incident list" in caught.value.hint
    with pytest.raises(NotFoundError):
        store.append("INC-2026-999", "note", {"text": "x"})
    with pytest.raises(NotFoundError):
        store.timeline("INC-2026-999")
    with pytest.raises(UsageError, match="not an incident id"):
        store.get("latest")


def test_ids_are_found_however_they_are_spelled(store: JournalStore) -> None:
    incident_id = declare(store)
    assert store.get("inc-2026-1").id == incident_id
    store.append("inc-2026-001", "note", {"text": "x"})
    assert store.get(incident_id).notes == 1


def test_queries_filter_by_status_severity_and_activity(store: JournalStore, clock: Clock) -> None:
    old = declare(store, "old and resolved", "P3")
    store.append(old, "status_changed", {"to": "resolved"})
    clock.now = T0 + timedelta(days=10)
    ongoing = declare(store, "ongoing", "P1")
    recent = declare(store, "recently resolved", "P2")
    store.append(recent, "status_changed", {"to": "resolved"})
    clock.now = T0 + timedelta(days=12)

    def ids(query: IncidentQuery | None) -> list[str]:
        return [i.id for i in store.incidents(query)]

    assert ids(None) == [recent, ongoing, old]  # newest first
    assert ids(IncidentQuery(active_since=clock.now - timedelta(days=7))) == [recent, ongoing]
    assert ids(IncidentQuery(statuses=frozenset({IncidentStatus.RESOLVED}))) == [recent, old]
    assert ids(IncidentQuery(severities=frozenset({"P1", "P3"}))) == [ongoing, old]
    # an open incident is active now, however old its last event
    assert ids(IncidentQuery(active_since=clock.now - timedelta(hours=1))) == [ongoing]


def test_a_kind_a_reader_would_take_for_damage_is_never_written(store: JournalStore) -> None:
    incident_id = declare(store)
    with pytest.raises(ValueError, match="not an event kind"):
        store.append(incident_id, "Status-Changed", {})
    assert [e.kind for e in store.timeline(incident_id)] == ["declared"]


def test_the_same_event_id_twice_records_once(store: JournalStore, backend: Backend) -> None:
    """A retried append (after a lost connection, from a spool) returns the event the first one recorded."""
    incident_id = declare(store)
    event_id = new_event_id()
    first = store.append(incident_id, "note", {"text": "once"}, event_id=event_id)
    again = backend.open("bob").append(incident_id, "note", {"text": "once"}, event_id=event_id)
    assert first.event is not None
    assert again.event == first.event
    assert again.event is not None
    assert again.event.id == event_id
    assert [e.id for e in store.timeline(incident_id)][1:] == [event_id]
    assert store.get(incident_id).notes == 1


def test_ingesting_the_same_events_twice_writes_them_once(store: JournalStore, backend: Backend) -> None:
    source = backend.open("source")
    incident_id = declare(source)
    source.append(incident_id, "note", {"text": "made elsewhere"})
    events = source.timeline(incident_id)
    target = backend.another().open("copier")
    assert target.ingest(incident_id, events) == 2
    assert target.ingest(incident_id, events) == 0
    assert target.timeline(incident_id) == events
    assert [e.id for e in target.timeline(incident_id)] == [e.id for e in events]
    assert declare(target) == "INC-2026-002"  # the copied id is not handed out again


@pytest.mark.parametrize(
    "text",
    [
        "line one\nline two\r\n\ttabbed",
        "\x1b[31mred\x1b[0m and a bell\x07",
        "\u202eright-to-left override and \u200bzero width",
        "emoji \U0001f525 and \ud7ff",
        "a trailing backslash \\",
    ],
)
def test_control_characters_in_user_text_round_trip(store: JournalStore, backend: Backend, text: str) -> None:
    """The journal keeps what was said, exactly; sanitising for a terminal is the renderer's job."""
    incident_id = declare(store, title=text)
    store.append(incident_id, "note", {"text": text})
    reader = backend.open(actor=text)
    [declared, note] = reader.timeline(incident_id)
    assert declared.data["title"] == text
    assert note.data["text"] == text
    reader.append(incident_id, "note", {"text": "by a strange actor"})
    assert store.timeline(incident_id)[-1].actor == text


def test_a_nul_in_user_text_is_kept_on_both_backends(store: JournalStore, backend: Backend) -> None:
    """PostgreSQL's text refuses NUL, but the event's data is JSON, where it is the escape \\u0000."""
    incident_id = declare(store, title="nul\0inside")
    store.append(incident_id, "note", {"text": "before\0after"})
    [declared, note] = backend.open("bob").timeline(incident_id)
    assert declared.data["title"] == "nul\0inside"
    assert note.data["text"] == "before\0after"


def test_an_actor_with_a_nul_is_recorded(backend: Backend) -> None:
    """The folder journal keeps it (JSON escapes it); PostgreSQL's text column cannot hold a NUL, so the team
    journal records U+FFFD in its place rather than refusing the command."""
    store = backend.open("ali\0ce")
    incident_id = declare(store)
    [event] = backend.open("bob").timeline(incident_id)
    assert event.actor == ("ali\0ce" if backend.name == "folder" else "ali\ufffdce")


def test_a_huge_payload_is_refused_and_nothing_is_written(store: JournalStore, backend: Backend) -> None:
    incident_id = declare(store)
    with pytest.raises(UsageError, match="too large for the journal"):
        store.append(incident_id, "note", {"text": "x" * 2_000_000})
    assert [e.kind for e in backend.open("bob").timeline(incident_id)] == ["declared"]


def test_text_that_is_not_utf8_is_refused_and_nothing_is_written(store: JournalStore, backend: Backend) -> None:
    """argv decodes bytes that are not UTF-8 to lone surrogates, which neither a file nor a UTF-8 column holds."""
    incident_id = declare(store)
    with pytest.raises(UsageError, match="not valid UTF-8"):
        store.append(incident_id, "note", {"text": "bad \udcff byte"})
    assert [e.kind for e in backend.open("bob").timeline(incident_id)] == ["declared"]
    assert [i.id for i in store.incidents()] == [incident_id]


# --- the folder journal's files -----------------------------------------------------------------------------


def test_a_missing_journal_directory_holds_no_incidents(journal: Journal) -> None:
    assert not journal.directory.exists()
    assert journal.incidents() == []
    assert journal.ids() == []


def test_ids_grow_past_three_digits(journal: Journal) -> None:
    journal.directory.mkdir(parents=True)
    (journal.directory / "INC-2026-999").mkdir()
    assert declare(journal) == "INC-2026-1000"


def test_a_folder_claimed_by_another_writer_is_skipped(journal: Journal) -> None:
    """Another process won the mkdir for the next number but has not written its timeline yet."""
    first = declare(journal)
    (journal.directory / "INC-2026-002").mkdir()
    assert declare(journal) == "INC-2026-003"
    assert [i.id for i in journal.incidents()] == ["INC-2026-003", first]  # the empty folder is not listed


def test_a_declaration_writes_a_timeline_a_snapshot_and_a_gitignore(journal: Journal) -> None:
    incident_id = declare(journal)
    [line] = lines(journal, incident_id)
    record = json.loads(line)
    assert uuid.UUID(record.pop("id")).version == 4  # every event has an id of its own
    assert record == {
        "time": "2026-03-14T14:30:00Z",
        "actor": "alice",
        "kind": "declared",
        "data": {
            "id": incident_id,
            "title": "Database connection failure",
            "severity": "P1",
            "status": "investigating",
            "components": ["gateway"],
        },
    }
    snapshot = yaml.safe_load((journal.directory / incident_id / "incident.yaml").read_text(encoding="utf-8"))
    assert snapshot["id"] == incident_id
    assert snapshot["status"] == "investigating"
    assert "*.lock" in (journal.directory / ".gitignore").read_text(encoding="utf-8")


def test_appends_go_to_the_timeline_and_the_snapshot_follows(journal: Journal, clock: Clock) -> None:
    incident_id = declare(journal)
    clock.now = T0 + timedelta(minutes=3)
    result = journal.append(incident_id, "note", {"text": "gateway pods restarting"})
    assert result.event is not None
    assert result.event.actor == "alice"
    assert result.incident.notes == 1
    clock.now = T0 + timedelta(minutes=20)
    journal.append(incident_id, "status_changed", {"from": "investigating", "to": "resolved"})

    assert [json.loads(line)["kind"] for line in lines(journal, incident_id)] == ["declared", "note", "status_changed"]
    fresh = Journal(journal.directory, clock=clock, actor="bob")  # another process reading it
    incident = fresh.get(incident_id)
    assert incident.status is IncidentStatus.RESOLVED
    assert incident.resolved_at == T0 + timedelta(minutes=20)
    snapshot = yaml.safe_load((journal.directory / incident_id / "incident.yaml").read_text(encoding="utf-8"))
    assert snapshot["status"] == "resolved"
    assert snapshot["resolved_at"] == "2026-03-14T14:50:00Z"
    assert snapshot["notes"] == 1


def test_kinds_the_store_does_not_know_are_kept(journal: Journal) -> None:
    incident_id = declare(journal)
    newer = {"time": "2026-03-14T14:31:00Z", "actor": "bot", "kind": "mitigation", "data": {"revision": 41}}
    with (journal.directory / incident_id / "timeline.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(newer) + "\n")  # written by a newer incidentctl: this one refuses to append it
    assert [e.kind for e in journal.timeline(incident_id)] == ["declared", "mitigation"]
    assert journal.timeline(incident_id)[1].data["revision"] == 41


def test_a_torn_last_line_is_skipped_with_a_warning(journal: Journal, clock: Clock) -> None:
    incident_id = declare(journal)
    journal.append(incident_id, "note", {"text": "first"})
    path = journal.directory / incident_id / "timeline.jsonl"
    with path.open("ab") as handle:
        handle.write(b'{"time":"2026-03-14T14:31:00Z","actor":"bob","kind":"no')  # the crash

    reader = Journal(journal.directory, clock=clock, actor="bob")
    incident = reader.get(incident_id)
    assert incident.notes == 1
    assert reader.drain_warnings() == [
        f"{incident_id}/timeline.jsonl:3: ignoring a torn last line (the write was interrupted)"
    ]
    assert reader.drain_warnings() == []  # reported once


def test_the_next_append_after_a_torn_line_lands_on_its_own_line(journal: Journal, clock: Clock) -> None:
    incident_id = declare(journal)
    path = journal.directory / incident_id / "timeline.jsonl"
    with path.open("ab") as handle:
        handle.write(b'{"time":"2026-03-14T14:31:00Z","act')

    writer = Journal(journal.directory, clock=clock, actor="bob")
    result = writer.append(incident_id, "note", {"text": "after the crash"})
    assert result.incident.notes == 1

    raw = lines(journal, incident_id)
    assert raw[1] == '{"time":"2026-03-14T14:31:00Z","act'  # kept as written: the journal is append-only
    assert json.loads(raw[2])["kind"] == "journal_repaired"
    assert json.loads(raw[2])["data"]["line"] == 2
    assert json.loads(raw[3])["data"] == {"text": "after the crash"}

    later = Journal(journal.directory, clock=clock, actor="carol")
    assert later.get(incident_id).notes == 1
    assert [e.kind for e in later.timeline(incident_id)] == ["declared", "journal_repaired", "note"]
    assert later.drain_warnings() == []  # repaired and recorded: no more warnings
    later.append(incident_id, "note", {"text": "and another"})
    assert len(lines(journal, incident_id)) == 5


def test_a_complete_last_line_missing_its_newline_still_counts(journal: Journal) -> None:
    incident_id = declare(journal)
    path = journal.directory / incident_id / "timeline.jsonl"
    with path.open("ab") as handle:
        handle.write(b'{"time":"2026-03-14T14:32:00Z","actor":"bob","kind":"note","data":{"text":"x"}}')
    assert journal.get(incident_id).notes == 1
    journal.append(incident_id, "note", {"text": "y"})
    assert [json.loads(line)["kind"] for line in lines(journal, incident_id)] == ["declared", "note", "note"]


def test_a_garbled_line_in_the_middle_is_damage_naming_file_and_line(journal: Journal, clock: Clock) -> None:
    incident_id = declare(journal)
    path = journal.directory / incident_id / "timeline.jsonl"
    with path.open("ab") as handle:
        handle.write(b"this is not json\n")
    journal.append(incident_id, "note", {"text": "fine"})  # closes it off as torn: it was the last line then
    with path.open("ab") as handle:
        handle.write(b"{oops}\n")
        handle.write(b'{"time":"2026-03-14T14:32:00Z","actor":"bob","kind":"note","data":{}}\n')

    reader = Journal(journal.directory, clock=clock, actor="x")
    incident = reader.get(incident_id)
    assert incident.notes == 2  # the readable events on both sides of the damage
    assert incident.damaged
    [problem] = incident.problems  # the repaired torn line is not damage
    assert problem.where == f"{incident_id}/timeline.jsonl:5"
    assert "not valid JSON" in problem.problem
    assert f"{incident_id}/timeline.jsonl:5: unreadable event: not valid JSON" in reader.drain_warnings()[0]


def test_a_damaged_incident_does_not_hide_the_others_in_a_list(journal: Journal) -> None:
    good = declare(journal, "good")
    bad = declare(journal, "bad")
    path = journal.directory / bad / "timeline.jsonl"
    path.write_bytes(b"garbage\n" + path.read_bytes())
    assert [(i.id, i.damaged) for i in journal.incidents()] == [(bad, True), (good, False)]
    warnings = journal.drain_warnings()
    assert warnings[0].startswith(f"{bad}/timeline.jsonl:1: unreadable event")
    assert warnings[-1].startswith(f"{bad} is damaged")


def test_a_timeline_filed_under_the_wrong_folder_is_damage(journal: Journal) -> None:
    incident_id = declare(journal)
    os.rename(journal.directory / incident_id, journal.directory / "INC-2026-007")
    incident = journal.get("INC-2026-007")
    assert incident.id == "INC-2026-007"
    assert incident.damaged
    assert "declares INC-2026-001, not INC-2026-007" in incident.problems[0].problem


def test_a_journal_path_that_is_a_file_is_a_journal_error(tmp_path: Path, clock: Clock) -> None:
    (tmp_path / "incidents").write_text("not a folder", encoding="utf-8")
    with pytest.raises(JournalError, match="is not a directory"):
        declare(Journal(tmp_path / "incidents", clock=clock, actor="alice"))


def test_a_journal_that_cannot_be_created_is_a_journal_error(tmp_path: Path, clock: Clock) -> None:
    (tmp_path / "shared").write_text("a file where a folder should be", encoding="utf-8")
    with pytest.raises(JournalError, match="cannot create the journal directory"):
        declare(Journal(tmp_path / "shared" / "incidents", clock=clock, actor="alice"))


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs POSIX permissions that apply to us")
def test_an_unwritable_journal_is_a_journal_error(journal: Journal) -> None:
    incident_id = declare(journal)
    folder = journal.directory / incident_id
    (folder / "timeline.jsonl").chmod(0o444)
    try:
        with pytest.raises(JournalError, match="cannot write"):
            journal.append(incident_id, "note", {"text": "x"})
    finally:
        (folder / "timeline.jsonl").chmod(0o644)


def test_line_numbers_hold_across_read_blocks_blank_lines_and_later_reads(journal: Journal, clock: Clock) -> None:
    """The reader scans in 1 MiB blocks and skips runs of empty lines wholesale; numbering must not drift."""
    incident_id = declare(journal)
    path = journal.directory / incident_id / "timeline.jsonl"
    note = b'{"time":"2026-03-14T14:31:00Z","actor":"bob","kind":"note","data":{"text":"%d"}}\n'
    with path.open("ab") as handle:
        handle.write(b"\n" * 700_000)  # lines 2..700001
        handle.write(note % 1)  # 700002
        handle.write(b"\n" * 400_000 + b"x" * 300_000 + b"\n")  # the damaged line straddles a block boundary
        handle.write(note % 2)
    reader = Journal(journal.directory, clock=clock, actor="x")
    incident = reader.get(incident_id)
    assert incident.notes == 2
    assert [p.where for p in incident.problems] == [f"{incident_id}/timeline.jsonl:{700_002 + 400_000 + 1}"]
    with path.open("ab") as handle:
        handle.write(b"\n\nnot json\n" + note % 3)
    again = reader.get(incident_id)  # the same reader goes on from where it stopped
    assert again.notes == 3
    assert again.problems[-1].where == f"{incident_id}/timeline.jsonl:{700_002 + 400_000 + 1 + 1 + 3}"
    assert Journal(journal.directory, clock=clock, actor="y").get(incident_id).problems == again.problems


def test_a_repair_still_being_written_is_not_mistaken_for_damage(journal: Journal, clock: Clock) -> None:
    """A reader can see an append's repair line before its newline: the torn line it names is not damage."""
    incident_id = declare(journal)
    path = journal.directory / incident_id / "timeline.jsonl"
    with path.open("ab") as handle:
        handle.write(b'{"time":"2026-03-14T14:31:00Z","act\n')
        handle.write(b'{"time":"2026-03-14T14:32:00Z","actor":"bob","kind":"journal_repaired","data":{"line":2}}')
    incident = Journal(journal.directory, clock=clock, actor="x").get(incident_id)
    assert not incident.damaged
