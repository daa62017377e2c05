"""The terminal view of ``report``: bars per severity, sparklines of the trends, user text that cannot reach the
terminal as escapes; a damaged journal is said (on stderr and in the report), never counted as if whole; and the
journal is read once per incident, however many there are."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import Invoke
from tests.report.harness import NOW, Clock, History, ago

from incidentctl.cli.state import AppState
from incidentctl.core.incident import Event
from incidentctl.journal.store import Journal


@pytest.fixture
def history(workdir: Path, invoke: Invoke) -> History:
    return History(workdir, invoke)


def test_bars_per_severity_and_a_sparkline_per_trend(history: History) -> None:
    for n in range(4):
        history.worked(ago(days=3, hours=n), severity="P2")
    history.worked(ago(days=2), severity="P1")
    out = history.run("report", "daily", "--since", "4d", "--until", "2026-03-31T12:00:00Z").stdout
    lines = out.splitlines()
    p2 = next(line for line in lines if line.strip().startswith("P2") and "█" in line)
    p1 = next(line for line in lines if line.strip().startswith("P1") and "█" in line)
    assert p2.count("█") == 20  # the largest count fills the bar
    assert p1.count("█") == 5  # a quarter of it
    assert any(line.strip().startswith("incidents") and "█" in line for line in lines)


def test_titles_reach_the_terminal_without_their_escapes(history: History) -> None:
    history.worked(ago(hours=2), title="\x1b]0;pwned\x07\x1b[2JGateway\nslow", resolve=None)
    out = history.run("report", "daily").stdout
    assert "\x1b" not in out
    assert "\x07" not in out
    assert "Gateway ⏎ slow" in out


def test_a_damaged_journal_is_said_and_the_rest_is_reported(history: History, workdir: Path) -> None:
    whole = history.worked(ago(hours=5), title="whole")
    broken = history.worked(ago(hours=3), title="broken")
    timeline = workdir / "incidents" / broken / "timeline.jsonl"
    lines = timeline.read_text().splitlines()
    timeline.write_text("\n".join([lines[0], "{not json", *lines[1:]]) + "\n")
    result = history.run("report", "daily", "-o", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)["data"]
    assert {i["incidentId"] for i in data["incidents"]} == {whole, broken}
    assert any(broken in p and ":2" in p for p in data["problems"]), data["problems"]
    assert "warning:" in result.stderr
    markdown = history.run("report", "daily", "-o", "markdown").stdout
    assert "## Data problems" in markdown


class CountingJournal(Journal):
    """The real store, counting how often each timeline is asked for."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reads: dict[str, int] = {}

    def timeline(self, incident_id: str) -> list[Event]:
        self.reads[incident_id] = self.reads.get(incident_id, 0) + 1
        return super().timeline(incident_id)


def test_each_timeline_is_read_once(history: History, workdir: Path, invoke: Invoke) -> None:
    ids = [history.worked(ago(days=n % 40, hours=n % 24), severity=("P1", "P2", "P3")[n % 3]) for n in range(60)]
    journal = CountingJournal(workdir / "incidents", clock=Clock(NOW), actor="tester")
    state = AppState(clock=Clock(NOW))
    state._journal = journal
    result = invoke(["report", "monthly", "-o", "json"], state=state)
    assert result.exit_code == 0, result.output
    assert journal.reads == dict.fromkeys(ids, 1)
