"""Shared fixtures: the repository's runbook, an isolated journal, and a CLI runner with injected state."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner, Result

from incidentctl.cli.app import app
from incidentctl.cli.state import AppState

if TYPE_CHECKING:
    from tests import pgserver as pgserver_t

REPO = Path(__file__).resolve().parents[1]
RUNBOOK = REPO / "runbook.yaml"


@pytest.fixture
def runbook_text() -> str:
    return RUNBOOK.read_text(encoding="utf-8")


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A folder holding a copy of the real runbook (templates resolve from the bundled ones)."""
    (tmp_path / "runbook.yaml").write_text(RUNBOOK.read_text(encoding="utf-8"), encoding="utf-8")
    return tmp_path


Invoke = Callable[..., Result]


@pytest.fixture
def invoke(workdir: Path) -> Invoke:
    """Run the CLI in-process, in ``workdir``, with a clean environment (no inherited runbook or actor)."""

    def run(
        args: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        state: AppState | None = None,
        input: str | None = None,
    ) -> Result:
        st = state or AppState()
        st.cwd = st.cwd or workdir
        # the team journal's spool defaults to $XDG_STATE_HOME: kept inside the test, never in the real home
        st.env = {"INCIDENTCTL_ACTOR": "tester", "XDG_STATE_HOME": str(workdir / ".state"), **(env or {})}
        return CliRunner().invoke(app, list(args), obj=st, input=input)

    return run


# --- the team journal's real PostgreSQL server (see tests/pgserver.py) ---------------------------------------


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[tuple[Path, Path]]:
    """initdb once per test process: the server programs and an initialised data directory to copy."""
    from tests import pgserver

    base = pgserver.new_base()
    try:
        yield pgserver.initialise(base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server(postgres_template: tuple[Path, Path]) -> Iterator[pgserver_t.PostgresServer]:
    """One running server per test process, shared by the tests that do not stop it."""
    from tests import pgserver

    with pgserver.running(*postgres_template) as server:
        yield server


@pytest.fixture
def own_postgres_server(postgres_template: tuple[Path, Path]) -> Iterator[pgserver_t.PostgresServer]:
    """A server for one test alone, which it may stop and start (an outage in the middle of a run)."""
    from tests import pgserver

    with pgserver.running(*postgres_template) as server:
        yield server


@pytest.fixture
def postgres_dsn(postgres_server: pgserver_t.PostgresServer) -> str:
    """A new, empty database on the shared server, its schema not yet created."""
    return postgres_server.create_database()


@pytest.fixture
def journal_dsn(postgres_dsn: str) -> str:
    """A new database with the team journal's schema (as ``incidentctl journal migrate`` leaves it)."""
    import psycopg

    from incidentctl.journal.postgres.schema import migrate

    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        migrate(conn, applied_by="tests")
    return postgres_dsn
