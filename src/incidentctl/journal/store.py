"""The embedded journal: one folder per incident, kept on disk (and, if a team likes, in git).

::

    incidents/
      .gitignore              lock and temporary files
      INC-2026-004/
        timeline.jsonl        one event a line: the record, and the only thing the code reads
        incident.yaml         the folded state, rewritten after every append, for people browsing the folder
        timeline.jsonl.lock   the append lock

Concurrency: an id is claimed by ``mkdir`` of its folder, which the file system makes atomic, so
declarations need no journal-wide lock and a losing racer simply tries the next number. Appends to one
incident take an exclusive lock on it (the guard of :meth:`Journal.append` must see the state it changes),
write the line with a single ``O_APPEND`` write and ``fsync`` it before the lock is released. Readers take no
lock: a line is either complete or is the last one and still being written, which reads as a torn last line.

Crashes: a write cut short leaves a torn last line. Reading skips it with a warning; the next append ends it
with a newline and records a ``journal_repaired`` event naming it, so the torn line stays in the file as
written (the journal is append-only) and is from then on known to be ignorable.

Damage (a line that is not an event anywhere else, a lost or empty timeline, a folder named like no incident)
never hides an incident or blocks an append: the incident is read as well as it can be
(:func:`incidentctl.core.incident.recover`), marked ``damaged`` with the ``file:line`` of each problem, and every
command that reads it warns. The damaged lines are left as written, for a person to mend.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import os
import re
import secrets
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from incidentctl.core.events import journal_data
from incidentctl.core.incident import (
    STATE_FROM_EVENTS,
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
    format_timestamp,
    new_event_id,
    normalize_incident_id,
    parse_incident_id,
    recover,
)
from incidentctl.errors import JournalError, NotFoundError, UsageError
from incidentctl.journal.base import AppendResult, Decide, DecideOnTimeline, IngestConflictError
from incidentctl.journal.query import IncidentQuery, select
from incidentctl.journal.reader import JOURNAL_REPAIRED, TimelineReader, TimelineView
from incidentctl.journal.records import MAX_LINE_BYTES, decode_snapshot, encode_event

TIMELINE = "timeline.jsonl"
SNAPSHOT = "incident.yaml"
LOCK = "timeline.jsonl.lock"

#: Problems warned about per incident; the rest are counted (all of them, up to a limit, are in its ``problems``).
WARN_PROBLEMS = 5

#: How often :meth:`Journal.wait_for_change` looks at the folder: a note shows in a follower well within a second.
POLL_SECONDS = 0.1

#: An append waits this long for another writer before giving up (a writer holds the lock for milliseconds).
LOCK_TIMEOUT_SECONDS = 30.0

_CANONICAL_ID = re.compile(r"INC-(\d{4})-(\d{3,})")
_GITIGNORE = "# written by incidentctl: lock and temporary files, not records\n*.lock\n.*.tmp\n"


class Journal:
    """The folder-per-incident store; satisfies :class:`incidentctl.journal.base.JournalStore`."""

    def __init__(
        self,
        directory: Path,
        *,
        clock: Callable[[], datetime],
        actor: str,
        event_ids: Callable[[], str] = new_event_id,
    ) -> None:
        self.directory = directory
        self.actor = actor
        self._clock = clock
        #: Where new events' ids come from: random, except for a history that must be the same bytes every time
        #: (the sandbox's seeded past incidents).
        self._event_ids = event_ids
        self._warnings: list[str] = []
        self._readers: dict[str, TimelineReader] = {}
        #: What :meth:`wait_for_change` saw last, and the incident folders as of the journal folder's times.
        self._last_signature: tuple[object, ...] | None = None
        self._listing: tuple[tuple[int, int, int, int], list[str]] | None = None

    @property
    def location(self) -> str:
        return str(self.directory)

    # --- writing --------------------------------------------------------------------------------------------

    def declare(self, declaration: Declaration) -> Incident:
        now = self._now()
        self._ensure_directory()
        incident_id = self._claim_id(now.year)
        data = declaration.event_data(incident_id)
        event = Event(time=now, actor=self.actor, kind=EventKind.DECLARED, data=data, id=self._event_ids())
        with self._locked(incident_id):
            self._write(incident_id, _encode_checked(event))
        _fsync_directory(self.directory / incident_id)  # the new file's name is as durable as its content
        incident = fold([event])
        self._write_snapshot(incident)
        return incident

    def append(
        self, incident_id: str, kind: str, data: Mapping[str, Any], *, event_id: str | None = None
    ) -> AppendResult:
        return self.append_if(incident_id, kind, lambda _: data, event_id=event_id)

    def append_if(self, incident_id: str, kind: str, decide: Decide, *, event_id: str | None = None) -> AppendResult:
        incident_id = self._existing(incident_id)
        self._refuse_linked_folder(incident_id)
        with self._locked(incident_id):
            timeline = self._read(incident_id, warn_torn=False)
            incident = self._incident(incident_id, timeline)
            if event_id:
                recorded = next((e for _, e in timeline.events if e.id == event_id), None)
                if recorded is not None:  # a retry of an append that was made: it stands, and is not made twice
                    return AppendResult(incident, recorded)
            data = decide(incident)
            if data is None:
                return AppendResult(incident, None)
            event = Event(
                time=self._now(),
                actor=self.actor,
                kind=kind,
                data=journal_data(kind, data),
                id=event_id or self._event_ids(),
            )
            payload = b"" if timeline.ends_with_newline or timeline.line_count == 0 else b"\n"
            if timeline.torn_line is not None:
                repair = Event(
                    time=event.time,
                    actor=self.actor,
                    kind=JOURNAL_REPAIRED,
                    data={"line": timeline.torn_line, "reason": "an interrupted write; the line is ignored"},
                    id=self._event_ids(),
                )
                payload += encode_event(repair)
                incident = apply(incident, repair)
                self._warn(
                    f"{incident_id}/{TIMELINE}:{timeline.torn_line}: closed off a torn last line "
                    f"(an interrupted write) and recorded that in the timeline"
                )
            payload += _encode_checked(event)
            self._write(incident_id, payload)
            incident = apply(incident, event)
            if incident.state_from != STATE_FROM_EVENTS:  # never overwrite a snapshot with a placeholder
                self._write_snapshot(incident)
        return AppendResult(incident, event)

    def append_if_timeline(
        self, incident_id: str, kind: str, decide: DecideOnTimeline, *, event_id: str | None = None
    ) -> AppendResult:
        # append_if holds the lock while its guard runs, so the timeline read here is the one it decides on (the
        # reader is incremental: this costs nothing more than the read append_if has just done).
        def guard(incident: Incident) -> Mapping[str, Any] | None:
            events = [event for _, event in self._read(incident.id, warn_torn=False).events]
            return decide(incident, events)

        return self.append_if(incident_id, kind, guard, event_id=event_id)

    # --- reading --------------------------------------------------------------------------------------------

    def get(self, incident_id: str) -> Incident:
        incident_id = self._existing(incident_id)
        return self._readable(incident_id)

    def timeline(self, incident_id: str) -> list[Event]:
        incident_id = self._existing(incident_id)
        try:
            view = self._read(incident_id)
        except JournalError:
            return []  # get() says why; what cannot be read has no events to show
        return [event for _, event in view.events]

    def incidents(self, query: IncidentQuery | None = None) -> list[Incident]:
        found: list[Incident] = []
        for incident_id in self.ids():
            if not self._has_record(incident_id):
                continue  # a declaration in progress (or one a crash interrupted): nothing recorded yet
            found.append(self._readable(incident_id))
        return select(found, query)

    def ids(self) -> list[str]:
        """Every incident folder's id, oldest first."""
        try:
            names = os.listdir(self.directory)
        except FileNotFoundError:
            return []
        except OSError as e:
            raise _os_failure(f"cannot read the journal directory {self.directory}", e, self.directory) from e
        keyed = []
        for name in names:
            match = _CANONICAL_ID.fullmatch(name)
            if match and format_incident_id(int(match[1]), int(match[2])) == name:
                keyed.append(((int(match[1]), int(match[2])), name))
            elif self._has_record(name):
                self._warn_stray(name)
        return [name for _, name in sorted(keyed)]

    def drain_warnings(self) -> list[str]:
        warnings, self._warnings = self._warnings, []
        return warnings

    def ingest(self, incident_id: str, events: Sequence[Event]) -> int:
        """Events made elsewhere, written with their own id, time and actor, under the same guarantees as an
        append: the incident's lock, one fsynced write, the snapshot updated. Ids already in the timeline are
        skipped; an incident that is not here is claimed with ``mkdir`` (as a declaration is) and must arrive
        with its declaration. A declaration under another event id than the one here is a different incident
        that happens to share the number: it is refused, never merged."""
        incident_id = normalize_incident_id(incident_id)
        if any(not event.id for event in events):
            raise ValueError("ingested events keep their ids: every one needs one")
        self._ensure_directory()
        created = self._claim_for_ingest(incident_id, events)
        try:
            with self._locked(incident_id):
                timeline = self._read(incident_id, warn_torn=False)
                incident = self._incident(incident_id, timeline) if timeline.events else None
                fresh = _not_yet_recorded(incident_id, timeline, events, self.location)
                if not fresh:
                    return 0
                payload, incident = self._ingest_payload(incident_id, timeline, incident, fresh)
                self._write(incident_id, payload)
                if created:
                    _fsync_directory(self.directory / incident_id)  # the new file's name is as durable as its lines
                if incident is not None and incident.state_from != STATE_FROM_EVENTS:
                    self._write_snapshot(incident)  # under the lock, so an older state never overwrites a newer
        except BaseException:
            if created and not _has_lines(self.directory / incident_id):  # give back a number nothing was written to
                _release_claim(self.directory / incident_id)
            raise
        return len(fresh)

    def _claim_for_ingest(self, incident_id: str, events: Sequence[Event]) -> bool:
        """Make the incident's folder if it has none (True: this call made it).

        A folder that exists without a record but holds other files is one the team journal keeps evidence and
        drafts in (``journal.dir`` with the postgres backend): the copy goes in beside them. An empty one (or one
        with only the lock) is a declaration in progress, or one a crash left: writing into it could put two
        declarations in one timeline, so it is refused with what to check."""
        folder = self.directory / incident_id
        self._refuse_linked_folder(incident_id)
        try:
            if self._has_record(incident_id, strict=True):
                return False
        except OSError as e:
            raise _os_failure(f"cannot read {folder}", e, self.directory) from e
        if not events or events[0].kind != EventKind.DECLARED:
            raise JournalError(f"{incident_id} is not in {self.directory}, and these events do not declare it")
        try:
            os.mkdir(folder)
        except FileExistsError:
            if _holds_more_than_a_lock(folder):
                return False
            raise JournalError(
                f"{folder} exists but holds no record (a declaration in progress, or one a crash interrupted)",
                hint=f"if no incidentctl is writing to {self.directory}, remove the empty folder and copy again",
            ) from None
        except OSError as e:
            raise _os_failure(f"cannot create {folder}", e, self.directory) from e
        return True

    def _ingest_payload(
        self, incident_id: str, timeline: TimelineView, incident: Incident | None, events: Sequence[Event]
    ) -> tuple[bytes, Incident | None]:
        """The bytes one write appends for ``events`` (after closing off a torn last line, as an append does),
        and the incident folded on over them."""
        payload = b"" if timeline.ends_with_newline or timeline.line_count == 0 else b"\n"
        if timeline.torn_line is not None:
            repair = Event(
                time=self._now(),
                actor=self.actor,
                kind=JOURNAL_REPAIRED,
                data={"line": timeline.torn_line, "reason": "an interrupted write; the line is ignored"},
                id=new_event_id(),
            )
            payload += encode_event(repair)
            incident = apply(incident, repair) if incident is not None else None
            self._warn(
                f"{incident_id}/{TIMELINE}:{timeline.torn_line}: closed off a torn last line "
                f"(an interrupted write) and recorded that in the timeline"
            )
        for event in events:
            payload += _encode_checked(event)
            # recorded as it was made: one that cannot be replayed is named as damage on reading, as at its source
            with contextlib.suppress(TimelineError):
                incident = fold([event]) if incident is None else apply(incident, event)
        return payload, incident

    def wait_for_change(self, timeout: float) -> bool:
        """Polls the timelines' sizes: a folder on a laptop, a network share or a git checkout all answer
        ``stat``, where change notification works on only some of them (and not at all across machines).

        The comparison is with the folder as the previous call left it, not as it is when this call starts: an
        event recorded while the caller was re-reading or printing rings at once instead of being missed. The
        first call has nothing to compare with and rings at once (the caller's first read may predate it)."""
        deadline = time.monotonic() + timeout
        before = self._last_signature
        if before is None:
            self._last_signature = self._signature()
            return True
        while True:
            now = self._signature()
            if now != before:
                self._last_signature = now
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(POLL_SECONDS, left))

    def close(self) -> None:
        self._readers.clear()
        self._last_signature = None

    def _signature(self) -> tuple[object, ...]:
        """What changes whenever any incident is declared or appended to, at one ``stat`` an incident.

        The journal folder's own times change when an incident folder is made, so it is listed again only then;
        a timeline only grows (size), and a file mended or replaced by hand is another inode or another time."""
        try:
            folder = os.stat(self.directory)
        except OSError:
            return ()  # no journal yet (or none readable): its appearance is the change
        # the link count too: two folders made within one tick of the file system's clock leave the same times
        key = (folder.st_ino, folder.st_nlink, folder.st_mtime_ns, folder.st_ctime_ns)
        if self._listing is None or self._listing[0] != key:
            self._listing = (key, self.ids())
        seen: list[object] = [key]
        for incident_id in self._listing[1]:
            try:
                info = os.stat(self.directory / incident_id / TIMELINE)
            except OSError:
                seen.append((incident_id, None))  # a declaration in progress: its first line is the change
                continue
            seen.append((incident_id, info.st_ino, info.st_size, info.st_mtime_ns))
        return tuple(seen)

    # --- internals ------------------------------------------------------------------------------------------

    def _now(self) -> datetime:
        now = self._clock()
        return now.replace(tzinfo=timezone.utc) if now.tzinfo is None else now.astimezone(timezone.utc)

    def _warn(self, message: str) -> None:
        if message not in self._warnings:
            self._warnings.append(message)

    def _existing(self, incident_id: str) -> str:
        canonical = normalize_incident_id(incident_id)
        try:
            found = self._has_record(canonical, strict=True)
        except OSError as e:  # a folder on the way that may not be searched
            raise _os_failure(f"cannot read {self.directory / canonical}", e, self.directory) from e
        if not found:
            raise NotFoundError(
                f"incident {canonical} not found",
                hint=f"'incidentctl incident list --all' shows the ids in {self.directory}",
            )
        return canonical

    def _ensure_directory(self) -> None:
        """Create the journal folder on first use, with a .gitignore for teams that keep it in git."""
        try:
            self.directory.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise _os_failure(f"cannot create the journal directory {self.directory}", e, self.directory) from e
        try:
            os.mkdir(self.directory)
        except FileExistsError:
            if not self.directory.is_dir():
                raise JournalError(f"the journal path {self.directory} is not a directory") from None
            return
        except OSError as e:
            raise _os_failure(f"cannot create the journal directory {self.directory}", e, self.directory) from e
        with contextlib.suppress(OSError):
            (self.directory / ".gitignore").write_text(_GITIGNORE, encoding="utf-8")

    def _claim_id(self, year: int) -> str:
        """The next free ``INC-<year>-<NNN>``, claimed by an atomic mkdir; a lost race tries the next."""
        taken = [int(i.rsplit("-", 1)[1]) for i in self.ids() if i.startswith(f"INC-{year:04d}-")]
        number = max(taken, default=0) + 1
        for _ in range(10_000):
            incident_id = format_incident_id(year, number)
            try:
                os.mkdir(self.directory / incident_id)
            except FileExistsError:
                number += 1
                continue
            except OSError as e:
                raise _os_failure(f"cannot create {self.directory / incident_id}", e, self.directory) from e
            return incident_id
        raise JournalError(f"no free incident id for {year} in {self.directory}")

    @contextlib.contextmanager
    def _locked(self, incident_id: str) -> Iterator[None]:
        from filelock import FileLock, Timeout

        path = self.directory / incident_id / LOCK
        lock = FileLock(path, timeout=LOCK_TIMEOUT_SECONDS)
        try:
            lock.acquire()
        except Timeout as e:
            raise JournalError(
                f"waited {LOCK_TIMEOUT_SECONDS:.0f}s for the lock on {incident_id} and gave up",
                hint=f"another incidentctl may be stuck writing to it; check {path}",
            ) from e
        except OSError as e:
            raise _os_failure(f"cannot lock {path}", e, self.directory) from e
        try:
            yield
        finally:
            lock.release()

    def _write(self, incident_id: str, payload: bytes) -> None:
        """One ``O_APPEND`` write, then fsync: the event is on disk before anyone is told it was recorded."""
        path = self.directory / incident_id / TIMELINE
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
            try:
                view = memoryview(payload)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as e:
            raise _os_failure(f"cannot write {path}", e, self.directory) from e

    def _read(self, incident_id: str, *, warn_torn: bool = True) -> TimelineView:
        reader = self._readers.get(incident_id)
        if reader is None:
            path = self.directory / incident_id / TIMELINE
            reader = self._readers[incident_id] = TimelineReader(path, incident_id)
        view = reader.read()
        if view.torn_line is not None and warn_torn:
            self._warn(f"{reader.where}:{view.torn_line}: ignoring a torn last line (the write was interrupted)")
        return view

    def _readable(self, incident_id: str) -> Incident:
        """The incident as well as it can be read; a timeline that cannot even be opened is one more problem."""
        try:
            view = self._read(incident_id)
        except JournalError as err:
            view = TimelineView([], None, 0, True, None, (Damage(f"{incident_id}/{TIMELINE}", err.message),))
        return self._incident(incident_id, view)

    def _incident(self, incident_id: str, view: TimelineView) -> Incident:
        """The folded state, or, for a damaged record, what :func:`recover` makes of it (and a warning)."""
        folded = view.incident
        declared = folded is not None and folded.state_from == STATE_FROM_TIMELINE
        if declared and folded is not None and folded.id == incident_id and not view.problems:
            return folded  # the usual case: nothing to recover
        where = f"{incident_id}/{TIMELINE}"
        problems = list(view.problems)
        snapshot = None
        if folded is not None and declared and folded.id != incident_id:
            problems.insert(
                0, Damage(f"{where}:1", f"the timeline declares {folded.id}, not {incident_id} (a copied folder?)")
            )
        if not declared:
            snapshot, trouble = self._read_snapshot(incident_id)
            lost = "is missing" if not view.exists else "is empty" if view.line_count == 0 else "has no declaration"
            if snapshot is not None:
                problems.append(Damage(where, f"{lost}: the state shown is {SNAPSHOT}'s, as of the last append"))
            else:
                problems.append(Damage(where, f"{lost}, and {SNAPSHOT} cannot stand in: title and severity unknown"))
                if trouble is not None:
                    problems.append(trouble)
        incident = recover(incident_id, folded, problems, snapshot=snapshot, since=self._since(incident_id))
        self._warn_damage(incident)
        return incident

    def _read_snapshot(self, incident_id: str) -> tuple[Incident | None, Damage | None]:
        """incident.yaml, read only when the timeline lost its declaration (the snapshot is otherwise derived)."""
        where = f"{incident_id}/{SNAPSHOT}"
        try:
            folder = self.directory / incident_id
            if folder.is_symlink():
                return None, Damage(where, "sits in a symbolic link, which the journal does not follow")
            with open(os.open(folder / SNAPSHOT, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)), "rb") as handle:
                raw = handle.read(MAX_LINE_BYTES + 1)
        except FileNotFoundError:
            return None, None
        except OSError as e:
            return None, Damage(where, f"cannot be read: {e.strerror}")
        try:
            return decode_snapshot(raw), None
        except ValueError as e:
            return None, Damage(where, f"unreadable: {e}")

    def _since(self, incident_id: str) -> datetime:
        """For an incident known from nothing else: when its folder last changed."""
        try:
            return datetime.fromtimestamp(os.stat(self.directory / incident_id).st_mtime, tz=timezone.utc)
        except (OSError, OverflowError, ValueError):
            return self._now()

    def _refuse_linked_folder(self, incident_id: str) -> None:
        """Before the lock file is made: an incident folder that is a link would put it (and more) elsewhere."""
        folder = self.directory / incident_id
        if folder.is_symlink():
            raise JournalError(
                f"{folder} is a symbolic link: the journal does not follow links out of its folder",
                where=f"{incident_id}/{TIMELINE}",
            )

    def _has_record(self, name: str, *, strict: bool = False) -> bool:
        """A folder holds an incident once it has either file (an empty folder is a declaration in progress).

        ``strict`` raises the OSError of a folder that may not be searched instead of taking it for "no record",
        so a command that names the incident says why it cannot read it rather than "not found"."""
        folder = self.directory / name
        if not strict:
            return any(os.path.lexists(folder / file) for file in (TIMELINE, SNAPSHOT))
        for file in (TIMELINE, SNAPSHOT):
            try:
                os.lstat(folder / file)
            except (FileNotFoundError, NotADirectoryError):
                continue
            return True
        return False

    def _warn_damage(self, incident: Incident) -> None:
        for problem in incident.problems[:WARN_PROBLEMS]:
            self._warn(f"{problem.where}: {problem.problem}")
        more = len(incident.problems) - WARN_PROBLEMS
        also = f" ({more} more problems in -o json)" if more > 0 else ""
        self._warn(
            f"{incident.id} is damaged{also}: shown as far as it can be read, and new events are still recorded; "
            f"the journal never rewrites a line, so mend {self.directory / incident.id} by hand"
        )

    def _warn_stray(self, name: str) -> None:
        parsed = parse_incident_id(name)
        rename = f"; if it is {format_incident_id(*parsed)}, rename it so" if parsed is not None else ""
        self._warn(f"{name}: not an incident id (they look like INC-2026-004), so it is left out{rename}")

    def _write_snapshot(self, incident: Incident) -> None:
        """Rewrite incident.yaml atomically. It is derived, so failing to write it only costs a warning."""
        import yaml

        folder = self.directory / incident.id
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml when present: ten times faster
        document = yaml.dump(_snapshot(incident), Dumper=dumper, sort_keys=False, allow_unicode=True)
        header = (
            f"# {incident.id}: the state folded from {TIMELINE}, rewritten after every event.\n"
            f"# Edits here are overwritten; {TIMELINE} is the record.\n"
        )
        temporary = folder / f".{SNAPSHOT}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # modes as umask says
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(header + document)
                os.replace(temporary, folder / SNAPSHOT)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
        except OSError as e:
            self._warn(f"could not update {incident.id}/{SNAPSHOT} ({e.strerror}); {TIMELINE} has the event")


def _os_failure(what: str, e: OSError, directory: Path) -> JournalError:
    """What the system refused, and what the user can do about it: one line, never a traceback."""
    hint = None
    if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        hint = (
            f"the journal folder {directory} must be readable and writable by you: fix its permissions, "
            "or set INCIDENTCTL_JOURNAL to a folder you can write"
        )
    elif e.errno in (errno.ENOSPC, errno.EDQUOT):
        hint = "the disk (or your quota) is full: free some space and run the command again"
    return JournalError(f"{what}: {e.strerror or e}", hint=hint)


def _fsync_directory(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform or file system can open a directory
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _not_yet_recorded(incident_id: str, timeline: TimelineView, events: Sequence[Event], location: str) -> list[Event]:
    """The events of ``events`` this timeline does not hold (by id, each once). Refused when both declare the
    incident under different event ids: that is another incident under the same number, never merged. (A second
    declaration further on is copied as it stands: damage where it came from, named as damage here too.)"""
    known = {event.id for _, event in timeline.events}
    here = next((event for _, event in timeline.events if event.kind == EventKind.DECLARED), None)
    theirs = next((event for event in events if event.kind == EventKind.DECLARED), None)
    if here is not None and theirs is not None and here.id != theirs.id:
        raise IngestConflictError(
            f"{incident_id} in {location} is another incident (declared by event {here.id}, not {theirs.id}): "
            "not merged",
            where=f"{incident_id}/{TIMELINE}",
        )
    fresh: list[Event] = []
    for event in events:
        if event.id not in known:
            known.add(event.id)
            fresh.append(event)
    return fresh


def _holds_more_than_a_lock(folder: Path) -> bool:
    try:
        return any(name != LOCK for name in os.listdir(folder))
    except OSError:
        return False  # not a folder that can be read: refused as one that holds no record


def _has_lines(folder: Path) -> bool:
    try:
        return os.path.getsize(folder / TIMELINE) > 0
    except OSError:
        return False


def _release_claim(folder: Path) -> None:
    """Undo a claim that recorded nothing: the lock file, an empty timeline, the folder (nothing else is removed,
    so a folder someone has written into since stays as it is)."""
    with contextlib.suppress(OSError):
        os.unlink(folder / LOCK)
    with contextlib.suppress(OSError):
        if os.path.getsize(folder / TIMELINE) == 0:
            os.unlink(folder / TIMELINE)
    with contextlib.suppress(OSError):
        os.rmdir(folder)


def _encode_checked(event: Event) -> bytes:
    """The line for ``event``, refused when it is longer than a reader takes in (it could never be read back)."""
    line = encode_event(event)
    if len(line) > MAX_LINE_BYTES:
        raise UsageError(
            f"this {event.kind} event is too large for the journal ({len(line):,} bytes, at most {MAX_LINE_BYTES:,})",
            hint="keep long output in a file and refer to it",
        )
    return line


#: Observations about the files, not state: they change when a person mends the files, not when events happen.
_NOT_IN_SNAPSHOT = frozenset({"damaged", "problems", "state_from"})


def _snapshot(incident: Incident) -> dict[str, Any]:
    plain: dict[str, Any] = {}
    for f in dataclasses.fields(incident):
        if f.name in _NOT_IN_SNAPSHOT:
            continue
        value = getattr(incident, f.name)
        if isinstance(value, datetime):
            value = format_timestamp(value)
        elif isinstance(value, tuple):
            value = list(value)
        elif f.name == "status":
            value = incident.status.value
        plain[f.name] = value
    return plain
