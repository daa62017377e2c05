"""What the post-mortem commands accept as text from a person (names, free text, action-item names, due days,
improvement areas, review stages): one rule per kind of field, so an owner, an
attendee or an action item's text is checked the same way by every command that takes it.

A name (an owner, an attendee, a place) is one line: a line break or a control character in it is refused
rather than cleaned, since it is a paste gone wrong (or an attempt to smuggle a header into an invitation), and
guessing what was meant would put a wrong name in the record. Free text (an item's text, a note, a reason) may
be anything printable or not: the journal keeps it as written (it is evidence) and every renderer makes it safe
when it is shown. Both have a length cap, so a pasted log does not become an action item.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from incidentctl.core.text import UNSAFE
from incidentctl.core.times import DurationError, parse_duration
from incidentctl.errors import UsageError

if TYPE_CHECKING:
    from incidentctl.runbook.model import Runbook

#: How far ahead an action item may be due.
MAX_AHEAD = timedelta(days=3660)

#: The longest name kept: longer than any person's name or e-mail address (RFC 5321 caps an address at 254).
MAX_NAME = 254
#: The longest free text kept: a paragraph.
MAX_TEXT = 2000


def name(value: str, option: str) -> str:
    """A one-line name, stripped; UsageError for an empty one, a line break or a control character, or one too long."""
    text = value.strip()
    if not text:
        raise UsageError(f"{option} is empty")
    if UNSAFE.search(text) or any(c in text for c in "\r\n\t\u2028\u2029\x85"):
        raise UsageError(
            f"{option} {text[:40]!r} holds a line break or a control character",
            hint="give the name on one line of printable characters",
        )
    if len(text) > MAX_NAME:
        raise UsageError(f"{option} is {len(text)} characters long; at most {MAX_NAME}")
    return text


def optional_name(value: str | None, option: str) -> str | None:
    return None if value is None else name(value, option)


def free_text(value: str, option: str) -> str:
    """Text kept as written (less the blanks around it); UsageError when it is empty or too long."""
    text = value.strip()
    if not text:
        raise UsageError(f"{option} is empty")
    if len(text) > MAX_TEXT:
        raise UsageError(f"{option} is {len(text)} characters long; at most {MAX_TEXT} are kept")
    return text


def optional_text(value: str | None, option: str) -> str | None:
    return None if value is None or not value.strip() else free_text(value, option)


_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


_ITEM = re.compile(r"[Aa]([0-9]{1,6})", re.ASCII)


def parse_ref(ref: str, item: str | None = None) -> tuple[str, str]:
    """``INC-2026-004/A2`` or (``INC-2026-004``, ``A2``) -> the incident id and the item id; UsageError otherwise."""
    from incidentctl.core.incident import normalize_incident_id

    text = ref.strip()
    if "/" in text:
        if item is not None:
            raise UsageError(f"{ref!r} names its item already; drop {item!r}")
        text, item = text.split("/", 1)
    if item is None:
        raise UsageError(f"{ref!r} does not name an action item", hint="name it as INC-2026-004/A2, or INC-2026-004 A2")
    match = _ITEM.fullmatch(item.strip())
    if match is None:
        raise UsageError(f"{item!r} is not an action item id", hint="ids are A1, A2, ...: see postmortem action list")
    return normalize_incident_id(text), f"A{int(match[1])}"


def due_date(text: str, now: datetime) -> date:
    """``2026-03-21`` or a time from now (``7d``, ``2w``: that day, UTC); UsageError for anything else, a day
    that does not exist (2026-02-30), or one more than ten years ahead."""
    value = text.strip()
    if _DAY.fullmatch(value):
        try:
            day = date.fromisoformat(value)
        except ValueError as e:
            raise UsageError(f"--due {text!r} is not a day of the calendar: {e}") from e
    else:
        try:
            ahead = parse_duration(value)
        except DurationError as e:
            raise UsageError(f"--due {text!r} is neither a day (2026-03-21) nor a time from now (7d, 2w): {e}") from e
        if ahead > MAX_AHEAD:
            raise UsageError(f"--due {text!r} is more than ten years ahead")
        day = (now + ahead).date()
    if day > (now + MAX_AHEAD).date():
        raise UsageError(f"--due {text!r} is more than ten years ahead")
    return day


def improvement_area(rb: Runbook, text: str) -> str:
    """``technical/Testing``, ``Testing`` or ``technical`` (any case) -> the runbook's spelling; else UsageError."""
    areas = rb.postmortem.improvement_areas
    every = [f"{group}/{name}" for group, names in areas.items() for name in names]
    wanted = text.strip().casefold()
    found = [a for a in every if a.casefold() == wanted or a.split("/", 1)[1].casefold() == wanted]
    found += [group for group in areas if group.casefold() == wanted]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise UsageError(f"--area {text!r} is in several groups", hint=f"one of {', '.join(found)}")
    raise UsageError(
        f"--area {text!r} is not an improvement area of the runbook", hint=f"one of {', '.join(every) or '(none)'}"
    )


def stage_id(rb: Runbook, text: str) -> str:
    """A stage of ``postmortem.stages`` by its id (any case); UsageError listing them otherwise."""
    wanted = text.strip().lower()
    for sid in rb.postmortem.stages:
        if sid.lower() == wanted:
            return str(sid)
    raise UsageError(f"{text!r} is not a review stage of the runbook", hint=f"one of {', '.join(rb.postmortem.stages)}")
