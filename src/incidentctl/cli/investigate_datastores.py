"""``incidentctl investigate datastores``: the runbook's exec checks, with latency and the exact error."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from incidentctl.cli.investigate_common import IncidentOption, NoSaveOption, evidence_request, finish, say_kept
from incidentctl.cli.state import AppState


def datastores(
    ctx: typer.Context,
    names: Annotated[
        Optional[list[str]],  # noqa: UP045 - Typer reads the annotation at run time on Python 3.10
        typer.Argument(
            metavar="[DATASTORE]...", help="Only these datastores (default: all in the runbook).", show_default=False
        ),
    ] = None,
    incident: IncidentOption = None,
    no_save: NoSaveOption = False,
) -> None:
    """Run every datastore's check (psql SELECT 1, redis-cli ping). Exit 0 all OK, 3 problems, 4 unreachable."""
    from incidentctl.phases.investigate.datastores import DatastoresRequest, run_datastores
    from incidentctl.render.investigate import checks_table, datastores_data

    state: AppState = ctx.obj
    state.output_format()
    request = DatastoresRequest(names=tuple(names or ()), evidence=evidence_request(ctx, incident, no_save))
    result = run_datastores(state.phase_context(), request)
    state.printer.result(
        "InvestigateDatastores", datastores_data(result), table=lambda console: checks_table(console, result)
    )
    say_kept(state, result.kept)
    finish(state, result.kept, result.exit_code)
