"""What the journal says about an incident's impact and progress, in lines a message can carry.

``communicate send update`` with nothing but the incident must still say something true: the impact is what the
latest detect or triage look saw (which parts were broken and why, how many users), the progress is what the
timeline holds (mitigations applied, failed and verified, status changes, notes, escalations). Responders' own
words (``--impact``, ``--progress``) replace these; nothing here guesses.

Pure: the timeline in, plain unsanitised lines out (the template context makes them safe to show).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from incidentctl.core.events import EventKind, describe
from incidentctl.core.looks import TRIAGED, last_look

if TYPE_CHECKING:
    from incidentctl.core.incident import Event

#: The events that are progress a status update reports (in the words ``incident timeline`` uses).
PROGRESS_KINDS = frozenset(
    {
        EventKind.NOTE,
        EventKind.STATUS_CHANGED,
        EventKind.MITIGATION_APPLIED,
        EventKind.MITIGATION_FAILED,
        EventKind.MITIGATION_VERIFIED,
        EventKind.ESCALATED,
    }
)

#: How many lines of why (a look's evidence or problems) and of progress a message carries: the latest ones.
MOST_REASONS = 5
MOST_PROGRESS = 8


@dataclass(frozen=True)
class Look:
    """The latest detect/triage look: when, the overall health, and each part's that was not ok."""

    at: datetime
    health: str | None
    broken: Mapping[str, str]
    #: How many parts it checked: "healthy" is said only of a look that checked something.
    checked: int
    #: Why, one line each: triage's evidence, or detect's problems.
    reasons: Sequence[str]
    #: The share of users affected (0..1), when triage estimated it.
    users_affected: float | None


def latest_look(timeline: Sequence[Event]) -> Look | None:
    event = last_look(timeline)
    if event is None:
        return None
    data = event.data
    subjects = data.get("subjects") or {}
    broken = {str(name): str(health) for name, health in subjects.items() if health != "ok"}
    why = data.get("evidence") if event.kind == TRIAGED else data.get("problems")
    users = data.get("users_affected")
    share = float(users) if isinstance(users, (int, float)) and not isinstance(users, bool) else None
    return Look(
        at=event.time,
        health=data.get("health"),
        broken=broken,
        checked=len(subjects),
        reasons=[str(line) for line in why or []][:MOST_REASONS],
        users_affected=share if share is not None and 0 <= share <= 1 else None,
    )


def impact_lines(timeline: Sequence[Event]) -> list[str]:
    """The impact as the latest look saw it; empty when nothing looked (the template then says "being
    assessed": no look is no evidence, never "healthy")."""
    look = latest_look(timeline)
    if look is None:
        return []
    when = f"{look.at:%H:%M} UTC"
    if look.broken:
        lines = [f"As of {when}: " + ", ".join(f"{name} {health}" for name, health in look.broken.items())]
    elif not look.checked:
        lines = [f"As of {when}: no part could be checked"]
    elif look.health == "ok":
        lines = [f"As of {when}: all {look.checked} checked parts healthy"]
    else:
        lines = [f"As of {when}: {look.health or 'state unknown'}"]
    lines += list(look.reasons)
    if look.users_affected is not None:
        lines.append(f"Estimated {look.users_affected:.0%} of users affected")
    return lines


def progress_lines(timeline: Sequence[Event], severity_names: Mapping[str, str] | None = None) -> list[str]:
    """What was done, latest last: mitigations, status changes, notes and escalations, with their times."""
    lines = [
        f"{event.time:%H:%M} UTC {_words(event, severity_names)}" for event in timeline if event.kind in PROGRESS_KINDS
    ]
    return lines[-MOST_PROGRESS:]


def service_state(timeline: Sequence[Event]) -> str | None:
    """``down`` or ``degraded`` as the latest look saw the service, for the public text (which names no part);
    None when nothing looked or everything was ok."""
    look = latest_look(timeline)
    if look is None or not look.broken:
        return None
    return "down" if "down" in look.broken.values() else "degraded"


def _words(event: Event, severity_names: Mapping[str, str] | None) -> str:
    if event.kind == EventKind.NOTE:
        return f"note: {event.data.get('text', '')}"
    return describe(event, severity_names)
