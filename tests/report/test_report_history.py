"""``report monthly -o markdown`` over a generated quarter of incidents (``sandbox history``) is a document a
manager can be sent: its outline is the runbook's sections under a title with the period, every table keeps its
columns, long lists are cut with a count, and every Mermaid chart parses with the real Mermaid parser."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from tests.docs_check import markdown_structure, mermaid_problems, mermaid_types, require_mermaid
from tests.report.harness import Clock
from typer.testing import CliRunner, Result

from incidentctl.cli.app import app
from incidentctl.cli.state import AppState

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


def _run(root: Path, *args: str) -> Result:
    state = AppState(cwd=root, env={"INCIDENTCTL_ACTOR": "tester"}, clock=Clock(NOW))
    return CliRunner().invoke(app, list(args), obj=state)


@pytest.fixture(scope="module")
def quarter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("quarter")
    (root / "runbook.yaml").write_text((REPO / "runbook.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    made = _run(root, "sandbox", "history", "--incidents", "200", "--days", "90", "--now", "2026-12-01T12:00:00Z")
    assert made.exit_code == 0, made.output
    return root


@pytest.fixture(scope="module")
def monthly(quarter: Path) -> str:
    result = _run(quarter, "report", "monthly", "-o", "markdown")
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def quarterly(quarter: Path) -> str:
    result = _run(quarter, "report", "monthly", "--since", "2026-09-01", "--until", "2026-11-30", "-o", "markdown")
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_outline_is_a_title_with_the_period_and_the_runbooks_sections(monthly: str) -> None:
    assert markdown_structure(monthly).outline() == [
        "# Monthly incident report: 2026-11-01 to 2026-12-01",
        "## Incident analysis",
        "## SLA compliance",
        "## Improvement impact",
        "## Strategic recommendations",
    ]


def test_a_longer_period_says_its_last_day_and_trends_by_the_month(quarterly: str) -> None:
    structure = markdown_structure(quarterly)
    assert structure.outline()[0] == "# Monthly incident report: 2026-09-01 to 2026-11-30"
    sla = structure.section_tables("SLA compliance")
    assert [row[0] for row in sla[0].rows] == ["2026-09", "2026-10", "2026-11"]
    per_month = [f.content for f in structure.fences if "Incidents per month" in f.content]
    assert len(per_month) == 1
    assert 'x-axis ["2026-09", "2026-10", "2026-11"]' in per_month[0]


def test_every_table_keeps_its_columns_and_long_lists_are_cut(quarter: Path, monthly: str, quarterly: str) -> None:
    for document in (monthly, quarterly):
        structure = markdown_structure(document)
        assert structure.tables
        for table in structure.tables:
            assert all(len(row) == len(table.header) for row in table.rows), table
            assert len(table.rows) <= 31, table.header
    data = json.loads(
        _run(quarter, "report", "monthly", "--since", "2026-09-01", "--until", "2026-11-30", "-o", "json").stdout
    )
    overdue = len(data["data"]["overdueActions"])
    assert overdue > 10  # a quarter of generated incidents leaves more overdue items than a report lists
    (table,) = [t for t in markdown_structure(quarterly).tables if t.header[:2] == ["Action", "What"]]
    assert len(table.rows) == 10
    assert f"And {overdue - 10} more: incidentctl postmortem action list --overdue lists them all." in quarterly


def test_the_mermaid_charts_parse(monthly: str, quarterly: str) -> None:
    require_mermaid()
    for document in (monthly, quarterly):
        assert mermaid_problems(document) == []
        assert set(mermaid_types(document)) <= {"pie", "xychart"}
