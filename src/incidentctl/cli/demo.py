"""``incidentctl demo``: the whole flow on the built-in sandbox, for a newcomer with no cluster.

It starts a sandbox with a scripted incident in a temporary folder and runs the real commands against it, one
after another, each under the runbook step it replaces. Nothing here is staged: the same code paths answer a
real cluster.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Optional

import typer

from incidentctl.cli.state import AppState
from incidentctl.errors import UsageError
from incidentctl.exitcodes import ExitCode


def demo(
    ctx: typer.Context,
    scenario: Annotated[
        str, typer.Option("--scenario", metavar="NAME", help="The incident to play (see `sandbox scenarios`).")
    ] = "bad-deploy",
    keep: Annotated[
        Optional[Path],  # noqa: UP045 - Typer reads the annotation at run time on Python 3.10
        typer.Option(
            "--keep",
            metavar="DIR",
            help="Keep the sandbox's runbook, kubeconfig and journal in DIR.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Play an incident on a local sandbox cluster: detect, triage and declare, acknowledge, timeline."""
    from incidentctl.sandbox import scenarios as catalogue
    from incidentctl.sandbox.sandbox import Sandbox
    from incidentctl.sandbox.sandbox_runbook import write_runbook

    state: AppState = ctx.obj
    if scenario not in catalogue.SCENARIOS:
        raise UsageError(f"unknown scenario {scenario!r}", hint=f"choose one of: {', '.join(catalogue.SCENARIOS)}")
    if state.printer.format.is_machine:
        raise UsageError("the demo is for people: run it without -o json|yaml")
    out = state.printer.out
    with tempfile.TemporaryDirectory(prefix="incidentctl-demo-") as tmp:
        folder = keep if keep is not None else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        sandbox = Sandbox(scenario, realtime=True).start()
        try:
            kubeconfig = sandbox.write_kubeconfig(folder / "kubeconfig")
            runbook = write_runbook(folder / "runbook.yaml", sandbox.url, "incidents")
            out.rule(f"[bold]incidentctl demo[/]: scenario {scenario}")
            out.print(catalogue.SCENARIOS[scenario].summary, highlight=False)
            out.print(f"[dim]sandbox cluster {sandbox.url}; runbook {runbook}[/]", highlight=False)
            base = ["--runbook", str(runbook), "--kubeconfig", str(kubeconfig)]
            steps = [
                ("Detect (runbook 1.1: kubectl get pods/services/ingress, curl -f .../health)", ["detect"]),
                ("Triage and declare (runbook 1.2: assess impact, determine severity)", ["triage", "--declare"]),
                ("Acknowledge (the response-time clock stops)", ["incident", "ack", "@open"]),
                ("The timeline so far, ready for the post-mortem", ["incident", "timeline", "@open", "-o", "markdown"]),
            ]
            for title, template in steps:
                out.print()
                out.rule(f"[bold]{title}[/]", align="left")
                args = [_open_incident(folder) if a == "@open" else a for a in template]
                out.print(f"[dim]$ incidentctl {' '.join(args)}[/]", highlight=False)
                _run_step([*base, *args], state)
            out.print()
            out.rule("[bold]Your turn[/]", align="left")
            out.print(
                f"Start a drill you can poke at with kubectl: incidentctl sandbox up --scenario {scenario}\n"
                f"Fix for this scenario: {catalogue.SCENARIOS[scenario].mitigation}",
                highlight=False,
            )
        finally:
            sandbox.stop()


def _open_incident(folder: Path) -> str:
    ids = sorted(p.name for p in (folder / "incidents").glob("INC-*") if p.is_dir())
    return ids[-1] if ids else "INC-none"


def _run_step(args: list[str], parent: AppState) -> None:
    """Run one real command in-process with its own state (same actor, clock and environment)."""
    from incidentctl.cli.app import app

    state = AppState(
        env={**parent.env, "INCIDENTCTL_ACTOR": parent.env.get("INCIDENTCTL_ACTOR", "demo")},
        clock=parent.clock,
        cwd=parent.cwd,
    )
    code = app(args, standalone_mode=False, obj=state, prog_name="incidentctl")
    if code not in (None, int(ExitCode.OK), int(ExitCode.PROBLEMS_FOUND)):
        raise typer.Exit(int(code))
