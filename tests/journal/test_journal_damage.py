"""A damaged journal, through the commands people run: nothing is hidden, nothing new is lost, no exit 1.

Each case damages a real incident's files the way crashes, bad merges and hand edits do, then runs every command
that reads or appends to it. The incident stays listed (marked damaged, with the ``file:line`` of each problem),
shows every event that can still be read, and keeps recording notes, acknowledgements, statuses and severities.
"""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import Invoke

GOOD = b'{"time":"2026-03-14T14:40:00Z","actor":"bob","kind":"note","data":{"text":"still readable"}}'


def line(**fields: Any) -> bytes:
    record = {"time": "2026-03-14T14:35:00Z", "actor": "bob", "kind": "note", "data": {"text": "x"}, **fields}
    return json.dumps({k: v for k, v in record.items() if v is not ...}).encode()


#: One damaged line for each way a line goes wrong; each is written between two readable events.
BAD_LINES: dict[str, bytes] = {
    "not JSON": b"this is not json",
    "a merge conflict marker": b"<<<<<<< HEAD",
    "a JSON array": b"[1, 2, 3]",
    "a JSON string": b'"a note"',
    "JSON null": b"null",
    "no time": line(time=...),
    "no actor": line(actor=...),
    "no kind": line(kind=...),
    "a time that is a number": line(time=1710427200),
    "a time that is not a time": line(time="yesterday"),
    "a time without a zone": line(time="2026-03-14T14:35:00"),
    "a time out of range": line(time="9999-12-31T23:59:59-23:59"),
    "an actor that is a number": line(actor=7),
    "a kind that is a number": line(kind=3),
    "a kind that is empty": line(kind=""),
    "a kind that is not a name": line(kind="\u001b[2Jnote"),
    "data that is a list": line(data=[1]),
    "data that is a string": line(data="text"),
    "invalid UTF-8 outside any string": b"\xff\xfe{not json}",
    "JSON nested too deeply": b"[" * 200_000,
    "a NUL-filled region": b"\0" * 4096,
    "a status that does not exist": line(kind="status_changed", data={"to": "on-fire"}),
    "a second declaration": line(kind="declared", data={"id": "INC-2026-001", "title": "again", "severity": "P1"}),
    "a severity change without a level": line(kind="severity_changed", data={}),
}


def journal_of(workdir: Path) -> Path:
    return workdir / "incidents"


def declare(invoke: Invoke, title: str = "Checkout is down") -> str:
    result = invoke(["incident", "declare", "-t", title, "-s", "P2", "--component", "gateway"])
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def timeline_path(workdir: Path, incident_id: str) -> Path:
    return journal_of(workdir) / incident_id / "timeline.jsonl"


def ok(invoke: Invoke, *args: str) -> Any:
    result = invoke(list(args))
    assert result.exit_code == 0, (args, result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    return result


def as_json(invoke: Invoke, *args: str) -> Any:
    return json.loads(ok(invoke, *args, "-o", "json").stdout)["data"]


def listed(invoke: Invoke) -> dict[str, Any]:
    return {item["id"]: item for item in as_json(invoke, "incident", "list", "-A")["items"]}


def assert_keeps_working(invoke: Invoke, incident_id: str, where: str) -> None:
    """Every command that reads or appends works, names ``where``, and records what it is asked to."""
    shown = ok(invoke, "incident", "show", incident_id)
    assert where in shown.stderr
    assert "damaged" in shown.stdout.lower()

    listing = ok(invoke, "incident", "list", "-A")
    assert incident_id in listing.stdout
    assert "damaged" in listing.stdout.lower()
    assert where in listing.stderr
    item = listed(invoke)[incident_id]
    assert item["damaged"] is True
    assert where in [p["where"] for p in item["problems"]]

    ok(invoke, "incident", "note", incident_id, "written after the damage")
    ok(invoke, "incident", "ack", incident_id)
    ok(invoke, "incident", "severity", incident_id, "P1", "-m", "worse than we thought")
    ok(invoke, "incident", "status", incident_id, "monitoring")

    timeline = as_json(invoke, "incident", "timeline", incident_id)
    assert timeline["damaged"] is True
    assert where in [p["where"] for p in timeline["problems"]]
    texts = [e["data"].get("text") for e in timeline["events"] if e["kind"] == "note"]
    assert "written after the damage" in texts
    kinds = [e["kind"] for e in timeline["events"]]
    assert kinds[-2:] == ["severity_changed", "status_changed"]
    assert "acknowledged" in kinds

    incident = as_json(invoke, "incident", "show", incident_id)
    assert incident["damaged"] is True
    assert incident["severity"] == "P1"
    assert incident["status"] == "monitoring"
    assert incident["acknowledgedBy"] == "tester"
    markdown = ok(invoke, "incident", "timeline", incident_id, "-o", "markdown")
    assert "written after the damage" in markdown.stdout


@pytest.mark.parametrize("bad", list(BAD_LINES.values()), ids=list(BAD_LINES))
def test_a_damaged_line_in_the_middle_leaves_the_incident_usable(invoke: Invoke, workdir: Path, bad: bytes) -> None:
    incident_id = declare(invoke)
    ok(invoke, "incident", "note", incident_id, "before the damage")
    with timeline_path(workdir, incident_id).open("ab") as handle:
        handle.write(bad + b"\n" + GOOD + b"\n")
    where = f"{incident_id}/timeline.jsonl:3"

    timeline = as_json(invoke, "incident", "timeline", incident_id)
    notes = [e["data"]["text"] for e in timeline["events"] if e["kind"] == "note"]
    assert notes[0] == "before the damage"  # every readable event
    assert notes[-1] == "still readable"
    assert timeline["events"][0]["kind"] == "declared"
    incident = as_json(invoke, "incident", "show", incident_id)
    assert incident["title"] == "Checkout is down"  # folded from the readable events
    assert incident["stateFrom"] == "timeline"
    assert_keeps_working(invoke, incident_id, where)


def test_an_unreadable_declaration_still_lists_the_incident_from_its_snapshot(invoke: Invoke, workdir: Path) -> None:
    incident_id = declare(invoke)
    ok(invoke, "incident", "note", incident_id, "before the damage")
    path = timeline_path(workdir, incident_id)
    raw = path.read_bytes()
    path.write_bytes(b"\0" * 200 + raw[raw.index(b"\n") :])  # the declaration zeroed out

    incident = as_json(invoke, "incident", "show", incident_id)
    assert incident["stateFrom"] == "snapshot"
    assert incident["title"] == "Checkout is down"
    assert_keeps_working(invoke, incident_id, f"{incident_id}/timeline.jsonl:1")


def test_an_unreadable_declaration_without_a_snapshot_is_rebuilt_from_the_readable_events(
    invoke: Invoke, workdir: Path
) -> None:
    incident_id = declare(invoke)
    ok(invoke, "incident", "ack", incident_id)
    folder = journal_of(workdir) / incident_id
    (folder / "incident.yaml").unlink()
    raw = (folder / "timeline.jsonl").read_bytes()
    (folder / "timeline.jsonl").write_bytes(b"garbage" + raw[raw.index(b"\n") :])

    incident = as_json(invoke, "incident", "show", incident_id)
    assert incident["stateFrom"] == "events"
    assert incident["status"] == "investigating"  # unknown counts as open: never hidden among the resolved
    assert incident["acknowledgedBy"] == "tester"  # the readable events still count
    assert_keeps_working(invoke, incident_id, f"{incident_id}/timeline.jsonl:1")


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda folder: (folder / "timeline.jsonl").unlink(), id="a deleted timeline"),
        pytest.param(lambda folder: (folder / "timeline.jsonl").write_bytes(b""), id="an empty timeline"),
        pytest.param(lambda folder: (folder / "timeline.jsonl").write_bytes(b"\0" * 8192), id="a zeroed timeline"),
    ],
)
def test_a_lost_timeline_falls_back_to_the_snapshot_and_says_so(
    invoke: Invoke, workdir: Path, damage: Callable[[Path], None]
) -> None:
    incident_id = declare(invoke)
    ok(invoke, "incident", "note", incident_id, "before the loss")
    damage(journal_of(workdir) / incident_id)

    listing = ok(invoke, "incident", "list", "-A")
    assert incident_id in listing.stdout
    assert "incident.yaml" in listing.stderr
    incident = as_json(invoke, "incident", "show", incident_id)
    assert incident["stateFrom"] == "snapshot"
    assert incident["title"] == "Checkout is down"
    assert incident["notes"] == 1
    assert_keeps_working(invoke, incident_id, f"{incident_id}/timeline.jsonl")
    assert as_json(invoke, "incident", "show", incident_id)["notes"] == 2  # the snapshot kept counting


@pytest.mark.parametrize(
    "snapshot",
    [b"", b"id: [unclosed\n", b"- a list\n", b"title: t\nstatus: on-fire\n", b"\xff\xfe\0\0"],
    ids=["empty", "not YAML", "not a mapping", "not an incident", "not text"],
)
def test_a_lost_timeline_and_a_bad_snapshot_still_list_the_incident(
    invoke: Invoke, workdir: Path, snapshot: bytes
) -> None:
    incident_id = declare(invoke)
    folder = journal_of(workdir) / incident_id
    (folder / "timeline.jsonl").unlink()
    (folder / "incident.yaml").write_bytes(snapshot)

    item = listed(invoke)[incident_id]
    assert item["damaged"] is True
    assert item["stateFrom"] == "events"
    assert {p["where"] for p in item["problems"]} >= {f"{incident_id}/timeline.jsonl", f"{incident_id}/incident.yaml"}
    assert_keeps_working(invoke, incident_id, f"{incident_id}/incident.yaml")


@pytest.mark.parametrize("snapshot", [None, b"id: [unclosed\n", b"\0" * 64], ids=["missing", "not YAML", "zeroed"])
def test_a_missing_or_corrupt_snapshot_beside_a_good_timeline_is_no_damage(
    invoke: Invoke, workdir: Path, snapshot: bytes | None
) -> None:
    """incident.yaml is derived; the timeline is the record, and the next append writes the snapshot again."""
    incident_id = declare(invoke)
    path = journal_of(workdir) / incident_id / "incident.yaml"
    if snapshot is None:
        path.unlink()
    else:
        path.write_bytes(snapshot)
    shown = ok(invoke, "incident", "show", incident_id)
    assert shown.stderr == ""
    assert as_json(invoke, "incident", "show", incident_id)["damaged"] is False
    ok(invoke, "incident", "note", incident_id, "rewrites the snapshot")
    assert "title: Checkout is down" in path.read_text(encoding="utf-8")


def test_an_empty_timeline_without_a_snapshot_is_listed_as_damaged(invoke: Invoke, workdir: Path) -> None:
    incident_id = declare(invoke)
    folder = journal_of(workdir) / incident_id
    (folder / "incident.yaml").unlink()
    (folder / "timeline.jsonl").write_bytes(b"")
    item = listed(invoke)[incident_id]
    assert item["damaged"] is True
    assert_keeps_working(invoke, incident_id, f"{incident_id}/timeline.jsonl")


def test_a_timeline_filed_under_another_id_is_shown_under_its_folder(invoke: Invoke, workdir: Path) -> None:
    incident_id = declare(invoke)
    (journal_of(workdir) / incident_id).rename(journal_of(workdir) / "INC-2026-007")
    item = listed(invoke)["INC-2026-007"]
    assert item["damaged"] is True
    assert "declares INC-2026-001" in item["problems"][0]["problem"]
    assert_keeps_working(invoke, "INC-2026-007", "INC-2026-007/timeline.jsonl:1")


@pytest.mark.parametrize("name", ["notes", "INC-2026-01", "inc-2026-002", "INC-2026-003.bak"])
def test_a_folder_whose_name_is_not_an_incident_id_is_reported_not_hidden(
    invoke: Invoke, workdir: Path, name: str
) -> None:
    good = declare(invoke)
    stray = journal_of(workdir) / name
    stray.mkdir()
    (stray / "timeline.jsonl").write_bytes(timeline_path(workdir, good).read_bytes())
    listing = ok(invoke, "incident", "list", "-A")
    assert good in listing.stdout
    assert f"{name}: not an incident id" in listing.stderr
    assert [good] == list(listed(invoke))


def test_a_torn_last_line_is_still_skipped_and_repaired_not_damage(invoke: Invoke, workdir: Path) -> None:
    incident_id = declare(invoke)
    with timeline_path(workdir, incident_id).open("ab") as handle:
        handle.write(b'{"time":"2026-03-14T14:31:00Z","actor":"bob","ki')
    shown = ok(invoke, "incident", "show", incident_id)
    assert f"{incident_id}/timeline.jsonl:2: ignoring a torn last line" in shown.stderr
    assert as_json(invoke, "incident", "show", incident_id)["damaged"] is False
    noted = ok(invoke, "incident", "note", incident_id, "after the crash")
    assert "closed off a torn last line" in noted.stderr
    assert ok(invoke, "incident", "show", incident_id).stderr == ""
    kinds = [e["kind"] for e in as_json(invoke, "incident", "timeline", incident_id)["events"]]
    assert kinds == ["declared", "journal_repaired", "note"]


def test_a_line_of_invalid_utf8_inside_a_note_keeps_the_note_readable(invoke: Invoke, workdir: Path) -> None:
    incident_id = declare(invoke)
    with timeline_path(workdir, incident_id).open("ab") as handle:
        handle.write(b'{"time":"2026-03-14T14:35:00Z","actor":"bob","kind":"note","data":{"text":"caf\xe9 down"}}\n')
        handle.write(GOOD + b"\n")
    notes = [e["data"]["text"] for e in as_json(invoke, "incident", "timeline", incident_id)["events"][1:]]
    assert notes == ["caf\ufffd down", "still readable"]
    assert_keeps_working(invoke, incident_id, f"{incident_id}/timeline.jsonl:2")


def test_an_event_after_a_nul_region_is_recovered(invoke: Invoke, workdir: Path) -> None:
    """A crash left zeros where a write was lost, and an older writer appended straight after them."""
    incident_id = declare(invoke)
    with timeline_path(workdir, incident_id).open("ab") as handle:
        handle.write(b"\0" * 300 + GOOD + b"\n")
    notes = [e["data"]["text"] for e in as_json(invoke, "incident", "timeline", incident_id)["events"][1:]]
    assert notes == ["still readable"]
    assert_keeps_working(invoke, incident_id, f"{incident_id}/timeline.jsonl:2")


@pytest.mark.parametrize("last", [False, True], ids=["in the middle", "last, without its newline"])
def test_a_huge_line_is_not_read_into_memory(invoke: Invoke, workdir: Path, last: bool) -> None:
    incident_id = declare(invoke)
    huge = b'{"time":"2026-03-14T14:35:00Z","actor":"bob","kind":"note","data":{"text":"' + b"a" * (50 << 20)
    with timeline_path(workdir, incident_id).open("ab") as handle:
        handle.write(huge + b'"}}')
        if not last:
            handle.write(b"\n" + GOOD + b"\n")
    tracemalloc.start()
    try:
        result = invoke(["incident", "show", incident_id, "-o", "json"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.exit_code == 0, result.stderr
    assert peak < 16 << 20  # the line alone is 50 MiB
    assert f"{incident_id}/timeline.jsonl:2" in result.stderr
    if not last:
        assert_keeps_working(invoke, incident_id, f"{incident_id}/timeline.jsonl:2")
    else:
        ok(invoke, "incident", "note", incident_id, "after the crash")
        kinds = [e["kind"] for e in as_json(invoke, "incident", "timeline", incident_id)["events"]]
        assert kinds == ["declared", "journal_repaired", "note"]


def test_a_note_too_large_to_read_back_is_refused_not_written(invoke: Invoke, workdir: Path) -> None:
    incident_id = declare(invoke)
    before = timeline_path(workdir, incident_id).read_bytes()
    result = invoke(["incident", "note", incident_id, "x" * (2 << 20)])
    assert result.exit_code == 2
    assert "too large" in result.stderr
    assert timeline_path(workdir, incident_id).read_bytes() == before


def test_many_damaged_lines_are_summarised_not_printed_one_by_one(invoke: Invoke, workdir: Path) -> None:
    incident_id = declare(invoke)
    with timeline_path(workdir, incident_id).open("ab") as handle:
        handle.write(b"garbage\n" * 5000 + GOOD + b"\n")
    shown = ok(invoke, "incident", "show", incident_id)
    assert len(shown.stderr.splitlines()) < 20
    assert "more" in shown.stderr
    problems = as_json(invoke, "incident", "show", incident_id)["problems"]
    assert len(problems) < 200


def test_other_incidents_are_unaffected_by_a_damaged_one(invoke: Invoke, workdir: Path) -> None:
    good = declare(invoke, "good")
    bad = declare(invoke, "bad")
    path = timeline_path(workdir, bad)
    path.write_bytes(b"garbage\n" + path.read_bytes())
    items = listed(invoke)
    assert [items[good]["damaged"], items[bad]["damaged"]] == [False, True]
    assert ok(invoke, "incident", "show", good).stderr == ""


@pytest.mark.parametrize(
    "given",
    [
        "../../etc",
        "INC-2026-001/../x",
        "INC-2026-001/../../../../tmp/x",
        "../INC-2026-001",
        "INC-2026-001/",
        "INC-2026-001\\..\\x",
        "INC-2026-001\x00",
        "INC-2026-001\n../x",
        "/etc/passwd",
        "INC-2026-" + "9" * 300,  # a folder name too long for any file system
        "INC-2026-" + "9" * 5000,  # more digits than Python turns into an int
        "INC-\u0662\u0660\u0662\u0666-\u0661",  # Arabic-Indic digits: not an id, however int() reads them
        "INC-2026-0",
    ],
)
@pytest.mark.parametrize("command", [["show"], ["timeline"], ["note", "x"], ["ack"], ["status", "resolved"]])
def test_an_id_that_is_not_one_is_refused_before_any_file_is_touched(
    invoke: Invoke, workdir: Path, given: str, command: list[str]
) -> None:
    journal = workdir / "a" / "b" / "c" / "d" / "incidents"  # deep enough that ../ stays in view
    env = {"INCIDENTCTL_JOURNAL": str(journal)}
    assert invoke(["incident", "declare", "-t", "x", "-s", "P1"], env=env).exit_code == 0
    before = sorted(workdir.rglob("*"))
    result = invoke(["incident", command[0], given, *command[1:]], env=env)
    assert result.exit_code == 2, result.stderr
    assert "is not an incident id" in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(workdir.rglob("*")) == before  # nothing written, anywhere


def test_forgiving_spellings_still_name_the_incident(invoke: Invoke) -> None:
    incident_id = declare(invoke)
    for spelling in ("inc-2026-1", " INC-2026-001 ", "Inc-2026-0001"):
        assert as_json(invoke, "incident", "show", spelling)["id"] == incident_id


@pytest.mark.parametrize("link", ["timeline", "folder"])
def test_a_symbolic_link_in_the_journal_is_never_followed(invoke: Invoke, workdir: Path, link: str) -> None:
    """A link committed to a team's journal repository must not make an append write outside the journal."""
    incident_id = declare(invoke)
    folder = journal_of(workdir) / incident_id
    outside = workdir / "outside"
    outside.mkdir()
    if link == "timeline":
        (outside / "timeline.jsonl").write_bytes((folder / "timeline.jsonl").read_bytes())
        (folder / "timeline.jsonl").unlink()
        (folder / "timeline.jsonl").symlink_to(outside / "timeline.jsonl")
    else:
        for name in ("timeline.jsonl", "incident.yaml"):
            (outside / name).write_bytes((folder / name).read_bytes())
        for child in folder.iterdir():
            child.unlink()
        folder.rmdir()
        folder.symlink_to(outside, target_is_directory=True)
    before = {p.name: p.read_bytes() for p in outside.iterdir()}

    item = listed(invoke)[incident_id]
    assert item["damaged"] is True
    assert "symbolic link" in " ".join(p["problem"] for p in item["problems"])
    assert ok(invoke, "incident", "show", incident_id)
    refused = invoke(["incident", "note", incident_id, "must not land outside"])
    assert refused.exit_code != 0
    assert "symbolic link" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert {p.name: p.read_bytes() for p in outside.iterdir()} == before
