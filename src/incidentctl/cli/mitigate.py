"""``incidentctl mitigate``: the runbook's resolution steps, each through one safety contract.

Every command shows its plan (what changes where, as a diff), honours ``--dry-run`` (the server checks every
write and changes nothing), asks unless ``--yes``, is refused by the runbook's guardrails with exit 5, is recorded
in the open incident before and after, and is verified (the rollout awaited, the checks re-run): exit 0 healthy,
3 still unhealthy, 5 refused or not confirmed, 4 the cluster unreachable or refusing us.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Optional

import typer

from incidentctl.cli import mitigate_apply, mitigate_datastores, mitigate_switches, mitigate_workloads
from incidentctl.cli.mitigate_common import (
    AutoUndoOption,
    DryRunOption,
    IncidentOption,
    NoVerifyOption,
    ReasonOption,
    SettleOption,
    TimeoutOption,
    build_request,
    run_and_show,
)
from incidentctl.cli.state import AppState

app = typer.Typer(
    name="mitigate",
    help="Fix it: restart, scale, rollback, flush-cache, maintenance, circuit-breaker, redirect, apply, verify, "
    "undo. Each shows its plan, honours --dry-run, asks unless --yes, is guarded by the runbook, recorded in the "
    "open incident and verified (exit 0 healthy, 3 still unhealthy, 5 refused or not confirmed).",
    no_args_is_help=True,
    subcommand_metavar="COMMAND [ARGS]...",
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.command("restart")
def restart(
    ctx: typer.Context,
    targets: Annotated[
        list[str],
        typer.Argument(
            metavar="TARGET...",
            help="Components (their deployment), datastores (their statefulset) or a datastore's pod (postgres-0).",
        ),
    ],
    dry_run: DryRunOption = False,
    incident: IncidentOption = None,
    reason: ReasonOption = None,
    no_verify: NoVerifyOption = False,
    auto_undo: AutoUndoOption = False,
    timeout: TimeoutOption = None,
) -> None:
    """Restart as `kubectl rollout restart` does (pods replaced one at a time); a datastore's pod is deleted and
    recreated by its statefulset. A datastore restart needs --reason."""
    from incidentctl.phases.mitigate.restart import Restart

    state: AppState = ctx.obj
    names = tuple(n.strip() for raw in targets for n in raw.split(",") if n.strip())
    request = build_request(
        state,
        Restart(names),
        dry_run=dry_run,
        incident=incident,
        reason=reason,
        no_verify=no_verify,
        auto_undo=auto_undo,
        timeout=timeout,
    )
    run_and_show(state, request)


app.command("scale")(mitigate_workloads.scale)
app.command("rollback")(mitigate_workloads.rollback)


@app.command("verify")
def verify(
    ctx: typer.Context,
    targets: Annotated[
        Optional[list[str]],  # noqa: UP045 - Typer reads the annotation at run time on Python 3.10
        typer.Argument(
            metavar="[COMPONENT...]",
            help="Components (their deployment), datastores (their statefulset) or a datastore's pod; default: all.",
            show_default=False,
        ),
    ] = None,
    incident: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--incident",
            metavar="ID",
            help="Record the verification in this incident (default: the only open one, if there is one).",
            show_default=False,
        ),
    ] = None,
    timeout: TimeoutOption = None,
    settle: SettleOption = None,
) -> None:
    """Wait for the rollouts, then re-run detect's checks of these components until they are healthy or --settle
    passes: exit 0 healthy, 3 with what is still wrong, 4 the cluster unreachable. Recorded in the open incident."""
    from incidentctl.cli.mitigate_common import parse_timeout, progress_display
    from incidentctl.phases.mitigate.base import VerifyRequest
    from incidentctl.phases.mitigate.verify import run_verify
    from incidentctl.render.mitigate import verify_table
    from incidentctl.render.mitigate_output import verify_output

    state: AppState = ctx.obj
    state.output_format()
    names = tuple(n.strip() for raw in targets or [] for n in raw.split(",") if n.strip())
    request = VerifyRequest(
        targets=names,
        incident=incident,
        timeout=parse_timeout(timeout),
        settle=parse_timeout(settle, "--settle"),
    )
    display = progress_display(state)
    try:
        result = run_verify(state.phase_context(), replace(request, progress=display) if display else request)
    finally:
        if display is not None:
            display.close()
    state.printer.result("Verification", verify_output(result), table=lambda console: verify_table(console, result))
    raise typer.Exit(int(result.exit_code))


app.command("maintenance")(mitigate_switches.maintenance)
app.command("circuit-breaker")(mitigate_switches.circuit_breaker)
app.command("redirect")(mitigate_switches.redirect)
app.command("flush-cache")(mitigate_datastores.flush_cache)


@app.command("undo")
def undo(
    ctx: typer.Context,
    action_id: Annotated[
        str,
        typer.Argument(
            metavar="ACTION-ID",
            help="The mitigation to revert: M2 (in --incident or the only open incident) or INC-2026-004/M2.",
        ),
    ],
    dry_run: DryRunOption = False,
    incident: IncidentOption = None,
    reason: ReasonOption = None,
    no_verify: NoVerifyOption = False,
    timeout: TimeoutOption = None,
) -> None:
    """Put back what a recorded mitigation changed, with the undo it recorded (scale back, close the breaker, leave
    maintenance), through the same contract: previewed, guarded, confirmed, recorded as undoing it, verified. A
    mitigation that failed, never applied, recorded no undo or was already undone is refused (exit 5)."""
    from incidentctl.phases.mitigate.undo import resolve_undo

    state: AppState = ctx.obj
    state.output_format()
    target = resolve_undo(state.phase_context(), action_id, incident)
    request = build_request(
        state,
        target.action,
        dry_run=dry_run,
        incident=target.incident_id,
        reason=reason,
        no_verify=no_verify,
        timeout=timeout,
        undoes=target.undoes,
    )
    run_and_show(state, request)


app.command("apply")(mitigate_apply.apply)
