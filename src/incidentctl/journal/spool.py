"""The local spool of the team journal: events recorded while the database cannot be reached, and the last
timeline this laptop read of each incident (the mirror offline decisions are made on).

::

    <spool>/                   journal.spool, or $XDG_STATE_HOME/incidentctl/spool/<database key>; mode 0700
      pending.jsonl            the spooled events, one a line: {"incident", "id", "time", "actor", "kind", "data"}
      uploaded.ids             the ids of pending events already in the database, one a line
      spool.lock               held while a line is added and for the whole of an upload
      mirror/INC-2026-004.jsonl  {"as_of": ...} then the incident's events as last read from the database

Writing: one ``O_APPEND`` write of one line, fsynced, under the lock: a crash leaves at worst a torn last line,
read (like the folder journal's) as a write that never finished; the next append starts on a fresh line.

Uploading is resumable without trusting anything but event ids: after each incident's run of events is
committed, their ids are appended to ``uploaded.ids``; an upload that dies between the commit and that line
sends them again, and the database skips ids it has (``ON CONFLICT (event_id) DO NOTHING``). Once everything is
uploaded, ``pending.jsonl`` is removed first and ``uploaded.ids`` second; a crash between the two leaves ids that
no future event can have (they are random UUIDs), so nothing new is ever taken for uploaded.

A line that cannot be read is never dropped: it stays in ``pending.jsonl`` (so the file is not removed while it
is there), and every upload reports it with ``file:line`` for a person to mend or delete.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from incidentctl.core.incident import Event, format_timestamp, normalize_incident_id, parse_timestamp
from incidentctl.errors import JournalError, UsageError
from incidentctl.journal.records import MAX_LINE_BYTES, decode_line, encode_event

PENDING = "pending.jsonl"
UPLOADED = "uploaded.ids"
LOCK = "spool.lock"
MIRROR = "mirror"

#: Waiting for another incidentctl's upload (a few hundred events take well under a second) before giving up.
LOCK_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class Spooled:
    """One pending event and where it is (``pending.jsonl:<line>``), for messages."""

    incident_id: str
    event: Event
    line: int


@dataclass
class SpoolContents:
    """What ``pending.jsonl`` holds now: the events not yet uploaded, in the order they were recorded, and every
    line that could not be read (``file:line: why``)."""

    pending: list[Spooled] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)
    uploaded: int = 0


@dataclass(frozen=True)
class Mirror:
    """An incident's timeline as this laptop last read it from the database."""

    as_of: datetime
    events: list[Event]


@dataclass
class _Parsed:
    """What this process has parsed of ``pending.jsonl``: the file (device, inode), how far, and each line."""

    inode: tuple[int, int]
    offset: int = 0
    lines: int = 0
    items: list[Spooled | str] = field(default_factory=list)


class Spool:
    """The spool folder. Every method that changes ``pending.jsonl`` takes the lock itself, except inside
    :meth:`locked` (an upload holds it throughout, so appends wait for it to finish and keep their order)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._held = False
        self._parsed: _Parsed | None = None

    @property
    def pending_path(self) -> Path:
        return self.directory / PENDING

    def has_pending(self) -> bool:
        """Cheap: whether there may be anything to upload (a file that is there and not empty)."""
        try:
            return self.pending_path.stat().st_size > 0
        except OSError:
            return False

    # --- the lock -------------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        from filelock import FileLock, Timeout

        if self._held:
            yield
            return
        self._ensure()
        lock = FileLock(self.directory / LOCK, timeout=LOCK_TIMEOUT_SECONDS)
        try:
            lock.acquire()
        except Timeout as e:
            raise JournalError(
                f"waited {LOCK_TIMEOUT_SECONDS:.0f}s for the lock on the local spool {self.directory} and gave up",
                hint=f"another incidentctl may be stuck uploading it; check {self.directory / LOCK}",
            ) from e
        except OSError as e:
            raise _os_failure(f"cannot lock {self.directory / LOCK}", e) from e
        self._held = True
        try:
            yield
        finally:
            self._held = False
            lock.release()

    # --- writing --------------------------------------------------------------------------------------------

    def add(self, incident_id: str, event: Event) -> None:
        """Record one event, durably, before anyone is told it was recorded."""
        if not event.id:
            raise ValueError("a spooled event keeps the id it was tried under")
        record = json.loads(encode_event(event))  # the folder journal's checks: a registered kind, its payload
        line = (
            json.dumps({"incident": incident_id, **record}, ensure_ascii=False, separators=(",", ":")) + "\n"
        ).encode()
        if len(line) > MAX_LINE_BYTES:
            raise UsageError(
                f"this {event.kind} event is too large for the journal ({len(line):,} bytes, at most "
                f"{MAX_LINE_BYTES:,})",
                hint="keep long output in a file and refer to it",
            )
        with self.locked():
            path = self.pending_path
            try:
                fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    if _ends_torn(fd):
                        line = b"\n" + line  # the torn line stays as it is, on a line of its own
                    view = memoryview(line)
                    while view:
                        view = view[os.write(fd, view) :]
                    os.fsync(fd)
                finally:
                    os.close(fd)
            except OSError as e:
                raise _os_failure(f"cannot write the local spool {path}", e) from e

    def mark_uploaded(self, ids: Sequence[str]) -> None:
        """Note that these events are in the database (called under the lock, after their commit)."""
        if not ids:
            return
        path = self.directory / UPLOADED
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, "".join(f"{i}\n" for i in ids).encode())
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as e:
            raise _os_failure(f"cannot write {path}", e) from e

    def clear(self) -> None:
        """Everything is uploaded and nothing is damaged: start the next outage on an empty spool."""
        for name in (PENDING, UPLOADED):  # this order: see the module's docstring
            with contextlib.suppress(FileNotFoundError):
                (self.directory / name).unlink()

    # --- reading --------------------------------------------------------------------------------------------

    def read(self) -> SpoolContents:
        """The pending events in order, and the lines that cannot be read (kept, reported).

        Lines already parsed by this process are not parsed again: the file only grows (until it is removed,
        which a new inode or a shorter file shows), so each read decodes only what was added since."""
        contents = SpoolContents()
        try:
            with self.pending_path.open("rb") as handle:
                stat = os.fstat(handle.fileno())
                parsed = self._parsed
                if parsed is None or parsed.inode != (stat.st_dev, stat.st_ino) or stat.st_size < parsed.offset:
                    parsed = _Parsed((stat.st_dev, stat.st_ino))
                handle.seek(parsed.offset)
                raw = handle.read()
        except FileNotFoundError:
            self._parsed = None
            return contents
        except OSError as e:
            raise _os_failure(f"cannot read the local spool {self.pending_path}", e) from e
        head, newline, torn = raw.rpartition(b"\n")  # after the last newline: nothing, or a write never finished
        if newline:
            for line in head.split(b"\n"):
                parsed.lines += 1
                if line.strip():
                    parsed.items.append(self._parse(parsed.lines, line))
            parsed.offset += len(head) + 1
        self._parsed = parsed
        done = self._uploaded_ids()
        for item in parsed.items:
            if isinstance(item, str):
                contents.damaged.append(item)
            elif item.event.id in done:
                contents.uploaded += 1
            else:
                contents.pending.append(item)
        if torn.strip():
            contents.damaged.append(
                f"{self.pending_path}:{parsed.lines + 1}: a torn last line (a write cut short; it was never "
                "reported as recorded), kept as it is"
            )
        return contents

    def _parse(self, number: int, line: bytes) -> Spooled | str:
        """One line: its event, or what is wrong with it (``file:line: why``)."""
        where = f"{self.pending_path}:{number}"
        if len(line) > MAX_LINE_BYTES:
            return f"{where}: {len(line):,} bytes, longer than any event (kept, not uploaded)"
        try:
            event, _problem = decode_line(line)
            incident = json.loads(line.lstrip(b"\0").decode("utf-8", errors="replace")).get("incident")
            if not isinstance(incident, str):
                raise ValueError("'incident' is missing")
            incident_id = normalize_incident_id(incident)
            if not event.id:
                raise ValueError("'id' is missing")
        except (ValueError, UsageError) as e:
            reason = e.message if isinstance(e, UsageError) else str(e)
            return f"{where}: {reason} (kept, not uploaded)"
        return Spooled(incident_id, event, number)

    def _uploaded_ids(self) -> set[str]:
        try:
            text = (self.directory / UPLOADED).read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return set()
        except OSError as e:
            raise _os_failure(f"cannot read {self.directory / UPLOADED}", e) from e
        return {line.strip() for line in text.splitlines() if line.strip()}

    # --- the mirror -----------------------------------------------------------------------------------------

    def save_mirror(self, incident_id: str, events: Sequence[Event], as_of: datetime) -> None:
        """Keep the timeline just read, for decisions while the database is away. A cache: replaced whole
        (a reader sees the old or the new file), not fsynced; a lost one only means an offline refusal."""
        self._ensure()
        folder = self.directory / MIRROR
        folder.mkdir(mode=0o700, exist_ok=True)
        header = json.dumps({"as_of": format_timestamp(as_of)}).encode() + b"\n"
        body = b"".join(_mirror_line(e) for e in events)
        path = folder / f"{incident_id}.jsonl"
        tmp = folder / f".{incident_id}.{os.getpid()}.tmp"
        try:
            tmp.write_bytes(header + body)
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink()
            # the mirror is a convenience: failing to refresh it must not fail a command that was recorded

    def mirror(self, incident_id: str) -> Mirror | None:
        """The incident as last read on this laptop, or None (never read here, or the file is unreadable)."""
        try:
            raw = (self.directory / MIRROR / f"{incident_id}.jsonl").read_bytes()
        except OSError:
            return None
        lines = raw.split(b"\n")
        try:
            header: Any = json.loads(lines[0])
            as_of = parse_timestamp(header["as_of"])
            events = [decode_line(line)[0] for line in lines[1:] if line.strip()]
        except (ValueError, KeyError, TypeError, OverflowError):
            return None
        return Mirror(as_of, events)

    def mirrored(self) -> list[str]:
        """The incidents this laptop has a mirror of."""
        try:
            names = os.listdir(self.directory / MIRROR)
        except OSError:
            return []
        return sorted(n.removesuffix(".jsonl") for n in names if n.endswith(".jsonl") and not n.startswith("."))

    # --- internals ------------------------------------------------------------------------------------------

    def _ensure(self) -> None:
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as e:
            raise _os_failure(f"cannot create the local spool {self.directory}", e) from e


def _ends_torn(fd: int) -> bool:
    """Whether the file's last byte is not a newline (a write cut short): the next line must start afresh."""
    size = os.fstat(fd).st_size
    return size > 0 and os.pread(fd, 1, size - 1) != b"\n"


def _os_failure(what: str, e: OSError) -> JournalError:
    hint = None
    if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        hint = "the spool folder must be writable by you: fix its permissions, or set journal.spool in runbook.yaml"
    elif e.errno in (errno.ENOSPC, errno.EDQUOT):
        hint = "the disk (or your quota) is full: free some space and run the command again"
    return JournalError(f"{what}: {e.strerror or e}", hint=hint)


def _mirror_line(event: Event) -> bytes:
    """The event's line, or nothing for one the journal could not write itself (a row inserted by hand, with a
    payload its kind does not take): the database reports it as damage; the mirror, a cache, leaves it out."""
    try:
        return encode_event(event)
    except (ValueError, UsageError):
        return b""
