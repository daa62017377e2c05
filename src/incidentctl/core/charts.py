"""Charts as text: terminal sparklines and bars, and Mermaid charts for a markdown report.

Pure (no I/O, no rich): the report's terminal view and its markdown document draw from here, so one set of
numbers makes both. A missing value (a day no incident was resolved has no MTTR) is never drawn as a zero: a
sparkline leaves a gap, a bar says so; Mermaid, which has no gaps, only gets series that are complete.

The Mermaid text keeps to the documented, stable grammar GitHub and GitLab render (``xychart-beta`` with ``bar``
and ``line``, and ``pie``), and every label is reduced to characters that cannot end a quoted string or start a
directive: a component or severity name from the runbook must not break the chart it appears in.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

#: Eight levels, lowest first (U+2581..U+2588).
SPARK_LEVELS = "▁▂▃▄▅▆▇█"
#: What a sparkline shows where there is no value.
SPARK_GAP = " "
#: Partial blocks for a bar's last cell, one eighth to seven eighths.
_PARTIAL = "▏▎▍▌▋▊▉"
_FULL = "█"

#: What a Mermaid label may hold: letters, digits, spaces and harmless punctuation. No quote, bracket, colon,
#: semicolon, hash (Mermaid's entity escapes), percent (its comments) or line break.
_MERMAID_UNSAFE = re.compile(r"[^\w .,/+&()-]", re.UNICODE)


def sparkline(values: Sequence[float | None]) -> str:
    """One character a value, scaled from zero to the largest value (counts and durations start at zero, so a
    flat line of ones does not read as a peak); None is a gap. All zeros (or none known) draw the lowest level."""
    known = [v for v in values if v is not None and math.isfinite(v)]
    top = max(known, default=0.0)
    out = []
    for v in values:
        if v is None or not math.isfinite(v):
            out.append(SPARK_GAP)
        elif top <= 0 or v <= 0:
            out.append(SPARK_LEVELS[0])
        else:
            index = min(len(SPARK_LEVELS) - 1, max(0, math.ceil(v / top * len(SPARK_LEVELS)) - 1))
            out.append(SPARK_LEVELS[index])
    return "".join(out)


def bar(value: float, top: float, width: int) -> str:
    """A horizontal bar of ``value`` against ``top`` in at most ``width`` cells, with eighths for the last cell.
    A value above zero is never drawn empty (one eighth at least): a single incident must show."""
    if width <= 0 or top <= 0 or value <= 0 or not math.isfinite(value):
        return ""
    eighths = round(min(value, top) / top * width * 8)
    eighths = max(eighths, 1)
    full, rest = divmod(eighths, 8)
    return _FULL * full + (_PARTIAL[rest - 1] if rest else "")


def mermaid_label(text: str) -> str:
    """``text`` as a label inside Mermaid's double quotes: unsafe characters become spaces, runs of spaces one."""
    cleaned = " ".join(_MERMAID_UNSAFE.sub(" ", text).split())
    return cleaned or "-"


@dataclass(frozen=True)
class Series:
    """One series of an xychart: bars or a line, one value for each x label."""

    kind: Literal["bar", "line"]
    values: Sequence[float]


def xychart(
    title: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    *,
    y_label: str,
    y_max: float | None = None,
    y_min: float = 0.0,
) -> str:
    """A Mermaid ``xychart-beta``: the x axis is categories, the y axis runs from ``y_min`` to the largest value
    (or ``y_max``). Raises ValueError when a series does not have one finite value per label (Mermaid would
    draw a wrong chart, or none)."""
    if not x_labels:
        raise ValueError("a chart needs at least one x label")
    for s in series:
        if len(s.values) != len(x_labels):
            raise ValueError(f"a {s.kind} series has {len(s.values)} values for {len(x_labels)} labels")
        if not all(math.isfinite(v) for v in s.values):
            raise ValueError(f"a {s.kind} series has a value that is not a number")
    top = max((v for s in series for v in s.values), default=0.0)
    if y_max is None:
        y_max = top if top > y_min else y_min + 1
    axis = ", ".join(f'"{mermaid_label(label)}"' for label in x_labels)
    lines = [
        "xychart-beta",
        f'    title "{mermaid_label(title)}"',
        f"    x-axis [{axis}]",
        f'    y-axis "{mermaid_label(y_label)}" {_number(y_min)} --> {_number(y_max)}',
    ]
    lines += [f"    {s.kind} [{', '.join(_number(v) for v in s.values)}]" for s in series]
    return "\n".join(lines)


def pie(title: str, slices: Sequence[tuple[str, float]]) -> str | None:
    """A Mermaid ``pie`` of the slices above zero (Mermaid refuses a zero or negative slice); None when no slice
    is left: a pie of nothing is not drawn."""
    kept = [(label, value) for label, value in slices if math.isfinite(value) and value > 0]
    if not kept:
        return None
    lines = [f"pie title {mermaid_label(title)}"]
    lines += [f'    "{mermaid_label(label)}" : {_number(value)}' for label, value in kept]
    return "\n".join(lines)


def _number(value: float) -> str:
    """A number as Mermaid reads it: an integer without a decimal point, else at most three decimals."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.3f}".rstrip("0").rstrip(".")
