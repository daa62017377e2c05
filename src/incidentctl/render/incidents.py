"""How incidents and their timelines look to a person: tables on a terminal, a markdown list for post-mortems.

Tables are kubectl-like (no borders, one row per thing) so they stay readable in a narrow terminal and
greppable when piped; piped output is never truncated. On a terminal what a responder scans for (id, severity,
status, age, time) keeps its full width and the free text (title, components, what happened) wraps in what is
left. Times are UTC, as the runbook writes them. Every piece of user text (titles, notes, actors, summaries) goes
through ``core.text`` on its way out: one line a cell, no control characters, no markup.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from incidentctl.core.events import describe as describe_event
from incidentctl.core.events import is_internal
from incidentctl.core.incident import Event, Incident, IncidentStatus
from incidentctl.core.text import for_markdown, one_line
from incidentctl.core.times import format_elapsed

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.table import Table
    from rich.text import Text

    from incidentctl.render.printer import Printer

TableRenderer = Callable[["Console"], None]

SEVERITY_STYLES = {"P1": "bold red", "P2": "dark_orange", "P3": "yellow", "P4": "blue"}
STATUS_STYLES = {
    IncidentStatus.INVESTIGATING: "red",
    IncidentStatus.IDENTIFIED: "dark_orange",
    IncidentStatus.MONITORING: "cyan",
    IncidentStatus.RESOLVED: "green",
}

#: A table on a pipe is as wide as its content (up to this): a script or grep must never see a title cut short.
_PIPE_WIDTH = 1_000_000


def format_clock(value: datetime) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC"


format_age = format_elapsed


def describe(event: Event, severity_names: Mapping[str, str] | None = None) -> str:
    """One line saying what happened, in the words of the runbook: each kind's words are registered with it in
    :mod:`incidentctl.core.events` (a kind from a newer incidentctl reads generically). Unsanitised: every caller
    shows it through ``core.text``."""
    return describe_event(event, severity_names)


def severity_text(severity: str, names: Mapping[str, str] | None = None) -> Text:
    from rich.text import Text

    label = f"{severity} {names[severity]}" if names and severity in names else severity
    return Text(one_line(label), style=SEVERITY_STYLES.get(severity, ""))


def status_text(status: IncidentStatus) -> Text:
    from rich.text import Text

    return Text(status.value, style=STATUS_STYLES[status])


def damaged_status_text(incident: Incident) -> Text:
    """The status, and ``DAMAGED`` when part of the record could not be read (the warnings say where)."""
    text = status_text(incident.status)
    if incident.damaged:
        text.append(" DAMAGED", style="bold red")
    return text


def _table(
    columns: Sequence[tuple[str, bool]],
    rows: Sequence[Sequence[str | Text]],
    max_widths: Mapping[str, int] | None = None,
) -> Table:
    """``columns`` are (header, fixed). A fixed column is as wide as its widest cell and never shrinks or wraps
    (rich would otherwise cut an id to ``I…`` to make room); the others share the rest, wrapping at words (and
    folding a long word), so nothing is lost; ``max_widths`` keeps a secondary one from taking half of it."""
    from rich.cells import cell_len
    from rich.table import Table

    cells = [_cells(*row) for row in rows]
    table = Table(box=None, header_style="bold", pad_edge=False, show_edge=False)
    for index, (header, fixed) in enumerate(columns):
        if fixed:
            width = max([cell_len(header), *(row[index].cell_len for row in cells)])
            table.add_column(header, no_wrap=True, min_width=width)
        else:
            table.add_column(header, overflow="fold", max_width=(max_widths or {}).get(header))
    for row in cells:
        table.add_row(*row)
    return table


def _cells(*values: str | Text) -> list[Text]:
    """User text (titles, notes) as literal Text on one line, so a note like "[fixed]" is not read as markup and a
    newline or an escape sequence in it cannot break the row or reach the terminal."""
    from rich.text import Text

    return [v if isinstance(v, Text) else Text(one_line(v)) for v in values]


def _print(console: Console, renderable: RenderableType) -> None:
    """On a terminal, rich fits the terminal; on a pipe, the width of the content (a long title makes its own
    line long instead of squeezing the other columns), without the padding rich adds."""
    if console.is_terminal:
        console.print(renderable)
        return
    import io

    from rich.console import Console
    from rich.measure import Measurement

    buffer = io.StringIO()
    wide = Console(file=buffer, width=_PIPE_WIDTH, color_system=None, highlight=False)
    width = Measurement.get(wide, wide.options, renderable).maximum
    Console(file=buffer, width=max(width, 1), color_system=None, highlight=False).print(renderable)
    console.file.write("".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines()))


def incidents_table(incidents: Sequence[Incident], now: datetime) -> TableRenderer:
    def render(console: Console) -> None:
        _print(console, _incidents_renderable(incidents, now, console))

    return render


def _incidents_renderable(incidents: Sequence[Incident], now: datetime, console: Console) -> Table:
    columns = [("ID", True), ("SEVERITY", True), ("STATUS", True), ("TITLE", False), ("AGE", True)]
    # on a terminal the components wrap at their commas and leave most of the free width to the title
    joiner = ", " if console.is_terminal else ","
    rows = [
        (
            incident.id,
            severity_text(incident.severity),
            damaged_status_text(incident),
            incident.title,
            format_age(now - incident.declared_at),
            joiner.join(incident.components) or "-",
        )
        for incident in incidents
    ]
    longest = max((len(c) for i in incidents for c in i.components), default=1)
    limit = {"COMPONENTS": max(longest + 1, len("COMPONENTS"), console.width // 6 - 2)}
    return _table([*columns, ("COMPONENTS", False)], rows, limit if console.is_terminal else None)


def incident_detail(
    incident: Incident,
    events: Sequence[Event],
    now: datetime,
    severity_names: Mapping[str, str],
    *,
    recent: int = 5,
) -> TableRenderer:
    """``incident show``: the state as name/value pairs, then the last few events."""

    def render(console: Console) -> None:
        from rich.table import Table

        fields = Table.grid(padding=(0, 2))
        fields.add_column(style="bold", no_wrap=True)
        fields.add_column()
        for name, value in _detail_rows(incident, now, severity_names):
            fields.add_row(*_cells(name, value))
        _print(console, fields)
        shown = [e for e in events if not is_internal(e.kind)][-recent:]
        if shown:
            console.print()
            more = f" (last {len(shown)})" if len(events) > recent else ""
            console.print(f"[bold]Recent events[/]{more}")
            _print(console, _events_table(shown, severity_names))

    return render


def _detail_rows(incident: Incident, now: datetime, names: Mapping[str, str]) -> list[tuple[str, str | Text]]:
    def when(value: datetime, by: str | None = None) -> str:
        text = f"{format_clock(value)} ({format_age(now - value)} ago)"
        return f"{text} by {by}" if by else text

    rows: list[tuple[str, str | Text]] = [
        ("ID", incident.id),
        ("Title", incident.title),
        ("Severity", severity_text(incident.severity, names)),
        ("Status", status_text(incident.status)),
        ("Category", incident.category or "-"),
        ("Components", ", ".join(incident.components) or "-"),
        ("Commander", incident.commander or "-"),
        ("Tech lead", incident.tech_lead or "-"),
        ("Impact began", when(incident.started_at)),
        ("Declared", when(incident.declared_at, incident.declared_by)),
    ]
    if incident.acknowledged_at is not None:
        after = format_age(incident.acknowledged_at - incident.declared_at)
        acknowledged = when(incident.acknowledged_at, incident.acknowledged_by)
        rows.append(("Acknowledged", f"{acknowledged}, {after} after declaring"))
    else:
        rows.append(("Acknowledged", "not yet"))
    if incident.resolved_at is not None:
        rows.append(("Resolved", when(incident.resolved_at)))
        rows.append(("Duration", format_age(incident.resolved_at - incident.started_at)))
    else:
        rows.append(("Duration", f"{format_age(now - incident.started_at)} so far"))
    if incident.reopened:
        rows.append(("Reopened", f"{incident.reopened} time(s)"))
    rows.append(("Notes", str(incident.notes)))
    if incident.damaged:
        problems = "\n".join(f"{p.where}: {p.problem}" for p in incident.problems[:5])
        more = f"\n({len(incident.problems) - 5} more in -o json)" if len(incident.problems) > 5 else ""
        rows.append(("Damaged", f"state from {incident.state_from}, as far as it can be read\n{problems}{more}"))
    if incident.summary:
        rows.append(("Summary", incident.summary))
    return rows


def _events_table(events: Sequence[Event], names: Mapping[str, str]) -> Table:
    """Each event with its date and time to the second (the order of what happened within a minute matters)."""
    rows = [(f"{e.time:%Y-%m-%d %H:%M:%S} UTC", e.actor, e.kind, describe(e, names)) for e in events]
    return _table([("TIME", True), ("ACTOR", False), ("KIND", True), ("WHAT", False)], rows)


def timeline_table(events: Sequence[Event], severity_names: Mapping[str, str]) -> TableRenderer:
    def render(console: Console) -> None:
        _print(console, _events_table(events, severity_names))

    return render


def timeline_markdown(events: Sequence[Event], severity_names: Mapping[str, str]) -> str:
    """The post-mortem's timeline section: ``- 14:30:05 UTC — declared P1 Critical: ... (alice)``.

    Times carry the date only when the incident spans more than one day (UTC), as the runbook's template does.
    """
    shown = [e for e in events if not is_internal(e.kind)]
    several_days = len({e.time.date() for e in shown}) > 1
    lines = []
    for event in shown:
        stamp = f"{event.time:%Y-%m-%d %H:%M:%S}" if several_days else f"{event.time:%H:%M:%S}"
        # one line an event: a newline in a note cannot start a forged event, markdown in it is shown as written
        lines.append(f"- {stamp} UTC — {for_markdown(describe(event, severity_names))} ({for_markdown(event.actor)})")
    return "\n".join(lines) + "\n" if lines else ""


def change_line(incident: Incident, event: Event, severity_names: Mapping[str, str]) -> TableRenderer:
    """What ``note``, ``status``, ``ack``, ``severity`` and ``assign`` print in table mode: the id and what happened."""

    def render(console: Console) -> None:
        from rich.text import Text

        _print(console, Text(one_line(f"{incident.id}: {describe(event, severity_names)}")))

    return render


class TimelineStream:
    """``incident timeline --follow``: the timeline so far, then each new event, as they are recorded.

    In a table the rows line up as one table, as ``kubectl get -w`` does: the header once, and each later row in
    the columns the earlier ones set (a column grows when an event needs more, from that row on). With
    ``-o json`` each event is one line (NDJSON), a ``TimelineEvent`` envelope whose ``data.event`` is the same
    object as in ``incident timeline -o json``'s ``events``; with ``-o yaml`` one document per event. Every event
    is flushed as it is written, so a script reading the pipe sees it at once.
    """

    def __init__(self, printer: Printer, severity_names: Mapping[str, str], incident_id: str) -> None:
        self.incident_id = incident_id
        self.printer = printer
        self.severity_names = severity_names
        self._widths = {"TIME": 0, "ACTOR": 0, "KIND": 0}
        self._header = True
        self.count = 0

    def events(self, events: Sequence[Event]) -> None:
        import sys

        if not events:
            return
        self.count += len(events)
        fmt = self.printer.format
        if fmt.is_machine:
            from incidentctl.render.envelope import dumps, envelope

            for event in events:
                document = envelope("TimelineEvent", {"incident": self.incident_id, "event": event})
                if fmt.value == "json":
                    sys.stdout.write(dumps(document, "json", compact=True))
                else:
                    sys.stdout.write("---\n" + dumps(document, "yaml"))
                sys.stdout.flush()
            return
        _print(self.printer.out, self._rows(events))
        sys.stdout.flush()

    def _rows(self, events: Sequence[Event]) -> Table:
        from rich.cells import cell_len
        from rich.table import Table

        rows = [
            _cells(f"{e.time:%Y-%m-%d %H:%M:%S} UTC", e.actor, e.kind, describe(e, self.severity_names)) for e in events
        ]
        table = Table(box=None, header_style="bold", pad_edge=False, show_edge=False, show_header=self._header)
        for index, header in enumerate(self._widths):
            width = max([self._widths[header], cell_len(header), *(row[index].cell_len for row in rows)])
            self._widths[header] = width
            table.add_column(header, no_wrap=True, min_width=width)
        table.add_column("WHAT", overflow="fold")
        for row in rows:
            table.add_row(*row)
        self._header = False
        return table


class IncidentsWatch:
    """``incident list --watch``: the list again each time it changes.

    The whole list, not only the rows that changed (``kubectl get -w``'s way): the list is short (open incidents
    and the last days'), a responder glancing at it wants the current picture, and a row's change (a status, a
    severity) reads best beside the others. On a terminal it is redrawn in place, ages kept current; elsewhere
    (``| tee``) each version follows the last after a blank line, and ``-o json`` prints one compact
    ``IncidentList`` document a line, as ``detect --watch`` does.
    """

    def __init__(self, printer: Printer, empty: str) -> None:
        self.printer = printer
        self.empty = empty
        self._live: Any = None
        self._shown = 0
        if not printer.format.is_machine and printer.out.is_terminal:
            from rich.live import Live

            self._live = Live(console=printer.out, auto_refresh=False, transient=False)
            self._live.start()

    @property
    def live(self) -> bool:
        """Redrawn in place (a terminal): worth redrawing every round, for the ages."""
        return self._live is not None

    def show(self, incidents: Sequence[Incident], now: datetime) -> None:
        import sys

        fmt = self.printer.format
        if fmt.is_machine:
            from incidentctl.render.envelope import dumps, envelope

            doc = envelope("IncidentList", {"items": incidents})
            sys.stdout.write(dumps(doc, "json", compact=True) if fmt.value == "json" else "---\n" + dumps(doc, "yaml"))
            sys.stdout.flush()
            return
        if self._live is not None:
            from rich.text import Text

            renderable: RenderableType = Text(one_line(self.empty))
            if incidents:
                renderable = _incidents_renderable(incidents, now, self.printer.out)
            self._live.update(renderable, refresh=True)
            return
        if self._shown:
            sys.stdout.write("\n")
        if incidents:
            incidents_table(incidents, now)(self.printer.out)
        else:
            sys.stdout.write(f"{one_line(self.empty)}\n")  # on stdout: a log of the watch shows the list emptied
        self._shown += 1
        sys.stdout.flush()

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
