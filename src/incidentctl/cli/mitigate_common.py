"""What every ``mitigate`` command shares: the safety options, asking the responder, showing progress, the result.

Asking needs a terminal: ``AppState.confirm`` when a test gives one, else ``typer.confirm`` when stdin and stderr
are terminals, else nobody can be asked and only ``--yes`` proceeds (the contract refuses with exit 5).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from incidentctl.cli.state import AppState
from incidentctl.errors import UsageError

if TYPE_CHECKING:
    from incidentctl.core.mitigation import Plan
    from incidentctl.phases.mitigate.base import Action, MitigateRequest, MitigateResult
    from incidentctl.render.mitigate import ProgressDisplay

DryRunOption = Annotated[
    bool,
    typer.Option("--dry-run", help="Send every write with dryRun=All and show the server's answer; change nothing."),
]
IncidentOption = Annotated[
    Optional[str],  # noqa: UP045 - Typer reads the annotation at run time on Python 3.10
    typer.Option(
        "--incident", metavar="ID", help="Record in this incident (default: the only open one).", show_default=False
    ),
]
ReasonOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--reason", metavar="TEXT", help="Why (recorded; required for what cannot be undone).", show_default=False
    ),
]
NoVerifyOption = Annotated[
    bool, typer.Option("--no-verify", help="Do not wait for the rollout or re-run the checks afterwards.")
]
AutoUndoOption = Annotated[
    bool, typer.Option("--auto-undo", help="Revert the change when the verification does not find things healthy.")
]
TimeoutOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--timeout",
        metavar="DURATION",
        help="How long to wait for the rollout (default: the runbook's).",
        show_default=False,
    ),
]


def asker(state: AppState) -> Callable[[Plan], bool] | None:
    """How to ask the responder, or None when nobody can be asked."""
    from incidentctl.render.mitigate import show_plan

    console = state.printer.err
    if state.confirm is not None:
        given = state.confirm

        def ask_given(plan: Plan) -> bool:
            show_plan(console, plan)
            return given(f"Apply: {plan.summary}?")

        return ask_given
    if not (sys.stdin.isatty() and console.is_terminal):
        return None

    def ask(plan: Plan) -> bool:
        show_plan(console, plan)
        return typer.confirm("Apply this change?", default=False, err=True)

    return ask


SettleOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--settle",
        metavar="DURATION",
        help="How long the checks may take to turn healthy after the rollouts (default: the runbook's).",
        show_default=False,
    ),
]


def parse_timeout(text: str | None, option: str = "--timeout") -> timedelta | None:
    from incidentctl.core.times import parse_duration

    if text is None:
        return None
    try:
        value = parse_duration(text)
    except ValueError as e:
        raise UsageError(f"{option}: {e}") from e
    if value.total_seconds() <= 0:
        raise UsageError(f"{option}: must be longer than 0s, not {text!r}")
    return value


def progress_display(state: AppState) -> ProgressDisplay | None:
    """Where a verification's progress goes: a live view on a terminal, plain lines off it, nothing with
    ``-o json|yaml`` (a script reads the one document, and its stderr stays free for errors)."""
    from incidentctl.render.mitigate import ProgressDisplay

    if state.printer.format.is_machine:
        return None
    return ProgressDisplay(state.printer.err)


def build_request(
    state: AppState,
    action: Action,
    *,
    dry_run: bool,
    incident: str | None,
    reason: str | None,
    no_verify: bool = False,
    auto_undo: bool = False,
    timeout: str | None = None,
    undoes: str | None = None,
) -> MitigateRequest:
    from incidentctl.phases.mitigate.base import MitigateRequest
    from incidentctl.render.mitigate import show_plan

    err = state.printer.err

    def replanned(plan: Plan, why: str) -> None:
        err.print(f"[yellow]{why}[/]", highlight=False)
        show_plan(err, plan, heading="Plan, read again")

    return MitigateRequest(
        action=action,
        incident=incident,
        reason=reason,
        dry_run=dry_run,
        yes=state.yes,
        confirm=asker(state),
        replanned=replanned,
        verify=not no_verify,
        auto_undo=auto_undo,
        timeout=parse_timeout(timeout),
        undoes=undoes,
    )


def run_and_show(state: AppState, request: MitigateRequest) -> None:
    """Run the contract, show the plan (for --yes and dry runs, which were not asked), print the result, exit."""
    from dataclasses import replace

    from incidentctl.phases.mitigate.contract import run_mitigate
    from incidentctl.render.mitigate import result_table
    from incidentctl.render.mitigate_output import mitigation_output

    state.output_format()
    if request.yes or request.dry_run or request.confirm is None:
        request = _showing_plan(state, request)
    display = progress_display(state)
    if display is not None:
        request = replace(request, progress=display)
    try:
        result: MitigateResult = run_mitigate(state.phase_context(), request)
    finally:
        if display is not None:
            display.close()
    state.printer.result("Mitigation", mitigation_output(result), table=lambda console: result_table(console, result))
    raise typer.Exit(int(result.exit_code))


def _showing_plan(state: AppState, request: MitigateRequest) -> MitigateRequest:
    """Show the plan on stderr as soon as it is made, even when nobody is asked (the contract hands it over with
    the runbook's secrets masked)."""
    from dataclasses import replace

    from incidentctl.render.mitigate import show_plan

    printer = state.printer
    heading = "Dry run" if request.dry_run else "Plan"
    if request.undoes:
        heading = f"{heading} (undoing {request.undoes})"

    def show(plan: Plan) -> None:
        if not printer.format.is_machine:
            show_plan(printer.err, plan, heading=heading)

    return replace(request, show=show)
