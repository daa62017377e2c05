"""``mitigate apply [DIR]``: the runbook's hotfix manifests (``kubectl apply -f k8s/hotfix/``), through the contract."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from incidentctl.cli.mitigate_common import (
    DryRunOption,
    IncidentOption,
    NoVerifyOption,
    ReasonOption,
    TimeoutOption,
    build_request,
    run_and_show,
)
from incidentctl.cli.state import AppState


def apply(
    ctx: typer.Context,
    directory: Annotated[
        Optional[Path],  # noqa: UP045 - Typer reads the annotation at run time on Python 3.10
        typer.Argument(
            metavar="DIR",
            help="The folder (or file) of manifests (default: the runbook's mitigation.hotfix_dir).",
            show_default=False,
        ),
    ] = None,
    dry_run: DryRunOption = False,
    incident: IncidentOption = None,
    reason: ReasonOption = None,
    no_verify: NoVerifyOption = False,
    timeout: TimeoutOption = None,
) -> None:
    """Apply hotfix manifests (server-side apply), planned as a server-side dry run diffed against the live object."""
    from incidentctl.phases.mitigate.apply import ApplyManifests

    state: AppState = ctx.obj
    folder = None if directory is None else directory if directory.is_absolute() else state.working_dir / directory
    request = build_request(
        state,
        ApplyManifests(folder),
        dry_run=dry_run,
        incident=incident,
        reason=reason,
        no_verify=no_verify,
        timeout=timeout,
    )
    run_and_show(state, request)
