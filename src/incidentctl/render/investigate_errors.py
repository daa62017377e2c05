"""How ``investigate errors`` looks on a terminal: two lines per template (its facts, then its pattern), NEW
ones first and marked.

Patterns and examples are log lines: shown through ``core.text`` (one line, no escape sequences), as literal text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from incidentctl.core.text import one_line

if TYPE_CHECKING:
    from rich.console import Console

    from incidentctl.phases.investigate.errors import ErrorsResult

STATUS_STYLE = {"new": "bold red", "grew": "yellow", "steady": "dim", None: ""}


def errors_table(console: Console, result: ErrorsResult) -> None:
    from rich.text import Text

    for problem in result.problems():
        console.print(Text(one_line(problem), style="yellow"))
    for t in result.templates:
        pods = ", ".join(t.pods[:3]) + (f" +{len(t.pods) - 3}" if len(t.pods) > 3 else "")
        head = Text((t.status or "-").upper().ljust(7), style=STATUS_STYLE[t.status])
        before = "" if t.baseline_count is None else f" (baseline {t.baseline_count})"
        seen = f"  {t.first_seen:%H:%M:%S}-{t.last_seen:%H:%M:%S}" if t.first_seen and t.last_seen else ""
        head.append(f"{t.count}x{before}{seen}")
        if pods:
            head.append(f"  {one_line(pods)}", style="cyan")
        console.print(head)
        console.print(Text("  " + one_line(t.pattern)), soft_wrap=True)
    new = len(result.new)
    baseline = "" if result.baseline_source is not None else "; no baseline, so nothing is called new"
    console.print(
        Text(
            f"{len(result.templates)} template(s), {new} new, from {result.error_lines} error lines of "
            f"{result.lines} lines{baseline}",
            style="bold red" if new else "",
        )
    )
