"""``journal copy`` for people: one line per incident as it is done, then a summary."""

from __future__ import annotations

from incidentctl.core.text import one_line
from incidentctl.journal.copy import CopyResult, IncidentCopy, Outcome

#: Problems listed under a damaged incident; the rest are counted (all of them are in -o json).
SHOWN_PROBLEMS = 5


def _events(n: int) -> str:
    return f"{n} event" if n == 1 else f"{n} events"


def incident_lines(item: IncidentCopy, *, dry_run: bool) -> list[str]:
    """The incident's line, and one indented line per problem (user text, made safe for a terminal)."""
    verb = "would copy" if dry_run else "copied"
    if item.outcome is Outcome.CONFLICT or item.outcome is Outcome.FAILED:
        head = f"{item.outcome.value}: {item.reason}"
    elif item.outcome is Outcome.PRESENT:
        head = f"already there ({_events(item.present)})"
    elif item.outcome is Outcome.COPIED:
        there = f" ({item.present} already there)" if item.present else ""
        head = f"{verb} {_events(item.copied)}{there}"
    elif item.reason is not None:  # damaged, and nothing could be copied
        head = f"damaged: {item.reason}"
    else:
        there = f", {item.present} already there" if item.present else ""
        head = f"damaged: {verb} {_events(item.copied)} of {item.events} readable{there}"
    lines = [f"{item.id}  {one_line(head)}"]
    lines += [f"    {one_line(p.where)}: {one_line(p.problem)}" for p in item.problems[:SHOWN_PROBLEMS]]
    if len(item.problems) > SHOWN_PROBLEMS:
        lines.append(f"    ({len(item.problems) - SHOWN_PROBLEMS} more problems in -o json)")
    return lines


def summary_line(result: CopyResult) -> str:
    counts = [
        f"{result.count(outcome)} {label}"
        for outcome, label in (
            (Outcome.COPIED, "copied"),
            (Outcome.PRESENT, "already there"),
            (Outcome.CONFLICT, "in conflict"),
            (Outcome.DAMAGED, "damaged"),
            (Outcome.FAILED, "failed"),
        )
        if result.count(outcome)
    ]
    what = f"{len(result.incidents)} incident{'' if len(result.incidents) == 1 else 's'}"
    verb = "dry run: would copy" if result.dry_run else "copied"
    tail = "; nothing written" if result.dry_run else ""
    return one_line(
        f"{verb} {_events(result.copied)} from {result.source} to {result.destination} "
        f"({what}{': ' if counts else ''}{', '.join(counts)}){tail}"
    )
