"""`incidentctl journal copy` end to end: a folder journal into a real PostgreSQL team journal and back out."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.conftest import Invoke
from typer.testing import Result

from incidentctl.cli.state import AppState
from incidentctl.core.incident import Declaration
from incidentctl.journal.postgres.connect import parse_dsn
from incidentctl.journal.postgres.store import PostgresJournal

T0 = datetime(2026, 3, 14, 14, 30, tzinfo=timezone.utc)
PASSWORD = "s3cret-Pa55word"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=30)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def dsn(journal_dsn: str) -> str:
    """The team journal's DSN as a team writes it, with a password (the test server trusts loopback, so it is
    never asked for: it is here to be kept out of every output)."""
    return journal_dsn.replace("postgresql://postgres@", f"postgresql://postgres:{PASSWORD}@")


@pytest.fixture
def run(invoke: Invoke, clock: Clock, dsn: str) -> Invoke:
    def run(args: list[str], *, env: dict[str, str] | None = None) -> Result:
        result = invoke(args, env={"TEAM_DSN": dsn, **(env or {})}, state=AppState(clock=clock))
        for stream in (result.stdout, result.stderr):
            assert PASSWORD not in stream
            assert "Traceback" not in stream
        return result

    return run


def declare(run: Invoke, title: str) -> str:
    result = run(["incident", "declare", "--title", title, "--severity", "P2"])
    assert result.exit_code == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture
def incidents(run: Invoke, workdir: Path) -> list[str]:
    """Two incidents in the folder journal beside runbook.yaml, with notes carrying what people type."""
    first = declare(run, "Checkout returns 502")
    assert run(["incident", "note", first, "pool exhausted\n\x1b[2Jcleared? ✓"]).exit_code == 0
    assert run(["incident", "ack", first]).exit_code == 0
    second = declare(run, "Search slow")
    assert run(["incident", "note", second, "looking at retrieval"]).exit_code == 0
    return [first, second]


def timeline_bytes(journal_dir: Path, incident_id: str) -> bytes:
    return (journal_dir / incident_id / "timeline.jsonl").read_bytes()


def test_a_folder_journal_goes_into_the_team_journal_and_comes_back_byte_for_byte(
    run: Invoke, workdir: Path, incidents: list[str], tmp_path: Path
) -> None:
    up = run(["journal", "copy", "--to", "postgres", "--dsn-env", "TEAM_DSN"])

    assert up.exit_code == 0, up.stderr
    lines = up.stdout.splitlines()
    assert lines[:2] == ["INC-2026-001  copied 3 events", "INC-2026-002  copied 2 events"]
    assert lines[2].startswith(f"copied 5 events from {workdir / 'incidents'} to postgres://127.0.0.1:")

    down = run(["journal", "copy", "--to", "folder", "--dir", "export", "--dsn-env", "TEAM_DSN", "-o", "json"])

    assert down.exit_code == 0, down.stderr
    document: dict[str, Any] = json.loads(down.stdout)
    assert document["kind"] == "JournalCopy"
    assert [(i["id"], i["outcome"], i["copied"]) for i in document["data"]["incidents"]] == [
        ("INC-2026-001", "copied", 3),
        ("INC-2026-002", "copied", 2),
    ]
    assert document["data"]["destination"] == str(workdir / "export")
    for incident_id in incidents:  # every line as it was written: id, time, actor, kind and data
        assert timeline_bytes(workdir / "export", incident_id) == timeline_bytes(workdir / "incidents", incident_id)
    for path in (workdir / "export").rglob("*"):
        assert not path.is_file() or PASSWORD.encode() not in path.read_bytes()


def test_running_it_again_copies_nothing(run: Invoke, incidents: list[str]) -> None:
    assert run(["journal", "copy", "--to", "postgres", "--dsn-env", "TEAM_DSN"]).exit_code == 0

    again = run(["journal", "copy", "--to", "postgres", "--dsn-env", "TEAM_DSN", "INC-2026-002"])

    assert again.exit_code == 0, again.stderr
    assert again.stdout.splitlines()[0] == "INC-2026-002  already there (2 events)"
    assert again.stdout.splitlines()[1].startswith("copied 0 events from")


def test_a_dry_run_says_what_it_would_copy_and_writes_nothing(run: Invoke, incidents: list[str], dsn: str) -> None:
    result = run(["journal", "copy", "--to", "postgres", "--dsn-env", "TEAM_DSN", "--dry-run"])

    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == "INC-2026-001  would copy 3 events"
    assert result.stdout.splitlines()[-1].endswith("; nothing written")
    store = PostgresJournal(parse_dsn(dsn), clock=Clock(), actor="x")
    assert store.incidents() == []
    store.close()


def test_a_conflict_and_a_damaged_incident_are_reported_the_rest_copied_and_it_exits_3(
    run: Invoke, workdir: Path, incidents: list[str], dsn: str
) -> None:
    store = PostgresJournal(parse_dsn(dsn), clock=lambda: T0, actor="erin")
    store.declare(Declaration(title="Another team's incident", severity="P4"))  # INC-2026-001, not ours
    store.close()
    with (workdir / "incidents" / "INC-2026-002" / "timeline.jsonl").open("ab") as handle:
        handle.write(b"=======\n")  # a bad merge left a line behind
        handle.write(
            json.dumps(
                {
                    "id": "e9",
                    "time": "2026-03-14T16:00:00Z",
                    "actor": "bo\x1b[31mb",
                    "kind": "note",
                    "data": {"text": "after the merge"},
                }
            ).encode()
            + b"\n"
        )

    result = run(["journal", "copy", "--to", "postgres", "--dsn-env", "TEAM_DSN"])

    assert result.exit_code == 3
    out = result.stdout.splitlines()
    assert out[0].startswith("INC-2026-001  conflict: INC-2026-001 in postgres://127.0.0.1:")
    assert "is another incident" in out[0]
    assert out[1] == "INC-2026-002  damaged: copied 3 events of 3 readable"
    assert out[2] == "    INC-2026-002/timeline.jsonl:3: unreadable event: not valid JSON (Expecting value at column 1)"
    assert "copied 3 events" in out[3]
    assert out[3].endswith("(2 incidents: 1 in conflict, 1 damaged)")
    assert "\x1b" not in result.stdout

    as_json = run(["journal", "copy", "--to", "postgres", "--dsn-env", "TEAM_DSN", "-o", "json"])
    assert as_json.exit_code == 3
    data = json.loads(as_json.stdout)["data"]
    assert [(i["outcome"], i["copied"], i["present"]) for i in data["incidents"]] == [
        ("conflict", 0, 0),
        ("damaged", 0, 3),
    ]
    assert data["incidents"][1]["problems"][0]["where"] == "INC-2026-002/timeline.jsonl:3"


def test_with_a_team_journal_in_the_runbook_its_dsn_is_used_and_the_incidents_read_from_there(
    run: Invoke, workdir: Path, incidents: list[str]
) -> None:
    runbook = yaml.safe_load((workdir / "runbook.yaml").read_text(encoding="utf-8"))
    runbook["journal"] = {"backend": "postgres", "dir": "incidents", "dsn": {"env": "TEAM_DSN"}}
    (workdir / "runbook.yaml").write_text(yaml.safe_dump(runbook), encoding="utf-8")

    copied = run(["journal", "copy", "--to", "postgres"])
    shown = run(["incident", "show", "INC-2026-001", "-o", "json"])

    assert copied.exit_code == 0, copied.stderr
    assert shown.exit_code == 0, shown.stderr
    incident = json.loads(shown.stdout)["data"]
    assert (incident["title"], incident["declaredBy"], incident["status"]) == (
        "Checkout returns 502",
        "tester",
        "investigating",
    )
    assert incident["acknowledgedBy"] == "tester"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--to", "folder", "--dsn-env", "TEAM_DSN"], "--to folder needs --dir PATH"),
        (["--to", "postgres", "--dir", "x", "--dsn-env", "TEAM_DSN"], "--dir is where --to folder writes"),
        (["--to", "folder", "--dir", "x", "--from-dir", "y", "--dsn-env", "TEAM_DSN"], "--from-dir is what"),
        (["--to", "postgres", "--dsn-env", "TEAM DSN\n"], "is not an environment variable name"),
        (["--to", "postgres", "--dsn-env", "NOT_SET"], "the environment variable NOT_SET is not set"),
        (["--to", "postgres"], "the runbook's journal has no dsn"),
        (["--to", "postgres", "--from-dir", "nowhere", "--dsn-env", "TEAM_DSN"], "there is no folder journal at"),
        (["--to", "postgres", "--dsn-env", "TEAM_DSN", "INC-2026-09x"], "is not an incident id"),
        (["--to", "postgres", "--dsn-env", "TEAM_DSN", "INC-2026-009"], "INC-2026-009 is not in"),
        (["--to", "sideways", "--dsn-env", "TEAM_DSN"], "sideways"),
        (["--to", "folder", "--dir", "runbook.yaml", "--dsn-env", "TEAM_DSN"], "cannot read the journal directory"),
    ],
)
def test_a_mistake_on_the_command_line_is_one_line_and_exit_2(
    run: Invoke, incidents: list[str], args: list[str], message: str
) -> None:
    result = run(["journal", "copy", *args])

    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert message in result.stderr
    assert result.stderr.splitlines()[0].startswith("error:")
    assert len(result.stderr.strip().splitlines()) <= 2


def test_an_unreachable_team_journal_is_exit_4_without_the_password(run: Invoke, incidents: list[str]) -> None:
    away = f"postgresql://postgres:{PASSWORD}@127.0.0.1:1/journal"

    result = run(["journal", "copy", "--to", "postgres", "--dsn-env", "AWAY", "-o", "json"], env={"AWAY": away})

    assert result.exit_code == 4
    assert result.stderr.startswith("error: cannot reach the team journal at postgres://127.0.0.1:1/journal")
    assert json.loads(result.stdout)["error"]["exitCode"] == 4


def test_a_dsn_that_is_not_one_is_never_echoed(run: Invoke, incidents: list[str]) -> None:
    result = run(["journal", "copy", "--to", "postgres", "--dsn-env", "BAD"], env={"BAD": f"host='{PASSWORD}"})

    assert result.exit_code == 2
    assert "is not a PostgreSQL connection string" in result.stderr
