"""``incidentctl investigate``: the views a responder reads once an incident is declared.

Each view is a subcommand registered here from its own module (``cli/investigate_<view>.py``); the group's
callback runs every view at once when no subcommand is given.
"""

from __future__ import annotations

import typer

from incidentctl.cli import (
    investigate_changes,
    investigate_errors,
    investigate_events,
    investigate_logs,
    investigate_resources,
)

app = typer.Typer(
    name="investigate",
    help="Look for the cause: logs of every pod, new error templates, the suspect change, resources, events.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)

app.command("logs")(investigate_logs.logs)
app.command("errors")(investigate_errors.errors)
app.command("changes")(investigate_changes.changes)
app.command("resources")(investigate_resources.resources)
app.command("events")(investigate_events.events)
