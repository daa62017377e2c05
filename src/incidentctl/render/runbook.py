"""Human views of a runbook: what `runbook show` and `runbook validate` print on a terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table


def validation_table(console: Console, data: dict[str, Any]) -> None:
    """Our own marks are markup (colour on a terminal, plain in a pipe); everything from the runbook is escaped,
    because a problem quotes what the file says and ``[bold]`` there is text, not a style."""
    from rich.markup import escape

    if data["valid"]:
        counts = ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in data["counts"].items())
        console.print(f"[green]✓[/] {escape(data['path'])} is valid: {counts}", highlight=False)
        return
    for problem in data["problems"]:
        where = f"{problem['file']}:{problem['line']}:{problem['column']}" if problem["line"] else problem["file"]
        path = f"{problem['path']}: " if problem["path"] else ""
        text = f"{where}: {path}{problem['message']}"
        console.print(f"[red]✗[/] {escape(text)}", highlight=False)
        if problem["hint"]:
            console.print(f"    hint: {problem['hint']}", style="dim", markup=False, highlight=False)
    console.print(f"{len(data['problems'])} problem(s) in {data['path']}", markup=False, highlight=False)


def runbook_tables(console: Console, data: dict[str, Any]) -> None:
    """The runbook at a glance; ``data`` comes with the credentials in its URLs already masked."""
    from rich.table import Table

    meta = data["metadata"]
    console.print(
        f"[bold]{meta['name']}[/] v{meta['version']} — namespace [bold]{data['cluster']['namespace']}[/]"
        f" — {data['source']}"
    )
    # A URL is never cut short (a responder copies it): its column folds long ones onto the next line instead.
    comps = Table("COMPONENT", "DEPLOYMENT", "HEALTH", "USES", title="Components", title_justify="left")
    comps.columns[2].overflow = "fold"
    for c in data["components"]:
        health = c["health"]["url"] if c.get("health") else "-"
        comps.add_row(c["name"], c["deployment"], health, ", ".join(c["uses"] + c["depends_on"]) or "-")
    _room_for_urls(console, comps, [c["health"]["url"] for c in data["components"] if c.get("health")])
    console.print(comps)
    deps = Table("NAME", "KIND", "CHECK", title="Dependencies and datastores", title_justify="left")
    deps.columns[2].overflow = "fold"
    for d in data["dependencies"]:
        deps.add_row(d["name"], "http", d["check"]["url"])
    for d in data["datastores"]:
        deps.add_row(d["name"], d["kind"], f"{d['pod']}: {' '.join(d['check']['command'])}")
    _room_for_urls(console, deps, [d["check"]["url"] for d in data["dependencies"]])
    console.print(deps)
    sev = Table("SEVERITY", "NAME", "RESPOND IN", "ESCALATION", "NOTIFY", title="Severities", title_justify="left")
    for sid, s in data["severities"].items():
        sev.add_row(sid, s["name"], s["response_time"], s["escalation"]["description"], ", ".join(s["notify"]))
    console.print(sev)
    rules = Table("RULE", "SEVERITY", "WHEN", title="Triage rules", title_justify="left")
    for r in data["triage"]["rules"]:
        rules.add_row(r["id"], r["severity"], " and ".join(_condition(c) for c in r["when"]))
    console.print(rules)
    levels = Table("LEVEL", "ROLE", "RESPOND IN", title="Escalation", title_justify="left")
    for lvl in data["escalation"]["levels"]:
        levels.add_row(lvl["id"], lvl["role"], lvl["response_time"])
    console.print(levels)


def _room_for_urls(console: Console, table: Table, urls: list[str]) -> None:
    """Let the URL column take the room a URL needs (the other columns wrap first), so that a URL fits on one
    line wherever the terminal is wide enough, and only folds when it is not."""
    if not urls:
        return
    others = 0  # what the other columns need at the least: their longest word (or header), plus padding
    for i, column in enumerate(table.columns):
        if i != 2:
            words = [str(column.header), *(w for cell in column.cells for w in str(cell).split())]
            others += max(len(w) for w in words) + 2
    room = console.width - others - 2 - (len(table.columns) + 1)  # the URL column's padding and the borders
    table.columns[2].width = max(10, min(max(len(u) for u in urls), room))


def _condition(cond: dict[str, Any]) -> str:
    text = str(cond["signal"])
    if cond.get("threshold") is not None:
        text += f" {cond['op']} {cond['threshold']:g}"
    if cond.get("for"):
        text += f" for {cond['for']}"
    return text
