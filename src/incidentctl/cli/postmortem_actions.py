"""``postmortem action add|list|done|change``: action items, journalled, with owners and due dates."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Action items from post-mortems: add, list (every incident; --owner, --overdue), change, done.",
    no_args_is_help=True,
)
