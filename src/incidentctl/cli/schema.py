"""``incidentctl schema``: the JSON Schemas of what incidentctl prints, for the CI jobs that read it.

``schema output KIND`` prints the schema of a whole ``-o json`` document of that kind (the envelope and its data),
so a pipeline can check what it parses before it trusts it; without KIND it lists the kinds.
"""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from incidentctl.cli.state import AppState
from incidentctl.errors import UsageError
from incidentctl.render.formats import OutputFormat

app = typer.Typer(
    help="JSON Schemas of incidentctl's -o json|yaml output, for validating it in CI.", no_args_is_help=True
)


@app.command()
def output(
    ctx: typer.Context,
    kind: Annotated[
        Optional[str],  # noqa: UP045 - Typer reads the annotation at run time on Python 3.10
        typer.Argument(
            metavar="KIND", help="A document kind, e.g. DetectReport (omit it to list them).", show_default=False
        ),
    ] = None,
) -> None:
    """Print the JSON Schema of a -o json document of KIND (envelope included); without KIND, list the kinds."""
    import json
    import sys

    from incidentctl.render.output_kinds import description, kind_names, output_schema

    state: AppState = ctx.obj
    if kind is None:
        state.output_format()
        kinds = [{"kind": name, "description": description(name)} for name in kind_names()]

        def table(console: Any) -> None:
            from rich.table import Table

            grid = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
            grid.add_column("KIND", no_wrap=True)
            grid.add_column("DESCRIPTION")
            for item in kinds:
                grid.add_row(item["kind"], item["description"])
            console.print(grid)

        state.printer.result("OutputKindList", {"items": kinds}, table=table)
        return
    fmt = state.output_format((OutputFormat.TABLE, OutputFormat.JSON, OutputFormat.YAML))
    names = {name.lower(): name for name in kind_names()}
    if kind.lower() not in names:
        raise UsageError(f"unknown output kind {kind!r}", hint=f"choose one of: {', '.join(kind_names())}")
    doc = output_schema(names[kind.lower()])
    if fmt is OutputFormat.YAML:
        from incidentctl.render.envelope import dumps

        sys.stdout.write(dumps(doc, "yaml"))
    else:  # the schema is itself the document: no envelope, so a validator can read the output as is
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
