"""``incidentctl journal ...``: the journal's own upkeep (the team journal's schema, its spool, copies).

Each command lives in a module of its own (``journal_migrate``, ``journal_sync``, ``journal_copy``) and is
registered here, so this file only says what the group holds.
"""

from __future__ import annotations

import typer

from incidentctl.cli import journal_copy, journal_migrate, journal_status, journal_sync

app = typer.Typer(
    help="Look after the journal: create or upgrade the team journal's schema, upload the offline spool, copy "
    "incidents between the folder and the team journal.",
    no_args_is_help=True,
)

journal_migrate.register(app)
journal_status.register(app)
journal_sync.register(app)
journal_copy.register(app)
