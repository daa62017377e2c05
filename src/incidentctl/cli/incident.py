"""``incidentctl incident ...``: declare incidents and keep their timeline.

Every command reads or appends to the journal; the rules (what may be recorded, what the runbook allows)
live in ``core.incident`` and the storage in ``journal``, so this module only turns options into calls and
results into output.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from incidentctl.cli.state import AppState
from incidentctl.core.incident import (
    Catalogue,
    Declaration,
    Event,
    Incident,
    IncidentStatus,
    check_declaration,
    normalize_category,
    normalize_components,
    normalize_incident_id,
    normalize_severity,
    role_changes,
    should_acknowledge,
    should_change_severity,
    should_change_status,
)
from incidentctl.exitcodes import ExitCode
from incidentctl.render.formats import STANDARD_FORMATS, OutputFormat

if TYPE_CHECKING:
    from incidentctl.journal.base import AppendResult, JournalStore
    from incidentctl.journal.query import IncidentQuery

app = typer.Typer(
    help="Declare incidents and keep their timeline (who did what, when).",
    no_args_is_help=True,
)

IdArgument = Annotated[
    str, typer.Argument(metavar="ID", help="The incident id, e.g. INC-2026-004.", show_default=False)
]
MessageOption = Annotated[
    Optional[str],  # noqa: UP045 - Typer reads the annotation at run time on Python 3.10
    typer.Option(
        "-m",
        "--message",
        "--reason",  # what people reach for when re-classifying: the same thing, so it is accepted too
        metavar="TEXT",
        help="Why, in a sentence (kept in the timeline); --reason is the same option.",
        show_default=False,
    ),
]


def _state(ctx: typer.Context) -> AppState:
    state = ctx.find_root().obj
    if not isinstance(state, AppState):  # invoked without the root callback (embedding the sub-app)
        state = AppState()
        ctx.find_root().obj = state
    return state


@contextmanager
def _journal(state: AppState) -> Iterator[JournalStore]:
    """The journal; what it noticed while reading (a torn line) goes to stderr, even if the command fails.

    Typed as the backend interface: these commands must work the same on any store.
    """
    journal = state.journal()
    try:
        yield journal
    finally:
        for warning in journal.drain_warnings():
            state.printer.warn(warning)


def _catalogue(state: AppState) -> Catalogue:
    runbook = state.runbook()
    return Catalogue(
        severities={level: severity.name for level, severity in runbook.severities.items()},
        categories={name: list(category.kinds) for name, category in runbook.categories.items()},
        components=runbook.component_names(),
    )


def _severity_names(state: AppState) -> dict[str, str]:
    return dict(_catalogue(state).severities)


def _report_change(state: AppState, result: AppendResult, unchanged: str) -> None:
    """Print what was recorded; when nothing was (already acknowledged, same status), say so and succeed."""
    from incidentctl.render.incidents import change_line

    data = {"recorded": result.event is not None, "event": result.event, "incident": result.incident}
    if result.event is None:
        state.printer.note(unchanged)
        if state.printer.format.is_machine:
            state.printer.result("Event", data)
        return
    table = change_line(result.incident, result.event, _severity_names(state))
    state.printer.result("Event", data, table=table)


@app.command()
def declare(
    ctx: typer.Context,
    *,
    title: Annotated[
        str,
        typer.Option("-t", "--title", metavar="TEXT", help="What is broken, in a few words.", show_default=False),
    ],
    severity: Annotated[
        str,
        typer.Option(
            "-s", "--severity", metavar="LEVEL", help="P1..P4 (or the level's name: critical).", show_default=False
        ),
    ],
    category: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "-c",
            "--category",
            metavar="CATEGORY[/KIND]",
            help="A runbook category, optionally with its kind: infrastructure/database.",
            show_default=False,
        ),
    ] = None,
    component: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option(
            "--component",
            metavar="NAME",
            help="An affected component (repeat, or separate with commas).",
            show_default=False,
        ),
    ] = None,
    started_at: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--started-at",
            metavar="TIME",
            help="When the impact began, if before now: RFC 3339 (2026-03-14T14:05:00Z) or a duration ago (20m).",
            show_default=False,
        ),
    ] = None,
    summary: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--summary", metavar="TEXT", help="What is known so far.", show_default=False),
    ] = None,
    commander: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--commander", metavar="NAME", help="The incident commander.", show_default=False),
    ] = None,
    tech_lead: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--tech-lead", metavar="NAME", help="The technical lead.", show_default=False),
    ] = None,
) -> None:
    """Declare an incident and print its id (alone on stdout: ID=$(incidentctl incident declare ...))."""
    from incidentctl.journal.query import parse_point_in_time

    state = _state(ctx)
    state.output_format(STANDARD_FORMATS)
    catalogue = _catalogue(state)
    now = state.clock()
    declaration = Declaration(
        title=title.strip(),
        severity=normalize_severity(severity, catalogue),
        category=normalize_category(category, catalogue) if category else None,
        components=normalize_components(component or [], catalogue),
        summary=summary.strip() if summary else None,
        started_at=parse_point_in_time(started_at, now, option="--started-at") if started_at else None,
        commander=commander.strip() if commander else None,
        tech_lead=tech_lead.strip() if tech_lead else None,
    )
    check_declaration(declaration, now)
    with _journal(state) as journal:
        incident = journal.declare(declaration)
    if not state.printer.format.is_machine:
        name = catalogue.severities.get(incident.severity, "")
        from incidentctl.core.text import one_line

        title = one_line(incident.title)
        state.printer.note(f"declared {incident.id} ({incident.severity} {name}): {title}".rstrip())
    state.printer.result("Incident", incident, table=lambda console: console.print(incident.id, markup=False))


@app.command("list")
def list_incidents(
    ctx: typer.Context,
    status: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option(
            "--status",
            metavar="STATUS",
            help="investigating, identified, monitoring, resolved, open or all (repeat, or separate with commas).",
            show_default=False,
        ),
    ] = None,
    severity: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option(
            "-s",
            "--severity",
            metavar="LEVEL",
            help="Only these severities (repeat, or separate with commas).",
            show_default=False,
        ),
    ] = None,
    since: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--since",
            metavar="WHEN",
            help="Open incidents and those with activity since: a duration (24h, 7d), a date (2026-03-01) "
            "or an RFC 3339 time.",
            show_default=False,
        ),
    ] = None,
    show_all: Annotated[bool, typer.Option("-A", "--all", help="Every incident, however old.")] = False,
    watch: Annotated[
        bool,
        typer.Option(
            "-w", "--watch", help="Print the list again whenever it changes (-o json: one list a line). Ctrl-C ends."
        ),
    ] = False,
) -> None:
    """List incidents: by default the open ones and those active in the last 7 days, newest first."""
    from incidentctl.journal.query import DEFAULT_RECENT, IncidentQuery, parse_point_in_time, parse_statuses
    from incidentctl.render.incidents import incidents_table

    state = _state(ctx)
    state.output_format(STANDARD_FORMATS)
    severities = None
    if severity:
        catalogue = _catalogue(state)
        wanted = [part for raw in severity for part in raw.split(",") if part.strip()]
        severities = frozenset(normalize_severity(s, catalogue) for s in wanted) or None
    statuses = parse_statuses(status or [])
    if since:
        parse_point_in_time(since, state.clock(), option="--since")  # a bad value is an error before any read

    def query() -> IncidentQuery:
        """Asked again each round of --watch: "the last 7 days" or "--since 24h" move on with the clock."""
        now = state.clock()
        active_since: datetime | None = None
        if since:
            active_since = parse_point_in_time(since, now, option="--since")
        elif not show_all and not status:
            active_since = now - DEFAULT_RECENT
        return IncidentQuery(statuses=statuses, severities=severities, active_since=active_since)

    scope = (
        ""
        if show_all
        else " matching these filters"
        if (status or severity or since)
        else (" open or active in the last 7 days (--all shows every incident)")
    )
    if watch:
        raise typer.Exit(_watch_list(state, query, scope))
    with _journal(state) as journal:
        incidents = journal.incidents(query())
    if not incidents and not state.printer.format.is_machine:
        state.printer.note(f"no incidents{scope} in {journal.location}")
        return
    state.printer.result("IncidentList", {"items": incidents}, table=incidents_table(incidents, state.clock()))


def _watch_list(state: AppState, query: Callable[[], IncidentQuery], scope: str) -> int:
    """Until Ctrl-C (130), as ``timeline --follow``; see :class:`incidentctl.render.incidents.IncidentsWatch`."""
    import gc

    from incidentctl.journal.follow import Incidents, watch_incidents
    from incidentctl.render.incidents import IncidentsWatch

    gc.enable()
    warned: set[str] = set()
    view: IncidentsWatch | None = None
    try:
        journal = state.journal()
        view = IncidentsWatch(state.printer, f"no incidents{scope} in {journal.location} (watching)")
        for item in watch_incidents(journal, query, sleep=state.sleep, every_round=view.live, idle=_end_if_unread):
            if isinstance(item, Incidents) and (item.changed or view.live):
                view.show(item.incidents, state.clock())
            _say_how_the_journal_is(state, journal, item, warned)
    except KeyboardInterrupt:
        return int(ExitCode.INTERRUPTED)
    finally:
        if view is not None:
            view.close()
    return int(ExitCode.OK)


@app.command()
def show(ctx: typer.Context, incident_id: IdArgument) -> None:
    """Show an incident's current state and its latest events."""
    from incidentctl.render.incidents import incident_detail

    state = _state(ctx)
    state.output_format(STANDARD_FORMATS)
    with _journal(state) as journal:
        incident = journal.get(incident_id)
        events = journal.timeline(incident.id)
    table = incident_detail(incident, events, state.clock(), _severity_names(state))
    state.printer.result("Incident", incident, table=table)


@app.command()
def note(
    ctx: typer.Context,
    incident_id: IdArgument,
    text: Annotated[
        list[str], typer.Argument(metavar="TEXT", help="The note (quotes are optional).", show_default=False)
    ],
    tag: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--tag",
            metavar="TAG",
            help="Where the post-mortem puts it: root-cause, contributing-factor, lesson, resolution or impact.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Add a note to the timeline: what you saw, what you tried, what you decided."""
    from incidentctl.core.events import EventKind
    from incidentctl.core.incident import normalize_note_tag

    state = _state(ctx)
    state.output_format(STANDARD_FORMATS)
    joined = " ".join(text).strip()
    if not joined:
        from incidentctl.errors import UsageError

        raise UsageError("the note is empty")
    data: dict[str, Any] = {"text": joined}
    if tag is not None:
        data["tag"] = normalize_note_tag(tag)
    with _journal(state) as journal:
        result = journal.append(normalize_incident_id(incident_id), EventKind.NOTE, data)
    _report_change(state, result, "")


@app.command()
def correct(
    ctx: typer.Context,
    incident_id: IdArgument,
    started_at: Annotated[
        str,
        typer.Option(
            "--started-at",
            metavar="TIME",
            help="When the impact really began: RFC 3339 (2026-03-14T14:05:00Z) or a duration ago (2h).",
            show_default=False,
        ),
    ],
    reason: Annotated[
        str,
        typer.Option("--reason", metavar="TEXT", help="How you know (kept in the timeline).", show_default=False),
    ],
) -> None:
    """Correct the impact's start after the fact: journalled as a correction (the old value kept), never by
    editing history; MTTD, the downtime and the SLA figures count from the corrected start."""
    from incidentctl.core.events import EventKind
    from incidentctl.core.incident import correction
    from incidentctl.journal.query import parse_point_in_time

    state = _state(ctx)
    state.output_format(STANDARD_FORMATS)
    now = state.clock()
    start = parse_point_in_time(started_at, now, option="--started-at")
    with _journal(state) as journal:
        result = journal.append_if_timeline(
            normalize_incident_id(incident_id),
            EventKind.CORRECTED,
            lambda incident, events: correction(incident, events, start, reason, now),
        )
    _report_change(state, result, f"{result.incident.id} already starts at that time; nothing recorded")


@app.command()
def status(
    ctx: typer.Context,
    incident_id: IdArgument,
    new_status: Annotated[
        IncidentStatus,
        typer.Argument(
            metavar="STATUS",
            help="investigating, identified, monitoring or resolved.",
            case_sensitive=False,
            show_default=False,
        ),
    ],
    message: MessageOption = None,
) -> None:
    """Move an incident to another status; setting a resolved one back to an open status reopens it."""
    from incidentctl.core.events import EventKind

    state = _state(ctx)
    state.output_format(STANDARD_FORMATS)

    def decide(incident: Incident) -> dict[str, Any] | None:
        if not should_change_status(incident, new_status):
            return None
        return _with_message({"from": incident.status.value, "to": new_status.value}, message)

    with _journal(state) as journal:
        result = journal.append_if(normalize_incident_id(incident_id), EventKind.STATUS_CHANGED, decide)
    unchanged = f"{result.incident.id} is already {new_status.value}; nothing recorded"
    _report_change(state, result, unchanged)


@app.command()
def severity(
    ctx: typer.Context,
    incident_id: IdArgument,
    level: Annotated[str, typer.Argument(metavar="SEVERITY", help="P1..P4 (or its name).", show_default=False)],
    message: MessageOption = None,
) -> None:
    """Re-classify an incident (P1..P4), with the reason in the timeline."""
    from incidentctl.core.events import EventKind

    state = _state(ctx)
    state.output_format(STANDARD_FORMATS)
    to = normalize_severity(level, _catalogue(state))

    def decide(incident: Incident) -> dict[str, Any] | None:
        if not should_change_severity(incident, to):
            return None
        return _with_message({"from": incident.severity, "to": to}, message)

    with _journal(state) as journal:
        result = journal.append_if(normalize_incident_id(incident_id), EventKind.SEVERITY_CHANGED, decide)
    _report_change(state, result, f"{result.incident.id} is already {to}; nothing recorded")


@app.command()
def ack(ctx: typer.Context, incident_id: IdArgument) -> None:
    """Acknowledge an incident: you are on it (this is what MTTA measures)."""
    from incidentctl.core.events import EventKind
    from incidentctl.render.incidents import format_clock

    state = _state(ctx)
    state.output_format(STANDARD_FORMATS)
    with _journal(state) as journal:
        result = journal.append_if(
            normalize_incident_id(incident_id),
            EventKind.ACKNOWLEDGED,
            lambda incident: {} if should_acknowledge(incident) else None,
        )
    incident = result.incident
    unchanged = f"{incident.id} is already acknowledged"
    if incident.acknowledged_at is not None:
        unchanged += f" (by {incident.acknowledged_by} at {format_clock(incident.acknowledged_at)})"
    _report_change(state, result, unchanged + "; nothing recorded")


@app.command()
def assign(
    ctx: typer.Context,
    incident_id: IdArgument,
    commander: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--commander",
            metavar="NAME",
            help='The incident commander: runs the response and signs the notifications ("" clears the role).',
            show_default=False,
        ),
    ] = None,
    tech_lead: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--tech-lead",
            metavar="NAME",
            help='The technical lead: leads the investigation and the fix ("" clears the role).',
            show_default=False,
        ),
    ] = None,
) -> None:
    """Assign the incident's roles (the notifications name both); a role not given stays as it is."""
    from incidentctl.core.events import EventKind

    state = _state(ctx)
    state.output_format(STANDARD_FORMATS)
    if commander is None and tech_lead is None:
        from incidentctl.errors import UsageError

        raise UsageError(
            "name a role to assign: --commander NAME, --tech-lead NAME, or both",
            hint=f'to clear a role, give it an empty name: incidentctl incident assign {incident_id} --tech-lead ""',
        )
    with _journal(state) as journal:
        result = journal.append_if(
            normalize_incident_id(incident_id),
            EventKind.ROLES_ASSIGNED,
            lambda incident: role_changes(incident, commander=commander, tech_lead=tech_lead),
        )
    _report_change(state, result, f"{result.incident.id} already has these roles; nothing recorded")


def _with_message(data: dict[str, Any], message: str | None) -> dict[str, Any]:
    if message and message.strip():
        data["message"] = message.strip()
    return data


@app.command()
def timeline(
    ctx: typer.Context,
    incident_id: IdArgument,
    follow: Annotated[
        bool,
        typer.Option(
            "-f",
            "--follow",
            help="Keep printing each new event as anyone records it (-o json: one envelope a line). Ctrl-C ends.",
        ),
    ] = False,
) -> None:
    """Show an incident's timeline; -o markdown gives the list for a post-mortem."""
    from incidentctl.render.incidents import timeline_markdown, timeline_table

    state = _state(ctx)
    fmt = state.output_format((*STANDARD_FORMATS, OutputFormat.MARKDOWN))
    if follow:
        if fmt is OutputFormat.MARKDOWN:
            from incidentctl.errors import UsageError

            raise UsageError(
                "--follow prints a table, json or yaml; -o markdown is the finished timeline for a post-mortem",
                hint=f"incidentctl incident timeline {incident_id} -o markdown",
            )
        raise typer.Exit(_follow_timeline(state, incident_id))
    with _journal(state) as journal:
        incident = journal.get(incident_id)
        events: list[Event] = journal.timeline(incident.id)
    names = _severity_names(state)
    state.printer.result(
        "Timeline",
        {"incident": incident.id, "damaged": incident.damaged, "problems": incident.problems, "events": events},
        table=timeline_table(events, names),
        markdown=lambda: timeline_markdown(events, names),
    )


def _follow_timeline(state: AppState, incident_id: str) -> int:
    """Until Ctrl-C (130); a closed pipe ends it as it ends every command (141). The journal going away is said
    once and retried, and its return said too: a follower is never left silent without knowing why."""
    import gc

    from incidentctl.journal.follow import NewEvents, follow_timeline
    from incidentctl.render.incidents import TimelineStream

    gc.enable()  # runs for hours: collect garbage as usual (the entry point starts with it off)
    warned: set[str] = set()
    try:
        journal = state.journal()
        incident = journal.get(incident_id)
        stream = TimelineStream(state.printer, _severity_names(state), incident.id)
        for item in follow_timeline(journal, incident.id, sleep=state.sleep, idle=_end_if_unread):
            if isinstance(item, NewEvents):
                stream.events(item.events)
            _say_how_the_journal_is(state, journal, item, warned)
    except KeyboardInterrupt:
        return int(ExitCode.INTERRUPTED)
    return int(ExitCode.OK)  # the follow ends only by an interrupt or an error


def _end_if_unread() -> None:
    """A reader of stdout that went away (``| grep -m1 bob``) ends a follow that has nothing to print, too, as
    ``tail -f`` does: without this it would be noticed only at the next event, which may be hours away."""
    import errno
    import select
    import sys

    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # a test runner's in-memory stream: nobody to go away
        return
    if not hasattr(select, "poll"):
        return
    poller = select.poll()
    poller.register(fd, 0)  # only the conditions always reported: an error (a pipe without reader), a hang-up
    if any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0)):
        raise BrokenPipeError(errno.EPIPE, "the reader of this output went away")


def _say_how_the_journal_is(state: AppState, journal: JournalStore, item: object, warned: set[str]) -> None:
    """What a follow or a watch says besides its events: the journal lost or back, and what it noticed reading."""
    from incidentctl.journal.follow import Back, Lost

    if isinstance(item, Lost):
        _say_lost(state, item.error)
    elif isinstance(item, Back):
        _say_back(state, journal.location, item.seconds)
    _say_new_warnings(state, journal, warned)


def _say_lost(state: AppState, error: Exception) -> None:
    state.printer.warn(f"{error}; retrying (nothing is shown until it answers: events recorded meanwhile follow then)")


def _say_back(state: AppState, location: str, seconds: float) -> None:
    from incidentctl.core.times import format_elapsed

    away = format_elapsed(seconds)
    state.printer.note(f"the journal at {location} answers again (after {away}); showing what was recorded meanwhile")


def _say_new_warnings(state: AppState, journal: JournalStore, warned: set[str]) -> None:
    """What the journal noticed while reading (a torn line), each said once in a follow that re-reads it often."""
    for warning in journal.drain_warnings():
        if warning not in warned:
            warned.add(warning)
            state.printer.warn(warning)
