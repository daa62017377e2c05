"""``investigate changes`` on a terminal: the suspect and its diff first, then one compact time axis (changes
and the onset of errors, oldest first), then each component's history as ``kubectl rollout history`` would
list it with times, images and authors. Cluster text (change-causes, images, env values) goes through
:func:`~incidentctl.core.text.one_line`: an annotation can carry escape sequences like any other user text."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text

from incidentctl.core.rollouts import short_image
from incidentctl.core.text import one_line
from incidentctl.core.times import format_duration

if TYPE_CHECKING:
    from rich.console import Console

    from incidentctl.phases.investigate.changes import ChangesResult

#: Revisions per component in the table (the newest; ``-o json`` has all, as ``kubectl rollout history``).
SHOWN_REVISIONS = 3


def _when(value: datetime | None, now: datetime) -> str:
    if value is None:
        return "-"
    utc = value.astimezone(timezone.utc)
    same_day = utc.date() == now.astimezone(timezone.utc).date()
    return utc.strftime("%H:%M:%S" if same_day else "%m-%d %H:%M")


def _axis(result: ChangesResult) -> list[tuple[datetime, str, str, bool]]:
    """(time, what, text, is the suspect) for every change since the window's start and every onset seen."""
    rows: list[tuple[datetime, str, str, bool]] = []
    suspect = result.suspect
    for history in result.histories:
        for rev in history.revisions:
            if rev.created is None or rev.created < result.since:
                continue
            images = ", ".join(short_image(i.image) for i in rev.images)
            cause = f' "{rev.change_cause}"' if rev.change_cause else ""
            text = f"{rev.component} revision {rev.revision} {images}{cause}"
            chosen = (
                suspect is not None
                and suspect.kind == "rollout"
                and suspect.component == rev.component
                and suspect.revision == rev.revision
            )
            rows.append((rev.created, "rollout", text, chosen))
    for cm in result.configs:
        if cm.time is None:
            continue
        by = f" by {cm.manager}" if cm.manager else ""
        text = f"configmap {cm.name} written{by} (used by {', '.join(cm.used_by)})"
        chosen = suspect is not None and suspect.kind == "config" and suspect.configmap == cm.name
        rows.append((cm.time, "config", text, chosen))
    for scale in result.scale_downs:
        was = f" from {scale.previous_replicas}" if scale.previous_replicas is not None else ""
        by = f" by {scale.who}" if scale.who else ""
        text = f"deployment/{scale.deployment} scaled down to {scale.replicas}{was}{by}"
        chosen = (
            suspect is not None
            and suspect.kind == "scale"
            and suspect.deployment == scale.deployment
            and suspect.time == scale.time
        )
        rows.append((scale.time, "scale", text, chosen))
    for onset in result.onsets:
        if onset.time is not None:
            rows.append((onset.time, onset.kind, onset.detail or onset.kind, False))
    return sorted(rows, key=lambda r: r[0])


def changes_table(console: Console, result: ChangesResult) -> None:
    now = result.now
    head = Text()
    head.append(f"Changes in {one_line(result.namespace)}", style="bold")
    head.append(f" since {_when(result.since, now)} UTC; a suspect is at most {format_duration(result.window)}")
    head.append(" before the onset")
    console.print(head)
    console.print()
    line = Text()
    if result.suspect is not None:
        line.append("SUSPECT ", style="bold red")
        line.append(one_line(result.summary))
    else:
        line.append(one_line(result.summary), style="bold")
    console.print(line)
    _suspect(console, result)
    for onset in result.onsets:
        if onset.time is None and onset.note:
            style = "yellow" if onset.unreadable else "dim"
            console.print(Text(f"  {onset.kind}: {one_line(onset.note)}", style=style))
    _axis_lines(console, result)
    _history_table(console, result)
    for problem in result.problems:
        console.print(Text(f"could not look: {one_line(problem)}", style="yellow"))


def _suspect(console: Console, result: ChangesResult) -> None:
    suspect = result.suspect
    if suspect is not None:
        details = []
        if suspect.change_cause:
            details.append(f"cause: {suspect.change_cause}")
        if suspect.who:
            details.append(f"by {suspect.who}")
        if details:
            console.print(Text("  " + one_line(" · ".join(details))))
        if suspect.kind == "rollout" and suspect.previous_revision is not None:
            console.print(Text(f"  changed from revision {suspect.previous_revision}:"))
            if not suspect.differences:
                console.print(Text("    nothing in the containers (images, env, resources, args, probes)"))
            for d in suspect.differences:
                key = f" {d.key}" if d.key else ""
                row = Text("    ")
                row.append(one_line(f"{d.container or '-'} {d.field}{key}: "), style="bold")
                row.append(one_line(d.before if d.before is not None else "(none)"), style="red")
                row.append(" -> ")
                row.append(one_line(d.after if d.after is not None else "(none)"), style="green")
                console.print(row)
        elif suspect.kind == "rollout":
            console.print(Text("  no earlier revision is kept to compare with"))
        elif suspect.kind == "config":
            if suspect.differences:
                console.print(Text("  keys that write set, as they are now (the API keeps no earlier version):"))
            for d in suspect.differences:
                row = Text("    ")
                row.append(one_line(f"{d.key}"), style="bold")
                row.append(" = ")
                row.append(one_line(d.after or ""), style="green")
                console.print(row)


def _axis_lines(console: Console, result: ChangesResult) -> None:
    now = result.now
    axis = _axis(result)
    console.print()
    console.print(Text("Time axis (UTC)", style="bold"))
    if not axis:
        console.print(Text("  no change and no onset since the window's start", style="dim"))
    for when, kind, text, chosen in axis:
        row = Text(f"  {_when(when, now):>16}  ")
        style = "red" if kind in ("5xx", "crash", "errors") else ""
        row.append(f"{kind:<8}", style=style or "cyan")
        row.append(one_line(text))
        if chosen:
            row.append("  <- suspect", style="bold red")
        console.print(row)


def _history_table(console: Console, result: ChangesResult) -> None:
    now = result.now
    console.print()
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold", title_justify="left")
    for column in ("COMPONENT", "REV", "ROLLED OUT", "IMAGE"):
        table.add_column(column, no_wrap=True)
    table.add_column("CHANGE-CAUSE", overflow="fold", ratio=1)
    table.add_column("WHO", overflow="fold")
    for history in result.histories:
        if not history.revisions:
            table.add_row(history.component, "-", "-", "-", Text(one_line(history.note or ""), style="yellow"), "-")
            continue
        older = len(history.revisions) - SHOWN_REVISIONS
        if older > 0:
            table.add_row(history.component, "", "", Text(f"({older} older: -o json)", style="dim"), "", "")
        for rev in history.revisions[-SHOWN_REVISIONS:]:
            mark = "*" if rev.current else ""
            table.add_row(
                history.component,
                f"{rev.revision}{mark}",
                _when(rev.created, now),
                one_line(", ".join(short_image(i.image) for i in rev.images)),
                one_line(rev.change_cause or "<none>"),
                one_line(rev.who or "-"),
            )
    console.print(table)
    console.print(Text("  * the revision running now", style="dim"))
