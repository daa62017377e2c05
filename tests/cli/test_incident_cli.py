"""`incidentctl incident ...` end to end, in-process, against the repository's runbook and a temporary journal."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner, Result

from incidentctl.cli.app import app
from incidentctl.cli.state import AppState

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 3, 14, 14, 30, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Cli:
    """Runs commands as one on-call engineer would, each invocation a fresh process state."""

    def __init__(self, journal_dir: Path) -> None:
        self.journal_dir = journal_dir
        self.clock = Clock()

    def __call__(self, *args: str, actor: str = "alice") -> Result:
        state = AppState(
            runbook_path=REPO / "runbook.yaml",
            env={"INCIDENTCTL_ACTOR": actor, "INCIDENTCTL_JOURNAL": str(self.journal_dir)},
            clock=self.clock,
            cwd=self.journal_dir.parent,
        )
        return CliRunner().invoke(app, list(args), obj=state)

    def ok(self, *args: str, actor: str = "alice") -> Result:
        result = self(*args, actor=actor)
        assert result.exit_code == 0, (result.stdout, result.stderr)
        return result

    def json(self, *args: str) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.ok(*args, "-o", "json").stdout)
        assert document["apiVersion"] == "incidentctl/v1"
        return document

    def declare(self, title: str = "Database connection failure", severity: str = "P1", *extra: str) -> str:
        return self.ok("incident", "declare", "--title", title, "--severity", severity, *extra).stdout.strip()


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path / "incidents")


def test_declare_prints_the_id_alone_on_stdout(cli: Cli) -> None:
    result = cli.ok(
        "incident",
        "declare",
        "--title",
        "Database connection failure",
        "--severity",
        "p1",
        "--category",
        "infrastructure/database",
        "--component",
        "gateway",
        "--component",
        "retrieval",
    )
    assert result.stdout == "INC-2026-001\n"  # so ID=$(incidentctl incident declare ...) works
    assert "declared INC-2026-001 (P1 Critical): Database connection failure" in result.stderr
    assert (cli.journal_dir / "INC-2026-001" / "timeline.jsonl").is_file()
    assert cli.declare("Second") == "INC-2026-002"


def test_declare_as_json_and_yaml_returns_the_incident(cli: Cli) -> None:
    document = cli.json(
        "incident",
        "declare",
        "-t",
        "Search is slow",
        "-s",
        "high",
        "-c",
        "application/performance",
        "--component",
        "retrieval,synthesis",
        "--started-at",
        "2026-03-14T14:05:00Z",
        "--summary",
        "p95 at 40s",
        "--commander",
        "carol",
    )
    assert document["kind"] == "Incident"
    data = document["data"]
    assert data["id"] == "INC-2026-001"
    assert data["severity"] == "P2"
    assert data["status"] == "investigating"
    assert data["category"] == "application/performance"
    assert data["components"] == ["retrieval", "synthesis"]
    assert data["startedAt"] == "2026-03-14T14:05:00Z"
    assert data["declaredAt"] == "2026-03-14T14:30:00Z"
    assert data["declaredBy"] == "alice"
    assert data["commander"] == "carol"
    assert data["summary"] == "p95 at 40s"

    document = yaml.safe_load(cli.ok("incident", "declare", "-t", "x", "-s", "P4", "-o", "yaml").stdout)
    assert document["kind"] == "Incident"
    assert document["data"]["id"] == "INC-2026-002"


def test_started_at_may_be_a_duration_ago(cli: Cli) -> None:
    data = cli.json("incident", "declare", "-t", "x", "-s", "P3", "--started-at", "20m")["data"]
    assert data["startedAt"] == "2026-03-14T14:10:00Z"


def test_an_incident_from_declaration_to_resolution(cli: Cli) -> None:
    incident_id = cli.declare("Database connection failure", "P1", "--component", "gateway")
    cli.clock.advance(minutes=2)
    assert cli.ok("incident", "ack", incident_id, actor="bob").stdout == f"{incident_id}: acknowledged\n"
    cli.clock.advance(minutes=8)
    result = cli.ok("incident", "note", incident_id, "connection", "pool", "[db-0]", "exhausted", actor="bob")
    assert result.stdout == f"{incident_id}: connection pool [db-0] exhausted\n"
    cli.clock.advance(minutes=5)
    result = cli.ok("incident", "status", incident_id, "identified", "-m", "pool size too small")
    assert result.stdout == f"{incident_id}: status investigating → identified: pool size too small\n"
    cli.clock.advance(minutes=10)
    cli.ok("incident", "severity", incident_id, "P2", "--message", "only search is affected")
    cli.clock.advance(minutes=20)
    cli.ok("incident", "status", incident_id, "RESOLVED")

    incident = cli.json("incident", "show", incident_id)["data"]
    assert incident["status"] == "resolved"
    assert incident["severity"] == "P2"
    assert incident["acknowledgedBy"] == "bob"
    assert incident["acknowledgedAt"] == "2026-03-14T14:32:00Z"
    assert incident["resolvedAt"] == "2026-03-14T15:15:00Z"
    assert incident["notes"] == 1

    timeline = cli.json("incident", "timeline", incident_id)
    assert timeline["kind"] == "Timeline"
    assert timeline["data"]["incident"] == incident_id
    ids = [event.pop("id") for event in timeline["data"]["events"]]
    assert len(set(ids)) == len(ids) == 6, "every event has an id of its own"
    assert [e["kind"] for e in timeline["data"]["events"]] == [
        "declared",
        "acknowledged",
        "note",
        "status_changed",
        "severity_changed",
        "status_changed",
    ]
    assert timeline["data"]["events"][3] == {
        "time": "2026-03-14T14:45:00Z",
        "actor": "alice",
        "kind": "status_changed",
        "data": {"from": "investigating", "to": "identified", "message": "pool size too small"},
    }

    markdown = cli.ok("incident", "timeline", incident_id, "-o", "markdown").stdout
    assert markdown == (
        "- 14:30:00 UTC — declared P1 Critical: Database connection failure (gateway) (alice)\n"
        "- 14:32:00 UTC — acknowledged (bob)\n"
        "- 14:40:00 UTC — connection pool \\[db-0\\] exhausted (bob)\n"
        "- 14:45:00 UTC — status investigating → identified: pool size too small (alice)\n"
        "- 14:55:00 UTC — severity P1 → P2: only search is affected (alice)\n"
        "- 15:15:00 UTC — status identified → resolved (alice)\n"
    )

    table = cli.ok("incident", "timeline", incident_id).stdout.splitlines()
    assert table[0].split() == ["TIME", "ACTOR", "KIND", "WHAT"]
    assert table[3].split() == [
        "2026-03-14",
        "14:40:00",
        "UTC",
        "bob",
        "note",
        "connection",
        "pool",
        "[db-0]",
        "exhausted",
    ]

    document = yaml.safe_load(cli.ok("incident", "timeline", incident_id, "-o", "yaml").stdout)
    assert len(document["data"]["events"]) == 6


def test_markdown_carries_dates_when_an_incident_spans_days(cli: Cli) -> None:
    incident_id = cli.declare()
    cli.clock.advance(hours=12)
    cli.ok("incident", "note", incident_id, "still", "on", "it")
    lines = cli.ok("incident", "timeline", incident_id, "-o", "markdown").stdout.splitlines()
    assert lines[0].startswith("- 2026-03-14 14:30:00 UTC — declared P1 Critical")
    assert lines[1] == "- 2026-03-15 02:30:00 UTC — still on it (alice)"


def test_show_as_a_table(cli: Cli) -> None:
    incident_id = cli.declare("Gateway 502s", "P2", "-c", "infrastructure/network", "--component", "gateway")
    cli.clock.advance(minutes=4)
    cli.ok("incident", "ack", incident_id)
    cli.clock.advance(minutes=30)
    out = cli.ok("incident", "show", incident_id).stdout
    rows = {line.split("  ", 1)[0]: line.split("  ", 1)[1].strip() for line in out.splitlines() if "  " in line}
    assert rows["ID"] == incident_id
    assert rows["Severity"] == "P2 High"
    assert rows["Status"] == "investigating"
    assert rows["Category"] == "infrastructure/network"
    assert rows["Acknowledged"] == "2026-03-14 14:34 UTC (30m ago) by alice, 4m after declaring"
    assert rows["Duration"] == "34m so far"
    assert "Recent events" in out


def test_list_shows_open_and_recent_incidents_newest_first(cli: Cli) -> None:
    old = cli.declare("Old outage", "P1")
    cli.ok("incident", "status", old, "resolved")
    cli.clock.advance(days=10)
    recent = cli.declare("Recently resolved", "P3", "--component", "retrieval")
    cli.ok("incident", "status", recent, "resolved")
    ongoing = cli.declare("Ongoing", "P2", "--component", "gateway,synthesis")
    cli.clock.advance(hours=3, minutes=12)

    out = cli.ok("incident", "list").stdout.splitlines()
    assert out[0].split() == ["ID", "SEVERITY", "STATUS", "TITLE", "AGE", "COMPONENTS"]
    assert out[1].split() == [ongoing, "P2", "investigating", "Ongoing", "3h12m", "gateway,synthesis"]
    assert out[2].split() == [recent, "P3", "resolved", "Recently", "resolved", "3h12m", "retrieval"]
    assert len(out) == 3  # the old resolved one is not shown by default

    def ids(*args: str) -> list[str]:
        return [i["id"] for i in cli.json("incident", "list", *args)["data"]["items"]]

    assert ids("--all") == [ongoing, recent, old]
    assert ids("--status", "resolved") == [recent, old]
    assert ids("--status", "open") == [ongoing]
    assert ids("--severity", "critical", "--all") == [old]
    assert ids("--since", "1h") == [ongoing]
    assert ids("--since", "2026-03-01") == [ongoing, recent, old]
    assert cli.json("incident", "list")["kind"] == "IncidentList"


def test_an_empty_list_says_so_on_stderr(cli: Cli) -> None:
    result = cli.ok("incident", "list")
    assert result.stdout == ""
    assert "no incidents open or active in the last 7 days" in result.stderr
    assert cli.json("incident", "list")["data"] == {"items": []}


def test_global_options_work_before_the_subcommand(cli: Cli) -> None:
    cli.declare()
    document = json.loads(cli.ok("-o", "json", "incident", "list").stdout)
    assert [i["id"] for i in document["data"]["items"]] == ["INC-2026-001"]


def test_acknowledging_twice_records_nothing_and_says_so(cli: Cli) -> None:
    incident_id = cli.declare()
    cli.clock.advance(minutes=1)
    cli.ok("incident", "ack", incident_id)
    cli.clock.advance(minutes=1)
    again = cli.ok("incident", "ack", incident_id, actor="bob")
    assert again.stdout == ""
    assert f"{incident_id} is already acknowledged (by alice at 2026-03-14 14:31 UTC); nothing recorded" in (
        again.stderr
    )
    document = cli.json("incident", "ack", incident_id)
    assert document["kind"] == "Event"
    assert document["data"]["recorded"] is False
    assert document["data"]["event"] is None
    assert document["data"]["incident"]["acknowledgedBy"] == "alice"
    assert len(cli.json("incident", "timeline", incident_id)["data"]["events"]) == 2


def test_setting_the_same_status_records_nothing(cli: Cli) -> None:
    incident_id = cli.declare()
    result = cli.ok("incident", "status", incident_id, "investigating")
    assert "is already investigating; nothing recorded" in result.stderr
    assert len(cli.json("incident", "timeline", incident_id)["data"]["events"]) == 1


def test_a_resolved_incident_can_be_reopened(cli: Cli) -> None:
    incident_id = cli.declare()
    cli.ok("incident", "status", incident_id, "resolved")
    cli.clock.advance(minutes=30)
    result = cli.ok("incident", "status", incident_id, "investigating", "-m", "errors are back")
    assert result.stdout == f"{incident_id}: reopened: status resolved → investigating: errors are back\n"
    document = cli.json("incident", "status", incident_id, "monitoring")
    assert document["kind"] == "Event"
    assert document["data"]["recorded"] is True
    assert document["data"]["event"]["data"] == {"from": "investigating", "to": "monitoring"}
    incident = document["data"]["incident"]
    assert incident["resolvedAt"] is None
    assert incident["reopened"] == 1


def test_a_note_event_as_json(cli: Cli) -> None:
    incident_id = cli.declare()
    document = cli.json("incident", "note", incident_id, "rolled back gateway to revision 41")
    assert document["kind"] == "Event"
    recorded = json.loads((cli.journal_dir / incident_id / "timeline.jsonl").read_text().splitlines()[-1])
    assert document["data"]["event"].pop("id") == recorded["id"], "the id shown is the one recorded"
    assert document["data"]["event"] == {
        "time": "2026-03-14T14:30:00Z",
        "actor": "alice",
        "kind": "note",
        "data": {"text": "rolled back gateway to revision 41"},
    }
    assert document["data"]["incident"]["notes"] == 1


def test_a_torn_last_line_is_reported_on_stderr_and_the_command_works(cli: Cli) -> None:
    incident_id = cli.declare()
    with (cli.journal_dir / incident_id / "timeline.jsonl").open("ab") as handle:
        handle.write(b'{"time":"2026-03-14T14:31:00Z","actor":"bob","ki')
    result = cli.ok("incident", "show", incident_id)
    assert f"warning: {incident_id}/timeline.jsonl:2: ignoring a torn last line (the write was interrupted)" in (
        result.stderr
    )
    noted = cli.ok("incident", "note", incident_id, "after the crash")
    assert "closed off a torn last line" in noted.stderr
    assert cli.ok("incident", "show", incident_id).stderr == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["incident", "show", "INC-2026-999"], "error: incident INC-2026-999 not found"),
        (["incident", "note", "INC-2026-999", "hello"], "error: incident INC-2026-999 not found"),
        (["incident", "ack", "INC-2026-999"], "error: incident INC-2026-999 not found"),
        (["incident", "status", "INC-2026-999", "resolved"], "error: incident INC-2026-999 not found"),
        (["incident", "timeline", "INC-2026-999"], "error: incident INC-2026-999 not found"),
        (["incident", "show", "yesterday"], "error: 'yesterday' is not an incident id (they look like INC-2026-004)"),
        (
            ["incident", "declare", "-t", "x", "-s", "P0"],
            "error: unknown severity 'P0'; the runbook defines P1 (Critical), P2 (High), P3 (Medium), P4 (Low)",
        ),
        (
            ["incident", "declare", "-t", "x", "-s", "P1", "-c", "hardware"],
            "error: unknown category 'hardware'; the runbook defines infrastructure, application, security",
        ),
        (
            ["incident", "declare", "-t", "x", "-s", "P1", "--component", "frontend"],
            "error: unknown component 'frontend'; the runbook defines gateway, retrieval, synthesis",
        ),
        (
            ["incident", "declare", "-t", " ", "-s", "P1"],
            "error: the title is empty; say in a few words what is broken",
        ),
        (
            ["incident", "declare", "-t", "x", "-s", "P1", "--started-at", "2026-03-14T15:00:00Z"],
            "error: --started-at 2026-03-14T15:00:00Z is in the future (now is 2026-03-14T14:30:00Z)",
        ),
        (
            ["incident", "declare", "-t", "x", "-s", "P1", "--started-at", "at lunch"],
            "error: --started-at 'at lunch' is not a duration",
        ),
        (["incident", "list", "--status", "closed"], "error: unknown status 'closed'"),
        (["incident", "list", "-o", "markdown"], "error: unsupported output format 'markdown' for this command"),
    ],
)
def test_mistakes_exit_2_with_one_line_and_no_traceback(cli: Cli, args: list[str], message: str) -> None:
    result = cli(*args)
    assert result.exit_code == 2, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.splitlines()[0].startswith(message)
    assert result.stdout == ""
    assert not list(cli.journal_dir.glob("INC-*"))  # nothing was declared by a refused command


def test_not_found_carries_a_hint_and_a_json_error_envelope(cli: Cli) -> None:
    result = cli("incident", "show", "INC-2026-999", "-o", "json")
    assert result.exit_code == 2
    assert "hint: 'incidentctl incident list --all' shows the ids in" in result.stderr
    document = json.loads(result.stdout)
    assert document["kind"] == "Error"
    assert document["error"]["reason"] == "NotFound"
    assert document["error"]["message"] == "incident INC-2026-999 not found"


def test_an_unknown_status_is_refused_by_the_parser(cli: Cli) -> None:
    incident_id = cli.declare()
    result = cli("incident", "status", incident_id, "fixed")
    assert result.exit_code == 2
    assert "Traceback" not in result.stdout + result.stderr
    assert "investigating" in result.stderr  # the choices are listed


def test_acknowledging_a_resolved_incident_is_refused(cli: Cli) -> None:
    incident_id = cli.declare()
    cli.ok("incident", "status", incident_id, "resolved")
    result = cli("incident", "ack", incident_id)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == f"error: {incident_id} is resolved; there is nothing left to acknowledge"
    assert f"hint: to reopen it: incidentctl incident status {incident_id} investigating" in result.stderr


def test_a_journal_in_the_way_of_a_file_is_a_journal_error(tmp_path: Path) -> None:
    (tmp_path / "incidents").write_text("not a folder", encoding="utf-8")
    result = Cli(tmp_path / "incidents")("incident", "declare", "-t", "x", "-s", "P1")
    assert result.exit_code == 2  # the user's environment to fix, not a bug
    assert result.stderr.splitlines()[0] == f"error: the journal path {tmp_path / 'incidents'} is not a directory"
    assert "Traceback" not in result.stderr
