"""Command-line interface (Typer only)."""

from __future__ import annotations


def main() -> None:
    """Console-script entry point."""
    from incidentctl.cli.app import app

    app()
