"""``mitigate scale`` and ``mitigate rollback``: the two ways of changing a component's deployment besides a
restart. Parsing only; the plans are :mod:`incidentctl.phases.mitigate.scale` and ``.rollback``."""

from __future__ import annotations

from typing import Annotated, Optional

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


def scale(
    ctx: typer.Context,
    counts: Annotated[
        list[str],
        typer.Argument(
            metavar="COMPONENT=N",
            help="Components and their new replica counts (gateway=5); a component alone scales to the runbook's "
            "scale.surge.",
        ),
    ],
    dry_run: DryRunOption = False,
    incident: IncidentOption = None,
    reason: ReasonOption = None,
    no_verify: NoVerifyOption = False,
    auto_undo: AutoUndoOption = False,
    timeout: TimeoutOption = None,
) -> None:
    """Scale as `kubectl scale` does, within the runbook's replica bounds (components[].scale min/max), planned
    against the deployment's resourceVersion."""
    from incidentctl.phases.mitigate.scale import Scale, parse_counts

    state: AppState = ctx.obj
    words = [w.strip() for raw in counts for w in raw.split(",") if w.strip()]
    request = build_request(
        state,
        Scale(parse_counts(state.runbook(), words)),
        dry_run=dry_run,
        incident=incident,
        reason=reason,
        no_verify=no_verify,
        auto_undo=auto_undo,
        timeout=timeout,
    )
    run_and_show(state, request)


def rollback(
    ctx: typer.Context,
    component: Annotated[str, typer.Argument(metavar="COMPONENT", help="The component whose deployment rolls back.")],
    to_revision: Annotated[
        Optional[int],  # noqa: UP045 - Typer reads the annotation at run time on Python 3.10
        typer.Option(
            "--to-revision",
            metavar="N",
            help="The revision to roll back to (default: the previous one, as kubectl rollout undo).",
            show_default=False,
        ),
    ] = None,
    dry_run: DryRunOption = False,
    incident: IncidentOption = None,
    reason: ReasonOption = None,
    no_verify: NoVerifyOption = False,
    auto_undo: AutoUndoOption = False,
    timeout: TimeoutOption = None,
) -> None:
    """Roll back as `kubectl rollout undo` does, showing first what changes (images, env, resources, args, probes)
    and the pod template's diff; planned against the deployment's resourceVersion."""
    from incidentctl.phases.mitigate.rollback import Rollback

    state: AppState = ctx.obj
    request = build_request(
        state,
        Rollback(((component, to_revision),)),
        dry_run=dry_run,
        incident=incident,
        reason=reason,
        no_verify=no_verify,
        auto_undo=auto_undo,
        timeout=timeout,
    )
    run_and_show(state, request)
