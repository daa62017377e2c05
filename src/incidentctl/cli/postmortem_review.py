"""``postmortem status|schedule|complete``: the runbook's review stages and the post-mortem meeting."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``postmortem`` group."""
