"""How investigate looks on a terminal: the check views as a table, and the umbrella's summary fitted to one
screen (problems first, by rank; the rest counted in one line rather than scrolled away).

Summaries carry cluster text (pod names, psql's stderr, an HTTP body): shown through ``core.text``, one line
each, as literal text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from incidentctl.core.text import one_line
from incidentctl.core.times import format_elapsed
from incidentctl.render.detect import STYLE, WORD

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.text import Text

    from incidentctl.phases.investigate.base import Finding
    from incidentctl.phases.investigate.checked import ChecksResult
    from incidentctl.phases.investigate.run import InvestigateResult
    from incidentctl.render.investigate_output import (
        InvestigateDatastoresOutput,
        InvestigateDependenciesOutput,
        InvestigateOutput,
    )

#: Lines the summary keeps for itself besides the findings: the headline, a blank line, "… N more", the prompt.
_CHROME = 4


def datastores_data(result: ChecksResult) -> InvestigateDatastoresOutput:
    from incidentctl.render.investigate_output import InvestigateDatastoresOutput, checks_view_values

    return InvestigateDatastoresOutput(**checks_view_values(result))


def dependencies_data(result: ChecksResult) -> InvestigateDependenciesOutput:
    from incidentctl.render.investigate_output import InvestigateDependenciesOutput, checks_view_values

    return InvestigateDependenciesOutput(**checks_view_values(result))


def investigate_data(result: InvestigateResult) -> InvestigateOutput:
    from incidentctl.render.investigate_output import investigate_output

    return investigate_output(result)


def checks_table(console: Console, result: ChecksResult) -> None:
    """One row per check: what, its status, how long it took, and the exact error."""
    from rich.table import Table
    from rich.text import Text

    if result.error is not None or result.none_defined:
        for f in result.findings():
            console.print(Text(one_line(f.text), style="bold red" if f.problem else "dim"))
        return
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    for col in ("NAME", "STATUS", "LATENCY", "TARGET", "DETAILS"):
        table.add_column(col, overflow="fold", no_wrap=col in ("STATUS", "LATENCY"))
    for c in sorted(result.checks, key=lambda c: (-c.health.rank, c.check)):
        latency = format_elapsed(c.latency_s) if c.latency_s is not None else "-"
        details = "; ".join([c.summary, *c.reasons])
        table.add_row(
            Text(one_line(c.subject or c.check)),
            Text(WORD[c.health], style=STYLE[c.health]),
            Text(latency),
            Text(one_line(c.target)),
            Text(one_line(details)),
        )
    console.print(table)
    bad = len(result.problems)
    verdict = f"{bad} of {len(result.checks)} {result.view} not OK" if bad else f"all {result.view} OK"
    console.print(Text(verdict, style="bold red" if bad else "green"))


def summary_renderable(result: InvestigateResult, height: int | None, width: int = 100) -> RenderableType:
    """The findings, problems first and by rank, cut to ``height`` lines with the rest counted. A problem wraps
    (its exact error is the point); a fine one is cut to one line."""
    from rich.console import Group
    from rich.text import Text

    findings = result.findings()
    problems = [f for f in findings if f.problem]
    failed = [v.name for v in result.views if v.section is None]
    took = format_elapsed((result.finished_at - result.started_at).total_seconds())
    names = ", ".join(v.name for v in result.views)
    if problems:
        head = Text(f"{len(problems)} problem(s) found ({names}; {took})", style="bold red")
    else:
        head = Text(f"nothing wrong found ({names}; {took})", style="green")
    if failed:
        head.append(f"; could not look: {', '.join(failed)}", style="bold magenta")
    room = None if height is None else max(3, height - _CHROME)
    return Group(head, Text(""), *_finding_lines(findings, room, max(20, width)))


def _finding_lines(findings: Sequence[Finding], room: int | None, width: int) -> list[Text]:
    from rich.text import Text

    lines: list[Text] = []
    used = 0
    for index, f in enumerate(findings):
        mark, style = ("!", "bold") if f.problem else ("·", "dim")
        line = Text(f"{mark} ", style="bold red" if f.problem else "dim")
        line.append(f"{f.rank.name.lower().replace('_', ' ')}: ", style=style)
        line.append(one_line(f.text), style="" if f.problem else "dim")
        tall = -(-len(line.plain) // width) if f.problem else 1
        if not f.problem:
            line.no_wrap, line.overflow = True, "ellipsis"
        left = len(findings) - index
        if room is not None and used + tall > room - (1 if left > 1 else 0):
            hidden = findings[index:]
            bad = sum(1 for h in hidden if h.problem)
            more = f"… {len(hidden)} more ({bad} problem(s)): each view's subcommand shows all of its own"
            lines.append(Text(more, style="dim"))
            break
        lines.append(line)
        used += tall
    return lines


def summary_table(console: Console, result: InvestigateResult) -> None:
    height = console.height if console.is_terminal else None
    console.print(summary_renderable(result, height, console.width))
