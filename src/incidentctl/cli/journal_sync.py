"""``incidentctl journal sync``: upload the events the team journal's offline spool holds, now.

Any command that reaches the database uploads the spool first on its own; this is for doing it on purpose (after
the network is back, before handing over, in a script that must know the spool is empty).
"""

from __future__ import annotations

import typer

from incidentctl.cli.state import AppState


def register(app: typer.Typer) -> None:
    app.command("sync")(sync)


def sync(ctx: typer.Context) -> None:
    """Upload the events recorded in the local spool while the team journal could not be reached, in order, each
    once. Exit 4 (the spool kept as it is) when the database still cannot be reached."""
    from incidentctl.errors import JournalError, UsageError
    from incidentctl.journal.postgres.connect import JournalUnreachableError
    from incidentctl.journal.spooled import SpooledJournal

    state: AppState = ctx.find_root().obj
    journal = state.journal()
    if not isinstance(journal, SpooledJournal):
        raise UsageError(
            "the runbook's journal is a folder, which has no spool to upload",
            hint="set journal.backend: postgres and journal.dsn in runbook.yaml for a team journal",
        )
    try:
        result = journal.sync()
    except JournalUnreachableError as e:
        waiting = len(journal.spool.read().pending)
        raise JournalUnreachableError(
            e.message,
            hint=f"the local spool is kept ({waiting} event(s) waiting); run 'incidentctl journal sync' again once "
            "the database is reachable",
        ) from e
    for line in result.damaged:
        state.printer.warn(f"{line}: fix or delete the line; the spool is kept until then")
    where = journal.location
    if result.uploaded or result.skipped:
        already = f" ({result.skipped} already there)" if result.skipped else ""
        typer.echo(
            f"uploaded {result.uploaded} event(s) for {', '.join(result.incidents)} from the local spool to "
            f"{where}{already}"
        )
    elif not result.damaged:
        typer.echo(f"nothing to upload: the local spool for {where} is empty")
    if result.damaged:
        raise JournalError(
            f"{len(result.damaged)} line(s) of the local spool {journal.spool.pending_path} cannot be read and were "
            "kept, not uploaded",
            hint="fix or delete each line listed above, then run 'incidentctl journal sync' again",
        )
