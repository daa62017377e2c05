"""What the post-mortem commands accept as text from a person: one rule per kind of field, so an owner, an
attendee or an action item's text is checked the same way by every command that takes it.

A name (an owner, an attendee, a place) is one line: a line break or a control character in it is refused
rather than cleaned, since it is a paste gone wrong (or an attempt to smuggle a header into an invitation), and
guessing what was meant would put a wrong name in the record. Free text (an item's text, a note, a reason) may
be anything printable or not: the journal keeps it as written (it is evidence) and every renderer makes it safe
when it is shown. Both have a length cap, so a pasted log does not become an action item.
"""

from __future__ import annotations

from incidentctl.core.text import UNSAFE
from incidentctl.errors import UsageError

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
