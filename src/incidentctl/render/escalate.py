"""The terminal view of ``escalate``: the matrix, what a check found (due now, due later, reached), an escalation."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.table import Table

from incidentctl.core.text import one_line
from incidentctl.core.times import format_duration

if TYPE_CHECKING:
    from rich.console import Console

    from incidentctl.phases.escalate.run import CheckResult, Escalation, MatrixResult

_STATE_STYLE = {"due": "red", "pending": "yellow", "covered": "green", "off": "dim", "unknown": "yellow"}


#: The other commands' table style: no box, so more of each line fits an 80-column terminal.
_PLAIN: dict[str, Any] = {"box": None, "pad_edge": False, "show_edge": False, "header_style": "bold"}


def _safe(text: str) -> str:
    return escape(one_line(text))


def _at(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M %Z").strip() if moment is not None else ""


def show_matrix(console: Console, result: MatrixResult) -> None:
    """One block per level, as the runbook's matrix reads: a table of seven columns does not fit a terminal."""
    console.print("[bold]Escalation matrix[/]", highlight=False)
    for lvl in result.levels:
        console.print()
        console.print(
            f"[bold]{lvl.id}[/] {_safe(lvl.role)} [dim](responds within {format_duration(lvl.response_time)})[/]",
            highlight=False,
        )
        for duty in lvl.responsibilities:
            console.print(f"  - {_safe(duty)}", highlight=False)
        console.print(f"  contacts: {', '.join(_safe(c) for c in lvl.contacts) or 'none named'}", highlight=False)
        console.print(f"  told: {', '.join(_safe(c) for c in lvl.notify) or 'nobody automatically'}", highlight=False)
        first = lvl is result.levels[0]
        by = ", ".join(_safe(t) for t in lvl.triggers) or ("every incident starts here" if first else "hand only")
        console.print(f"  reached by: {by}", highlight=False)


def show_check(console: Console, result: CheckResult) -> None:
    a = result.assessment
    look = f"last look {_at(a.last_look_at)}" if a.last_look_at else "no look recorded yet"
    console.print(
        f"[bold]{escape(a.incident_id)}[/] {escape(a.severity)} ({look}, {a.looks} recorded)", highlight=False
    )
    table = Table(title_justify="left", **_PLAIN)
    for column in ("RULE", "LEVEL", "STATE", "DUE AT", "WHY"):
        table.add_column(column, no_wrap=column in ("RULE", "STATE"))
    for r in a.rules:
        style = _STATE_STYLE.get(r.state, "")
        table.add_row(
            _safe(r.rule),
            f"{r.level} {_safe(r.role)}",
            f"[{style}]{r.state}[/]" if style else r.state,
            _at(r.due_at) if r.state in ("due", "pending") else "",
            _safe(r.why),
        )
    console.print(table)
    for reached in a.reached:
        how = f"by rule {reached.rule}" if reached.automatic and reached.rule else f"by {reached.by}"
        console.print(
            f"reached {reached.level} ({_safe(reached.role or '')}) {_at(reached.at)} {_safe(how)}: "
            f"{_safe(reached.reason)}",
            highlight=False,
        )
    if result.applied is not None:
        show_escalation(console, result.applied)
    elif a.due:
        console.print(
            "[red]escalation due[/]: "
            + "; ".join(f"{r.level} {_safe(r.role)} ({_safe(r.rule)})" for r in a.due)
            + " - record it with escalate check --apply",
            highlight=False,
        )
    elif not a.open:
        console.print("the incident is closed: nothing to escalate", highlight=False)
    elif a.unknown:
        console.print(
            "[yellow]cannot tell whether an escalation is due[/]: no look at the signals recorded; "
            "run detect or triage",
            highlight=False,
        )
    else:
        console.print("no escalation due now", highlight=False)


def show_escalation(console: Console, result: Escalation) -> None:
    what = "escalated" if result.recorded else "already escalated"
    console.print(
        f"{escape(result.incident_id)} {what} to {result.level} ({_safe(result.role)}): {_safe(result.reason)}",
        highlight=False,
    )
    if not result.outcomes:
        return
    from incidentctl.render.communicate import show_outcomes

    show_outcomes(console, f"told ({result.reached.batch})", result.outcomes)
