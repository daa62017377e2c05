"""The terminal view of ``postmortem status|complete|schedule``: per incident, each review stage with its
deadline and state, what completing it means, and what is still missing."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.table import Table

from incidentctl.core.text import one_line
from incidentctl.core.times import format_duration, format_elapsed

if TYPE_CHECKING:
    from rich.console import Console

    from incidentctl.phases.postmortem.meeting import ScheduleResult as MeetingResult
    from incidentctl.phases.postmortem.review import CompleteResult, IncidentReview, StatusResult

_STATE_STYLE = {"done": "green", "due": "yellow", "overdue": "red", "not-yet": "dim", "not-required": "dim"}
#: The other commands' table style: no box, so more of each line fits an 80-column terminal.
_PLAIN: dict[str, Any] = {"box": None, "pad_edge": False, "show_edge": False, "header_style": "bold"}


def safe(text: str) -> str:
    return escape(one_line(text))


def at(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else ""


def show_status(console: Console, result: StatusResult) -> None:
    if not result.incidents:
        console.print("no post-mortem is due: every incident that needs one is complete", highlight=False)
        return
    for n, review in enumerate(result.incidents):
        if n:
            console.print()
        show_review(console, review, now=result.now)


def show_review(console: Console, review: IncidentReview, *, now: datetime) -> None:
    resolved = f"resolved {at(review.resolved_at)}" if review.resolved_at else f"still {review.status}"
    console.print(
        f"[bold]{escape(review.incident_id)}[/] {escape(review.severity)} {safe(review.title)} [dim]({resolved})[/]",
        highlight=False,
    )
    if not review.stages:
        return
    table = Table(**_PLAIN)
    for column in ("STAGE", "WITHIN", "DUE", "STATE"):
        table.add_column(column, no_wrap=True)
    for stage in review.stages:
        style = _STATE_STYLE.get(stage.state, "")
        state = f"[{style}]{stage.state}[/]"
        if stage.state == "done":
            state += f" {at(stage.done_at)}" + (" (late)" if stage.late else "")
        elif stage.state == "overdue" and stage.due_at is not None:
            state += f" by {format_elapsed(now - stage.due_at)}"
        table.add_row(safe(stage.id), format_duration(stage.within), at(stage.due_at), state)
    console.print(table)
    for stage in review.stages:
        if stage.state != "done":
            console.print(f"  {safe(stage.id)}: {safe('; '.join(stage.steps) or stage.description)}", highlight=False)
    for hint in review.hints:
        console.print(f"  - {safe(hint)}", highlight=False)


def show_completed(console: Console, result: CompleteResult) -> None:
    if result.recorded:
        console.print(f"{escape(result.incident_id)}: review stage {safe(result.stage)} completed", highlight=False)
    else:
        console.print(
            f"{escape(result.incident_id)}: review stage {safe(result.stage)} was completed already, "
            f"{at(result.completed_at)} by {safe(result.completed_by)}; nothing recorded",
            highlight=False,
        )
    show_review(console, result.review, now=result.now)


def show_meeting(console: Console, result: MeetingResult) -> None:
    what = "scheduled" if result.recorded else "was scheduled so already; nothing recorded"
    where = f" in {safe(result.where)}" if result.where else ""
    console.print(
        f"{escape(result.incident_id)}: post-mortem meeting {what}: {at(result.at)}-{result.end.strftime('%H:%M')}"
        f"{where}",
        highlight=False,
    )
    if result.attendees:
        console.print(f"  attendees: {', '.join(safe(a) for a in result.attendees)}", highlight=False)
    if result.ics:
        console.print(f"  invitation: {safe(result.ics)} (sequence {result.sequence})", highlight=False)
