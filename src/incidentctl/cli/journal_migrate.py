"""``incidentctl journal migrate``: create or upgrade the team journal's tables (versioned, idempotent)."""

from __future__ import annotations

import typer

from incidentctl.cli.state import AppState


def register(app: typer.Typer) -> None:
    app.command("migrate")(migrate)


def migrate(ctx: typer.Context) -> None:
    """Create the team journal's schema in its database, or upgrade it; safe to run again (and at once)."""
    from incidentctl.adapters.secrets import Secrets
    from incidentctl.errors import UsageError
    from incidentctl.journal.actor import resolve_actor
    from incidentctl.journal.open import postgres_target
    from incidentctl.journal.postgres.connect import connect
    from incidentctl.journal.postgres.schema import LATEST
    from incidentctl.journal.postgres.schema import migrate as apply_migrations

    state: AppState = ctx.obj
    config = state.runbook().journal
    if config.backend != "postgres":
        raise UsageError(
            "the runbook's journal is a folder, which needs no migration",
            hint="set journal.backend: postgres and journal.dsn in runbook.yaml for a team journal",
        )
    runbook_dir = state.runbook_source().path.parent
    target = postgres_target(config, Secrets(state.env, base_dir=runbook_dir))
    conn = connect(target, timeout=config.connect_timeout.total_seconds())
    try:
        applied = apply_migrations(conn, applied_by=resolve_actor(state.env))
    finally:
        conn.close()
    if applied:
        for step in applied:
            typer.echo(f"applied migration {step.version}: {step.description}")
    typer.echo(f"{target} is at schema version {LATEST}")
