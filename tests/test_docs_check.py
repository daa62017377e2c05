"""The document checks other tests lean on: the real Mermaid parser says yes to the charts reports draw (gantt,
xychart-beta, pie) and no, with the parser's words and the block's line, to broken ones; markdown_structure
reads a document's headings, tables and fenced blocks."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tests.docs_check import MERMAID_DIR, markdown_structure, mermaid_problems, mermaid_types

GANTT = """\
gantt
    title INC-2026-004 timeline
    dateFormat YYYY-MM-DDTHH:mm:ssZ
    axisFormat %H:%M
    section Impact
    Impact (started -> mitigated) :crit, impact, 2026-03-14T14:05:00Z, 2026-03-14T14:52:00Z
    section Response
    Detected     :milestone, m1, 2026-03-14T14:12:00Z, 0m
    Acknowledged :milestone, m2, 2026-03-14T14:15:00Z, 0m
    Resolved     :milestone, m3, 2026-03-14T15:30:00Z, 0m
"""

XYCHART = """\
xychart-beta
    title "MTTR by week (minutes)"
    x-axis [W10, W11, W12, W13]
    y-axis "minutes" 0 --> 240
    bar [120, 95, 180, 60]
    line [110, 100, 150, 70]
"""

PIE = """\
pie showData
    title Incidents by severity
    "P1" : 10
    "P2" : 40
    "P3" : 80
    "P4" : 70
"""

REPORT = f"""\
# Monthly incident report: November 2026

## Incident analysis

| Severity | Incidents | MTTR p50 |
|----------|----------:|---------:|
| P1       | 10        | 38m      |
| P2 `hot` | 40        | 1h12m    |

```mermaid
{PIE}```

## SLA compliance

```mermaid
{XYCHART}```

```mermaid
{GANTT}```

```json
{{"not": "a diagram"}}
```
"""


@pytest.mark.parametrize("diagram", [GANTT, XYCHART, PIE], ids=["gantt", "xychart-beta", "pie"])
def test_the_charts_reports_draw_parse(diagram: str) -> None:
    assert mermaid_problems(diagram) == []


BROKEN = [
    pytest.param('pie\n    title Severities\n    "P1" 10\n', "line 3", id="pie-without-colon"),
    pytest.param("xychart-beta\n    x-axis [a, b\n    bar [1, 2]\n", "Parse error", id="xychart-open-bracket"),
    pytest.param(
        "gantt\n    dateFormat YYYY-MM-DD\n    section A\n    Task :t1, 2026-13-45, 2d\n", "date", id="gantt-bad-date"
    ),
    pytest.param("gantt\n    dateFormat YYYY-MM-DD\n    section\n", "", id="gantt-section-without-name"),
    pytest.param("bogus-chart\n    a : 10\n", "No diagram type", id="unknown-type"),
    pytest.param("", "", id="empty"),
]


@pytest.mark.parametrize(("diagram", "says"), BROKEN)
def test_a_broken_diagram_is_reported_with_the_parser_s_words(diagram: str, says: str) -> None:
    problems = mermaid_problems(diagram)
    assert len(problems) == 1, problems
    assert problems[0].startswith("diagram: ")
    assert says in problems[0]


def test_each_mermaid_block_of_a_document_is_checked_and_named_by_its_line() -> None:
    assert mermaid_problems(REPORT) == []
    assert mermaid_types(REPORT) == ["pie", "xychart", "gantt"]
    broken = REPORT.replace('"P3" : 80', '"P3" 80')
    problems = mermaid_problems(broken)
    assert len(problems) == 1, problems
    first_block = markdown_structure(broken).fences[0]
    assert problems[0].startswith(f"mermaid block 1 (line {first_block.line}): ")
    assert "Parse error" in problems[0]


def test_a_document_without_a_mermaid_block_is_a_problem() -> None:
    assert mermaid_problems("# Title\n\n```json\n{}\n```\n") == ["no ```mermaid block in the document"]


def test_many_diagrams_are_parsed_by_one_node_process() -> None:
    from tests import docs_check

    mermaid_problems(PIE)
    process = docs_check._parser().process
    for diagram in [GANTT, XYCHART, PIE] * 5:
        assert mermaid_problems(diagram) == []
    assert docs_check._parser().process is process
    assert process.poll() is None


def test_markdown_structure_reads_headings_tables_and_fences() -> None:
    doc = markdown_structure(REPORT)
    assert doc.outline() == ["# Monthly incident report: November 2026", "## Incident analysis", "## SLA compliance"]
    assert [h.line for h in doc.headings] == [1, 3, 19]
    (table,) = doc.tables
    assert table.header == ["Severity", "Incidents", "MTTR p50"]
    assert table.rows == [["P1", "10", "38m"], ["P2 `hot`", "40", "1h12m"]]
    assert doc.section_tables("Incident analysis") == [table]
    assert doc.section_tables("SLA compliance") == []
    assert [f.info for f in doc.fences] == ["mermaid", "mermaid", "mermaid", "json"]
    assert doc.fences[0].content == PIE
    assert doc.fences[0].line == 10


def test_a_table_that_is_not_one_is_not_read_as_one() -> None:
    text = textwrap.dedent(
        """\
        ## Impact

        | Users | Duration
        no separator row, so this is a paragraph
        """
    )
    doc = markdown_structure(text)
    assert doc.tables == []
    assert doc.outline() == ["## Impact"]


def _without_parser(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A test using the check, run by pytest where node cannot be found (PATH without it)."""
    test = tmp_path / "test_uses_mermaid.py"
    test.write_text(
        "from tests.docs_check import mermaid_problems\n\n"
        "def test_it():\n"
        "    assert mermaid_problems('pie\\n \"a\" : 1\\n') == []\n",
        encoding="utf-8",
    )
    repo = MERMAID_DIR.parents[1]
    clean = {k: v for k, v in os.environ.items() if k not in ("CI", "INCIDENTCTL_REQUIRE_INTEGRATION")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(test)],
        cwd=repo,
        env={**clean, "PATH": str(tmp_path), "PYTHONPATH": os.pathsep.join([str(repo), *sys.path]), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_without_node_a_test_skips_locally_and_fails_under_ci(tmp_path: Path) -> None:
    local = _without_parser(tmp_path, {})
    assert local.returncode == 0, local.stdout + local.stderr
    assert "1 skipped" in local.stdout
    ci = _without_parser(tmp_path, {"CI": "true"})
    assert ci.returncode == 1, ci.stdout + ci.stderr
    assert "1 failed" in ci.stdout
    assert "node is not installed" in ci.stdout
