"""``incidentctl investigate events``: the namespace's Warning events, grouped by reason and object."""

from __future__ import annotations

from typing import Annotated

import typer

from incidentctl.cli.investigate_common import IncidentOption, NoSaveOption, evidence_request, finish, say_kept
from incidentctl.cli.state import AppState
from incidentctl.errors import UsageError


def events(
    ctx: typer.Context,
    since: Annotated[
        str, typer.Option("--since", metavar="DURATION", help="Only events last seen within this window.")
    ] = "1h",
    incident: IncidentOption = None,
    no_save: NoSaveOption = False,
) -> None:
    """Warning events grouped by reason and object, with counts and last seen. Exit 0 none, 3 some."""
    from incidentctl.core.times import parse_duration
    from incidentctl.phases.investigate.events import EventsRequest, run_events
    from incidentctl.render.investigate_events import events_data, events_table

    state: AppState = ctx.obj
    state.output_format()
    try:
        window = parse_duration(since)
    except ValueError as e:
        raise UsageError(f"--since: {e}") from e
    result = run_events(
        state.phase_context(), EventsRequest(window=window, evidence=evidence_request(ctx, incident, no_save))
    )
    if result.cluster_error is not None:
        raise result.cluster_error
    state.printer.result("InvestigateEvents", events_data(result), table=lambda console: events_table(console, result))
    say_kept(state, result.kept, in_document=False)
    finish(state, result.kept, result.exit_code)
