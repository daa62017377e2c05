"""``incidentctl communicate``: the runbook's messages, previewed, sent through the outbox, flushed, listed.

Parsing only: the use cases are :mod:`incidentctl.phases.communicate.run`. None of these commands needs the
cluster: a message must go out when the cluster is what is broken.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Optional

import typer

from incidentctl.cli.state import AppState
from incidentctl.core.messages import MESSAGE_KINDS

if TYPE_CHECKING:
    from incidentctl.phases.communicate.run import DeliveryResult
    from incidentctl.phases.messaging.compose import Content

app = typer.Typer(
    help="Tell people: preview, send and track the runbook's messages on every channel, nothing lost or sent twice.",
    no_args_is_help=True,
)

KindArgument = Annotated[
    str,
    typer.Argument(metavar="KIND", help=f"What to send: {', '.join(MESSAGE_KINDS)}.", show_default=False),
]
IdArgument = Annotated[
    Optional[str],  # noqa: UP045 - Typer reads the annotation at run time on Python 3.10
    typer.Argument(metavar="[ID]", help="The incident (default: the only open one).", show_default=False),
]
ToOption = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--to",
        metavar="AUDIENCE|CHANNEL",
        help="Who gets it: an audience (team, stakeholders, executives, customers, support) or a channel; "
        "repeatable (default: the severity's notify list).",
        show_default=False,
    ),
]
UpdateOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--update", metavar="TEXT", help="What changed (status update, status page).", show_default=False),
]
ImpactOption = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option("--impact", metavar="TEXT", help="One line of impact; repeatable.", show_default=False),
]
ProgressOption = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option("--progress", metavar="TEXT", help="One line of progress; repeatable.", show_default=False),
]
ResolutionOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--resolution", metavar="TEXT", help="How it was resolved.", show_default=False),
]


EtaOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--eta", metavar="TEXT", help='When the fix is expected ("30 minutes").', show_default=False),
]
RootCauseOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--root-cause", metavar="TEXT", help="The root cause, once known.", show_default=False),
]
CustomerImpactOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--customer-impact", metavar="TEXT", help="What customers notice, in their words.", show_default=False
    ),
]
NextStepsOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--next-steps", metavar="TEXT", help="What happens next (executive summary).", show_default=False),
]
TextFileOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--text-file",
        metavar="PATH|-",
        help="The update (for a resolution: how it was resolved) from a file; - reads stdin.",
        show_default=False,
    ),
]


def _content(
    kind: str,
    update: str | None,
    impact: list[str] | None,
    progress: list[str] | None,
    resolution: str | None,
    eta: str | None,
    root_cause: str | None,
    customer_impact: str | None,
    next_steps: str | None,
    text_file: str | None,
) -> Content:
    from incidentctl.phases.messaging.compose import Content

    if text_file is not None:
        longer = _read_text(text_file, "--text-file")
        if kind == "resolution":
            resolution = resolution or longer
        else:
            update = update or longer
    return Content(
        impact=tuple(impact or ()),
        update=update,
        progress=tuple(progress or ()),
        resolution=resolution,
        eta=eta,
        root_cause=root_cause,
        customer_impact=customer_impact,
        next_steps=next_steps,
    )


def _read_text(path: str, option: str) -> str:
    """A file's text, or stdin's for ``-``; a file that cannot be read is one line naming it (exit 2)."""
    import sys
    from pathlib import Path

    from incidentctl.errors import UsageError

    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise UsageError(f"{option} {path}: cannot be read ({reason})") from e


@app.command()
def preview(
    ctx: typer.Context,
    kind: KindArgument,
    incident_id: IdArgument = None,
    to: ToOption = None,
    update: UpdateOption = None,
    impact: ImpactOption = None,
    progress: ProgressOption = None,
    resolution: ResolutionOption = None,
    eta: EtaOption = None,
    root_cause: RootCauseOption = None,
    customer_impact: CustomerImpactOption = None,
    next_steps: NextStepsOption = None,
    text_file: TextFileOption = None,
) -> None:
    """Show exactly what would be sent where; nothing is recorded or sent."""
    from incidentctl.phases.communicate.run import PreviewRequest, PreviewResult, run_communicate
    from incidentctl.render.communicate import show_preview
    from incidentctl.render.communicate_output import PreviewOutput

    state: AppState = ctx.obj
    state.output_format()
    content = _content(
        kind, update, impact, progress, resolution, eta, root_cause, customer_impact, next_steps, text_file
    )
    result = run_communicate(
        state.phase_context(cluster=False), PreviewRequest(kind, incident_id, tuple(to or ()), content)
    )
    assert isinstance(result, PreviewResult)
    state.printer.result(
        "MessagePreview", PreviewOutput.model_validate(result), table=lambda console: show_preview(console, result)
    )
    raise typer.Exit(int(result.exit_code))


@app.command()
def send(
    ctx: typer.Context,
    kind: KindArgument,
    incident_id: IdArgument = None,
    to: ToOption = None,
    update: UpdateOption = None,
    impact: ImpactOption = None,
    progress: ProgressOption = None,
    resolution: ResolutionOption = None,
    eta: EtaOption = None,
    root_cause: RootCauseOption = None,
    customer_impact: CustomerImpactOption = None,
    next_steps: NextStepsOption = None,
    text_file: TextFileOption = None,
) -> None:
    """Queue the message in the journal, then deliver it; what cannot be delivered stays queued (exit 4)."""
    from incidentctl.phases.communicate.run import DeliveryResult, SendRequest, run_communicate

    state: AppState = ctx.obj
    state.output_format()
    content = _content(
        kind, update, impact, progress, resolution, eta, root_cause, customer_impact, next_steps, text_file
    )
    result = run_communicate(
        state.phase_context(cluster=False), SendRequest(kind, incident_id, tuple(to or ()), content)
    )
    assert isinstance(result, DeliveryResult)
    _show_delivery(state, result)


@app.command()
def flush(
    ctx: typer.Context,
    incident_id: IdArgument = None,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Try again messages a channel refused (after fixing the cause).")
    ] = False,
    resend: Annotated[
        bool,
        typer.Option(
            "--resend", help="Send again in-doubt messages on channels that cannot tell whether they have them."
        ),
    ] = False,
    all_open: Annotated[
        bool, typer.Option("--all", help="Every open incident's queue (for a cron job), not only one.")
    ] = False,
) -> None:
    """Deliver what is queued (after a Slack outage, say), each message once."""
    from incidentctl.phases.communicate.run import DeliveryResult, FlushRequest, run_communicate
    from incidentctl.phases.messaging.deliver import FlushOptions

    state: AppState = ctx.obj
    state.output_format()
    request = FlushRequest(
        incident_id, all_open=all_open, options=FlushOptions(retry_failed=retry_failed, resend=resend)
    )
    result = run_communicate(state.phase_context(cluster=False), request)
    assert isinstance(result, DeliveryResult)
    _show_delivery(state, result)


@app.command()
def status(ctx: typer.Context, incident_id: IdArgument = None) -> None:
    """Every message of the incident: sent, queued, failed (with the error), in doubt, to do by hand."""
    from incidentctl.phases.communicate.run import StatusRequest, StatusResult, run_communicate
    from incidentctl.render.communicate import show_status
    from incidentctl.render.communicate_output import OutboxOutput

    state: AppState = ctx.obj
    state.output_format()
    result = run_communicate(state.phase_context(cluster=False), StatusRequest(incident_id))
    assert isinstance(result, StatusResult)
    state.printer.result("Outbox", OutboxOutput.model_validate(result), table=lambda c: show_status(c, result))
    raise typer.Exit(int(result.exit_code))


@app.command()
def due(ctx: typer.Context, incident_id: IdArgument = None) -> None:
    """Which open incidents owe an update (the severity's update interval); exit 3 when one is overdue."""
    from incidentctl.phases.communicate.run import DueRequest, DueResult, run_communicate
    from incidentctl.render.communicate import show_due
    from incidentctl.render.communicate_output import DueOutput

    state: AppState = ctx.obj
    state.output_format()
    result = run_communicate(state.phase_context(cluster=False), DueRequest(incident_id))
    assert isinstance(result, DueResult)
    state.printer.result("UpdatesDue", DueOutput.model_validate(result), table=lambda c: show_due(c, result))
    raise typer.Exit(int(result.exit_code))


@app.command()
def done(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(metavar="KEY", help="The message's key (communicate status lists them).")],
    incident_id: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--incident", metavar="ID", help="The incident (default: the only open one).", show_default=False),
    ] = None,
) -> None:
    """Mark a manual channel's item done (the war room opened, the press told), or an in-doubt message checked."""
    from incidentctl.phases.communicate.run import DeliveryResult, DoneRequest, run_communicate

    state: AppState = ctx.obj
    state.output_format()
    result = run_communicate(state.phase_context(cluster=False), DoneRequest(key, incident_id))
    assert isinstance(result, DeliveryResult)
    _show_delivery(state, result)


def _show_delivery(state: AppState, result: DeliveryResult) -> None:
    from incidentctl.render.communicate import show_delivery
    from incidentctl.render.communicate_output import DeliveryOutput

    state.printer.result(
        "MessageDelivery", DeliveryOutput.model_validate(result), table=lambda c: show_delivery(c, result)
    )
    raise typer.Exit(int(result.exit_code))
