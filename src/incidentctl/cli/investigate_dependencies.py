"""``incidentctl investigate dependencies``: the runbook's HTTP checks, with latency and the exact error."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from incidentctl.cli.investigate_common import IncidentOption, NoSaveOption, evidence_request, finish, say_kept
from incidentctl.cli.state import AppState


def dependencies(
    ctx: typer.Context,
    names: Annotated[
        Optional[list[str]],  # noqa: UP045 - Typer reads the annotation at run time on Python 3.10
        typer.Argument(
            metavar="[DEPENDENCY]...", help="Only these dependencies (default: all in the runbook).", show_default=False
        ),
    ] = None,
    incident: IncidentOption = None,
    no_save: NoSaveOption = False,
) -> None:
    """Probe every dependency the runbook names. Exit 0 all OK, 3 problems."""
    from incidentctl.phases.investigate.dependencies import DependenciesRequest, run_dependencies
    from incidentctl.render.investigate import checks_table, dependencies_data

    state: AppState = ctx.obj
    state.output_format()
    request = DependenciesRequest(names=tuple(names or ()), evidence=evidence_request(ctx, incident, no_save))
    result = run_dependencies(state.phase_context(), request)
    state.printer.result(
        "InvestigateDependencies", dependencies_data(result), table=lambda console: checks_table(console, result)
    )
    say_kept(state, result.kept)
    finish(state, result.kept, result.exit_code)
