"""The team journal: incidents and their events as rows, with the folder journal's contract.

- **Ids** come from a per-year counter row, incremented in the declaring transaction (the row lock orders
  concurrent declarations), so ``INC-<year>-<NNN>`` is never handed out twice.
- **Appends** lock the incident's row (``SELECT ... FOR UPDATE``) for the length of one transaction: the
  decision of :meth:`append_if` is made on the timeline as it is at that moment, and the event is written in the
  same transaction. Events under one incident therefore get their ``seq`` in the order they were decided, which
  is what lets a reader catch up incrementally with ``seq > last``.
- **Readers** see only committed rows, so never half an event. **Events** are never updated or deleted (a
  trigger refuses it); each has a unique ``event_id``, so a retried append or a re-sent spool writes it once.
- Every append ends with ``pg_notify`` on :data:`~incidentctl.journal.postgres.schema.CHANNEL`, which is what
  ``incident timeline --follow`` on another laptop wakes up to.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar

from incidentctl.core.events import journal_data
from incidentctl.core.incident import (
    STATE_FROM_TIMELINE,
    Damage,
    Declaration,
    Event,
    EventKind,
    Incident,
    TimelineError,
    apply,
    fold,
    format_incident_id,
    new_event_id,
    normalize_incident_id,
    parse_incident_id,
    recover,
    replay,
)
from incidentctl.errors import JournalError, NotFoundError, UsageError
from incidentctl.journal.base import AppendResult, Decide, DecideOnTimeline, IngestConflictError
from incidentctl.journal.postgres.connect import (
    LOCK_TIMEOUT,
    STATEMENT_TIMEOUT,
    JournalUnreachableError,
    Target,
    connect,
    translate,
)
from incidentctl.journal.postgres.schema import CHANNEL, SCHEMA, require_current
from incidentctl.journal.query import IncidentQuery, select
from incidentctl.journal.records import MAX_LINE_BYTES, encode_event

if TYPE_CHECKING:
    import psycopg

    from incidentctl.journal.postgres.listen import Listener

T = TypeVar("T")

_EVENT_COLUMNS = "seq, event_id, time, actor, kind, data::text"
_EVENT_COLUMNS_OF_E = "e.seq, e.event_id, e.time, e.actor, e.kind, e.data::text"


@dataclass
class _Cached:
    """One incident as far as this process has read it: events in ``seq`` order and their fold."""

    last_seq: int = 0
    events: list[Event] = field(default_factory=list)
    incident: Incident | None = None
    problems: list[Damage] = field(default_factory=list)


class PostgresJournal:
    """The team journal; satisfies :class:`incidentctl.journal.base.JournalStore`."""

    def __init__(
        self,
        target: Target,
        *,
        clock: Callable[[], datetime],
        actor: str,
        connect_timeout: float = 5.0,
        lock_timeout: float = LOCK_TIMEOUT,
        statement_timeout: float = STATEMENT_TIMEOUT,
    ) -> None:
        self.target = target
        self._lock_timeout = lock_timeout
        self._statement_timeout = statement_timeout
        self.actor = actor.replace("\0", "\ufffd")  # PostgreSQL text holds no NUL
        self._clock = clock
        self._timeout = connect_timeout
        self._conn: psycopg.Connection[Any] | None = None
        self._listener: Listener | None = None
        self._cache: dict[str, _Cached] = {}
        self._warnings: list[str] = []

    @property
    def location(self) -> str:
        return str(self.target)

    # --- writing --------------------------------------------------------------------------------------------

    def declare(self, declaration: Declaration) -> Incident:
        now = self._now()
        event_id = new_event_id()

        def work(conn: psycopg.Connection[Any]) -> Incident:
            with conn.transaction():
                # a retry after a lost connection: the first attempt may have committed before the line broke
                done = conn.execute(
                    f"SELECT incident_id FROM {SCHEMA}.events WHERE event_id = %s", (event_id,)
                ).fetchone()
                if done is not None:
                    return self._incident(str(done[0]), self._refresh(conn, str(done[0])))
                row = conn.execute(
                    f"""INSERT INTO {SCHEMA}.id_counters AS c (year, last_number) VALUES (%s, 1)
                        ON CONFLICT (year) DO UPDATE SET last_number = c.last_number + 1
                        RETURNING last_number""",
                    (now.year,),
                ).fetchone()
                assert row is not None
                incident_id = format_incident_id(now.year, int(row[0]))
                event = Event(
                    time=now,
                    actor=self.actor,
                    kind=EventKind.DECLARED,
                    data=declaration.event_data(incident_id),
                    id=event_id,
                )
                conn.execute(
                    f"INSERT INTO {SCHEMA}.incidents (id, year, number) VALUES (%s, %s, %s)",
                    (incident_id, now.year, int(row[0])),
                )
                self._insert(conn, incident_id, event)
                self._notify(conn, incident_id)
            return fold([event])

        return self._run(work, subject="a new incident")

    def append(
        self, incident_id: str, kind: str, data: Mapping[str, Any], *, event_id: str | None = None
    ) -> AppendResult:
        return self.append_if(incident_id, kind, lambda _: data, event_id=event_id)

    def append_if(self, incident_id: str, kind: str, decide: Decide, *, event_id: str | None = None) -> AppendResult:
        return self.append_if_timeline(incident_id, kind, lambda incident, _: decide(incident), event_id=event_id)

    def append_if_timeline(
        self, incident_id: str, kind: str, decide: DecideOnTimeline, *, event_id: str | None = None
    ) -> AppendResult:
        incident_id = normalize_incident_id(incident_id)
        chosen_id = event_id or new_event_id()

        def work(conn: psycopg.Connection[Any]) -> AppendResult:
            with conn.transaction():
                self._lock(conn, incident_id)
                cached = self._refresh(conn, incident_id)
                incident = self._incident(incident_id, cached)
                recorded = next((e for e in cached.events if e.id == chosen_id), None)
                if recorded is not None:  # a retry of an append that was made: it stands
                    return AppendResult(incident, recorded)
                data = decide(incident, list(cached.events))
                if data is None:
                    return AppendResult(incident, None)
                event = Event(
                    time=self._now(), actor=self.actor, kind=kind, data=journal_data(kind, data), id=chosen_id
                )
                if not self._insert(conn, incident_id, event):
                    raise JournalError(f"event id {chosen_id} is already recorded under another incident")
                self._notify(conn, incident_id)
            return AppendResult(apply(incident, event), event)

        return self._run(work, subject=incident_id)

    def ingest(self, incident_id: str, events: Sequence[Event]) -> int:
        incident_id = normalize_incident_id(incident_id)
        parsed = parse_incident_id(incident_id)
        if parsed is None:  # normalize_incident_id refuses these; this is for the type checker
            raise UsageError(f"{incident_id!r} is not an incident id")
        if any(not event.id for event in events):
            raise ValueError("ingested events keep their ids: every one needs one")

        def work(conn: psycopg.Connection[Any]) -> int:
            written = 0
            with conn.transaction():
                exists = conn.execute(
                    f"SELECT 1 FROM {SCHEMA}.incidents WHERE id = %s FOR UPDATE", (incident_id,)
                ).fetchone()
                if exists is None:
                    if not events or events[0].kind != EventKind.DECLARED:
                        raise JournalError(
                            f"{incident_id} is not in {self.location}, and these events do not declare it"
                        )
                    conn.execute(
                        f"INSERT INTO {SCHEMA}.incidents (id, year, number) VALUES (%s, %s, %s)",
                        (incident_id, *parsed),
                    )
                    conn.execute(  # ids declared here later must not collide with the one copied in
                        f"""INSERT INTO {SCHEMA}.id_counters AS c (year, last_number) VALUES (%s, %s)
                            ON CONFLICT (year) DO UPDATE
                            SET last_number = greatest(c.last_number, excluded.last_number)""",
                        parsed,
                    )
                else:
                    self._refuse_another_declaration(conn, incident_id, events)
                for event in events:
                    written += self._insert(conn, incident_id, event)
                if written:
                    self._notify(conn, incident_id)
            return written

        return self._run(work, subject=incident_id)

    def _refuse_another_declaration(
        self, conn: psycopg.Connection[Any], incident_id: str, events: Sequence[Event]
    ) -> None:
        """Under the incident's row lock: events declaring it under another event id than the one recorded are
        another incident that shares the number (``journal copy``), and are never merged into this one."""
        theirs = next((event for event in events if event.kind == EventKind.DECLARED), None)
        if theirs is None:
            return
        row = conn.execute(
            f"SELECT event_id FROM {SCHEMA}.events WHERE incident_id = %s AND kind = %s ORDER BY seq LIMIT 1",
            (incident_id, EventKind.DECLARED),
        ).fetchone()
        if row is not None and row[0] != theirs.id:
            raise IngestConflictError(
                f"{incident_id} in {self.location} is another incident (declared by event {row[0]}, not "
                f"{theirs.id}): not merged"
            )

    # --- reading --------------------------------------------------------------------------------------------

    def get(self, incident_id: str) -> Incident:
        incident_id = normalize_incident_id(incident_id)

        def work(conn: psycopg.Connection[Any]) -> Incident:
            self._require(conn, incident_id)
            return self._incident(incident_id, self._refresh(conn, incident_id))

        return self._run(work, subject=incident_id)

    def timeline(self, incident_id: str) -> list[Event]:
        incident_id = normalize_incident_id(incident_id)

        def work(conn: psycopg.Connection[Any]) -> list[Event]:
            self._require(conn, incident_id)
            return list(self._refresh(conn, incident_id).events)

        return self._run(work, subject=incident_id)

    def incidents(self, query: IncidentQuery | None = None) -> list[Incident]:
        """One query for every incident: the events this process has not read yet (all of them, the first time),
        in ``seq`` order, so a list of thousands of incidents costs one round trip, not one per incident."""

        def work(conn: psycopg.Connection[Any]) -> list[Incident]:
            known = list(self._cache.items())
            rows = conn.execute(
                f"""SELECT i.id, {_EVENT_COLUMNS_OF_E} FROM {SCHEMA}.incidents i
                    LEFT JOIN unnest(%s::text[], %s::bigint[]) AS k (id, last_seq) ON k.id = i.id
                    LEFT JOIN {SCHEMA}.events e ON e.incident_id = i.id AND e.seq > coalesce(k.last_seq, 0)
                    ORDER BY i.id, e.seq""",
                ([incident_id for incident_id, _ in known], [cached.last_seq for _, cached in known]),
            ).fetchall()
            by_incident: dict[str, list[tuple[Any, ...]]] = {}
            for incident_id, *event in rows:
                found = by_incident.setdefault(incident_id, [])
                if event[0] is not None:  # an incident with nothing new (or, damaged, no events at all)
                    found.append(tuple(event))
            return [
                self._incident(incident_id, self._fold_on(incident_id, events))
                for incident_id, events in by_incident.items()
            ]

        return select(self._run(work), query)

    def wait_for_change(self, timeout: float) -> bool:
        """LISTEN/NOTIFY on a connection of its own (:mod:`incidentctl.journal.postgres.listen`)."""
        from incidentctl.journal.postgres.listen import Listener

        if self._listener is None:
            self._listener = Listener(self.target, connect_timeout=self._timeout)
        return self._listener.wait(timeout)

    def drain_warnings(self) -> list[str]:
        warnings, self._warnings = self._warnings, []
        return warnings

    def close(self) -> None:
        for conn in (self._conn, self._listener):
            if conn is not None:
                conn.close()
        self._conn = self._listener = None

    # --- internals ------------------------------------------------------------------------------------------

    def _now(self) -> datetime:
        now = self._clock()
        return now.replace(tzinfo=timezone.utc) if now.tzinfo is None else now.astimezone(timezone.utc)

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            conn = connect(
                self.target,
                timeout=self._timeout,
                lock_timeout=self._lock_timeout,
                statement_timeout=self._statement_timeout,
            )
            try:
                require_current(conn, self.location)
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def _run(self, work: Callable[[psycopg.Connection[Any]], T], *, subject: str | None = None) -> T:
        """Run ``work`` on the connection, with the driver's errors in our words.

        A connection lost in the middle (the server restarted, a backend terminated, a network blip) is dropped
        and ``work`` runs once more on a new one. That is safe because every write is idempotent by event id:
        an append that committed before the line broke is found and returned by the retry, never written
        twice. Whatever still fails is :class:`JournalUnreachableError` (the spool takes over) or a
        :class:`JournalError` to fix.
        """
        import psycopg

        for attempt in (1, 2):
            try:
                return work(self._connection())
            except psycopg.Error as e:
                error = translate(e, self.target, subject=subject)
                lost = isinstance(error, JournalUnreachableError) or (self._conn is not None and self._conn.broken)
                if lost:
                    self._drop()
                if lost and attempt == 1:
                    continue
                if lost and not isinstance(error, JournalUnreachableError):
                    error = JournalUnreachableError(f"lost the team journal at {self.target}: {error.message}")
                raise error from e
        raise AssertionError("unreachable")  # the loop returns or raises

    def _drop(self) -> None:
        """Forget a broken connection, and the listener if it broke too (closing is best effort: the server may
        be gone)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # a broken connection may fail to close; dropped anyway
                conn.close()
        if self._listener is not None and (self._listener.broken or self._listener.closed):
            self._listener.close()  # best effort already
            self._listener = None

    def _lock(self, conn: psycopg.Connection[Any], incident_id: str) -> None:
        row = conn.execute(f"SELECT 1 FROM {SCHEMA}.incidents WHERE id = %s FOR UPDATE", (incident_id,)).fetchone()
        if row is None:
            raise self._not_found(incident_id)

    def _require(self, conn: psycopg.Connection[Any], incident_id: str) -> None:
        if incident_id in self._cache:
            return
        row = conn.execute(f"SELECT 1 FROM {SCHEMA}.incidents WHERE id = %s", (incident_id,)).fetchone()
        if row is None:
            raise self._not_found(incident_id)

    def _not_found(self, incident_id: str) -> NotFoundError:
        return NotFoundError(
            f"incident {incident_id} not found",
            hint=f"'incidentctl incident list --all' shows the ids in {self.location}",
        )

    def _insert(self, conn: psycopg.Connection[Any], incident_id: str, event: Event) -> bool:
        """Write one event unless its id is already recorded; True when written."""
        # the same checks as a folder line: a registered kind, a payload it takes, text that is UTF-8
        line = encode_event(event)
        if len(line) > MAX_LINE_BYTES:
            raise UsageError(
                f"this {event.kind} event is too large for the journal ({len(line):,} bytes, at most "
                f"{MAX_LINE_BYTES:,})",
                hint="keep long output in a file and refer to it",
            )
        data = json.dumps(journal_data(event.kind, event.data), ensure_ascii=False, separators=(",", ":"))
        row = conn.execute(
            f"""INSERT INTO {SCHEMA}.events (incident_id, event_id, time, actor, kind, data)
                VALUES (%s, %s, %s, %s, %s, %s::json) ON CONFLICT (event_id) DO NOTHING RETURNING seq""",
            (incident_id, event.id, event.time, event.actor.replace("\0", "\ufffd"), event.kind, data),
        ).fetchone()
        return row is not None

    def _notify(self, conn: psycopg.Connection[Any], incident_id: str) -> None:
        conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, incident_id))  # delivered at commit, or never

    def _refresh(self, conn: psycopg.Connection[Any], incident_id: str) -> _Cached:
        """Read what was committed since the last read of this incident, and fold it on."""
        cached = self._cache.get(incident_id)
        rows = conn.execute(
            f"SELECT {_EVENT_COLUMNS} FROM {SCHEMA}.events WHERE incident_id = %s AND seq > %s ORDER BY seq",
            (incident_id, cached.last_seq if cached else 0),
        ).fetchall()
        return self._fold_on(incident_id, rows)

    def _fold_on(self, incident_id: str, rows: Sequence[Sequence[Any]]) -> _Cached:
        """Fold rows (``_EVENT_COLUMNS``, in ``seq`` order) onto what is cached; a row that is not a readable
        event, or that the incident's history cannot take, is a problem naming the event's id, and the rest of
        the timeline still reads."""
        cached = self._cache.setdefault(incident_id, _Cached())
        for seq, event_id, when, actor, kind, data in rows:
            if seq <= cached.last_seq:
                continue
            cached.last_seq = seq
            payload = json.loads(data)  # the column is json: always parses
            if not isinstance(payload, dict):
                cached.problems.append(
                    Damage(f"{incident_id} event {event_id}", f"unreadable {kind!r} event: its data is not an object")
                )
                continue
            event = Event(time=when.astimezone(timezone.utc), actor=actor, kind=kind, data=payload, id=event_id)
            try:
                cached.incident = replay(cached.incident, event, incident_id=incident_id, index=len(cached.events))
            except TimelineError as e:
                cached.problems.append(
                    Damage(f"{incident_id} event {event_id}", f"cannot replay this {kind!r} event: {e}")
                )
            cached.events.append(event)
        return cached

    def _incident(self, incident_id: str, cached: _Cached) -> Incident:
        folded = cached.incident
        if folded is not None and folded.state_from == STATE_FROM_TIMELINE and not cached.problems:
            return folded
        problems = list(cached.problems)
        if folded is None or folded.state_from != STATE_FROM_TIMELINE:
            problems.append(Damage(incident_id, "has no declaration in the team journal"))
        incident = recover(incident_id, folded, problems, since=self._now())
        for problem in problems:
            message = f"{problem.where}: {problem.problem}"
            if message not in self._warnings:
                self._warnings.append(message)
        return incident
