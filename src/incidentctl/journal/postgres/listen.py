"""The team journal's doorbell: LISTEN on a connection of its own, rung by the ``pg_notify`` of every append.

A connection of its own, because the journal's main connection is the one reads and appends use (it may be in a
transaction, and a LISTEN there would deliver only between them). The listening connection is opened on the
first wait and after it is lost; a wait on a listen just (re)established rings at once, since whatever was
recorded before the LISTEN took effect sent its notification to nobody. That one rule covers both the race at the
start (the follower read the timeline a moment before listening) and every reconnection (events recorded while
the database was away, or synced from someone's spool, are then read at once).

TCP keepalives (and ``tcp_user_timeout``) are set on this connection: it is idle for hours, and a network that
silently drops its packets would otherwise leave the wait believing in a database that is gone.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from incidentctl.journal.postgres.connect import APPLICATION_NAME, Target, translate
from incidentctl.journal.postgres.schema import CHANNEL

if TYPE_CHECKING:
    import psycopg

#: libpq's keepalive settings for the listening connection: a dead peer is noticed within about half a minute.
KEEPALIVES: dict[str, int] = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 30_000,
}


class Listener:
    """One LISTEN connection; :meth:`wait` raises the journal's own errors (unreachable: spool, retry)."""

    def __init__(self, target: Target, *, connect_timeout: float) -> None:
        self.target = target
        self._timeout = connect_timeout
        self._conn: psycopg.Connection[Any] | None = None

    def wait(self, timeout: float) -> bool:
        """True when an append was committed since the last wait (or listening has just begun); False after
        ``timeout`` seconds without one."""
        import psycopg

        conn = self._conn
        if conn is None or conn.closed:
            self._conn = self._listen()
            return True
        try:
            rang = any(True for _ in conn.notifies(timeout=max(timeout, 0.0), stop_after=1))
            if rang:
                # the rest already here are for events the caller's re-read will see too: one ring for all (a
                # second generator only once the first is done: each holds the connection's lock)
                for _ in conn.notifies(timeout=0):
                    pass
            return rang
        except psycopg.Error as e:
            self.close()
            raise translate(e, self.target) from e

    @property
    def broken(self) -> bool:
        """As a psycopg connection says it (the store drops a listener that broke with its main connection)."""
        return self._conn is not None and self._conn.broken

    @property
    def closed(self) -> bool:
        """Not listening (yet, or any more): the next :meth:`wait` listens anew, and rings."""
        return self._conn is None or self._conn.closed

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # a connection whose server is gone may fail to close: gone anyway
                conn.close()

    def _listen(self) -> psycopg.Connection[Any]:
        import psycopg
        from psycopg.conninfo import make_conninfo

        conn = None
        try:
            conninfo = make_conninfo(
                self.target.dsn,
                connect_timeout=max(1, round(self._timeout)),
                application_name=f"{APPLICATION_NAME} follow",
                **KEEPALIVES,
            )
            conn = psycopg.connect(conninfo, autocommit=True)
            conn.execute(f"LISTEN {CHANNEL}")
        except psycopg.Error as e:
            if conn is not None:
                conn.close()
            raise translate(e, self.target) from e
        return conn
