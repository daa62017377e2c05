"""``postmortem status|schedule|complete``: the runbook's review stages and the post-mortem meeting.

Parsing only: the use cases are :mod:`incidentctl.phases.postmortem.review` and :mod:`.meeting`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from incidentctl.cli.state import AppState

IdArgument = Annotated[str, typer.Argument(metavar="ID", help="The incident, e.g. INC-2026-004.", show_default=False)]


def status(
    ctx: typer.Context,
    incident_id: Annotated[
        Optional[str],  # noqa: UP045 - Typer reads the annotation at run time on Python 3.10
        typer.Argument(
            metavar="[ID]",
            help="One incident (default: every incident whose post-mortem is required and not complete).",
            show_default=False,
        ),
    ] = None,
    show_all: Annotated[bool, typer.Option("-A", "--all", help="Complete post-mortems too.")] = False,
) -> None:
    """The review stages due and overdue, counted from each incident's resolution (exit 3: one is overdue)."""
    from incidentctl.phases.postmortem.review import StatusRequest, StatusResult
    from incidentctl.phases.postmortem.run import run_postmortem
    from incidentctl.render.postmortem_review import show_status
    from incidentctl.render.postmortem_review_output import PostmortemStatusOutput

    state: AppState = ctx.obj
    state.output_format()
    result = run_postmortem(state.phase_context(cluster=False), StatusRequest(incident_id, show_all))
    assert isinstance(result, StatusResult)
    state.printer.result(
        "PostmortemStatus", PostmortemStatusOutput.model_validate(result), table=lambda c: show_status(c, result)
    )
    raise typer.Exit(int(result.exit_code))


def complete(
    ctx: typer.Context,
    incident_id: IdArgument,
    stage: Annotated[
        str,
        typer.Argument(
            metavar="STAGE",
            help="A stage of the runbook's postmortem.stages: immediate-review, detailed-analysis, action-items.",
            show_default=False,
        ),
    ],
    note: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--note", metavar="TEXT", help="What was done (kept in the timeline).", show_default=False),
    ] = None,
) -> None:
    """Record a review stage as completed (once; completing it again records nothing and says when it was)."""
    from incidentctl.phases.postmortem.review import CompleteRequest, CompleteResult
    from incidentctl.phases.postmortem.run import run_postmortem
    from incidentctl.render.postmortem_review import show_completed
    from incidentctl.render.postmortem_review_output import ReviewCompletedOutput

    state: AppState = ctx.obj
    state.output_format()
    result = run_postmortem(state.phase_context(cluster=False), CompleteRequest(incident_id, stage, note))
    assert isinstance(result, CompleteResult)
    state.printer.result(
        "ReviewCompleted", ReviewCompletedOutput.model_validate(result), table=lambda c: show_completed(c, result)
    )
    raise typer.Exit(int(result.exit_code))


def schedule(
    ctx: typer.Context,
    incident_id: IdArgument,
    at: Annotated[
        str,
        typer.Option("--at", metavar="TIME", help="RFC 3339, e.g. 2026-03-16T10:00:00Z.", show_default=False),
    ],
    duration: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--duration", metavar="DURATION", help="How long: 45m, 1h (default 1h).", show_default=False),
    ] = None,
    where: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--where", metavar="TEXT", help="A room or a video link.", show_default=False),
    ] = None,
    attendee: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option(
            "--attendee",
            metavar="NAME-OR-EMAIL",
            help="Who attends: alice@example.com, 'Alice <alice@example.com>' or a name (repeat).",
            show_default=False,
        ),
    ] = None,
    ics: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--ics", metavar="FILE", help="Write an iCalendar invitation to send.", show_default=False),
    ] = None,
) -> None:
    """Record the post-mortem meeting (a time in the past records one that happened); --ics writes the invitation,
    and re-scheduling updates the same calendar event."""
    from incidentctl.phases.postmortem.meeting import ScheduleRequest, ScheduleResult
    from incidentctl.phases.postmortem.run import run_postmortem
    from incidentctl.render.postmortem_review import show_meeting
    from incidentctl.render.postmortem_review_output import PostmortemMeetingOutput

    state: AppState = ctx.obj
    state.output_format()
    request = ScheduleRequest(incident_id, at, duration, where, tuple(attendee or ()), ics)
    result = run_postmortem(state.phase_context(cluster=False), request)
    assert isinstance(result, ScheduleResult)
    for warning in result.warnings:
        state.printer.warn(warning)
    state.printer.result(
        "PostmortemMeeting", PostmortemMeetingOutput.model_validate(result), table=lambda c: show_meeting(c, result)
    )
    raise typer.Exit(int(result.exit_code))


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``postmortem`` group."""
    app.command("status")(status)
    app.command("schedule")(schedule)
    app.command("complete")(complete)
