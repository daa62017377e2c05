"""Both journal backends behind one fixture, so the journal's contract is proven on each of them.

``backend`` is parametrised over the folder journal and the team journal on PostgreSQL (a fresh migrated
database per test). A :class:`Backend` is two strings, so it crosses into ``multiprocessing`` workers as it is:
each worker opens a store of its own from it, as a separate incidentctl process would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest

from incidentctl.journal.base import JournalStore


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def open_store(name: str, spec: str, *, actor: str, clock: Callable[[], datetime] = utc_now) -> JournalStore:
    """A store on ``spec`` (a folder path, or a DSN): what a worker process calls to open its own."""
    if name == "folder":
        from incidentctl.journal.store import Journal

        return Journal(Path(spec), clock=clock, actor=actor)
    from incidentctl.journal.postgres.connect import parse_dsn
    from incidentctl.journal.postgres.store import PostgresJournal

    return PostgresJournal(parse_dsn(spec), clock=clock, actor=actor)


@dataclass
class Backend:
    #: "folder" or "postgres".
    name: str
    #: The folder's path or the database's DSN.
    spec: str
    opened: list[JournalStore]
    #: Makes the spec of another, empty journal on the same backend (a copy's target).
    fresh: Callable[[], str]

    def open(self, actor: str = "alice", clock: Callable[[], datetime] = utc_now) -> JournalStore:
        store = open_store(self.name, self.spec, actor=actor, clock=clock)
        self.opened.append(store)
        return store

    def another(self) -> Backend:
        """A second, empty journal of the same kind, closed with this one."""
        return Backend(self.name, self.fresh(), self.opened, self.fresh)


@pytest.fixture(params=["folder", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Each backend in turn: a folder under ``tmp_path``, or a fresh migrated database on the test server."""
    if request.param == "folder":
        folders = iter(tmp_path / f"incidents-{n}" for n in range(1000))
        fresh: Callable[[], str] = lambda: str(next(folders))  # noqa: E731
    else:
        server = request.getfixturevalue("postgres_server")
        fresh = lambda: migrated(server.create_database())  # noqa: E731
    found = Backend(request.param, fresh(), [], fresh)
    try:
        yield found
    finally:
        for store in found.opened:
            store.close()


def migrated(dsn: str) -> str:
    """``dsn`` after ``incidentctl journal migrate`` would have run on it."""
    import psycopg

    from incidentctl.journal.postgres.schema import migrate

    with psycopg.connect(dsn, autocommit=True) as conn:
        migrate(conn, applied_by="tests")
    return dsn


@pytest.fixture
def team_runbook(workdir: Path) -> Path:
    """The workdir's runbook with the team journal, its DSN from INCIDENTCTL_JOURNAL_DSN."""
    path = workdir / "runbook.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace(
            "journal:\n  dir: incidents\n",
            "journal:\n  dir: incidents\n  backend: postgres\n  dsn: {env: INCIDENTCTL_JOURNAL_DSN}\n"
            "  connect_timeout: 1s\n  spool: spool\n",
        ),
        encoding="utf-8",
    )
    return path
