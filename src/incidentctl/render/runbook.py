"""Human views of a runbook: what `runbook show` and `runbook validate` print on a terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


def validation_table(console: Console, data: dict[str, Any]) -> None:
    """Our own marks are markup (colour on a terminal, plain in a pipe); everything from the runbook is escaped,
    because a problem quotes what the file says and ``[bold]`` there is text, not a style."""
    from rich.markup import escape

    if data["valid"]:
        counts = ", ".join(f"{n} {what}" for what, n in data["counts"].items())
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
    from rich.table import Table

    meta = data["metadata"]
    console.print(
        f"[bold]{meta['name']}[/] v{meta['version']} — namespace [bold]{data['cluster']['namespace']}[/]"
        f" — {data['source']}"
    )
    comps = Table("COMPONENT", "DEPLOYMENT", "HEALTH", "USES", title="Components", title_justify="left")
    for c in data["components"]:
        health = c["health"]["url"] if c.get("health") else "-"
        comps.add_row(c["name"], c["deployment"], health, ", ".join(c["uses"] + c["depends_on"]) or "-")
    console.print(comps)
    deps = Table("NAME", "KIND", "CHECK", title="Dependencies and datastores", title_justify="left")
    for d in data["dependencies"]:
        deps.add_row(d["name"], "http", d["check"]["url"])
    for d in data["datastores"]:
        deps.add_row(d["name"], d["kind"], f"{d['pod']}: {' '.join(d['check']['command'])}")
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


def _condition(cond: dict[str, Any]) -> str:
    text = str(cond["signal"])
    if cond.get("threshold") is not None:
        text += f" {cond['op']} {cond['threshold']:g}"
    if cond.get("for"):
        text += f" for {cond['for']}"
    return text
