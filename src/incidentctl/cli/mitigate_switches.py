"""``mitigate maintenance on|off``, ``mitigate circuit-breaker DEPENDENCY open|close``, ``mitigate redirect NAME
on|off``: the runbook's switches, each through the one safety contract."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from incidentctl.cli.mitigate_common import (
    AutoUndoOption,
    DryRunOption,
    IncidentOption,
    NoVerifyOption,
    ReasonOption,
    TimeoutOption,
    build_request,
    run_and_show,
)
from incidentctl.cli.state import AppState

if TYPE_CHECKING:
    from incidentctl.phases.mitigate.switches import Kind


def _run(
    ctx: typer.Context,
    kind: Kind,
    switch: str | None,
    word: str,
    *,
    dry_run: bool,
    incident: str | None,
    reason: str | None,
    no_verify: bool,
    auto_undo: bool,
    timeout: str | None,
) -> None:
    from incidentctl.phases.mitigate.switches import SwitchAction, direction_of

    state: AppState = ctx.obj
    action = SwitchAction(kind, switch, direction_of(kind, word))
    request = build_request(
        state,
        action,
        dry_run=dry_run,
        incident=incident,
        reason=reason,
        no_verify=no_verify,
        auto_undo=auto_undo,
        timeout=timeout,
    )
    run_and_show(state, request)


def maintenance(
    ctx: typer.Context,
    state: Annotated[str, typer.Argument(metavar="on|off", help="on: users get the maintenance page; off: back.")],
    dry_run: DryRunOption = False,
    incident: IncidentOption = None,
    reason: ReasonOption = None,
    no_verify: NoVerifyOption = False,
    auto_undo: AutoUndoOption = False,
    timeout: TimeoutOption = None,
) -> None:
    """Turn maintenance mode on or off, as the runbook's mitigation.maintenance defines it (off re-runs the
    checks of the components it names; on verifies nothing, since they answer 503 on purpose)."""
    _run(
        ctx,
        "maintenance",
        None,
        state,
        dry_run=dry_run,
        incident=incident,
        reason=reason,
        no_verify=no_verify,
        auto_undo=auto_undo,
        timeout=timeout,
    )


def circuit_breaker(
    ctx: typer.Context,
    dependency: Annotated[
        str, typer.Argument(metavar="DEPENDENCY", help="A dependency the runbook has a breaker for.")
    ],
    state: Annotated[str, typer.Argument(metavar="open|close", help="open: stop calling it; close: call it again.")],
    dry_run: DryRunOption = False,
    incident: IncidentOption = None,
    reason: ReasonOption = None,
    no_verify: NoVerifyOption = False,
    auto_undo: AutoUndoOption = False,
    timeout: TimeoutOption = None,
) -> None:
    """Open or close the circuit breaker for a dependency, as the runbook's mitigation.circuit_breakers defines
    it, then re-run the checks of the components it names (the dependency's own check does not count)."""
    _run(
        ctx,
        "circuit-breaker",
        dependency,
        state,
        dry_run=dry_run,
        incident=incident,
        reason=reason,
        no_verify=no_verify,
        auto_undo=auto_undo,
        timeout=timeout,
    )


def redirect(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="A redirect the runbook defines (standby).")],
    state: Annotated[str, typer.Argument(metavar="on|off", help="on: send users there; off: back to the cluster.")],
    dry_run: DryRunOption = False,
    incident: IncidentOption = None,
    reason: ReasonOption = None,
    no_verify: NoVerifyOption = False,
    auto_undo: AutoUndoOption = False,
    timeout: TimeoutOption = None,
) -> None:
    """Send traffic elsewhere or back, as the runbook's mitigation.redirects defines it, then re-run the checks
    of the components it names."""
    _run(
        ctx,
        "redirect",
        name,
        state,
        dry_run=dry_run,
        incident=incident,
        reason=reason,
        no_verify=no_verify,
        auto_undo=auto_undo,
        timeout=timeout,
    )
