"""Mermaid chart text: the post-mortem's gantt chart, and :func:`label`, which makes any user text safe inside a chart.

GitHub and GitLab render a fenced ```` ```mermaid ```` block as a chart, so a post-mortem or a report carries its
charts as text that diffs and reviews like the rest of the document. A chart is a small language, though: a colon
ends a gantt task's name, ``%%`` starts a comment, ``#`` starts an entity code, a semicolon or a newline ends a
statement, a line that begins with ``title`` or ``section`` is one, and three backticks end the fenced block the
chart lives in. An incident title or a note can hold any of these, so every piece of user text goes through
:func:`label` before it reaches a chart: it keeps the words readable and removes every way to end, comment out or
add a statement. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from incidentctl.core.text import LINE_BREAK_MARK, one_line

#: A chart label longer than this is cut (a bar's name is drawn on the bar; a paragraph would cover the chart).
MAX_LABEL = 60

#: What stands in for a label with nothing readable left.
EMPTY_LABEL = "(unnamed)"

#: Characters that mean something to Mermaid or to the fence around it, and the harmless ones shown instead.
_REPLACEMENTS = {
    ":": " -",  # ends a task's name
    ";": ",",  # ends a statement
    "#": "no. ",  # starts an entity code (#35;)
    "%": " pct",  # %% starts a comment, %%{ a directive
    '"': "'",
    "`": "'",  # three of them end the fenced block
    "<": "(",  # HTML in labels (flowcharts honour it)
    ">": ")",
    "{": "(",
    "}": ")",
    "[": "(",
    "]": ")",
    "\\": "/",
}
_SPECIAL = re.compile("[" + re.escape("".join(_REPLACEMENTS)) + "]")

#: Words that start a gantt statement when they start a line: a label beginning with one is prefixed.
_KEYWORDS = frozenset(
    {
        "gantt",
        "title",
        "section",
        "dateformat",
        "axisformat",
        "tickinterval",
        "excludes",
        "includes",
        "inclusiveenddates",
        "todaymarker",
        "topaxis",
        "weekday",
        "weekend",
        "click",
        "call",
        "href",
        "displaymode",
        "acctitle",
        "accdescr",
    }
)


def label(value: str, *, limit: int = MAX_LABEL) -> str:
    """``value`` as one line of plain words Mermaid draws as written: no statement, comment, directive, entity,
    HTML or fence can start inside it, and it is at most ``limit`` characters (cut ones end with ``…``)."""
    # one_line shows control and bidi characters as escapes (seen, not obeyed); anything else unprintable
    # (unassigned, private use, a lone surrogate) is dropped, and its line-break mark is a space here
    flat = "".join(c if c.isprintable() else " " for c in one_line(value).replace(LINE_BREAK_MARK, " "))
    flat = _SPECIAL.sub(lambda m: _REPLACEMENTS[m.group()], flat)
    flat = " ".join(flat.split())
    words = flat.split(" ", 1)
    if words[0].casefold().strip("-,.") in _KEYWORDS:
        flat = "- " + flat
    if len(flat) > limit:
        flat = flat[: max(limit - 1, 1)].rstrip() + "…"
    return flat or EMPTY_LABEL


# --- gantt ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    """A task of a gantt chart: a named span in a section. ``critical`` draws it red (the impact)."""

    section: str
    name: str
    start: datetime
    end: datetime
    critical: bool = False


@dataclass(frozen=True)
class Point:
    """A milestone of a gantt chart: a named moment (detected, acknowledged, ...)."""

    name: str
    at: datetime


#: The chart's date format (Mermaid reads it with dayjs); every time is written in UTC, without a zone.
DATE_FORMAT = "YYYY-MM-DD HH:mm:ss"


def gantt(title: str, bars: Sequence[Bar], points: Sequence[Point], *, points_section: str = "Milestones") -> str:
    """A gantt chart's text (without the fence): the bars by section in the order given, then the milestones.

    Task ids are generated (``t1``, ``m1``), never taken from user text. A bar that ends before it starts is
    drawn as ending at its start, since Mermaid would otherwise refuse the chart.
    """
    lines = [
        "gantt",
        f"    title {label(title, limit=80)}",
        f"    dateFormat {DATE_FORMAT}",
        "    axisFormat %H:%M",
    ]
    section: str | None = None
    for number, bar in enumerate(bars, 1):
        if bar.section != section:
            section = bar.section
            lines.append(f"    section {label(section)}")
        tags = "crit, " if bar.critical else ""
        end = max(bar.end, bar.start)
        lines.append(f"    {label(bar.name)} :{tags}t{number}, {_when(bar.start)}, {_when(end)}")
    if points:
        lines.append(f"    section {label(points_section)}")
    for number, point in enumerate(points, 1):
        lines.append(f"    {label(point.name)} :milestone, m{number}, {_when(point.at)}, 0m")
    return "\n".join(lines) + "\n"


def _when(moment: datetime) -> str:
    return f"{moment.astimezone(timezone.utc):%Y-%m-%d %H:%M:%S}"
