"""How ``investigate events`` looks: one row per reason and object, newest first; and the ``-o json`` document
(kind ``InvestigateEvents``). Event messages are cluster text: one line each, through ``core.text``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from incidentctl.core.text import one_line
from incidentctl.core.times import format_duration, format_elapsed
from incidentctl.render.investigate_resources import FindingOutput, finding_outputs, print_findings
from incidentctl.render.output_model import OutputModel, UtcTime

if TYPE_CHECKING:
    from rich.console import Console

    from incidentctl.phases.investigate.events import EventsResult


class EventGroupOutput(OutputModel):
    """Every Warning event of one reason about one object."""

    reason: str
    kind: str
    name: str
    type: str
    count: int
    first_seen: UtcTime | None
    last_seen: UtcTime | None
    message: str
    source: str


class InvestigateEventsOutput(OutputModel):
    """investigate events: Warning events grouped by reason and object, with counts and last seen, newest first."""

    namespace: str
    since: UtcTime
    window_seconds: float
    groups: list[EventGroupOutput]
    findings: list[FindingOutput]


def events_data(result: EventsResult) -> InvestigateEventsOutput:
    return InvestigateEventsOutput(
        namespace=result.namespace,
        since=result.since,
        window_seconds=result.window.total_seconds(),
        groups=[EventGroupOutput.model_validate(g, from_attributes=True) for g in result.groups],
        findings=finding_outputs(result.findings()),
    )


def events_table(console: Console, result: EventsResult) -> None:
    """A row per group: when last seen, how often, then reason and object on one line and the newest message
    below it, wrapped: object names are never shortened, and a message gets the whole width at any size."""
    from rich.table import Table
    from rich.text import Text

    now = result.since + result.window
    table = Table(
        title=f"Warning events in {one_line(result.namespace)}", title_justify="left", box=None, pad_edge=False
    )
    table.add_column("LAST SEEN", no_wrap=True, justify="right")
    table.add_column("COUNT", no_wrap=True, justify="right")
    table.add_column("REASON OBJECT / MESSAGE", ratio=1, overflow="fold")
    for g in result.groups:
        age = format_elapsed(now - g.last_seen) if g.last_seen is not None else "?"
        what = Text(one_line(f"{g.reason} {g.object}"), style="bold")
        what.append("\n")
        what.append(one_line(g.message))
        table.add_row(age, str(g.count), what)
    if not result.groups:  # the one line that says nothing was found, and in which window
        print_findings(console, result.findings())
        return
    console.print(table)
    total = sum(g.count for g in result.groups)
    window = format_duration(result.window)
    console.print(
        Text(f"! {total} Warning events of {len(result.groups)} kinds in the last {window}", style="bold red")
    )
