"""``incidentctl investigate``: the views a responder reads once an incident is declared.

Each view is a subcommand registered here from its own module (``cli/investigate_<view>.py``); the group's
callback runs every view at once when no subcommand is given.
"""

from __future__ import annotations

import typer

from incidentctl.cli import (
    investigate_changes,
    investigate_datastores,
    investigate_dependencies,
    investigate_errors,
    investigate_events,
    investigate_logs,
    investigate_resources,
)
from incidentctl.cli.investigate_common import (
    IncidentOption,
    NoSaveOption,
    evidence_request,
    finish,
    remember_group_options,
    say_kept,
)
from incidentctl.cli.state import AppState

app = typer.Typer(
    name="investigate",
    help="Look for the cause: logs of every pod, new error templates, the suspect change, resources, events. "
    "Without a command: every view at once, ranked on one screen, the evidence kept in the open incident "
    "(exit 0 nothing wrong found, 3 problems found, 4 a view could not look).",
    invoke_without_command=True,
    subcommand_metavar="[COMMAND] [ARGS]...",
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command("logs")(investigate_logs.logs)
app.command("errors")(investigate_errors.errors)
app.command("changes")(investigate_changes.changes)
app.command("resources")(investigate_resources.resources)
app.command("events")(investigate_events.events)
app.command("datastores")(investigate_datastores.datastores)
app.command("dependencies")(investigate_dependencies.dependencies)


@app.callback()
def investigate(ctx: typer.Context, incident: IncidentOption = None, no_save: NoSaveOption = False) -> None:
    """Run every view at once and rank what they found on one screen; keep it all in the open incident.
    Exit 0 nothing wrong found, 3 problems found, 4 a view could not look (the cluster unreachable)."""
    if ctx.invoked_subcommand is not None:
        remember_group_options(ctx, incident, no_save)
        return
    from incidentctl.phases.investigate.run import InvestigateRequest, run_investigate
    from incidentctl.render.investigate import investigate_data, summary_table

    state: AppState = ctx.obj
    state.output_format()
    result = run_investigate(
        state.phase_context(), InvestigateRequest(evidence=evidence_request(ctx, incident, no_save))
    )
    state.printer.result("Investigate", investigate_data(result), table=lambda console: summary_table(console, result))
    say_kept(state, result.kept)
    finish(state, result.kept, result.exit_code)
