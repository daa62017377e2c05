"""Error templates from logs: select the error lines, mask what varies, group, and compare with a baseline.

``grep -i error | sort | uniq -c`` counts unique lines, and every line is unique because of its timestamp and
request id, so on a real log it prints one "group" per line. Here each error line is reduced to its *template*
(the line with its variable parts masked as ``<*>``) and lines are counted per template.

Why this design (measured on 1,000,000 generated lines, 130 MB, 2 cores: see ``benchmarks/bench_errors.py``):

- **Streaming, in 1 MiB binary chunks.** Memory is bounded by the chunk and by the number of distinct
  templates, never by the file: a 10 GB log mines in the same few MB as a 10 MB one.
- **One lowercase + ``bytes.find`` pass per chunk cuts out the error lines.** ``find`` runs at memchr speed in C;
  decoding, splitting or matching all 1,000,000 lines in Python costs more than the whole grep pipeline.
- **One ``re.sub`` per chunk masks every error line at once** (the lines of a chunk are joined with ``\\n``), with
  a *constant* replacement: a Python callback or a group template (Python < 3.12 expands those in Python) per
  match would cost more than the rest together. The regex masks tokens that carry a digit (timestamps, ids, IPs,
  uuids, durations, ports, pod hashes), hex ids, pod names, and quoted values of keyed fields (free text such as a
  user's query), but never a key (``"p95":`` or ``p95=`` stay) and never the value of a message key (``msg``,
  ``error``, ...): the message is what tells two templates apart, so only the digit-bearing tokens inside it are
  masked. JSON lines are masked by the same rules, their keys untouched.
- **Exact grouping of the masked strings**, then a **similarity merge over the few distinct ones** (drain's idea:
  patterns that differ in a few positions are one template, the positions shown as ``<*>``). The merge only lets
  the *value of a keyed field* differ (``tenant=acme`` / ``tenant=globex``), never a word of the message: drain3's
  free similarity threshold merged two real templates on the same kind of log ("upstream synthesis timed out" vs
  "upstream retrieval timed out" differ in one word of eight). drain3 itself is not used: it works line by line
  (6.9 s on the million lines against the grep pipeline's 0.3 s), its last release is from 2022 and brings
  jsonpickle and cachetools, and the merge we need over a few hundred strings is twenty lines.

Everything here is pure: bytes or lines in, templates out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import IO, Literal

#: What a read asks for: big enough that the per-chunk Python work vanishes, small enough to stay in cache.
CHUNK_SIZE = 1 << 20

#: The most of one line the miner holds while waiting for its end. A line without end (a binary dump, a crash that
#: wrote no newline, ``--file /dev/zero``) would otherwise grow in memory without bound; a real log line is far
#: shorter, and its first 64 KiB are what its template is made of.
MAX_LINE_BYTES = 64 << 10

#: A line holding one of these words (any case) is an error line. ``error`` is what the runbook's grep selects
#: (and Python's exceptions end in it); PostgreSQL and Go say ``FATAL`` and ``panic``. Each word costs a scan of
#: the whole log (0.13 s a million lines), so words that add little stay out: a traceback's header is the same for
#: every traceback (its last line names the error), and ``exception``/``critical`` lines nearly always say error.
ERROR_WORDS: tuple[bytes, ...] = (b"error", b"fatal", b"panic")

#: A line whose own level says it is no error is not one, whatever words it holds: uvicorn logs its start-up as
#: ``INFO  uvicorn.error Application startup complete.`` (the level is one of the first few words, or a JSON field).
#: (the words before the level are a time or a process id: none starts with a capital, as ERROR or WARN would)
_QUIET_PLAIN_RE = r"(?:\[pod/\S*\] )?(?:(?:[^\sA-Z\[]\S*|\[\d+\]) +){0,3}\[?(?:INFO|DEBUG|TRACE|NOTICE)\b"
_QUIET_JSON_RE = r'"(?:level|severity|lvl)": ?"(?:info|debug|trace|notice)"'
_QUIET_PLAIN = re.compile(_QUIET_PLAIN_RE)
_QUIET_JSON = re.compile(_QUIET_JSON_RE, re.IGNORECASE)
#: the same, on the bytes of a chunk (the JSON one on its lowercased copy), matched in place between offsets
_QUIET_PLAIN_BYTES = re.compile(_QUIET_PLAIN_RE.encode())
_QUIET_JSON_BYTES = re.compile(_QUIET_JSON_RE.encode())
_BRACE = ord("{")


def _quiet(text: str) -> bool:
    if _QUIET_PLAIN.match(text):
        return True
    return text.lstrip().startswith("{") and _QUIET_JSON.search(text, 0, 200) is not None


#: What a masked part reads as.
WILDCARD = "<*>"

#: Keys whose value is the message: kept (its digit-bearing tokens still masked), and never merged over.
MESSAGE_KEYS = (
    "msg",
    "message",
    "error",
    "err",
    "exc",
    "exception",
    "reason",
    "detail",
    "level",
    "severity",
    "logger",
    "event",
)

Status = Literal["new", "grew", "steady"]

#: A template "grew" when it is seen more than this many times as often as in the baseline.
GROWTH = 2.0

_SEP = r"""\s"'=,;(){}\[\]<>"""
#: The value of a message key, in each spelling (``error="``, ``"error":"``, ``"error": "``), one negative
#: lookbehind per key length (a lookbehind's alternatives must have one width).
_KEEP = "".join(
    f'(?<!(?:{names})=")(?<!"(?:{names})":")(?<!"(?:{names})": ")'
    for names in sorted({"|".join(k for k in MESSAGE_KEYS if len(k) == n) for n in {len(k) for k in MESSAGE_KEYS}})
)

#: Four passes, each starting with a literal or one character class: the regex engine then skips in C to where a
#: match can start, instead of trying every branch at every character (which cost four times as much).
#: 1. a quoted value of a keyed field, plain (``k="v"``) or JSON (``"k": "v"``), unless ``k`` is a message key;
QUOTED_VALUE = re.compile(rf'"(?:(?<=[=:]")|(?<=: ")){_KEEP}[^"\\\n]*(?:\\.[^"\\\n]*)*"')
#: 2. the ``[pod/NAME/CONTAINER]`` prefix ``kubectl logs --prefix`` writes (pod names need not hold a digit);
KUBECTL_PREFIX = re.compile(r"\[pod/[^\]\s]*\]")
#: 3. a token from its first digit to its end, unless it is a key (``p95=``, ``"p95":``);
DIGITS_ON = re.compile(rf'\d[^{_SEP}]*(?![^{_SEP}])(?!=|"\s*:)')
#: 4. the rest of that token before the digit (``gpt-<*>``, ``request_id=f3a<*>``), found in the reversed text,
#: where it follows the mask.
_REVERSED_MASK = ">*<"
BEFORE_MASK = re.compile(rf"{re.escape(_REVERSED_MASK)}(?!:\")[^{_SEP}]+")

#: A leading ``[pod/NAME/CONTAINER] `` as ``kubectl logs --prefix`` writes it.
_PREFIX = re.compile(r"\[pod/([^/\]\s]+)/[^\]\s]*\] ")
_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})([.,]\d{1,9})?(Z|[+-]\d{2}:?\d{2}| ?UTC)?")


def mask(texts: list[str]) -> list[str]:
    """Each line's template (exact, before the merge): each pass is one ``re.sub`` over all the lines."""
    if not texts:
        return []
    text = QUOTED_VALUE.sub(WILDCARD, "\n".join(texts))
    if "[pod/" in text:
        text = KUBECTL_PREFIX.sub(f"[{WILDCARD}]", text)
    text = DIGITS_ON.sub(WILDCARD, text)
    return BEFORE_MASK.sub(_REVERSED_MASK, text[::-1])[::-1].split("\n")


def is_error(text: str) -> bool:
    low = text.lower()
    return any(word.decode() in low for word in ERROR_WORDS) and not _quiet(text)


def line_time(text: str) -> datetime | None:
    """The first timestamp in a line (RFC 3339, or ``2026-12-01 14:23:18.123 UTC``); None when it has none."""
    m = _TIME.search(text, 0, 200)
    if m is None:
        return None
    day, clock, frac, zone = m.groups()
    micro = (frac[1:] + "000000")[:6] if frac else "0"
    try:
        when = datetime.fromisoformat(f"{day}T{clock}").replace(microsecond=int(micro))
    except ValueError:
        return None
    if zone is None or zone.strip() in ("Z", "UTC"):
        return when.replace(tzinfo=timezone.utc)
    return datetime.fromisoformat(f"{day}T{clock}{zone}").replace(microsecond=int(micro)).astimezone(timezone.utc)


@dataclass
class Group:
    """The lines of one exact template seen so far."""

    count: int = 0
    example: str = ""
    first_time: datetime | None = None
    last_time: datetime | None = None
    #: the last line, whose time is read only at the end (a saved log is in time order)
    last_line: str = ""
    pods: set[str] = field(default_factory=set)

    def seen(self, when: datetime | None) -> None:
        if when is None:
            return
        if self.first_time is None or when < self.first_time:
            self.first_time = when
        if self.last_time is None or when > self.last_time:
            self.last_time = when


class Miner:
    """Counts the lines and error lines it is fed and groups the error lines by exact template.

    Feed it bytes (:meth:`feed`, then :meth:`close`) or lines with their time and pod (:meth:`add_lines`);
    memory holds one chunk and one :class:`Group` per distinct template.
    """

    def __init__(self) -> None:
        self.lines = 0
        self.error_lines = 0
        self.groups: dict[str, Group] = {}
        self._carry = b""

    def read(self, stream: IO[bytes], chunk_size: int = CHUNK_SIZE) -> Miner:
        while chunk := stream.read(chunk_size):
            self.feed(chunk)
        self.close()
        return self

    def feed(self, data: bytes) -> None:
        """A chunk of a log, cut anywhere: the line it ends inside waits for the next chunk.

        The chunk is never copied: the line it starts inside (joined with what the last one left) is mined on its
        own, the rest in place between offsets."""
        if not data:
            return
        first = data.find(b"\n")
        if first < 0:
            self._hold(data)
            return
        # a line already cut at MAX_LINE_BYTES ends here: the rest of it is dropped, not joined on
        line = self._carry + (data[: first + 1] if len(self._carry) < MAX_LINE_BYTES else b"\n")
        self._carry = b""
        self._chunk(line[:MAX_LINE_BYTES] + (b"\n" if len(line) > MAX_LINE_BYTES else b""), 0, None)
        last = data.rfind(b"\n") + 1
        self._hold(data[last:])
        if last > first + 1:
            self._chunk(data, first + 1, last)

    @property
    def pending_bytes(self) -> int:
        """How much of an unfinished line is held (never more than :data:`MAX_LINE_BYTES`)."""
        return len(self._carry)

    def _hold(self, start: bytes) -> None:
        """Keep the start of the line a chunk ends inside, up to :data:`MAX_LINE_BYTES` of it."""
        room = MAX_LINE_BYTES - len(self._carry)
        if room > 0:
            self._carry += start[:room]

    def close(self) -> None:
        if self._carry:
            carry, self._carry = self._carry + b"\n", b""
            self._chunk(carry, 0, len(carry))
        for group in self.groups.values():  # times of first and last line, read once per template
            if group.last_line:
                group.seen(line_time(group.last_line))
                group.last_line = ""

    def merge(self, later: Miner) -> Miner:
        """This miner with what ``later`` mined from the part of the log after this one's (both closed)."""
        self.lines += later.lines
        self.error_lines += later.error_lines
        for key, theirs in later.groups.items():
            mine = self.groups.get(key)
            if mine is None:
                self.groups[key] = theirs
                continue
            mine.count += theirs.count
            mine.pods |= theirs.pods
            mine.seen(theirs.first_time)
            mine.seen(theirs.last_time)
        return self

    def _chunk(self, data: bytes, begin: int, stop: int | None) -> None:
        """The whole lines of ``data[begin:stop]`` (``stop`` just after a newline; None: the end of ``data``)."""
        if stop is None:
            stop = len(data)
        self.lines += data.count(b"\n", begin, stop)
        low = data.lower()
        starts: set[int] = set()
        spans: list[tuple[int, int]] = []
        for word in ERROR_WORDS:
            pos = low.find(word, begin, stop)
            while pos >= 0:
                start = low.rfind(b"\n", begin, pos) + 1 or begin
                end = low.find(b"\n", pos, stop)
                if start not in starts:
                    starts.add(start)
                    if not (
                        _QUIET_PLAIN_BYTES.match(data, start, end)
                        or (data[start] == _BRACE and _QUIET_JSON_BYTES.search(low, start, min(end, start + 200)))
                    ):
                        spans.append((start, end))
                pos = low.find(word, end, stop)
        if not spans:
            return
        if len(ERROR_WORDS) > 1:
            spans.sort()
        texts = b"\n".join([data[s:e] for s, e in spans]).decode("utf-8", "replace").replace("\r", "").split("\n")
        self._add(texts, mask(texts), None)

    def add_lines(self, records: Iterable[tuple[datetime | None, str | None, str]]) -> None:
        """Lines already read, each with its time and pod (a cluster's logs): the same selection and masking."""
        texts: list[str] = []
        meta: list[tuple[datetime | None, str | None]] = []
        for when, pod, text in records:
            self.lines += 1
            if is_error(text):
                texts.append(text.replace("\n", " ").replace("\r", ""))
                meta.append((when, pod))
        self._add(texts, mask(texts), meta)

    def _add(self, texts: list[str], keys: list[str], meta: list[tuple[datetime | None, str | None]] | None) -> None:
        groups = self.groups
        self.error_lines += len(texts)
        prefixed = meta is None and bool(texts) and texts[0].startswith("[pod/")
        for i, key in enumerate(keys):
            group = groups.get(key)
            if group is None:
                group = groups[key] = Group(example=texts[i])
                if meta is None:
                    group.seen(line_time(texts[i]))
            group.count += 1
            if meta is not None:
                when, pod = meta[i]
                group.seen(when)
                if pod:
                    group.pods.add(pod)
            else:
                group.last_line = texts[i]
                if prefixed:
                    m = _PREFIX.match(texts[i])
                    if m:
                        group.pods.add(m.group(1))


# --- the merge, over distinct templates -----------------------------------------------------------------------

_KEYED = re.compile(r"^([\w.-]+)=(.*)$")


def _skeleton(pattern: str) -> tuple[tuple[str, ...], tuple[bool, ...]]:
    """The pattern's tokens with the values of keyed fields blanked, and which positions those are."""
    tokens = pattern.split(" ")
    out: list[str] = []
    free: list[bool] = []
    after_json_key = False
    for token in tokens:
        m = _KEYED.match(token)
        if m and m.group(1) not in MESSAGE_KEYS and not m.group(2).startswith(('"', "'")):
            out.append(m.group(1) + "=")
            free.append(True)
        elif after_json_key and not token.startswith('"'):
            out.append("")
            free.append(True)
        else:
            out.append(token)
            free.append(False)
        after_json_key = token.endswith('":') and token.strip('{"').removesuffix('":') not in MESSAGE_KEYS
    return tuple(out), tuple(free)


def _combine(patterns: list[str]) -> str:
    """One pattern for patterns of one skeleton: where their tokens differ, the value is ``<*>``."""
    columns = zip(*(p.split(" ") for p in patterns), strict=False)
    words: list[str] = []
    for column in columns:
        if len(set(column)) == 1:
            words.append(column[0])
        else:
            m = _KEYED.match(column[0])
            words.append(f"{m.group(1)}={WILDCARD}" if m else WILDCARD + ("," if column[0].endswith(",") else ""))
    return " ".join(words)


def merge(keys: Iterable[str]) -> dict[str, str]:
    """Each exact template -> the pattern it is reported under (the merge of those that differ only in the
    values of keyed fields)."""
    by_skeleton: dict[tuple[str, ...], list[str]] = {}
    for key in keys:
        by_skeleton.setdefault(_skeleton(key)[0], []).append(key)
    out: dict[str, str] = {}
    for members in by_skeleton.values():
        pattern = members[0] if len(members) == 1 else _combine(sorted(members))
        for key in members:
            out[key] = pattern
    return out


# --- templates against a baseline -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    """One error template of the window, with its count in the baseline window."""

    pattern: str
    count: int
    #: None: no baseline was read, so whether it is new cannot be said.
    baseline_count: int | None
    status: Status | None
    first_seen: datetime | None
    last_seen: datetime | None
    pods: tuple[str, ...]
    example: str


def status_of(count: int, baseline: int) -> Status:
    if baseline == 0:
        return "new"
    if count > GROWTH * baseline:
        return "grew"
    return "steady"


def templates(current: Miner, baseline: Miner | None) -> list[Template]:
    """The window's templates, most frequent first (new ones before others of the same count)."""
    keys = list(current.groups)
    if baseline is not None:
        keys += [k for k in baseline.groups if k not in current.groups]
    patterns = merge(keys)
    merged: dict[str, list[Group]] = {}
    for key, group in current.groups.items():
        merged.setdefault(patterns[key], []).append(group)
    before: dict[str, int] = {}
    if baseline is not None:
        for key, group in baseline.groups.items():
            before[patterns[key]] = before.get(patterns[key], 0) + group.count
    out: list[Template] = []
    for pattern, groups in merged.items():
        count = sum(g.count for g in groups)
        firsts = [g.first_time for g in groups if g.first_time is not None]
        lasts = [g.last_time for g in groups if g.last_time is not None]
        example = max(groups, key=lambda g: g.count).example
        base = before.get(pattern, 0) if baseline is not None else None
        out.append(
            Template(
                pattern=pattern,
                count=count,
                baseline_count=base,
                status=status_of(count, base) if base is not None else None,
                first_seen=min(firsts) if firsts else None,
                last_seen=max(lasts) if lasts else None,
                pods=tuple(sorted({p for g in groups for p in g.pods})),
                example=example,
            )
        )
    order = {"new": 0, "grew": 1, "steady": 2, None: 3}
    out.sort(key=lambda t: (order[t.status], -t.count, t.pattern))
    return out


def classify(lines: Iterable[str]) -> Iterator[tuple[str, str]]:
    """Each error line and the exact template it falls in (for checking a grouping against known labels)."""
    texts = [t for t in lines if is_error(t)]
    yield from zip(texts, mask(texts), strict=False)
