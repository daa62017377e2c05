"""A real PostgreSQL server from Debian's packages, on loopback in a temporary data directory, for the team
journal's tests.

PostgreSQL refuses to run as root, and CI runs as root: the server then runs as the ``postgres`` user that
Debian's package creates (or ``nobody``), through ``runuser``. Without the server's programs the tests skip and
say why; with ``INCIDENTCTL_REQUIRE_INTEGRATION=1`` (CI) they fail instead.

``initdb`` costs a second or two, so it runs once per test process; each test gets a database of its own
(``CREATE DATABASE`` from the template, tens of milliseconds), and a test that stops the server gets a server
of its own, copied from the initialised data directory rather than initialised again.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SUPERUSER = "incidentctl"


def find_bindir() -> Path | None:
    """The newest PostgreSQL server's programs: Debian keeps them out of PATH, under /usr/lib/postgresql/N/bin."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]), reverse=True
    )
    found = candidates[0] if candidates else shutil.which("initdb")
    return Path(found).resolve().parent if found else None


def missing(reason: str) -> None:
    """Skip, or fail when CI requires the real server."""
    if os.environ.get("INCIDENTCTL_REQUIRE_INTEGRATION") == "1":
        pytest.fail(f"{reason}; INCIDENTCTL_REQUIRE_INTEGRATION=1 makes this a failure", pytrace=False)
    pytest.skip(reason)


def _run_as() -> list[str]:
    """The prefix that runs a server program as an unprivileged user when we are root."""
    if os.geteuid() != 0:
        return []
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return ["runuser", "-u", name, "--"]
    missing("running as root with neither a postgres nor a nobody user to run PostgreSQL as")
    return []


def _owner() -> tuple[int, int] | None:
    prefix = _run_as()
    if not prefix:
        return None
    entry = pwd.getpwnam(prefix[2])
    return entry.pw_uid, entry.pw_gid


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PostgresServer:
    bindir: Path
    datadir: Path
    port: int = field(default_factory=_free_port)

    @property
    def running(self) -> bool:
        done = subprocess.run(
            [*_run_as(), str(self.bindir / "pg_ctl"), "status", "-D", str(self.datadir)],
            capture_output=True,
            check=False,
        )
        return done.returncode == 0

    def start(self) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.datadir} -c fsync=off "
            "-c full_page_writes=off -c max_connections=200"
        )
        subprocess.run(
            [
                *_run_as(),
                str(self.bindir / "pg_ctl"),
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                str(self.datadir),
                "-l",
                str(self.datadir / "server.log"),
                "-o",
                options,
            ],
            check=True,
            capture_output=True,
        )

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(
            [*_run_as(), str(self.bindir / "pg_ctl"), "stop", "-w", "-m", mode, "-D", str(self.datadir)],
            check=False,
            capture_output=True,
        )

    def dsn(self, dbname: str = "postgres", *, user: str = SUPERUSER, password: str | None = None) -> str:
        secret = f":{password}" if password is not None else ""
        return f"postgresql://{user}{secret}@127.0.0.1:{self.port}/{dbname}"

    def create_user(self, name: str, password: str) -> None:
        """A role that signs in with ``password`` and may connect, but holds no privilege on anything."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(name), sql.Literal(password))
            )

    def create_database(self) -> str:
        """A new, empty database; its DSN."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.dsn(name)


def initialise(base: Path) -> tuple[Path, Path]:
    """initdb into ``base/template``; the bindir and that data directory."""
    bindir = find_bindir()
    if bindir is None:
        missing("PostgreSQL's server programs (initdb, pg_ctl) are not installed (Debian package: postgresql)")
        raise AssertionError("unreachable")
    datadir = base / "template"
    datadir.mkdir()
    owner = _owner()
    if owner is not None:
        os.chown(base, *owner)
        os.chown(datadir, *owner)
    subprocess.run(
        [
            *_run_as(),
            str(bindir / "initdb"),
            "-D",
            str(datadir),
            "-U",
            SUPERUSER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
    )
    # the tests' superuser is trusted; every other role signs in with a password, so a test can create a user
    # with one and see what a wrong one, or a user without privileges, does to a command
    (datadir / "pg_hba.conf").write_text(
        f"local all all trust\nhost all {SUPERUSER} 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n",
        encoding="utf-8",
    )
    return bindir, datadir


def new_base() -> Path:
    """A temporary folder the server's user can reach (pytest's own are private to root)."""
    base = Path(tempfile.mkdtemp(prefix="incidentctl-pg-"))
    os.chmod(base, 0o755)
    return base


def clone(bindir: Path, template: Path) -> PostgresServer:
    """A server of its own, on a copy of the initialised data directory."""
    base = new_base()
    datadir = base / "data"
    shutil.copytree(template, datadir, symlinks=True)
    owner = _owner()
    if owner is not None:
        for path in [base, *datadir.rglob("*"), datadir]:
            os.chown(path, *owner, follow_symlinks=False)
    os.chmod(datadir, 0o700)
    for stale in ("postmaster.pid", "server.log"):
        (datadir / stale).unlink(missing_ok=True)
    server = PostgresServer(bindir, datadir)
    server.start()
    return server


def remove(server: PostgresServer) -> None:
    server.stop("immediate")
    shutil.rmtree(server.datadir.parent, ignore_errors=True)


@contextmanager
def running(bindir: Path, template: Path) -> Iterator[PostgresServer]:
    """A server of its own for as long as the block runs, removed afterwards."""
    server = clone(bindir, template)
    try:
        yield server
    finally:
        remove(server)
