"""The terminal view of action items: one row each, soonest due first, the overdue in red."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.table import Table

from incidentctl.core.text import one_line

if TYPE_CHECKING:
    from rich.console import Console

    from incidentctl.phases.postmortem.actions import ItemResult, ItemView, ListResult

_STATE_STYLE = {"open": "", "overdue": "red", "done": "green", "done-late": "yellow"}
_PLAIN: dict[str, Any] = {"box": None, "pad_edge": False, "show_edge": False, "header_style": "bold"}
#: A table cell shows this much of an item's text; -o json has all of it.
_TEXT_CELL = 120


def _safe(text: str | None) -> str:
    return escape(one_line(text or ""))


def _text(text: str) -> str:
    cut = text if len(text) <= _TEXT_CELL else text[: _TEXT_CELL - 1] + "…"
    return _safe(cut)


def show_list(console: Console, result: ListResult) -> None:
    if not result.items:
        scope = f" ({', '.join(result.filters)})" if result.filters else ""
        console.print(f"no action items{_safe(scope)}", highlight=False)
        return
    table = Table(**_PLAIN)
    for column in ("ITEM", "OWNER", "DUE", "STATE", "AREA", "TEXT"):
        table.add_column(column, no_wrap=column in ("ITEM", "DUE", "STATE"))
    for item in result.items:
        style = _STATE_STYLE.get(item.state, "")
        table.add_row(
            _safe(item.ref),
            _safe(item.owner) or "[dim]nobody[/]",
            item.due.isoformat() if item.due else "",
            f"[{style}]{item.state}[/]" if style else item.state,
            _safe(item.area),
            _text(item.text),
        )
    console.print(table)


def show_item(console: Console, result: ItemResult) -> None:
    item: ItemView = result.item
    if result.recorded:
        said = {"added": "added", "changed": f"changed ({', '.join(result.changed)})", "done": "done"}[result.action]
    elif result.action == "done":
        by = f" by {_safe(item.done_by)}" if item.done_by else ""
        when = item.done_at.strftime("%Y-%m-%d %H:%M UTC") if item.done_at else ""
        said = f"was done already, {when}{by}; nothing recorded"
    else:
        said = "unchanged; nothing recorded"
    console.print(f"{_safe(item.ref)} {said}", highlight=False)
    due = item.due.isoformat() if item.due else "no due date"
    console.print(
        f"  {_text(item.text)} [dim](owner {_safe(item.owner) or 'nobody'}, due {due}, {item.state})[/]",
        highlight=False,
    )
