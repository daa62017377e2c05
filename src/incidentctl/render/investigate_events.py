"""How ``investigate events`` looks: one row per reason and object, newest first; and the ``-o json`` document
(kind ``InvestigateEvents``). Event messages are cluster text: one line each, through ``core.text``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from incidentctl.core.text import one_line
from incidentctl.core.times import format_elapsed
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
    from rich.table import Table
    from rich.text import Text

    now = result.since + result.window
    table = Table(
        title=f"Warning events in {one_line(result.namespace)}", title_justify="left", box=None, pad_edge=False
    )
    for column in ("LAST SEEN", "REASON", "OBJECT", "COUNT"):
        table.add_column(column, no_wrap=True, justify="right" if column == "COUNT" else "left")
    table.add_column("MESSAGE")
    for g in result.groups:
        age = format_elapsed(now - g.last_seen) if g.last_seen is not None else "?"
        table.add_row(age, Text(one_line(g.reason)), Text(one_line(g.object)), str(g.count), Text(one_line(g.message)))
    if result.groups:
        console.print(table)
        console.print()
    print_findings(console, result.findings())
