"""``incidentctl journal copy``: folder journals into the team journal, and the team journal back into a folder.

The database is named the way every secret is: the runbook's ``journal.dsn``, or ``--dsn-env NAME`` (a variable
holding the DSN) for a team still on ``backend: folder``, whose runbook may not carry a DSN yet. Never a DSN on
the command line: it would end up in shell history and ``ps``. The team journal is opened without the offline
spool: a copy that cannot reach the database must say so (exit 4), not pile a whole journal into a spool.
"""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, Optional

import typer

from incidentctl.cli.state import AppState

if TYPE_CHECKING:
    from incidentctl.journal.base import JournalStore
    from incidentctl.journal.copy import IncidentCopy
    from incidentctl.journal.postgres.store import PostgresJournal


class Destination(str, Enum):
    POSTGRES = "postgres"
    FOLDER = "folder"


def register(app: typer.Typer) -> None:
    app.command("copy")(copy)


def copy(
    ctx: typer.Context,
    to: Annotated[
        Destination,
        typer.Option(
            "--to",
            metavar="BACKEND",
            help="postgres: the folder journal into the team journal; folder: the team journal into --dir.",
            case_sensitive=False,
            show_default=False,
        ),
    ],
    incident_ids: Annotated[
        Optional[list[str]],  # noqa: UP045 - Typer reads the annotation at run time on Python 3.10
        typer.Argument(metavar="[ID]...", help="The incidents to copy (default: all of them).", show_default=False),
    ] = None,
    from_dir: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--from-dir",
            metavar="PATH",
            help="--to postgres: the folder journal to read (default: $INCIDENTCTL_JOURNAL, else journal.dir).",
            show_default=False,
        ),
    ] = None,
    directory: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--dir",
            metavar="PATH",
            help="--to folder: the folder journal to write (made if missing).",
            show_default=False,
        ),
    ] = None,
    dsn_env: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--dsn-env",
            metavar="NAME",
            help="The environment variable holding the team journal's DSN (default: the runbook's journal.dsn).",
            show_default=False,
        ),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be copied; write nothing.")] = False,
) -> None:
    """Copy incidents between the folder journal and the team journal, keeping every event's id, time and actor.

    Safe to run again: events already copied are skipped, by their id.

    An id the other side holds for another incident is a conflict: reported, not merged.

    A damaged incident has its readable events copied and its damage listed. Exit 3 if any is not copied whole.
    """
    from incidentctl.journal.copy import copy_journal

    state: AppState = ctx.obj
    state.output_format()
    if to is Destination.POSTGRES and directory is not None:
        _refuse("--dir is where --to folder writes; to read another folder into the team journal, use --from-dir")
    if to is Destination.FOLDER and from_dir is not None:
        _refuse("--from-dir is what --to postgres reads; --to folder writes the folder named by --dir")
    if to is Destination.FOLDER and directory is None:
        _refuse("--to folder needs --dir PATH: the folder journal to write the team journal's incidents into")

    team = _team_journal(state, dsn_env)
    folder = _folder_journal(
        state, from_dir if to is Destination.POSTGRES else directory, must_exist=to is Destination.POSTGRES
    )
    source, destination = (folder, team) if to is Destination.POSTGRES else (team, folder)
    table = not state.printer.format.is_machine
    try:
        result = copy_journal(
            source,
            destination,
            incident_ids or (),
            dry_run=dry_run,
            on_incident=(lambda item: _print_incident(state, item, dry_run)) if table else None,
        )
    finally:
        for journal in (source, destination):
            for warning in journal.drain_warnings():
                state.printer.warn(warning)
        team.close()
    from incidentctl.render.journal_copy import summary_line

    state.printer.result(
        "JournalCopy", result, table=lambda console: console.print(summary_line(result), markup=False, highlight=False)
    )
    raise typer.Exit(int(result.exit_code))


def _refuse(message: str) -> NoReturn:
    from incidentctl.errors import UsageError

    raise UsageError(message)


def _print_incident(state: AppState, item: IncidentCopy, dry_run: bool) -> None:
    from incidentctl.render.journal_copy import incident_lines

    for line in incident_lines(item, dry_run=dry_run):
        state.printer.out.print(line, markup=False, highlight=False)


def _team_journal(state: AppState, dsn_env: str | None) -> PostgresJournal:
    """The team journal, without the spool; its DSN from ``--dsn-env`` or the runbook, remembered as a secret."""
    from incidentctl.adapters.secrets import Secrets
    from incidentctl.journal.actor import resolve_actor
    from incidentctl.journal.postgres.connect import parse_dsn
    from incidentctl.journal.postgres.store import PostgresJournal
    from incidentctl.runbook.model import Journal as JournalConfig
    from incidentctl.runbook.types import SecretRef

    if dsn_env is not None:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", dsn_env):
            _refuse(f"--dsn-env {dsn_env!r} is not an environment variable name (letters, digits and _)")
        if not state.env.get(dsn_env, "").strip():
            _refuse(f"--dsn-env: the environment variable {dsn_env} is not set (it should hold the team journal's DSN)")
        config = state.runbook().journal if _has_runbook(state) else JournalConfig()
        ref = SecretRef(env=dsn_env)
        secrets = Secrets(state.env)
    else:
        config = state.runbook().journal
        if config.dsn is None:
            from incidentctl.errors import UsageError

            raise UsageError(
                "the runbook's journal has no dsn (it is a folder journal), so there is no team journal to copy with",
                hint="name the variable holding the DSN: --dsn-env INCIDENTCTL_JOURNAL_DSN",
            )
        ref = config.dsn
        secrets = Secrets(state.env, base_dir=state.runbook_source().path.parent)
    target = parse_dsn(secrets.resolve(ref).strip())
    return PostgresJournal(
        target,
        clock=state.clock,
        actor=resolve_actor(state.env),
        connect_timeout=config.connect_timeout.total_seconds(),
    )


def _has_runbook(state: AppState) -> bool:
    """Whether a runbook is there to read settings from: ``--dsn-env`` with ``--from-dir``/``--dir`` needs none."""
    from incidentctl.errors import RunbookError

    try:
        state.runbook_source()
    except RunbookError:
        return False
    return True


def _folder_journal(state: AppState, path: Path | None, *, must_exist: bool) -> JournalStore:
    from incidentctl.errors import UsageError
    from incidentctl.journal.actor import resolve_actor
    from incidentctl.journal.store import Journal

    if path is not None:
        directory = path.expanduser()
        directory = directory if directory.is_absolute() else state.working_dir / directory
    else:
        directory = state.settings().journal_dir.value
    if must_exist and not directory.is_dir():
        raise UsageError(
            f"there is no folder journal at {directory}",
            hint="name the folder with --from-dir PATH (or set INCIDENTCTL_JOURNAL)",
        )
    return Journal(directory, clock=state.clock, actor=resolve_actor(state.env))
