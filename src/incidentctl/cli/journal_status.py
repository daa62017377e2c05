"""``incidentctl journal status``: which journal the runbook names and whether it can be used right now.

Read-only: it connects, reads the schema's version and changes nothing, so it is what to run first when a command
says the team journal cannot be reached, or before ``journal migrate``. It exits with the code the journal's
problem would give any other command (4 unreachable, 2 something to fix), so a script can check it; "ready" is
said only after the database answered, never assumed.
"""

from __future__ import annotations

from typing import Any

import typer

from incidentctl.cli.state import AppState


def register(app: typer.Typer) -> None:
    app.command("status")(status)


def status(ctx: typer.Context) -> None:
    """Show the journal's backend, where it is (never the password), its schema version and whether it answers."""
    from incidentctl.render.journal_status_output import status_table

    state: AppState = ctx.obj
    state.output_format()
    config = state.runbook().journal
    if config.backend == "folder":
        data, code = _folder(state)
    else:
        data, code = _postgres(state)
    state.printer.result("JournalStatus", data, table=lambda c: status_table(c, data))
    if code:
        raise typer.Exit(code)


def _folder(state: AppState) -> tuple[dict[str, Any], int]:
    from incidentctl.exitcodes import ExitCode

    directory = state.settings().journal_dir.value
    data: dict[str, Any] = {
        "backend": "folder",
        "location": str(directory),
        "reachable": directory.is_dir(),
        "state": "ready",
        "schema_version": None,
        "supported_schema_version": None,
        "problem": None,
        "hint": None,
    }
    if not directory.exists():
        data.update(state="empty", hint="the first 'incidentctl incident declare' creates it")
        return data, 0
    if not directory.is_dir():
        data.update(state="refused", problem=f"{directory} is not a directory")
        return data, int(ExitCode.USAGE)
    return data, 0


def _postgres(state: AppState) -> tuple[dict[str, Any], int]:
    from incidentctl.cli.journal_migrate import team_target
    from incidentctl.errors import IncidentctlError
    from incidentctl.exitcodes import ExitCode
    from incidentctl.journal.postgres.connect import JournalUnreachableError
    from incidentctl.journal.postgres.schema import LATEST, inspect_target

    config = state.runbook().journal
    target = team_target(state, config)
    data: dict[str, Any] = {
        "backend": "postgres",
        "location": str(target),
        "reachable": False,
        "state": "unreachable",
        "schema_version": None,
        "supported_schema_version": LATEST,
        "problem": None,
        "hint": None,
        **_spool(state, target),
    }
    try:
        found = inspect_target(target, timeout=config.connect_timeout.total_seconds())
    except IncidentctlError as err:
        if not isinstance(err, JournalUnreachableError):
            data.update(reachable=True, state="refused")
        data.update(problem=err.message, hint=err.hint)
        return data, int(err.exit_code)
    data.update(reachable=True, schema_version=found.version, state=found.state)
    if found.state == "current":
        data["state"] = "ready"
        return data, 0
    data["hint"] = (
        "upgrade incidentctl before writing to this journal"
        if found.state == "newer"
        else "run 'incidentctl journal migrate' (it is safe to run again)"
    )
    data["problem"] = f"the schema is at version {found.version}; this incidentctl uses {LATEST}"
    return data, int(ExitCode.USAGE)


def _spool(state: AppState, target: Any) -> dict[str, Any]:
    """What waits in this laptop's spool: read, never uploaded here (status changes nothing)."""
    from incidentctl.errors import IncidentctlError
    from incidentctl.journal.open import spool_directory
    from incidentctl.journal.spool import Spool

    directory = spool_directory(state.runbook().journal, target, state.env, state.runbook_source().path.parent)
    try:
        contents = Spool(directory).read()
    except IncidentctlError as err:
        return {"spool": str(directory), "spool_pending": None, "spool_damaged": None, "spool_problem": err.message}
    return {
        "spool": str(directory),
        "spool_pending": len(contents.pending),
        "spool_damaged": len(contents.damaged),
        "spool_problem": None,
    }
