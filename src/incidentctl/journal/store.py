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
written (the journal is append-only) and is from then on known to be ignorable. Any other unreadable line is
corruption, and is reported as ``file:line`` rather than guessed around.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import os
import re
import secrets
import stat
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from incidentctl.core.incident import (
    Declaration,
    Event,
    EventKind,
    Incident,
    apply,
    fold,
    format_incident_id,
    format_timestamp,
    normalize_incident_id,
)
from incidentctl.errors import JournalError, NotFoundError
from incidentctl.journal.base import AppendResult, Decide, DecideOnTimeline
from incidentctl.journal.query import IncidentQuery, select
from incidentctl.journal.reader import JOURNAL_REPAIRED, TimelineReader, TimelineView
from incidentctl.journal.records import encode_event

TIMELINE = "timeline.jsonl"
SNAPSHOT = "incident.yaml"
LOCK = "timeline.jsonl.lock"

#: An append waits this long for another writer before giving up (a writer holds the lock for milliseconds).
LOCK_TIMEOUT_SECONDS = 30.0

_CANONICAL_ID = re.compile(r"INC-(\d{4})-(\d{3,})")
_GITIGNORE = "# written by incidentctl: lock and temporary files, not records\n*.lock\n.*.tmp\n"


class Journal:
    """The folder-per-incident store; satisfies :class:`incidentctl.journal.base.JournalStore`."""

    def __init__(self, directory: Path, *, clock: Callable[[], datetime], actor: str) -> None:
        self.directory = directory
        self.actor = actor
        self._clock = clock
        self._warnings: list[str] = []
        self._readers: dict[str, TimelineReader] = {}

    @property
    def location(self) -> str:
        return str(self.directory)

    # --- writing --------------------------------------------------------------------------------------------

    def declare(self, declaration: Declaration) -> Incident:
        now = self._now()
        self._ensure_directory()
        incident_id = self._claim_id(now.year)
        data = declaration.event_data(incident_id)
        event = Event(time=now, actor=self.actor, kind=EventKind.DECLARED, data=data)
        with self._locked(incident_id):
            self._write(incident_id, encode_event(event))
        _fsync_directory(self.directory / incident_id)  # the new file's name is as durable as its content
        incident = fold([event])
        self._write_snapshot(incident)
        return incident

    def append(self, incident_id: str, kind: str, data: Mapping[str, Any]) -> AppendResult:
        return self.append_if(incident_id, kind, lambda _: data)

    def append_if(self, incident_id: str, kind: str, decide: Decide) -> AppendResult:
        incident_id = self._existing(incident_id)
        with self._locked(incident_id):
            timeline = self._read(incident_id, warn_torn=False)
            incident = self._incident(incident_id, timeline)
            data = decide(incident)
            if data is None:
                return AppendResult(incident, None)
            event = Event(time=self._now(), actor=self.actor, kind=kind, data=dict(data))
            payload = b"" if timeline.ends_with_newline or timeline.line_count == 0 else b"\n"
            if timeline.torn_line is not None:
                repair = Event(
                    time=event.time,
                    actor=self.actor,
                    kind=JOURNAL_REPAIRED,
                    data={"line": timeline.torn_line, "reason": "an interrupted write; the line is ignored"},
                )
                payload += encode_event(repair)
                incident = apply(incident, repair)
                self._warn(
                    f"{incident_id}/{TIMELINE}:{timeline.torn_line}: closed off a torn last line "
                    f"(an interrupted write) and recorded that in the timeline"
                )
            payload += encode_event(event)
            self._write(incident_id, payload)
            incident = apply(incident, event)
            self._write_snapshot(incident)
        return AppendResult(incident, event)

    def append_if_timeline(self, incident_id: str, kind: str, decide: DecideOnTimeline) -> AppendResult:
        # append_if holds the lock while its guard runs, so the timeline read here is the one it decides on (the
        # reader is incremental: this costs nothing more than the read append_if has just done).
        def guard(incident: Incident) -> Mapping[str, Any] | None:
            events = [event for _, event in self._read(incident.id, warn_torn=False).events]
            return decide(incident, events)

        return self.append_if(incident_id, kind, guard)

    # --- reading --------------------------------------------------------------------------------------------

    def get(self, incident_id: str) -> Incident:
        incident_id = self._existing(incident_id)
        return self._incident(incident_id, self._read(incident_id))

    def timeline(self, incident_id: str) -> list[Event]:
        incident_id = self._existing(incident_id)
        return [event for _, event in self._read(incident_id).events]

    def incidents(self, query: IncidentQuery | None = None) -> list[Incident]:
        found: list[Incident] = []
        for incident_id in self.ids():
            try:
                timeline = self._read(incident_id)
                if timeline.incident is None:
                    continue  # a declaration in progress (or one a crash interrupted): nothing to show yet
                found.append(self._incident(incident_id, timeline))
            except JournalError as err:
                # One damaged record must not hide the others in the middle of an incident.
                self._warn(f"{err}; {incident_id} is left out")
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
        return [name for _, name in sorted(keyed)]

    def drain_warnings(self) -> list[str]:
        warnings, self._warnings = self._warnings, []
        return warnings

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
            found = stat.S_ISREG((self.directory / canonical / TIMELINE).stat().st_mode)
        except (FileNotFoundError, NotADirectoryError):
            found = False
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
            where = f"{incident_id}/{TIMELINE}"
            reader = self._readers[incident_id] = TimelineReader(self.directory / incident_id / TIMELINE, where)
        view = reader.read()
        if view.torn_line is not None and warn_torn:
            self._warn(f"{reader.where}:{view.torn_line}: ignoring a torn last line (the write was interrupted)")
        return view

    def _incident(self, incident_id: str, view: TimelineView) -> Incident:
        where = f"{incident_id}/{TIMELINE}"
        if view.incident is None:
            raise JournalError(f"{incident_id} has an empty timeline (its declaration was interrupted)", where=where)
        if view.incident.id != incident_id:
            raise JournalError(f"the timeline declares {view.incident.id}, not {incident_id}", where=where + ":1")
        return view.incident

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


def _snapshot(incident: Incident) -> dict[str, Any]:
    plain: dict[str, Any] = {}
    for f in dataclasses.fields(incident):
        value = getattr(incident, f.name)
        if isinstance(value, datetime):
            value = format_timestamp(value)
        elif isinstance(value, tuple):
            value = list(value)
        elif f.name == "status":
            value = incident.status.value
        plain[f.name] = value
    return plain
