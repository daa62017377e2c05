"""Reading one ``timeline.jsonl``, incrementally.

A reader remembers how far it got (complete lines only) and the state folded so far, so the next read only
parses what was appended since. That keeps an append (which must re-read the timeline under the lock, to decide
from the current state) proportional to what others wrote in between rather than to the incident's history: a
long incident with a dozen people and bots writing to it stays fast.

Line rules (see :mod:`incidentctl.journal.store` for why): a last line that does not parse is *torn* and skipped;
an unreadable line followed by a ``journal_repaired`` event naming it was closed off by an earlier append and is
skipped; any other unreadable line is corruption, reported as ``file:line``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from incidentctl.core.incident import Event, Incident, TimelineError, apply, fold
from incidentctl.errors import JournalError
from incidentctl.journal.records import decode_event

#: Recorded after a torn line has been closed off; ``data.line`` is the torn line's number.
JOURNAL_REPAIRED = "journal_repaired"


@dataclass(frozen=True)
class TimelineView:
    """The timeline as of one read."""

    events: list[tuple[int, Event]]
    #: The folded state; None while the timeline is still empty (a declaration in progress).
    incident: Incident | None
    #: Lines in the file, counting a last line that lacks its newline.
    line_count: int
    ends_with_newline: bool
    #: The number of an unreadable last line (a write cut short), which the next append must close off.
    torn_line: int | None


@dataclass
class _Cursor:
    identity: tuple[int, int] | None = None
    offset: int = 0
    lines: int = 0
    events: list[tuple[int, Event]] = field(default_factory=list)
    incident: Incident | None = None
    #: an unreadable complete line not yet known to be torn (last) or corrupt (followed by an event)
    suspect: tuple[int, str] | None = None


class TimelineReader:
    def __init__(self, path: Path, where: str) -> None:
        self.path = path
        #: how the file is named in messages: ``INC-2026-004/timeline.jsonl``
        self.where = where
        self._cursor = _Cursor()

    def read(self) -> TimelineView:
        try:
            return self._read()
        except BaseException:
            self._cursor = _Cursor()  # never keep a half-advanced cursor
            raise

    def _read(self) -> TimelineView:
        try:
            with open(self.path, "rb") as handle:
                stat = os.fstat(handle.fileno())
                identity = (stat.st_dev, stat.st_ino)
                if identity != self._cursor.identity or stat.st_size < self._cursor.offset:
                    self._cursor = _Cursor(identity=identity)  # replaced or truncated (edited by hand): start over
                handle.seek(self._cursor.offset)
                chunk = handle.read()
        except FileNotFoundError:
            self._cursor = _Cursor()
            return TimelineView([], None, 0, True, None)
        except OSError as e:
            raise JournalError(f"cannot read {self.path}: {e.strerror}") from e

        complete, newline, tail = chunk.rpartition(b"\n")
        if newline:
            for raw in complete.split(b"\n"):
                self._cursor.lines += 1
                self._take(self._cursor.lines, raw)
            self._cursor.offset += len(complete) + 1
        else:
            tail = chunk
        return self._view(tail)

    def _take(self, number: int, raw: bytes) -> None:
        """Consume one complete line into the cursor."""
        cursor = self._cursor
        if not raw.strip():
            return
        try:
            event = decode_event(raw)
        except ValueError as e:
            if cursor.suspect is not None:
                raise self._corrupt(*cursor.suspect) from None
            cursor.suspect = (number, str(e))
            return
        if cursor.suspect is not None:
            if event.kind != JOURNAL_REPAIRED or event.data.get("line") != cursor.suspect[0]:
                raise self._corrupt(*cursor.suspect)
            cursor.suspect = None
        cursor.incident = self._apply(cursor.incident, number, event)
        cursor.events.append((number, event))

    def _view(self, tail: bytes) -> TimelineView:
        """The cursor plus the last line if it lacks its newline (complete but unterminated, or torn)."""
        cursor = self._cursor
        events, incident = cursor.events, cursor.incident
        line_count = cursor.lines
        torn = cursor.suspect[0] if cursor.suspect is not None else None
        if tail:
            line_count += 1
            if tail.strip():
                try:
                    event = decode_event(tail)
                except ValueError:
                    if cursor.suspect is not None:
                        raise self._corrupt(*cursor.suspect) from None
                    torn = line_count
                else:
                    if cursor.suspect is not None:
                        raise self._corrupt(*cursor.suspect)
                    incident = self._apply(incident, line_count, event)
                    events = [*events, (line_count, event)]
        return TimelineView(list(events), incident, line_count, not tail, torn)

    def _apply(self, incident: Incident | None, number: int, event: Event) -> Incident:
        try:
            return fold([event]) if incident is None else apply(incident, event)
        except TimelineError as e:
            raise JournalError(f"cannot replay the timeline: {e}", where=f"{self.where}:{number}") from e

    def _corrupt(self, number: int, problem: str) -> JournalError:
        return JournalError(
            f"unreadable event: {problem}",
            where=f"{self.where}:{number}",
            hint=f"timelines are plain JSON lines; fix or remove that line in {self.path}",
        )
