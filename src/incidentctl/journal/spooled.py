"""The team journal with its offline fallback: events go to the database, or to the local spool when it is away.

**When it spools.** Only on :class:`~incidentctl.journal.postgres.connect.JournalUnreachableError` (refused, timed
out, gone in the middle of a command). A wrong password or a missing schema is a mistake to fix and fails the
command as it would without a spool. Once the database has been found away, the rest of the command stays
offline rather than waiting out the connect timeout again for every event.

**Uploading.** Before the first database call of a command, a non-empty spool is uploaded, in the order it was
recorded, under the spool's lock (so two commands uploading at once upload each event once, and a command
spooling meanwhile waits and keeps its place), through ``ingest``, which keeps each event's id, time and actor
and skips an id the database already has. ``incidentctl journal sync`` does the same on request.

**Offline decisions.** A guarded append decides on the incident's mirror (the timeline this laptop last read
from the database, kept in the spool folder) plus the events spooled for it since. What is safe to decide that
way depends on the kind:

- decided offline: ``note`` and every unguarded append (mitigation applied/failed/verified, message sent or
  failed, a post-mortem drafted), and the guards that only avoid recording the same thing twice or check a state
  transition: acknowledged, status_changed, severity_changed, roles_assigned, detected, triaged, escalated,
  action_changed, action_done, postmortem_scheduled, review_completed. Another laptop deciding the same meanwhile
  records an event of its own; both are facts, and the fold reads them in upload order.
- refused offline (:data:`ONLINE_ONLY`): the outbox's ``message_sending`` claim (another laptop may be sending
  the same message; the message stays queued and is sent by the next flush that reaches the database), and
  every kind that allocates a number every laptop shares: ``messages_queued`` (batch ``update-3``: two laptops
  would both queue it, under the same message keys), ``mitigation_planned`` (``M2``, and its check that nobody
  else is changing the same targets right now), ``action_added`` (``A2``). So ``communicate send`` and
  ``mitigate`` stop offline before doing anything, and ``escalate`` records the escalation (spooled) and stops at
  queueing its messages: run once the database is back, its guard sees the escalation and queues the messages
  once. A command that was online when it planned (``mitigate``) and loses the database afterwards records the
  rest (applied, verified) in the spool.
- ``declare`` is refused offline: incident ids are allocated by the database, and an id made up here could be
  given to someone else's incident before the upload.

An incident never read on this laptop has no mirror: nothing is decided or recorded for it offline, and the
error says so (exit 4, like any unreachable journal), with what to do. Reads offline come from the mirror, with
a warning saying as of when.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, TypeVar

from incidentctl.core.events import EventKind, journal_data
from incidentctl.core.incident import (
    STATE_FROM_TIMELINE,
    Damage,
    Declaration,
    Event,
    Incident,
    TimelineError,
    apply,
    format_timestamp,
    new_event_id,
    normalize_incident_id,
    recover,
    replay,
)
from incidentctl.errors import IncidentctlError
from incidentctl.journal.base import AppendResult, Decide, DecideOnTimeline
from incidentctl.journal.postgres.connect import JournalUnreachableError
from incidentctl.journal.postgres.store import PostgresJournal
from incidentctl.journal.query import IncidentQuery, select
from incidentctl.journal.spool import Mirror, Spool, Spooled

T = TypeVar("T")

#: Kinds whose decision must be made against the shared journal, never on this laptop's copy (see above).
ONLINE_ONLY = frozenset(
    {
        EventKind.MESSAGE_SENDING,
        EventKind.MESSAGES_QUEUED,
        EventKind.MITIGATION_PLANNED,
        EventKind.ACTION_ADDED,
    }
)

#: What to do meanwhile, where there is more to say than "run it again later".
_MEANWHILE = {
    EventKind.MITIGATION_PLANNED: "mitigations are planned against the team journal so that two responders never "
    "change the same thing at once; if this cannot wait, make the change with kubectl and record it with "
    "'incidentctl incident note' (spooled), or run it again once the database is reachable",
    EventKind.MESSAGES_QUEUED: "a message queued here could be queued under the same key on another laptop; send it "
    "by hand if it cannot wait and record that with 'incidentctl incident note', or run it again once the database "
    "is reachable",
}

SYNC_HINT = "'incidentctl journal sync' uploads them"


@dataclass(frozen=True)
class SyncResult:
    """What an upload did: events written (not counting those the database already had), the incidents they
    belong to, and what was kept instead (lines that cannot be read, events the database refused), each
    ``file:line: why``."""

    uploaded: int
    skipped: int
    incidents: tuple[str, ...]
    damaged: tuple[str, ...]


#: After the database was found unreachable, how long a command takes that for granted before trying again.
OFFLINE_RETRY_SECONDS = 5.0


class SpooledJournal:
    """Satisfies :class:`incidentctl.journal.base.JournalStore`."""

    def __init__(self, primary: PostgresJournal, spool: Spool, *, clock: Callable[[], datetime], actor: str) -> None:
        self.primary = primary
        self.spool = spool
        self._clock = clock
        self.actor = primary.actor
        self._offline: JournalUnreachableError | None = None
        self._offline_since = 0.0
        self._synced = False
        self._spooled_now = 0
        self._warnings: list[str] = []
        #: The timelines read this command, written to the mirror once (at close, or on going offline) rather
        #: than after every call: rewriting a long timeline per append would cost more than the append.
        self._seen: dict[str, tuple[list[Event], datetime]] = {}
        self._mirrors: dict[str, Mirror | None] = {}

    @property
    def location(self) -> str:
        return self.primary.location

    # --- writing --------------------------------------------------------------------------------------------

    def declare(self, declaration: Declaration) -> Incident:
        try:

            def online() -> Incident:
                incident = self.primary.declare(declaration)
                self._mirror(incident.id)  # declared here: this laptop can decide on it offline from now on
                return incident

            return self._online(online)
        except JournalUnreachableError as e:
            raise JournalUnreachableError(
                f"cannot declare an incident: the team journal at {self.location} cannot be reached, and incident "
                "ids are allocated by it; nothing was recorded",
                hint="declare it again once the database is reachable; meanwhile keep notes with a folder journal "
                "(journal.backend: folder) and copy them in later with 'incidentctl journal copy --to postgres'",
            ) from e

    def append(
        self, incident_id: str, kind: str, data: Mapping[str, Any], *, event_id: str | None = None
    ) -> AppendResult:
        return self.append_if_timeline(incident_id, kind, lambda _i, _t: data, event_id=event_id)

    def append_if(self, incident_id: str, kind: str, decide: Decide, *, event_id: str | None = None) -> AppendResult:
        return self.append_if_timeline(incident_id, kind, lambda incident, _: decide(incident), event_id=event_id)

    def append_if_timeline(
        self, incident_id: str, kind: str, decide: DecideOnTimeline, *, event_id: str | None = None
    ) -> AppendResult:
        incident_id = normalize_incident_id(incident_id)
        chosen = event_id or new_event_id()  # the same id online and spooled: a commit that did happen is skipped

        def online() -> AppendResult:
            result = self.primary.append_if_timeline(incident_id, kind, decide, event_id=chosen)
            self._mirror(incident_id)
            return result

        try:
            return self._online(online)
        except JournalUnreachableError as e:
            return self._append_offline(incident_id, kind, decide, chosen, e)

    def ingest(self, incident_id: str, events: Sequence[Event]) -> int:
        """Copies go to the database or nowhere: a copy is repeated, not spooled, when it is away."""
        return self._online(lambda: self.primary.ingest(incident_id, events))

    # --- reading --------------------------------------------------------------------------------------------

    def get(self, incident_id: str) -> Incident:
        incident_id = normalize_incident_id(incident_id)

        def online() -> Incident:
            incident = self.primary.get(incident_id)
            self._mirror(incident_id)
            return incident

        try:
            return self._online(online)
        except JournalUnreachableError as e:
            incident, _ = self._offline_view(incident_id, e, doing="show")
            return incident

    def timeline(self, incident_id: str) -> list[Event]:
        incident_id = normalize_incident_id(incident_id)

        def online() -> list[Event]:
            events = self.primary.timeline(incident_id)
            self._save(incident_id, events)
            return events

        try:
            return self._online(online)
        except JournalUnreachableError as e:
            _, events = self._offline_view(incident_id, e, doing="show")
            return events

    def incidents(self, query: IncidentQuery | None = None) -> list[Incident]:
        try:
            return self._online(lambda: self.primary.incidents(query))
        except JournalUnreachableError as e:
            found = []
            for incident_id in self.spool.mirrored():
                view = self._local(incident_id)
                if view is not None:
                    found.append(view[0])
            if not found:  # nothing read here before: an empty list would read as "no incidents", which is unknown
                raise
            self._warn(
                f"the team journal at {self.location} cannot be reached ({_reason(e)}): listing the "
                f"{len(found)} incident(s) this laptop has read, as it last read them"
            )
            return select(found, query)

    def wait_for_change(self, timeout: float) -> bool:
        return self._online(lambda: self.primary.wait_for_change(timeout))

    def close(self) -> None:
        self._flush_mirrors()
        self.primary.close()

    def drain_warnings(self) -> list[str]:
        warnings, self._warnings = [*self.primary.drain_warnings(), *self._warnings], []
        if self._spooled_now:
            waiting = len(self.spool.read().pending)
            reason = f" ({_reason(self._offline)})" if self._offline is not None else ""
            recorded = "1 event" if self._spooled_now == 1 else f"{self._spooled_now} events"
            warnings.append(
                f"the team journal at {self.location} cannot be reached{reason}: recorded {recorded} in the local "
                f"spool ({waiting} waiting); {SYNC_HINT}"
            )
            self._spooled_now = 0
        return warnings

    # --- the spool ------------------------------------------------------------------------------------------

    def sync(self) -> SyncResult:
        """Upload the spool now (``incidentctl journal sync``); JournalUnreachableError when the database is away,
        with the spool kept as it was."""
        self._synced = True
        return self._upload()

    def _upload(self) -> SyncResult:
        """Each incident's run of events in one transaction, in the spool's order. A run the database refuses (an
        incident it does not have) is kept and reported, and so is every later event of that incident, which must
        not overtake it; the other incidents' events still go."""
        with self.spool.locked():
            contents = self.spool.read()
            uploaded = skipped = 0
            incidents: list[str] = []
            kept = list(contents.damaged)
            refused: set[str] = set()
            for incident_id, run in _runs(contents.pending):
                where = f"{self.spool.pending_path}:{run[0].line}"
                if incident_id in refused:
                    kept.append(f"{where}: {len(run)} event(s) of {incident_id} after a refused one (kept)")
                    continue
                events = [s.event for s in run]
                try:
                    written = self.primary.ingest(incident_id, events)
                except JournalUnreachableError:
                    raise
                except IncidentctlError as e:
                    refused.add(incident_id)
                    kept.append(f"{where}: {len(run)} event(s) of {incident_id} refused: {e.message} (kept)")
                    continue
                self.spool.mark_uploaded([e.id for e in events])
                uploaded += written
                skipped += len(events) - written
                if incident_id not in incidents:
                    incidents.append(incident_id)
            if not kept:
                self.spool.clear()
        return SyncResult(uploaded, skipped, tuple(incidents), tuple(kept))

    def _sync_first(self) -> None:
        """Upload what an earlier command spooled, before this one's first database call, so the order holds."""
        if self._synced:
            return
        self._synced = True
        if not self.spool.has_pending():
            return
        try:
            result = self._upload()
        except JournalUnreachableError:
            raise
        except IncidentctlError as e:  # the spool's own lock or files: say so, keep it, and let the command go on
            self._warn(f"the local spool {self.spool.directory} could not be uploaded: {e.message}; it is kept")
            return
        for line in result.damaged:
            self._warn(f"{line}: fix or delete the line; the spool is kept until then")
        if result.uploaded:
            self._warn(
                f"uploaded {result.uploaded} event(s) recorded offline ({', '.join(result.incidents)}) from the "
                f"local spool to {self.location}"
            )

    # --- internals ------------------------------------------------------------------------------------------

    def _online(self, work: Callable[[], T]) -> T:
        """Run ``work`` against the database, or raise what made this command offline without trying again: a
        command recording many events waits out the connect timeout once, not once per event. A long-running
        one (``timeline --follow``) tries the database again once :data:`OFFLINE_RETRY_SECONDS` have passed."""
        if self._offline is not None:
            if time.monotonic() - self._offline_since < OFFLINE_RETRY_SECONDS:
                raise self._offline
            self._offline = None
        try:
            self._sync_first()
            return work()
        except JournalUnreachableError as e:
            self._offline, self._offline_since = e, time.monotonic()
            self._flush_mirrors()  # what this command read before the outage is what offline decisions see
            raise

    def _now(self) -> datetime:
        now = self._clock()
        return now.replace(tzinfo=timezone.utc) if now.tzinfo is None else now.astimezone(timezone.utc)

    def _mirror(self, incident_id: str) -> None:
        """Note the incident's timeline after a call that succeeded (one cheap incremental read)."""
        try:
            self._save(incident_id, self.primary.timeline(incident_id))
        except JournalUnreachableError as e:  # gone since the call: the call stands, the mirror is older
            self._offline, self._offline_since = e, time.monotonic()
            self._flush_mirrors()

    def _save(self, incident_id: str, events: Sequence[Event]) -> None:
        self._seen[incident_id] = (list(events), self._now())

    def _flush_mirrors(self) -> None:
        seen, self._seen = self._seen, {}
        for incident_id, (events, as_of) in seen.items():
            self.spool.save_mirror(incident_id, events, as_of)
            self._mirrors.pop(incident_id, None)

    def _local(self, incident_id: str) -> tuple[Incident, list[Event], datetime] | None:
        """The incident from its mirror plus what is spooled for it, or None when this laptop never read it."""
        if incident_id not in self._mirrors:  # read once a command: offline appends go to the spool, not here
            self._mirrors[incident_id] = self.spool.mirror(incident_id)
        mirror = self._mirrors[incident_id]
        if mirror is None:
            return None
        known = {e.id for e in mirror.events}
        spooled = [
            s.event for s in self.spool.read().pending if s.incident_id == incident_id and s.event.id not in known
        ]
        events = [*mirror.events, *spooled]
        folded: Incident | None = None
        problems: list[Damage] = []
        for index, event in enumerate(events):
            try:
                folded = replay(folded, event, incident_id=incident_id, index=index)
            except TimelineError as e:
                problems.append(Damage(f"{incident_id} event {event.id}", f"cannot replay this {event.kind!r}: {e}"))
        if folded is None:
            return None
        if problems or folded.state_from != STATE_FROM_TIMELINE:
            folded = recover(incident_id, folded, problems, since=mirror.as_of)
        return folded, events, mirror.as_of

    def _offline_view(
        self, incident_id: str, error: JournalUnreachableError, *, doing: str
    ) -> tuple[Incident, list[Event]]:
        view = self._local(incident_id)
        if view is None:
            raise self._never_read(incident_id, error, doing=doing)
        incident, events, as_of = view
        self._warn(
            f"the team journal at {self.location} cannot be reached ({_reason(error)}): {incident_id} as this "
            f"laptop last read it, at {format_timestamp(as_of)}, with the events spooled since"
        )
        return incident, events

    def _append_offline(
        self, incident_id: str, kind: str, decide: DecideOnTimeline, chosen: str, error: JournalUnreachableError
    ) -> AppendResult:
        if kind in ONLINE_ONLY:
            raise JournalUnreachableError(
                f"the team journal at {self.location} cannot be reached ({_reason(error)}), and {kind} events are "
                "decided against it, never on this laptop's copy (another responder may be doing the same): this "
                "one was not recorded",
                hint=_MEANWHILE.get(
                    kind,
                    "run the command again once the database is reachable (anything it recorded before this waits "
                    "in the local spool, and the command's checks see it then)",
                ),
            ) from error
        with self.spool.locked():  # the decision and the line together, as the database would do them
            view = self._local(incident_id)
            if view is None:
                raise self._never_read(incident_id, error, doing="record")
            incident, events, _ = view
            recorded = next((e for e in events if e.id == chosen), None)
            if recorded is not None:
                return AppendResult(incident, recorded)
            data = decide(incident, events)
            if data is None:
                return AppendResult(incident, None)
            event = Event(time=self._now(), actor=self.actor, kind=kind, data=journal_data(kind, data), id=chosen)
            self.spool.add(incident_id, event)
        self._spooled_now += 1
        return AppendResult(apply(incident, event, index=len(events)), event)

    def _never_read(self, incident_id: str, error: JournalUnreachableError, *, doing: str) -> JournalUnreachableError:
        nothing = "; nothing was recorded" if doing == "record" else ""
        return JournalUnreachableError(
            f"the team journal at {self.location} cannot be reached ({_reason(error)}), and {incident_id} was "
            f"never read on this laptop, so there is nothing to {doing} it on{nothing}",
            hint="run the command again once the database is reachable (check the id with 'incidentctl incident "
            "list' then)",
        )

    def _warn(self, message: str) -> None:
        if message not in self._warnings:
            self._warnings.append(message)


def _runs(pending: Sequence[Spooled]) -> Iterator[tuple[str, list[Spooled]]]:
    """Consecutive events of one incident, as one ingest (one transaction) each, in the spool's order."""
    run: list[Spooled] = []
    for item in pending:
        if run and run[-1].incident_id != item.incident_id:
            yield run[0].incident_id, run
            run = []
        run.append(item)
    if run:
        yield run[0].incident_id, run


def _reason(error: JournalUnreachableError | None) -> str:
    """libpq's reason, without the "cannot reach the team journal at ..." the messages already say."""
    if error is None:
        return "unreachable"
    text = error.message
    _, _, tail = text.partition(": ")
    return tail or text
