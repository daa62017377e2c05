"""``incidentctl incident ...``: declare incidents and keep their timeline."""

from __future__ import annotations

import typer

app = typer.Typer(help="Declare incidents and keep their timeline.", no_args_is_help=True)
