"""The terminal view of ``postmortem draft``: the path first (what the responder opens next), then what is left."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.markup import escape

from incidentctl.core.text import one_line

if TYPE_CHECKING:
    from rich.console import Console

    from incidentctl.phases.postmortem.draft import DraftResult


def _names(names: list[str]) -> str:
    return ", ".join(escape(one_line(n)) for n in names)


def show_draft(console: Console, result: DraftResult) -> None:
    path = escape(one_line(str(result.path)))
    if not result.written:
        console.print(f"[red]not refreshed[/]: {path} was left as it was", highlight=False)
        console.print(f"  its incidentctl markers cannot be read: {escape(one_line(result.problem or ''))}")
        console.print(
            "  put the marker lines back as they were (or move the file away to draft anew); "
            f"parts not refreshed: {_names(result.not_refreshed)}",
            highlight=False,
        )
        return
    console.print(f"{'wrote' if result.created else 'updated'} {path}", highlight=False)
    if result.kept:
        console.print(f"  kept as you edited them (not refreshed): {_names(result.kept)}", highlight=False)
    if result.inserted:
        console.print(f"  new parts inserted: {_names(result.inserted)}", highlight=False)
    if result.not_refreshed:
        console.print(f"  deleted parts left out: {_names(result.not_refreshed)}", highlight=False)
    if result.to_write:
        console.print(f"  still to write: {_names(result.to_write)}", highlight=False)
    else:
        console.print("  every section has been written", highlight=False)
