"""``incidentctl runbook``: validate, show, export the schema of, and start a runbook.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from incidentctl.cli.state import AppState
from incidentctl.exitcodes import ExitCode
from incidentctl.render.formats import OutputFormat

app = typer.Typer(help="Check and inspect runbook.yaml, the configuration every phase runs from.", no_args_is_help=True)


@app.command()
def validate(ctx: typer.Context) -> None:
    """Check runbook.yaml: every problem with its file:line:column, key path and a suggestion. Exit 2 if invalid."""
    from incidentctl.render.runbook import validation_table
    from incidentctl.runbook.problems import RunbookInvalid

    state: AppState = ctx.obj
    state.output_format()
    source = state.runbook_source()
    try:
        rb = state.runbook()
    except RunbookInvalid as err:
        data = {"valid": False, "path": str(source.path), "problems": [p.as_dict(err.file) for p in err.problems]}
        state.printer.result("RunbookValidation", data, table=lambda c: validation_table(c, data))
        raise typer.Exit(int(ExitCode.USAGE)) from err
    counts = {
        "components": len(rb.components),
        "dependencies": len(rb.dependencies),
        "datastores": len(rb.datastores),
        "severities": len(rb.severities),
        "triage_rules": len(rb.triage.rules),
        "escalation_levels": len(rb.escalation.levels),
        "channels": len(rb.communication.channels),
    }
    ok = {"valid": True, "path": str(source.path), "counts": counts, "problems": []}
    state.printer.result("RunbookValidation", ok, table=lambda c: validation_table(c, ok))


@app.command()
def show(ctx: typer.Context) -> None:
    """Show the runbook as incidentctl resolved it (defaults filled in); -o json|yaml for the full document."""
    from incidentctl.core.urls import redact_urls_in
    from incidentctl.render.runbook import runbook_tables

    state: AppState = ctx.obj
    state.output_format()
    rb = state.runbook()
    # Every format shows the runbook's URLs without the tokens a query string can carry.
    data = redact_urls_in({"source": str(state.runbook_source().path), **rb.model_dump(mode="json", by_alias=True)})
    state.printer.result("Runbook", data, table=lambda c: runbook_tables(c, data))


@app.command()
def schema(ctx: typer.Context) -> None:
    """Print the JSON Schema of runbook.yaml (for yaml-language-server: `runbook schema > runbook.schema.json`)."""
    import json
    import sys

    from incidentctl.runbook.schema import runbook_json_schema

    state: AppState = ctx.obj
    fmt = state.output_format((OutputFormat.TABLE, OutputFormat.JSON, OutputFormat.YAML))
    doc = runbook_json_schema()
    if fmt is OutputFormat.YAML:
        from incidentctl.render.envelope import dumps

        sys.stdout.write(dumps(doc, "yaml"))
    else:  # the schema is itself the document: no envelope, so editors can use the output as is
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")


@app.command()
def init(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="Folder to write runbook.yaml, templates/ and the schema into.")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite files that already exist.")] = False,
) -> None:
    """Write a starter runbook (the SarvanOM one), its templates and its JSON Schema into DIRECTORY."""
    from incidentctl.runbook.starter import write_starter

    state: AppState = ctx.obj
    state.output_format()
    written = write_starter(directory, force=force)

    def table(console: object) -> None:
        state.printer.out.print(f"Wrote {len(written)} files into {directory}:")
        for path in written:
            state.printer.out.print(f"  {path}")
        state.printer.out.print(
            f"Next: edit {directory / 'runbook.yaml'}, then "
            f"`incidentctl --runbook {directory / 'runbook.yaml'} runbook validate`."
        )

    state.printer.result("RunbookInit", {"directory": str(directory), "files": [str(p) for p in written]}, table=table)
