"""Tables fit the terminal without shrinking what a responder scans for: the id, severity, status, age and time.

Rendered into a string through a rich Console of a fixed width, as a terminal of that size would show them.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner, Result

from incidentctl.cli.app import app
from incidentctl.cli.state import AppState
from incidentctl.journal.store import Journal
from incidentctl.render.incidents import incident_detail, incidents_table, timeline_table

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 3, 14, 14, 30, 5, tzinfo=timezone.utc)
#: The shape of the title ``triage --declare`` writes (phases.triage.default_title: up to 120 characters).
TRIAGE_TITLE = "synthesis: 2/4 pods ready (CrashLoopBackOff); error_rate 40.8% > 10% on gateway, 3/9 pods not ready"
NAMES = {"P1": "Critical", "P2": "High", "P3": "Medium", "P4": "Low"}


class Cli:
    def __init__(self, journal_dir: Path) -> None:
        self.journal_dir = journal_dir
        self.now = T0

    def __call__(self, *args: str) -> Result:
        state = AppState(
            runbook_path=REPO / "runbook.yaml",
            env={"INCIDENTCTL_ACTOR": "alice", "INCIDENTCTL_JOURNAL": str(self.journal_dir)},
            clock=lambda: self.now,
            cwd=self.journal_dir.parent,
        )
        result = CliRunner().invoke(app, list(args), obj=state)
        assert result.exit_code == 0, (result.stdout, result.stderr)
        return result

    def journal(self) -> Journal:
        return Journal(self.journal_dir, clock=lambda: self.now, actor="alice")


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path / "incidents")


def _render(render: object, width: int) -> list[str]:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=True, color_system=None, legacy_windows=False)
    render(console)  # type: ignore[operator]
    lines = buffer.getvalue().splitlines()
    assert all(len(line) <= width for line in lines), lines
    return lines


@pytest.mark.parametrize("width", [80, 120])
def test_incident_list_keeps_id_severity_status_and_age_whole(cli: Cli, width: int) -> None:
    first = cli("incident", "declare", "-t", TRIAGE_TITLE, "-s", "P2", "--component", "synthesis,gateway").stdout
    second = cli("incident", "declare", "-t", "Checkout down", "-s", "P1").stdout
    cli.now = T0 + timedelta(hours=3, minutes=12)
    incidents = cli.journal().incidents()
    lines = _render(incidents_table(incidents, cli.now), width)
    assert lines[0].split() == ["ID", "SEVERITY", "STATUS", "TITLE", "AGE", "COMPONENTS"]
    rows = [line for line in lines if line.startswith("INC-")]
    assert [row.split()[:3] for row in rows] == [
        [second.strip(), "P1", "investigating"],
        [first.strip(), "P2", "investigating"],
    ]
    assert all("3h12m" in row for row in rows)
    start, end = lines[0].index("TITLE"), lines[0].index("AGE")
    title = " ".join(line[start:end].strip() for line in lines[lines.index(rows[1]) :])
    assert " ".join(title.split()) == TRIAGE_TITLE  # the title wraps in the room left; nothing else gives way


@pytest.mark.parametrize("width", [80, 120])
def test_timeline_and_show_keep_the_time_of_day(cli: Cli, width: int) -> None:
    incident_id = cli("incident", "declare", "-t", TRIAGE_TITLE, "-s", "P2").stdout.strip()
    cli.now = T0 + timedelta(minutes=7, seconds=12)
    cli("incident", "note", incident_id, "rolled back synthesis to revision 4; error rate falling, watching it closely")
    journal = cli.journal()
    incident, events = journal.get(incident_id), journal.timeline(incident_id)
    lines = _render(timeline_table(events, NAMES), width)
    rows = [line for line in lines if line.startswith("2026-")]
    assert [row.split()[:3] for row in rows] == [["2026-03-14", "14:30:05", "UTC"], ["2026-03-14", "14:37:17", "UTC"]]
    assert [row.split()[3:5] for row in rows] == [["alice", "declared"], ["alice", "note"]]
    detail = _render(incident_detail(incident, events, cli.now, NAMES), width)
    assert any(line.startswith("2026-03-14 14:37:17") for line in detail)


def test_a_long_title_piped_does_not_squeeze_other_rows(cli: Cli) -> None:
    long_title = "gateway 5xx " + "x" * 1500
    cli("incident", "declare", "-t", "Checkout down", "-s", "P1", "--component", "gateway")
    cli("incident", "declare", "-t", long_title, "-s", "P3")
    lines = cli("incident", "list").stdout.splitlines()
    assert len(lines) == 3  # one line a row: nothing wrapped or cut
    assert lines[1].split()[:3] == ["INC-2026-002", "P3", "investigating"]
    assert long_title in lines[1]
    assert lines[2].split() == ["INC-2026-001", "P1", "investigating", "Checkout", "down", "0s", "gateway"]


def test_markdown_has_seconds_and_dates_when_the_events_span_days(cli: Cli) -> None:
    incident_id = cli("incident", "declare", "-t", "Checkout down", "-s", "P1").stdout.strip()
    cli.now = T0 + timedelta(seconds=42)
    cli("incident", "note", incident_id, "paged the database team")
    assert cli("incident", "timeline", incident_id, "-o", "markdown").stdout.splitlines() == [
        "- 14:30:05 UTC — declared P1 Critical: Checkout down (alice)",
        "- 14:30:47 UTC — paged the database team (alice)",
    ]
    cli.now = T0 + timedelta(hours=12)
    cli("incident", "note", incident_id, "still on it")
    lines = cli("incident", "timeline", incident_id, "-o", "markdown").stdout.splitlines()
    assert lines[0] == "- 2026-03-14 14:30:05 UTC — declared P1 Critical: Checkout down (alice)"
    assert lines[2] == "- 2026-03-15 02:30:05 UTC — still on it (alice)"
