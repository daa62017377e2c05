"""Opening the journal the runbook names: the folder journal, or the team journal on PostgreSQL with its spool.

The one place that turns ``journal:`` in runbook.yaml into a store; commands get a
:class:`~incidentctl.journal.base.JournalStore` and never know which backend is behind it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from incidentctl.adapters.secrets import Secrets
    from incidentctl.journal.base import JournalStore
    from incidentctl.journal.postgres.connect import Target
    from incidentctl.runbook.model import Journal as JournalConfig


def open_journal(
    config: JournalConfig,
    directory: Path,
    *,
    env: Mapping[str, str],
    secrets: Secrets,
    clock: Callable[[], datetime],
    actor: str,
    runbook_dir: Path,
) -> JournalStore:
    """The store for ``config``: the folder at ``directory``, or the team journal (spooled) for postgres."""
    if config.backend == "folder":
        from incidentctl.journal.store import Journal

        return Journal(directory, clock=clock, actor=actor)
    from incidentctl.journal.postgres.store import PostgresJournal
    from incidentctl.journal.spool import Spool
    from incidentctl.journal.spooled import SpooledJournal

    target = postgres_target(config, secrets)
    primary = PostgresJournal(target, clock=clock, actor=actor, connect_timeout=config.connect_timeout.total_seconds())
    spool = Spool(spool_directory(config, target, env, runbook_dir))
    return SpooledJournal(primary, spool, clock=clock, actor=actor)


def postgres_target(config: JournalConfig, secrets: Secrets) -> Target:
    """Where the team journal is, from the DSN secret (remembered, so no output ever shows it)."""
    from incidentctl.journal.postgres.connect import parse_dsn

    assert config.dsn is not None  # the runbook's validation requires it for postgres
    return parse_dsn(secrets.resolve(config.dsn).strip())


def spool_directory(config: JournalConfig, target: Target, env: Mapping[str, str], runbook_dir: Path) -> Path:
    """``journal.spool`` (relative to runbook.yaml), else one folder per database under the user's state folder,
    so every checkout on a laptop that points at the same database shares one spool and syncs it."""
    if config.spool:
        configured = Path(config.spool).expanduser()
        return configured if configured.is_absolute() else runbook_dir / configured
    state = env.get("XDG_STATE_HOME") or os.path.join(env.get("HOME") or str(Path.home()), ".local", "state")
    key = hashlib.sha256(f"{target.host}\0{target.port}\0{target.dbname}\0{target.user}".encode()).hexdigest()[:16]
    return Path(state) / "incidentctl" / "spool" / key
