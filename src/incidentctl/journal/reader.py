"""Reading one ``timeline.jsonl``, incrementally, and whatever state it is in.

A reader remembers how far it got (complete lines only) and the state folded so far, so the next read only
parses what was appended since. That keeps an append (which must re-read the timeline under the lock, to decide
from the current state) proportional to what others wrote in between rather than to the incident's history: a
long incident with a dozen people and bots writing to it stays fast.

Line rules (see :mod:`incidentctl.journal.store` for why): a last line that does not parse is *torn* and skipped;
an unreadable line followed by a ``journal_repaired`` event naming it was closed off by an earlier append and is
skipped; any other unreadable line, and any event that cannot be replayed, is *damage*: it is skipped, named as
``file:line`` in :attr:`TimelineView.problems`, and the fold carries on with the rest (what that state means is
:func:`incidentctl.core.incident.recover`). Nothing here raises for what a file contains, only for a file that
cannot be opened.

The file is read in blocks and no line is held beyond :data:`~incidentctl.journal.records.MAX_LINE_BYTES`, so a
line of 50 MB (a runaway writer, a file system that lost its newlines) costs a scan, not 50 MB of memory.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from incidentctl.core.incident import Damage, Event, EventKind, Incident, TimelineError, replay
from incidentctl.errors import JournalError
from incidentctl.journal.records import MAX_LINE_BYTES, decode_line, legacy_event_id

#: Recorded after a torn line has been closed off; ``data.line`` is the torn line's number.
JOURNAL_REPAIRED = EventKind.JOURNAL_REPAIRED

#: Problems kept per timeline; past this they are counted (a file of garbage must not become a list of it).
MAX_PROBLEMS = 50

_BLOCK = 1 << 20
_NON_EMPTY = re.compile(rb"[^\n]+")

#: A timeline (or its folder) that is a link could make an append write anywhere (a link committed to the
#: team's journal repository, pointing at ~/.bashrc): refused on read, which every append does first.
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)

#: Records a problem at a line number: the cursor's own, or a view's local copy for an unfinished last line.
_Report = Callable[[int, str], None]


@dataclass(frozen=True)
class TimelineView:
    """The timeline as of one read."""

    events: list[tuple[int, Event]]
    #: The fold of the readable events; None while there are none (a declaration in progress, or a lost file).
    incident: Incident | None
    #: Lines in the file, counting a last line that lacks its newline.
    line_count: int
    ends_with_newline: bool
    #: The number of an unreadable last line (a write cut short), which the next append must close off.
    torn_line: int | None
    #: Damaged lines and events that could not be replayed, each with its ``file:line``.
    problems: tuple[Damage, ...] = ()
    #: False when there is no timeline file at all.
    exists: bool = True


@dataclass
class _Cursor:
    identity: tuple[int, int] | None = None
    offset: int = 0
    lines: int = 0
    events: list[tuple[int, Event]] = field(default_factory=list)
    incident: Incident | None = None
    problems: list[Damage] = field(default_factory=list)
    #: problems past MAX_PROBLEMS, counted only
    more_problems: int = 0
    #: an unreadable complete line not yet known to be torn (last) or damage (followed by an event)
    suspect: tuple[int, str] | None = None


@dataclass(frozen=True)
class _Line:
    #: the bytes, or None when the line is longer than MAX_LINE_BYTES (then only its length is known)
    content: bytes | None
    length: int


class TimelineReader:
    def __init__(self, path: Path, incident_id: str) -> None:
        self.path = path
        self.incident_id = incident_id
        #: how the file is named in messages: ``INC-2026-004/timeline.jsonl``
        self.where = f"{incident_id}/{path.name}"
        self._cursor = _Cursor()

    def read(self) -> TimelineView:
        try:
            return self._read()
        except BaseException:
            self._cursor = _Cursor()  # never keep a half-advanced cursor
            raise

    def _read(self) -> TimelineView:
        try:
            if self.path.parent.is_symlink():
                raise OSError(errno.ELOOP, "a symbolic link")
            with open(os.open(self.path, os.O_RDONLY | _NOFOLLOW), "rb") as handle:
                stat = os.fstat(handle.fileno())
                identity = (stat.st_dev, stat.st_ino)
                if identity != self._cursor.identity or stat.st_size < self._cursor.offset:
                    self._cursor = _Cursor(identity=identity)  # replaced or truncated (edited by hand): start over
                handle.seek(self._cursor.offset)
                scanner = _Scanner(handle)
                first = self._cursor.lines
                for number, line in scanner:
                    self._take(first + number, line)
                self._cursor.lines += scanner.lines
                self._cursor.offset += scanner.consumed
                tail = scanner.tail
        except FileNotFoundError:
            self._cursor = _Cursor()
            return TimelineView([], None, 0, True, None, exists=False)
        except OSError as e:
            if e.errno == errno.ELOOP:
                raise JournalError(
                    f"{self.path} is a symbolic link (or sits in one): the journal does not follow links out of "
                    "its folder",
                    where=self.where,
                ) from e
            raise JournalError(f"cannot read {self.path}: {e.strerror}", where=self.where) from e
        return self._view(tail)

    def _take(self, number: int, line: _Line) -> None:
        """Consume one complete line into the cursor."""
        cursor = self._cursor
        decoded = self._decode(number, line)
        if decoded is None:
            return
        if isinstance(decoded, str):
            if cursor.suspect is not None:
                self._problem(*cursor.suspect)
            cursor.suspect = (number, decoded)
            return
        event, partial = decoded
        if cursor.suspect is not None:
            if event.kind != JOURNAL_REPAIRED or event.data.get("line") != cursor.suspect[0]:
                self._problem(*cursor.suspect)
            cursor.suspect = None
        if partial is not None:
            self._problem(number, partial)
        cursor.incident = self._replay(cursor.incident, number, event, self._problem)
        cursor.events.append((number, event))

    def _view(self, tail: _Line) -> TimelineView:
        """The cursor plus the last line if it lacks its newline (complete but unterminated, or torn).

        Works on copies: the tail may still be being written, and is read again next time.
        """
        cursor = self._cursor
        events, incident = cursor.events, cursor.incident
        problems, more = list(cursor.problems), cursor.more_problems
        line_count = cursor.lines
        torn = cursor.suspect[0] if cursor.suspect is not None else None

        def problem(number: int, text: str) -> None:
            nonlocal more
            if len(problems) < MAX_PROBLEMS:
                problems.append(Damage(f"{self.where}:{number}", text))
            else:
                more += 1

        if tail.length:
            line_count += 1
            decoded = self._decode(line_count, tail)
            if isinstance(decoded, str):
                if cursor.suspect is not None:
                    problem(*cursor.suspect)
                torn = line_count
            elif decoded is not None:
                event, partial = decoded
                if cursor.suspect is not None:
                    if event.kind != JOURNAL_REPAIRED or event.data.get("line") != cursor.suspect[0]:
                        problem(*cursor.suspect)
                    torn = None
                if partial is not None:
                    problem(line_count, partial)
                incident = self._replay(incident, line_count, event, problem)
                events = [*events, (line_count, event)]
        if more:
            problems.append(Damage(self.where, f"{more} more lines cannot be read or replayed"))
        ended = not tail.length
        return TimelineView(list(events), incident, line_count, ended, torn, tuple(problems))

    def _decode(self, number: int, line: _Line) -> tuple[Event, str | None] | str | None:
        """The event (and what was wrong with it, if read in part), the reason it cannot be read, or None if blank."""
        if line.content is None:
            return f"a line of {line.length:,} bytes, longer than any event ({MAX_LINE_BYTES:,}); not read"
        if not line.content.strip():
            return None
        try:
            event, partial = decode_line(line.content)
        except ValueError as e:
            return f"unreadable event: {e}"
        if not event.id:
            event = dataclasses.replace(event, id=legacy_event_id(self.incident_id, number, line.content))
        return event, partial

    def _replay(self, incident: Incident | None, number: int, event: Event, problem: _Report) -> Incident | None:
        try:
            return replay(incident, event, incident_id=self.incident_id, index=number - 1)
        except TimelineError as e:
            problem(number, f"cannot replay this {event.kind!r} event: {e}; its effect is left out")
            return incident

    def _problem(self, number: int, text: str) -> None:
        cursor = self._cursor
        if len(cursor.problems) < MAX_PROBLEMS:
            cursor.problems.append(Damage(f"{self.where}:{number}", text))
        else:
            cursor.more_problems += 1


class _Scanner:
    """The complete, non-blank lines from a file's current position, numbered from 1; then the unfinished tail.

    Runs of empty lines are counted by ``bytes.count`` rather than visited one by one, so a file of 50 MB of
    newlines costs what its size does; at most MAX_LINE_BYTES of any one line is kept, so memory stays bounded.
    """

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        #: complete lines seen, and their bytes (newlines included): how far a cursor may advance
        self.lines = 0
        self.consumed = 0
        #: the last line if it lacks its newline (length 0 when the file ends with one)
        self.tail = _Line(b"", 0)

    def __iter__(self) -> Iterator[tuple[int, _Line]]:
        head = bytearray()
        length = 0
        while block := self.handle.read(_BLOCK):
            first = block.find(b"\n")
            if first < 0:
                length = _keep(head, length, block)
                continue
            length = _keep(head, length, block[:first])
            self.lines += 1
            self.consumed += length + 1
            if length:
                yield self.lines, _Line(bytes(head) if length <= MAX_LINE_BYTES else None, length)
            last = block.rfind(b"\n")
            position, before = first + 1, self.lines
            for match in _NON_EMPTY.finditer(block, first + 1, last):
                before += block.count(b"\n", position, match.start())
                content = match.group()
                yield before + 1, _Line(content if len(content) <= MAX_LINE_BYTES else None, len(content))
                before += 1
                position = match.end() + 1
            self.lines += block.count(b"\n", first + 1, last + 1)
            self.consumed += last - first
            head.clear()
            length = _keep(head, 0, block[last + 1 :])
        self.tail = _Line(bytes(head) if length <= MAX_LINE_BYTES else None, length)


def _keep(head: bytearray, length: int, piece: bytes) -> int:
    """Add ``piece`` to the line being assembled, unless the line is already too long to be kept at all."""
    length += len(piece)
    if length <= MAX_LINE_BYTES:
        head += piece
    else:
        head.clear()
    return length
