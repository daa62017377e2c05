"""``mitigate flush-cache``: the runbook's datastore action run in the datastore's pod (``redis-cli flushall``)."""

from __future__ import annotations

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


def flush_cache(
    ctx: typer.Context,
    datastore: Annotated[
        Optional[str],  # noqa: UP045 - Typer reads the annotation at run time on Python 3.10
        typer.Argument(
            metavar="DATASTORE",
            help="The datastore whose flush-cache action runs (default: the only one that has one).",
            show_default=False,
        ),
    ] = None,
    dry_run: DryRunOption = False,
    incident: IncidentOption = None,
    reason: ReasonOption = None,
    no_verify: NoVerifyOption = False,
    timeout: TimeoutOption = None,
) -> None:
    """Run the datastore's flush-cache action (redis-cli flushall) after its preview; needs --reason; no undo."""
    from incidentctl.phases.mitigate.datastore_actions import DatastoreCommand

    state: AppState = ctx.obj
    request = build_request(
        state,
        DatastoreCommand(datastore),
        dry_run=dry_run,
        incident=incident,
        reason=reason,
        no_verify=no_verify,
        timeout=timeout,
    )
    run_and_show(state, request)
