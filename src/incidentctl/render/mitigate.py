"""How a mitigation looks to a person: the plan (what changes where, as a diff), the progress of the verification,
and the outcome. The plan goes to stderr (it is the question, not the command's data), so ``-o json`` on stdout
stays one document; on a terminal the diff is coloured, off it the same lines are plain."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.markup import escape

from incidentctl.core.text import for_terminal

if TYPE_CHECKING:
    from rich.console import Console

    from incidentctl.core.mitigation import Plan
    from incidentctl.phases.mitigate.base import MitigateResult, Progress, Verification


def _safe(text: str) -> str:
    return escape(for_terminal(text))


def show_plan(console: Console, plan: Plan, *, heading: str = "Plan") -> None:
    """The plan: its summary, one line per object, the fields that change, the diff, and what to know."""
    console.print(f"[bold]{heading}:[/] {_safe(plan.summary)}", highlight=False)
    for change in plan.changes:
        console.print(f"  [bold]{_safe(change.ref.label)}[/] ({_safe(change.ref.namespace)}): {_safe(change.summary)}")
        for f in change.fields:
            console.print(f"    {_safe(f.field)}: {_safe(f.before or '(none)')} → {_safe(f.after or '(none)')}")
        for line in change.diff:
            style = _diff_style(line)
            text = _safe(line)
            console.print(f"    [{style}]{text}[/]" if style else f"    {text}", highlight=False)
    for write in plan.writes:
        version = f" (planned against resourceVersion {write.resource_version})" if write.resource_version else ""
        console.print(f"  [dim]request: {_safe(write.describe)}{_safe(version)}[/]", highlight=False)
    if plan.undo is not None:
        console.print(f"  [dim]undo: {_safe(plan.undo.summary)}[/]", highlight=False)
    else:
        console.print("  [dim]undo: not possible (incidentctl mitigate undo cannot revert this)[/]", highlight=False)
    for note in plan.notes:
        console.print(f"  [yellow]note:[/] {_safe(note)}", highlight=False)


def _diff_style(line: str) -> str | None:
    if line.startswith(("+++", "---")):
        return "bold"
    if line.startswith("+"):
        return "green"
    if line.startswith("-"):
        return "red"
    if line.startswith("@@"):
        return "cyan"
    return None


def progress_line(progress: Progress) -> str:
    """One plain line per look (off a terminal, and what a terminal's live display shows)."""
    return f"[{int(progress.elapsed):>4}s] {progress.stage}: {progress.message}"


def show_verification(console: Console, verification: Verification) -> None:
    for status in verification.rollouts:
        console.print(f"  rollout {_safe(status.ref.label)}: {_safe(status.message)}", highlight=False)
    if verification.healthy:
        console.print(f"[green]verified:[/] {_safe(', '.join(verification.components))} healthy", highlight=False)
        return
    console.print("[red]not verified:[/] still wrong:", highlight=False)
    for line in verification.still_wrong:
        console.print(f"  {_safe(line)}", highlight=False)


def result_table(console: Console, result: MitigateResult) -> None:
    """The outcome on stdout: what happened, in which incident, and the verification."""
    where = f" in {result.incident_id}" if result.incident_id else ""
    ident = f" {result.incident_id}/{result.action_id}" if result.action_id and result.incident_id else ""
    if result.outcome == "dry-run":
        execs = {w.ref.label for w in result.plan.writes if w.verb == "exec"}
        said = (
            "the server accepted every write"
            if not execs
            else "nothing was sent"
            if execs >= set(result.dry_run_objects)
            else "the server accepted every write it was sent"
        )
        console.print(f"dry run{where}: {said}; nothing was changed", highlight=False)
        for label in result.dry_run_objects:
            if label in execs:  # an exec has no dryRun: it was not sent at all
                console.print(f"  {_safe(label)}: not sent (an exec cannot be dry-run on the server)", highlight=False)
            else:
                console.print(f"  {_safe(label)}: accepted (dryRun=All)", highlight=False)
    elif result.outcome == "unchanged":
        console.print(f"nothing to change: {_safe(result.plan.summary)} is already so", highlight=False)
    else:
        console.print(f"applied{_safe(ident)}: {_safe(result.plan.summary)}", highlight=False)
    for message in result.messages:
        console.print(f"[yellow]note:[/] {_safe(message)}", highlight=False)
    if result.verification is not None:
        show_verification(console, result.verification)
    if result.undone_by is not None:
        console.print("[bold]--auto-undo:[/]", highlight=False)
        result_table(console, result.undone_by)
