"""The two human views of ``report``: tables, bars and sparklines on a terminal, and a markdown document with
Mermaid charts (``-o markdown``) written through the runbook's ``report`` template.

Both draw :func:`incidentctl.render.report_document.build`. User text (an incident's title) is made safe for
where it lands: :func:`~incidentctl.core.text.one_line` and rich's escaping on a terminal,
:func:`~incidentctl.core.text.for_markdown` in a table cell, where a ``|`` or a newline would otherwise add a
column or end the table.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.table import Table as RichTable

from incidentctl.core.text import for_markdown, one_line
from incidentctl.render.report_document import Chart, Document, Table, build

if TYPE_CHECKING:
    from rich.console import Console

    from incidentctl.phases.report.run import ReportResult

_PLAIN: dict[str, Any] = {"box": None, "pad_edge": False, "show_edge": False, "header_style": "bold"}


def show_report(console: Console, result: ReportResult) -> None:
    doc = build(result)
    console.print(f"[bold]{escape(doc.title)}[/]", highlight=False)
    console.print(f"[dim]{escape(doc.period)}[/]", highlight=False)
    console.print()
    console.print(escape(one_line(doc.summary)), highlight=False)
    for section in doc.sections:
        console.print()
        console.rule(f"[bold]{escape(one_line(section.title))}[/]", align="left")
        for block in section.blocks:
            if isinstance(block, Table):
                _table(console, block)
            elif isinstance(block, Chart):
                _chart(console, block)
            else:
                console.print(escape(one_line(block)), highlight=False)
    if doc.problems:
        console.print()
        console.print("[yellow]Could not be measured in full:[/]", highlight=False)
        for line in doc.problems:
            console.print(f"  {escape(one_line(line))}", highlight=False)


def _table(console: Console, block: Table) -> None:
    table = RichTable(title=block.caption, title_justify="left", title_style="bold", **_PLAIN)
    for header in block.headers:
        table.add_column(header)
    for row in block.rows:
        table.add_row(*(escape(one_line(cell)) for cell in row))
    console.print(table)


def _chart(console: Console, block: Chart) -> None:
    console.print(f"[bold]{escape(block.title)}[/]", highlight=False)
    width = max((len(label) for label, _, _ in block.lines), default=0)
    for label, drawn, value in block.lines:
        console.print(f"  {escape(one_line(label)).ljust(width)}  {drawn}  [dim]{escape(value)}[/]", highlight=False)


def report_markdown(result: ReportResult) -> str:
    """The report as a markdown document, through the runbook's ``report`` template (found by the phase)."""
    from incidentctl.adapters.templates import render_template

    if result.template is None:
        raise ValueError("the report phase was not asked for the document's template")
    return render_template(Path(result.template), markdown_context(build(result), result))


def markdown_context(doc: Document, result: ReportResult) -> dict[str, Any]:
    """What the template sees: plain values, every piece of text already safe for markdown."""
    sections = []
    for section in doc.sections:
        blocks: list[dict[str, Any]] = []
        for block in section.blocks:
            if isinstance(block, Table):
                blocks.append(
                    {
                        "kind": "table",
                        "caption": for_markdown(block.caption) if block.caption else None,
                        "headers": [for_markdown(h) for h in block.headers],
                        "rows": [[for_markdown(cell) or " " for cell in row] for row in block.rows],
                    }
                )
            elif isinstance(block, Chart):
                if block.mermaid is not None:
                    blocks.append({"kind": "chart", "title": for_markdown(block.title), "mermaid": block.mermaid})
            else:
                blocks.append({"kind": "text", "text": for_markdown(block)})
        sections.append({"title": for_markdown(section.title), "blocks": blocks})
    return {
        "title": for_markdown(doc.title),
        "period": for_markdown(doc.period),
        "generated": result.generated_at,
        "summary": for_markdown(doc.summary),
        "sections": sections,
        "problems": [for_markdown(line) for line in doc.problems],
    }
