"""``incidentctl journal migrate``: create or upgrade the team journal's tables (versioned, idempotent)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from incidentctl.cli.state import AppState

if TYPE_CHECKING:
    from incidentctl.journal.postgres.connect import Target
    from incidentctl.runbook.model import Journal as JournalConfig


def register(app: typer.Typer) -> None:
    app.command("migrate")(migrate)


def migrate(ctx: typer.Context) -> None:
    """Create the team journal's schema in its database, or upgrade it; safe to run again (and at once)."""
    from incidentctl.errors import UsageError
    from incidentctl.journal.actor import resolve_actor
    from incidentctl.journal.postgres.schema import migrate_target
    from incidentctl.render.journal_status_output import migrate_table

    state: AppState = ctx.obj
    state.output_format()
    config = state.runbook().journal
    if config.backend != "postgres":
        raise UsageError(
            "the runbook's journal is a folder, which needs no migration",
            hint="set journal.backend: postgres and journal.dsn in runbook.yaml for a team journal",
        )
    target = team_target(state, config)
    applied, version = migrate_target(
        target, timeout=config.connect_timeout.total_seconds(), applied_by=resolve_actor(state.env)
    )
    data = {
        "location": str(target),
        "applied": [{"version": step.version, "description": step.description} for step in applied],
        "schema_version": version,
    }
    state.printer.result("JournalMigrate", data, table=lambda c: migrate_table(c, data))


def team_target(state: AppState, config: JournalConfig) -> Target:
    """The team journal's database from the runbook's DSN secret."""
    from incidentctl.adapters.secrets import Secrets
    from incidentctl.journal.open import postgres_target

    runbook_dir = state.runbook_source().path.parent
    return postgres_target(config, Secrets(state.env, base_dir=runbook_dir))
