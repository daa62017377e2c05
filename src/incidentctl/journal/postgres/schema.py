"""The team journal's tables, created and upgraded by ``incidentctl journal migrate``.

Each migration is numbered and applied once, in a transaction, under an advisory lock (two responders running
``migrate`` at once apply it once). Commands never migrate on their own: an older incidentctl must not upgrade a
database a newer one relies on, and a team's DBA may want to see the change first; a command finding the schema
missing or older says to run ``migrate``, and one finding it newer says to upgrade incidentctl.

Everything lives in one schema, ``incidentctl``, so the journal can share a database with other tools.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from incidentctl.errors import JournalError

if TYPE_CHECKING:
    import psycopg

    from incidentctl.journal.postgres.connect import Target

SCHEMA = "incidentctl"

#: pg_advisory_xact_lock's key for migrations: any constant that no other tool is likely to pick.
MIGRATION_LOCK = 7_310_553_201

#: The channel every append notifies, with the incident id as payload (``incident timeline --follow``).
CHANNEL = "incidentctl_journal"

#: (version, what it does, statements). Never edit one that has shipped: add the next.
MIGRATIONS: tuple[tuple[int, str, tuple[str, ...]], ...] = (
    (
        1,
        "incidents, their append-only events, and the id counters",
        (
            f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
            f"""CREATE TABLE {SCHEMA}.id_counters (
                year integer PRIMARY KEY,
                last_number integer NOT NULL CHECK (last_number > 0)
            )""",
            f"""CREATE TABLE {SCHEMA}.incidents (
                id text PRIMARY KEY,
                year integer NOT NULL,
                number integer NOT NULL,
                created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
                UNIQUE (year, number)
            )""",
            # data is json, not jsonb: kept as written (key order, every escape), so a copy back to a folder is
            # the same line it was.
            f"""CREATE TABLE {SCHEMA}.events (
                seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                incident_id text NOT NULL REFERENCES {SCHEMA}.incidents (id),
                event_id text NOT NULL UNIQUE,
                time timestamptz NOT NULL,
                actor text NOT NULL,
                kind text NOT NULL,
                data json NOT NULL,
                recorded_at timestamptz NOT NULL DEFAULT clock_timestamp()
            )""",
            f"CREATE INDEX events_by_incident ON {SCHEMA}.events (incident_id, seq)",
            f"""CREATE FUNCTION {SCHEMA}.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    RAISE EXCEPTION 'the incidentctl journal is append-only: events are never changed or deleted';
                END
            $$""",
            f"""CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON {SCHEMA}.events
                FOR EACH ROW EXECUTE FUNCTION {SCHEMA}.refuse_change()""",
        ),
    ),
)

LATEST = MIGRATIONS[-1][0]


@dataclass(frozen=True)
class Applied:
    version: int
    description: str


def current_version(conn: psycopg.Connection[Any]) -> int:
    """The schema's version; 0 when the journal has never been migrated."""
    row = conn.execute("SELECT to_regclass(%s)", (f"{SCHEMA}.schema_version",)).fetchone()
    if row is None or row[0] is None:
        return 0
    found = conn.execute(f"SELECT coalesce(max(version), 0) FROM {SCHEMA}.schema_version").fetchone()
    return int(found[0]) if found is not None else 0


def migrate(conn: psycopg.Connection[Any], *, applied_by: str) -> list[Applied]:
    """Apply every migration not yet applied, in order; the ones applied (none when already up to date)."""
    done: list[Applied] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        conn.execute(
            f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.schema_version (
                version integer PRIMARY KEY,
                description text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT clock_timestamp(),
                applied_by text NOT NULL
            )"""
        )
        version = current_version(conn)
        if version > LATEST:
            raise newer_schema(version)
        for number, description, statements in MIGRATIONS:
            if number <= version:
                continue
            for statement in statements:
                conn.execute(statement)
            conn.execute(
                f"INSERT INTO {SCHEMA}.schema_version (version, description, applied_by) VALUES (%s, %s, %s)",
                (number, description, applied_by),
            )
            done.append(Applied(number, description))
    return done


def require_current(conn: psycopg.Connection[Any], where: str) -> None:
    """Refuse to work on a schema this incidentctl does not know exactly, with what to run."""
    version = current_version(conn)
    if version == LATEST:
        return
    if version > LATEST:
        raise newer_schema(version, where)
    missing = "has no incidentctl schema yet" if version == 0 else f"is at schema version {version}, not {LATEST}"
    raise JournalError(
        f"the team journal at {where} {missing}",
        hint="run 'incidentctl journal migrate' once (it is safe to run again)",
    )


def newer_schema(version: int, where: str | None = None) -> JournalError:
    journal = f"the team journal at {where}" if where else "the team journal"
    return JournalError(
        f"{journal} has schema version {version}, newer than this incidentctl knows ({LATEST})",
        hint="upgrade incidentctl (pipx upgrade incidentctl) before writing to this journal",
    )


@dataclass(frozen=True)
class SchemaState:
    """What ``journal status`` reports of the database: its version and whether this incidentctl can use it."""

    version: int
    #: "current", "not migrated", "older" or "newer".
    state: str


def inspect(conn: psycopg.Connection[Any]) -> SchemaState:
    """The schema's version against this incidentctl's, without changing anything."""
    version = current_version(conn)
    if version == 0:
        return SchemaState(0, "not migrated")
    if version < LATEST:
        return SchemaState(version, "older")
    return SchemaState(version, "newer" if version > LATEST else "current")


def migrate_target(target: Target, *, timeout: float, applied_by: str) -> tuple[list[Applied], int]:
    """``journal migrate`` on ``target``: the migrations applied and the version now, errors in our words."""
    import psycopg

    from incidentctl.journal.postgres.connect import connect, translate

    conn = connect(target, timeout=timeout)
    try:
        applied = migrate(conn, applied_by=applied_by)
        return applied, current_version(conn)
    except psycopg.Error as e:
        raise translate(e, target) from e
    finally:
        conn.close()


def inspect_target(target: Target, *, timeout: float) -> SchemaState:
    """``journal status`` on ``target``: connect, read the version, change nothing; errors in our words."""
    import psycopg

    from incidentctl.journal.postgres.connect import connect, translate

    conn = connect(target, timeout=timeout)
    try:
        return inspect(conn)
    except psycopg.Error as e:
        raise translate(e, target) from e
    finally:
        conn.close()
