"""``journal migrate`` and ``journal status``: their ``-o json|yaml`` models and how a person reads them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from incidentctl.render.output_model import OutputModel

if TYPE_CHECKING:
    from rich.console import Console


class AppliedMigrationOutput(OutputModel):
    version: int
    description: str


class JournalMigrateOutput(OutputModel):
    """``journal migrate``: the migrations this run applied (none when the schema was already current)."""

    location: str = Field(description="postgres://host:port/dbname (never the user or password).")
    applied: list[AppliedMigrationOutput] = Field(description="In the order applied; empty when up to date.")
    schema_version: int = Field(description="The schema's version after this run.")


class JournalStatusOutput(OutputModel):
    """``journal status``: which journal the runbook names, and whether this incidentctl can use it now."""

    backend: str = Field(description="folder or postgres.")
    location: str = Field(description="The folder, or postgres://host:port/dbname (never the user or password).")
    reachable: bool = Field(description="The folder exists, or the database answered and let us in.")
    state: str = Field(
        description="ready; for a folder, empty (not created yet); for postgres, not migrated, older, newer, "
        "unreachable or refused."
    )
    schema_version: int | None = Field(description="postgres: the database's schema version (0: not migrated).")
    supported_schema_version: int | None = Field(description="postgres: the version this incidentctl uses.")
    problem: str | None = Field(description="What is wrong, in one line, when the state is not ready.")
    hint: str | None
    spool: str | None = Field(None, description="postgres: this laptop's spool folder.")
    spool_pending: int | None = Field(
        None, description="postgres: events recorded offline, waiting for 'journal sync' (None: unreadable)."
    )
    spool_damaged: int | None = Field(None, description="postgres: spool lines that cannot be read (kept).")
    spool_problem: str | None = Field(None, description="postgres: why the spool could not be read.")


def migrate_table(console: Console, data: dict[str, Any]) -> None:
    from rich.markup import escape

    for step in data["applied"]:
        console.print(f"applied migration {step['version']}: {escape(step['description'])}", highlight=False)
    console.print(f"{escape(data['location'])} is at schema version {data['schema_version']}", highlight=False)


def status_table(console: Console, data: dict[str, Any]) -> None:
    from rich.markup import escape

    from incidentctl.core.text import for_terminal

    mark = "[green]✓[/]" if data["state"] in ("ready", "empty") else "[red]✗[/]"
    console.print(f"{mark} {data['backend']} journal at {escape(for_terminal(data['location']))}: {data['state']}")
    if data["schema_version"] is not None:
        console.print(
            f"  schema version {data['schema_version']} (this incidentctl uses {data['supported_schema_version']})",
            highlight=False,
        )
    if data["problem"]:
        console.print(f"  {escape(for_terminal(data['problem']))}", highlight=False)
    if data["hint"]:
        console.print(f"  hint: {escape(for_terminal(data['hint']))}", style="dim", highlight=False)
    if data.get("spool") is not None:
        where = escape(for_terminal(data["spool"]))
        if data.get("spool_problem"):
            console.print(f"  local spool {where}: {escape(for_terminal(data['spool_problem']))}", highlight=False)
        else:
            damaged = f", {data['spool_damaged']} damaged lines kept" if data.get("spool_damaged") else ""
            waiting = data["spool_pending"]
            then = " ('incidentctl journal sync' uploads them)" if waiting else ""
            console.print(f"  local spool {where}: {waiting} events waiting{damaged}{then}", highlight=False)
