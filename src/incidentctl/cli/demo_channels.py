"""What the sandbox's channel stand-ins hold after one of the demo's communicate steps (what `sandbox status` shows):
a newcomer sees the incident channel, the status message edited in place, the status-page incident and the page."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from incidentctl.sandbox.sandbox import Sandbox


def where_it_went(out: Console, sandbox: Sandbox, folder: Path) -> None:
    """The Slack channels and their messages, the Statuspage incidents, the PagerDuty incidents, the email files."""
    from incidentctl.core.text import for_terminal, one_line

    seen = sandbox.notify.snapshot()
    lines = []
    for room in seen["slack"]["channels"]:
        for message in room["messages"]:
            edited = f", edited in place {message['edits']}x" if message["edits"] else ""
            first = _unmrkdwn(message["text"].splitlines()[0]) if message["text"] else ""
            what = "reply in the status message's thread" if message.get("thread_ts") else "message"
            lines.append(f"slack #{room['name']}: {what} {message['ts']}{edited}: {first}")
        if not room["messages"] and room["name"] != "incidents":
            lines.append(f"slack #{room['name']}: created (topic: {room['topic'] or 'none'})")
    for incident in seen["statuspage"]["incidents"]:
        lines.append(
            f"statuspage: incident {incident['id']} {incident['shortlink']} {incident['status']} "
            f"({len(incident['updates'])} update(s)): {incident['name']}"
        )
    for incident in seen["pagerduty"]["incidents"]:
        actions = ", ".join(e["action"] for e in incident["events"])
        lines.append(f"pagerduty: {incident['dedup_key']} {incident['status']} ({actions})")
    outbox = folder / "outbox"
    for path in sorted(p for p in outbox.rglob("*") if p.is_file()) if outbox.is_dir() else []:
        lines.append(f"{path.parent.name}: file {path.relative_to(folder).as_posix()}")
    out.print("[dim]the sandbox's channels now hold:[/]", highlight=False)
    for line in lines or ["nothing (see `incidentctl communicate status`)"]:
        out.print(f"  {for_terminal(one_line(line))}", highlight=False, markup=False)


def _unmrkdwn(text: str) -> str:
    """Slack's escapes read back as the characters people typed (Slack shows ``&gt;`` as ``>``)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
