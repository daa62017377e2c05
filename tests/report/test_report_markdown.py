"""``report ... -o markdown`` is a document a manager can be sent as is: parsed with a CommonMark renderer
(markdown-it-py, with tables), it has a title naming the period, a plain summary first, a heading per runbook
section, tables whose rows keep their columns whatever the titles hold, Mermaid charts in ``mermaid`` fences,
and none of a terminal's escapes or the journal's internal names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token
from tests.conftest import Invoke
from tests.report.harness import History, ago

from incidentctl.core.events import REGISTRY

HOSTILE_TITLES = [
    "Payments | refunds | broken",
    "two\nlines | here",
    "\x1b[31mred\x1b[0m and \x1b]0;title\x07 set",
    "*bold* _em_ [link](http://evil.example) <b>html</b> `code`",
    "| starts with a pipe",
    "ends with a backslash \\",
]


@pytest.fixture
def history(workdir: Path, invoke: Invoke) -> History:
    h = History(workdir, invoke)
    for n, title in enumerate(HOSTILE_TITLES):
        h.worked(ago(days=20 - n), severity=("P1", "P2", "P3")[n % 3], title=title, resolve=None if n == 1 else 45)
    h.worked(ago(days=40), severity="P1", title="last month", resolve=30)
    return h


def _parse(text: str) -> list[Token]:
    return MarkdownIt("commonmark").enable("table").parse(text)


def _tables(tokens: list[Token]) -> list[list[list[str]]]:
    """Each table as rows of cell texts (header row first)."""
    tables: list[list[list[str]]] = []
    row: list[str] | None = None
    for i, token in enumerate(tokens):
        if token.type == "table_open":
            tables.append([])
        elif token.type == "tr_open":
            row = []
        elif token.type in ("th_open", "td_open"):
            assert row is not None
            row.append(tokens[i + 1].content if tokens[i + 1].type == "inline" else "")
        elif token.type == "tr_close":
            assert row is not None
            tables[-1].append(row)
    return tables


@pytest.mark.parametrize("period", ["daily", "weekly", "monthly"])
def test_the_document_has_a_title_a_summary_and_the_runbooks_sections(history: History, period: str) -> None:
    result = history.run("report", period, "-o", "markdown", "--since", "2026-03-01", "--until", "2026-03-31")
    assert result.exit_code == 0, result.output
    tokens = _parse(result.stdout)
    headings = [(t.tag, tokens[i + 1].content) for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert headings[0][0] == "h1"
    assert period.capitalize() in headings[0][1]
    assert "2026-03-01" in headings[0][1]
    sections = {
        "daily": ["Incident summary", "Response metrics", "Trend analysis", "Alert summary"],
        "weekly": ["Incident trends", "Performance metrics", "Improvement progress", "Team performance"],
        "monthly": ["Incident analysis", "SLA compliance", "Improvement impact", "Strategic recommendations"],
    }[period]
    assert [text for tag, text in headings if tag == "h2"] == sections
    # the summary paragraph comes before the first section, in plain words
    first_h2 = next(i for i, t in enumerate(tokens) if t.type == "heading_open" and t.tag == "h2")
    paragraphs = [tokens[i + 1].content for i, t in enumerate(tokens[:first_h2]) if t.type == "paragraph_open"]
    assert any("incidents started between" in p for p in paragraphs), paragraphs


def test_tables_keep_their_columns_whatever_a_title_holds(history: History) -> None:
    text = history.run("report", "monthly", "-o", "markdown", "--since", "2026-03-01").stdout
    tables = _tables(_parse(text))
    assert tables
    for table in tables:
        assert len({len(row) for row in table}) == 1, table
    cells = [cell for table in tables for row in table for cell in row]
    # the titles read as written (escaped for markdown, shown back by the renderer), on one line
    assert "Payments \\| refunds \\| broken" in cells or "Payments | refunds | broken" in [
        c.replace("\\", "") for c in cells
    ]
    html = MarkdownIt("commonmark").enable("table").render(text)
    assert "<b>html</b>" not in html
    assert 'href="http://evil.example"' not in html
    assert "<em>em</em>" not in html
    assert "<strong>bold</strong>" not in html
    assert "<code>code</code>" not in html


def test_no_terminal_escape_and_no_internal_names(history: History) -> None:
    text = history.run("report", "monthly", "-o", "markdown").stdout
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", text)
    kinds = [k for k in REGISTRY if "_" in k]
    assert kinds
    for kind in kinds:
        assert kind not in text, kind
    assert "PT1H" not in text  # durations in people's units, not ISO 8601


def test_charts_are_mermaid_fences_of_the_standard_kinds(history: History) -> None:
    text = history.run("report", "monthly", "-o", "markdown").stdout
    fences = [t for t in _parse(text) if t.type == "fence"]
    assert {f.info for f in fences} == {"mermaid"}
    kinds = sorted(f.content.splitlines()[0].split()[0] for f in fences)
    assert "pie" in kinds
    assert kinds.count("xychart-beta") >= 2
    for fence in fences:
        body = fence.content
        if body.startswith("xychart-beta"):
            labels = re.search(r"x-axis \[(.*)\]", body)
            assert labels is not None
            count = len(re.findall(r'"[^"]*"', labels.group(1)))
            for series in re.findall(r"^    (?:bar|line) \[(.*)\]$", body, re.MULTILINE):
                assert len(series.split(",")) == count
                assert all(re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", v.strip()) for v in series.split(","))
        else:
            for line in body.splitlines()[1:]:
                assert re.fullmatch(r'    "[^"]+" : [0-9]+(\.[0-9]+)?', line), line


def test_a_runbook_without_the_report_template_named_uses_the_bundled_one(
    history: History, workdir: Path, invoke: Invoke
) -> None:
    runbook = workdir / "runbook.yaml"
    runbook.write_text(
        "\n".join(line for line in runbook.read_text().splitlines() if "report: templates/report.md.j2" not in line),
        encoding="utf-8",
    )
    result = history.run("report", "daily", "-o", "markdown")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# Daily incident report")


def test_a_template_that_is_missing_is_one_line_naming_it(history: History, workdir: Path) -> None:
    runbook = workdir / "runbook.yaml"
    runbook.write_text(
        runbook.read_text().replace("report: templates/report.md.j2", "report: /nowhere/report.md.j2"),
        encoding="utf-8",
    )
    result = history.run("report", "daily", "-o", "markdown")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "report.md.j2" in result.stderr
