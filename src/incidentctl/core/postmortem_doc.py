"""The post-mortem document's generated parts, and re-drafting it without losing a word a person wrote.

``postmortem draft`` writes a document that is partly the journal's (the timeline, the impact figures, the action
items) and partly a person's (why it happened, what was learnt). Each generated part sits between two HTML comments,
invisible when the markdown is rendered::

    <!-- incidentctl:begin timeline sha256=9f2c... -->
    - 2026-03-14 14:30 UTC - declared ...
    <!-- incidentctl:end timeline -->

The hash is that of the part as it was generated, so a re-draft can tell a part nobody touched (refreshed from the
journal) from one a person edited (kept as they left it, and reported). Everything outside the parts is the
person's and is kept byte for byte. A part this version generates that the file has never had is inserted before
the section that follows it; one a person deleted is not put back (a last line lists the parts a draft wrote, so
the two can be told apart). When the markers cannot be read (an end without its begin, a part twice, a begin
never closed) nothing is merged: the person's file is left as it is and the result says which parts were not
refreshed and why. Only whole lines of exactly the markers' form count: user text inside a part is escaped by the
document's builder so it can never make one. Pure: text in, text out.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

_MARKER = re.compile(r"<!-- incidentctl:(begin|end) ([a-z0-9][a-z0-9-]*)(?: sha256=([0-9a-f]{64}))? -->")
_PARTS = re.compile(r"<!-- incidentctl:parts ([a-z0-9,-]*) -->")
#: The parts line as a whole line, to take it out of the person's text before a re-draft writes it anew.
_PARTS_LINE = re.compile(r"^[ \t]*<!-- incidentctl:parts [a-z0-9,-]* -->[ \t]*(?:\r?\n|\Z)", re.MULTILINE)
_HEADING = re.compile(r"#{1,6} ")


class MarkersUnreadable(ValueError):
    """The document's markers do not pair up: which line, and how."""


@dataclass(frozen=True)
class Part:
    """A generated part as found in a document: its name, its lines (with their line ends) and the hash its begin
    marker records (None: the marker has none)."""

    name: str
    body: str
    recorded: str | None
    begin: str
    end: str

    @property
    def edited(self) -> bool:
        return self.recorded != digest(self.body)


Segment = str | Part


def digest(body: str) -> str:
    """The part's hash; line ends do not count (an editor that rewrites them has not edited the words)."""
    return hashlib.sha256(body.replace("\r\n", "\n").encode("utf-8")).hexdigest()


def begin_marker(name: str, body: str) -> str:
    return f"<!-- incidentctl:begin {name} sha256={digest(body)} -->\n"


def end_marker(name: str) -> str:
    return f"<!-- incidentctl:end {name} -->\n"


def parts_line(names: Sequence[str]) -> str:
    return f"<!-- incidentctl:parts {','.join(names)} -->\n"


def parse(document: str) -> list[Segment]:
    """The document as the person's text and the generated parts, in order; raises :class:`MarkersUnreadable`."""
    segments: list[Segment] = []
    human: list[str] = []
    open_part: tuple[str, str | None, str, int] | None = None
    body: list[str] = []
    seen: set[str] = set()
    for number, line in enumerate(document.splitlines(keepends=True), 1):
        found = _MARKER.fullmatch(line.rstrip("\r\n").strip())
        if found is None:
            (body if open_part is not None else human).append(line)
            continue
        what, name, recorded = found.groups()
        if what == "begin":
            if open_part is not None:
                raise MarkersUnreadable(f"line {number}: part {name} begins inside part {open_part[0]}")
            if name in seen:
                raise MarkersUnreadable(f"line {number}: part {name} appears twice")
            segments.append("".join(human))
            human, body = [], []
            open_part = (name, recorded, line, number)
            continue
        if open_part is None or open_part[0] != name:
            inside = f" inside part {open_part[0]}" if open_part is not None else ""
            raise MarkersUnreadable(f"line {number}: the end of part {name} without its begin{inside}")
        seen.add(name)
        segments.append(Part(name, "".join(body), open_part[1], open_part[2], line))
        open_part = None
    if open_part is not None:
        raise MarkersUnreadable(f"line {open_part[3]}: part {open_part[0]} never ends")
    segments.append("".join(human))
    return [s for s in segments if not isinstance(s, str) or s]


def seal(rendered: str) -> str:
    """A freshly rendered document with each begin marker carrying its part's hash and a last line naming the
    parts; the template writes bare markers (``<!-- incidentctl:begin timeline -->``)."""
    segments = parse(rendered)
    names = [s.name for s in segments if isinstance(s, Part)]
    return _join(segments, names, fresh=True)


def part_names(document: str) -> list[str]:
    return [s.name for s in parse(document) if isinstance(s, Part)]


@dataclass(frozen=True)
class Merged:
    """What a re-draft makes of the person's file."""

    #: The document to write; None: leave the file as it is (its markers could not be read).
    text: str | None
    #: Generated parts a person edited, kept as they were.
    kept: list[str] = field(default_factory=list)
    #: Parts of this version the file did not have, inserted.
    inserted: list[str] = field(default_factory=list)
    #: Parts not refreshed because the person deleted them (or, with ``problem``, every part).
    not_refreshed: list[str] = field(default_factory=list)
    #: Why nothing was merged (the markers' first problem, with its line).
    problem: str | None = None


def merge(existing: str, fresh: str) -> Merged:
    """The person's document with the untouched generated parts replaced by ``fresh``'s (a sealed document)."""
    new_segments = parse(fresh)
    new_parts = {s.name: s for s in new_segments if isinstance(s, Part)}
    order = list(new_parts)
    try:
        old_segments = parse(existing)
    except MarkersUnreadable as e:
        return Merged(None, not_refreshed=order, problem=str(e))
    listed = _listed(existing)
    old_names = [s.name for s in old_segments if isinstance(s, Part)]
    if not old_names and not listed:  # someone's own document, or every marker deleted: not ours to fill in
        problem = "it has no incidentctl markers (not a draft of this tool's, or every marker was deleted)"
        return Merged(None, not_refreshed=order, problem=problem)
    kept: list[str] = []
    out: list[Segment] = []
    for segment in old_segments:
        if isinstance(segment, str):
            out.append(_PARTS_LINE.sub("", segment))
        elif segment.name in new_parts and not segment.edited:
            out.append(new_parts[segment.name])
        else:
            if segment.name in new_parts:
                kept.append(segment.name)
            out.append(segment)
    deleted = [n for n in order if n not in old_names and n in listed]
    inserted: list[str] = []
    for index, name in enumerate(order):
        if name in old_names or name in deleted:
            continue
        out = _insert(out, name, _unit(new_segments, name), order[index + 1 :])
        inserted.append(name)
    names = [*order, *(n for n in [*listed, *old_names] if n not in order)]
    return Merged(_join(out, list(dict.fromkeys(names)), fresh=False), kept, inserted, deleted)


def _listed(document: str) -> list[str]:
    found = [m.group(1) for line in document.splitlines() if (m := _PARTS.fullmatch(line.strip()))]
    return [n for n in found[-1].split(",") if n] if found else []


def _unit(segments: Sequence[Segment], name: str) -> list[Segment]:
    """A new part with the heading of its section (the fresh text before it, from its last heading on)."""
    for index, segment in enumerate(segments):
        if isinstance(segment, Part) and segment.name == name:
            before = segments[index - 1] if index > 0 and isinstance(segments[index - 1], str) else ""
            assert isinstance(before, str)
            lines = before.splitlines(keepends=True)
            heads = [i for i, line in enumerate(lines) if _HEADING.match(line)]
            lead = "".join(lines[heads[-1] :]) if heads else ""
            return [lead, segment, "\n"] if lead else [segment]
    return []


def _insert(out: list[Segment], name: str, unit: list[Segment], later: Sequence[str]) -> list[Segment]:
    """Before the section of the first later part the document has (at its heading), else at the end."""
    for index, segment in enumerate(out):
        if isinstance(segment, Part) and segment.name in later:
            before = out[index - 1] if index > 0 and isinstance(out[index - 1], str) else None
            if isinstance(before, str):
                lines = before.splitlines(keepends=True)
                heads = [i for i, line in enumerate(lines) if _HEADING.match(line)]
                if heads:
                    cut = "".join(lines[: heads[-1]])
                    rest = "".join(lines[heads[-1] :])
                    return [*out[: index - 1], cut, *unit, rest, *out[index:]]
            return [*out[:index], *unit, *out[index:]]
    tail: list[Segment] = ["\n"] if out and isinstance(out[-1], str) and not out[-1].endswith("\n\n") else []
    return [*out, *tail, *unit]


def _join(segments: Sequence[Segment], names: Sequence[str], *, fresh: bool) -> str:
    pieces: list[str] = []
    for segment in segments:
        if isinstance(segment, str):
            pieces.append(segment)
        elif fresh or not segment.edited:
            pieces += [begin_marker(segment.name, segment.body), segment.body, end_marker(segment.name)]
        else:
            pieces += [segment.begin, segment.body, segment.end]
    document = "".join(pieces)
    if document and not document.endswith("\n"):
        document += "\n"
    return document + parts_line(names)
