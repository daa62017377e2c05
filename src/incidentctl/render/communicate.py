"""The terminal view of ``communicate``: the messages as they would go out, each delivery, the outbox."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.table import Table

from incidentctl.core.text import for_terminal, one_line
from incidentctl.core.times import format_duration

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rich.console import Console

    from incidentctl.core.messages import OutboxEntry
    from incidentctl.phases.communicate.run import DeliveryResult, DueResult, PreviewResult, StatusResult
    from incidentctl.phases.messaging.deliver import Outcome

_STATE_STYLE = {"sent": "green", "queued": "yellow", "failed": "red", "in-doubt": "red", "to-do": "cyan"}


def _table(title: str) -> Table:
    """The tables of the other commands' style: no box, so the key and the times fit an 80-column terminal."""
    return Table(title=title, title_justify="left", box=None, pad_edge=False, show_edge=False, header_style="bold")


def _safe(text: str) -> str:
    return escape(for_terminal(text))


def show_preview(console: Console, result: PreviewResult) -> None:
    """Each channel's message as it will go: the subject and text, and what the channel shows besides (Slack's
    blocks read as text, the status page's public text, a person's to-do)."""
    console.print(f"[dim]{result.incident_id} {result.kind}: nothing is recorded or sent[/]", highlight=False)
    for draft in result.drafts:
        who = f" (for {draft.audience})" if draft.audience else ""
        console.print(f"[bold]── {_safe(draft.channel)}[/] [dim]{draft.channel_kind}{who}[/]", highlight=False)
        if draft.channel_kind == "manual":
            console.print(f"[cyan]to do by hand:[/] {_safe(one_line(draft.description or draft.channel))}")
        if draft.subject:
            console.print(f"Subject: {_safe(one_line(draft.subject))}", highlight=False)
        payload = draft.payload
        if draft.channel_kind == "statuspage" and isinstance(payload.get("body"), str):
            console.print(f"[dim]public text (impact {_safe(str(payload.get('impact', 'none')))}):[/]")
            console.print(_safe(payload["body"]), highlight=False)
            continue
        console.print(_safe(draft.text), highlight=False)
        for field, title in (("blocks", "Slack message"), ("status_blocks", "Slack status message, kept updated")):
            blocks = payload.get(field)
            if isinstance(blocks, list):
                console.print(f"[dim]{title}:[/]")
                for line in block_lines(blocks):
                    console.print(f"  {_safe(line)}", highlight=False)
        for name, value in payload.items():
            if isinstance(value, (str, int, float)) and name not in ("body",):
                console.print(f"[dim]{_safe(name)}: {_safe(one_line(str(value)))}[/]", highlight=False)


def block_lines(blocks: list[Any]) -> list[str]:
    """Slack Block Kit as a person reads it: a header, each section's text and fields, a context's small print,
    a divider, the buttons. A block of a type not known here is named, not dropped."""
    lines: list[str] = []
    for block in blocks:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "divider":
            lines.append("───")
        elif kind == "header":
            lines.append(f"# {_block_text(block.get('text'))}")
        elif kind == "section":
            if block.get("text"):
                lines.extend(_block_text(block["text"]).splitlines())
            lines.extend(f"• {_block_text(f)}" for f in block.get("fields") or [])
        elif kind == "context":
            lines.append(" · ".join(_block_text(e) for e in block.get("elements") or []))
        elif kind == "actions":
            lines.append(" ".join(f"[{_block_text(e.get('text'))}]" for e in block.get("elements") or []))
        else:
            lines.append(f"({kind} block)")
    return lines


def _block_text(value: Any) -> str:
    """A text object's words (plain_text or mrkdwn), with Slack's three escapes read back."""
    text = value.get("text", "") if isinstance(value, dict) else str(value or "")
    return str(text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def show_delivery(console: Console, result: DeliveryResult) -> None:
    where = result.incident_id or f"{len(result.incidents)} open incident{'' if len(result.incidents) == 1 else 's'}"
    if not result.outcomes:
        console.print(f"{_safe(where)}: nothing queued, nothing to send", highlight=False)
        return
    show_outcomes(console, f"{_safe(where)}{' ' + result.batch if result.batch else ''}", result.outcomes)


def show_outcomes(console: Console, title: str, outcomes: Sequence[Outcome]) -> None:
    """What happened to each message of a delivery (a send, a flush, an escalation's notice)."""
    table = _table(title)
    for column in ("CHANNEL", "STATE", "ATTEMPTS", "KEY"):
        table.add_column(column, no_wrap=True)
    for o in outcomes:
        style = _STATE_STYLE.get(o.state, "")
        state = f"[{style}]{o.state}[/]" if style else o.state
        if o.recovered:
            state += " (found already delivered)"
        table.add_row(_safe(o.channel), state, str(o.attempts), _safe(o.key))
    console.print(table)
    # why a message was not delivered, in full below the table: a cell would cut it where the cause is said
    for o in outcomes:
        if o.error and o.state != "sent":
            console.print(f"{_safe(o.channel)}: [red]{_safe(one_line(o.error))}[/]", highlight=False)


def show_status(console: Console, result: StatusResult) -> None:
    if not result.entries:
        console.print(f"{result.incident_id}: no message queued yet", highlight=False)
        return
    table = _table(f"{result.incident_id} outbox")
    for column in ("KEY", "STATE", "WHO, WHEN (UTC)", "DETAIL"):
        table.add_column(column, no_wrap=column == "KEY")
    for e in result.entries:
        style = _STATE_STYLE.get(e.state, "")
        detail = "found already delivered" if e.recovered else "done by hand" if e.by_hand else ""
        if e.state == "to-do":
            detail = "for a person: communicate done KEY"
        elif e.attempts:
            detail = ", ".join(filter(None, [detail, f"{e.attempts} attempt{'' if e.attempts == 1 else 's'}"]))
        table.add_row(
            _safe(e.key),
            f"[{style}]{e.state}[/]" if style else e.state,
            _safe(_who_when(e)),
            _safe(detail),
        )
    console.print(table)
    # the errors in full, below the table: a cell would cut them where the cause is said
    for e in result.entries:
        if e.error and e.state != "sent":
            console.print(f"{_safe(e.key)}: [red]{_safe(one_line(e.error))}[/]", highlight=False)


def _who_when(e: OutboxEntry) -> str:
    """The moment that says where the message stands: sent (by whom), else the last attempt, else queued."""
    if e.sent_at is not None:
        return f"sent {e.sent_at:%H:%M} {e.sent_by or ''}".rstrip()
    if e.claimed_at is not None:
        return f"tried {e.claimed_at:%H:%M} {e.claimed_by or ''}".rstrip()
    return f"queued {e.queued_at:%H:%M} {e.queued_by}"


def show_due(console: Console, result: DueResult) -> None:
    if not result.items:
        console.print("No open incident owes an update.", highlight=False)
        return
    table = _table("Updates due")
    for column in ("INCIDENT", "SEV", "STATUS", "EVERY", "LAST SENT", "DUE", ""):
        table.add_column(column)
    for item in result.items:
        late = f"[red]overdue by {format_duration(item.late_by)}[/]" if item.overdue else "[green]on time[/]"
        table.add_row(
            item.incident_id,
            item.severity,
            item.status,
            format_duration(item.interval),
            f"{item.last_sent:%H:%M}" if item.last_sent else "never",
            f"{item.due_at:%H:%M} UTC",
            late,
        )
    console.print(table)
