"""Connecting to the team journal: psycopg 3, one connection per command, errors in our own words.

psycopg is imported here and in the other modules of this package only, and only when a postgres journal is
opened, so a folder-journal user never pays for it. The DSN is a secret (it may carry a password): messages name
the database as ``host:port/dbname`` and nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from incidentctl.errors import JournalError, UnreachableError

if TYPE_CHECKING:
    import psycopg

#: What the journal's connections call themselves in ``pg_stat_activity``.
APPLICATION_NAME = "incidentctl"

#: How long one statement may wait for a row lock another writer holds before the command gives up and says so
#: (an append holds its incident's lock for milliseconds; a lock held longer is a stuck client, not contention).
LOCK_TIMEOUT = 15.0
#: How long any one statement may run; the journal's statements are index look-ups, so this only ends a hang.
STATEMENT_TIMEOUT = 60.0
#: A client that stopped in the middle of a transaction (a laptop lid closed) loses its locks after this long,
#: so it cannot hold an incident's lock for everyone else.
IDLE_IN_TRANSACTION_TIMEOUT = 60.0


class JournalUnreachableError(UnreachableError):
    """The team journal's database cannot be reached (refused, timed out, or gone in the middle of a command).

    The spooling wrapper catches exactly this one and records the event locally instead; anything else (a wrong
    password, a missing schema) is a mistake to fix, not an outage to ride out, and is never spooled."""

    reason = "JournalUnreachable"


@dataclass(frozen=True)
class Target:
    """The database a DSN points at, as messages may show it (no user's password, no options)."""

    #: Never in a repr (a --debug dump, a test's failure message): it may carry the password.
    dsn: str = field(repr=False)
    host: str
    port: str
    dbname: str
    user: str

    def __str__(self) -> str:
        return f"postgres://{self.host}:{self.port}/{self.dbname}"


def parse_dsn(dsn: str) -> Target:
    """Read a libpq DSN or URL; a ConfigError (never echoing the DSN) when it is not one."""
    from psycopg import conninfo

    try:
        parts = conninfo.conninfo_to_dict(dsn)
    except Exception:  # psycopg.ProgrammingError; its message quotes the DSN, so it is not chained (--debug)
        raise JournalError(
            "the team journal's DSN is not a PostgreSQL connection string",
            hint="give it as postgresql://user@host:5432/dbname or 'host=... dbname=...'",
        ) from None
    port = str(parts.get("port") or "5432")
    if not all(p.strip().isdigit() for p in port.split(",")):
        raise JournalError(
            "the team journal's DSN has a port that is not a number",
            hint="give it as postgresql://user@host:5432/dbname or 'host=... dbname=...'",
        )
    host = str(parts.get("host") or parts.get("hostaddr") or "localhost")
    return Target(
        dsn=dsn,
        host=host,
        port=port,
        dbname=str(parts.get("dbname") or parts.get("user") or "postgres"),
        user=str(parts.get("user") or ""),
    )


def connect(
    target: Target,
    *,
    timeout: float,
    lock_timeout: float = LOCK_TIMEOUT,
    statement_timeout: float = STATEMENT_TIMEOUT,
) -> psycopg.Connection[Any]:
    """An autocommit connection (each read sees what is committed; writes open their own transactions), with
    timeouts so that no lock or statement can hang a command for ever."""
    import psycopg

    try:
        conn = psycopg.connect(
            target.dsn,
            autocommit=True,
            connect_timeout=max(1, round(timeout)),
            application_name=APPLICATION_NAME,
        )
    except psycopg.Error as e:
        raise translate(e, target) from e
    settings = {
        "lock_timeout": lock_timeout,
        "statement_timeout": statement_timeout,
        "idle_in_transaction_session_timeout": IDLE_IN_TRANSACTION_TIMEOUT,
    }
    try:  # one round trip for all three
        conn.execute(
            "SELECT " + ", ".join("set_config(%s, %s, false)" for _ in settings),
            [v for name, seconds in settings.items() for v in (name, f"{max(1, round(seconds * 1000))}ms")],
        )
    except psycopg.Error as e:
        conn.close()
        raise translate(e, target) from e
    return conn


def translate(
    error: Exception, target: Target, *, subject: str | None = None
) -> JournalError | JournalUnreachableError:
    """The driver's error as ours: unreachable (spool it) or a problem to fix (say what). ``subject`` names what
    the statement was about (an incident), for a timeout's message."""
    import psycopg
    from psycopg import errors

    text = _first_line(error)
    if isinstance(error, errors.LockNotAvailable | errors.QueryCanceled):
        about = f" on {subject}" if subject else ""
        waited = "a lock another writer holds" if isinstance(error, errors.LockNotAvailable) else "a statement"
        return JournalError(
            f"the team journal at {target} timed out waiting for {waited}{about}; nothing was written",
            hint="run the command again; if it keeps happening, look for a stuck incidentctl in pg_stat_activity",
        )
    if isinstance(error, errors.InvalidPassword | errors.InvalidAuthorizationSpecification):
        return JournalError(
            f"the team journal at {target} refused the credentials: {text}",
            hint="check the user and password in the journal's DSN secret",
        )
    if isinstance(error, errors.InvalidCatalogName):
        return JournalError(f"the team journal's database {target.dbname!r} does not exist on {target.host}")
    if isinstance(error, errors.InsufficientPrivilege):
        return JournalError(
            f"the team journal at {target} refused: {text}",
            hint=f"the database user needs to read and write the incidentctl schema in {target.dbname}",
        )
    if isinstance(error, psycopg.OperationalError):
        lowered = text.lower()
        if "password authentication failed" in lowered or "no password supplied" in lowered:
            return JournalError(
                f"the team journal at {target} refused the credentials: {text}",
                hint="check the user and password in the journal's DSN secret",
            )
        if "does not exist" in lowered and "database" in lowered:
            return JournalError(f"the team journal's database {target.dbname!r} does not exist on {target.host}")
        if "invalid" in lowered and ("option" in lowered or "value" in lowered):  # a DSN option libpq refuses
            return JournalError(
                f"the team journal's DSN for {target} has an option PostgreSQL refuses: {text}",
                hint="check the options in the journal's DSN secret",
            )
        return JournalUnreachableError(f"cannot reach the team journal at {target}: {text}")
    return JournalError(f"the team journal at {target} failed: {text}")


def _first_line(error: Exception) -> str:
    """libpq's message without its detail lines (and without the DSN, which libpq never repeats)."""
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
