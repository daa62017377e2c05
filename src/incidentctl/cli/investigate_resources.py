"""``incidentctl investigate resources``: ``kubectl top pods`` and ``kubectl top nodes`` against requests and
limits, with restarts, OOM kills and node pressure."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from incidentctl.cli.investigate_common import IncidentOption, NoSaveOption, evidence_request, finish, say_kept
from incidentctl.cli.state import AppState
from incidentctl.errors import UsageError


def resources(
    ctx: typer.Context,
    components: Annotated[
        Optional[list[str]],  # noqa: UP045 - Typer reads the annotation at run time on Python 3.10
        typer.Argument(metavar="COMPONENT", help="Components or datastores (default: all).", show_default=False),
    ] = None,
    since: Annotated[
        str, typer.Option("--since", metavar="DURATION", help="Container exits within this window are crashes.")
    ] = "1h",
    incident: IncidentOption = None,
    no_save: NoSaveOption = False,
) -> None:
    """Usage against requests and limits, restarts, OOM kills, nodes under pressure. Exit 0 fine, 3 problems."""
    from incidentctl.core.times import parse_duration
    from incidentctl.phases.investigate.resources import ResourcesRequest, run_resources
    from incidentctl.render.investigate_resources import resources_data, resources_table

    state: AppState = ctx.obj
    state.output_format()
    try:
        window = parse_duration(since)
    except ValueError as e:
        raise UsageError(f"--since: {e}") from e
    names = tuple(n.strip() for raw in components or [] for n in raw.split(",") if n.strip())
    result = run_resources(
        state.phase_context(),
        ResourcesRequest(components=names, window=window, evidence=evidence_request(ctx, incident, no_save)),
    )
    if result.cluster_error is not None:
        raise result.cluster_error
    state.printer.result(
        "InvestigateResources", resources_data(result), table=lambda console: resources_table(console, result)
    )
    say_kept(state, result.kept, in_document=False)
    finish(state, result.kept, result.exit_code)
