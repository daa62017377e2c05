"""``incidentctl demo``: the whole flow on the built-in sandbox, for a newcomer with no cluster.

It starts a sandbox with a scripted incident in a temporary folder and runs the real commands against it, one
after another, each under the runbook step it replaces. Nothing here is staged: the same code paths answer a
real cluster. The commands only ever see the demo's own runbook, kubeconfig and journal, whatever the
responder's environment or options name: a demo must never touch a real incident.

The mitigation is the scenario's own fix (``Scenario.fix``), through the real command: its plan and diff are
shown, and the demo answers its question on screen, as a responder would type ``y``. The sandbox's clock runs
:data:`SPEED` times the wall clock, and so does every command's (their clock is the cluster's, their waits are
scaled to it), so the rollout and the checks' settling take seconds while every time they compare agrees.
"""

from __future__ import annotations

import shlex
import tempfile
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from incidentctl.cli.state import AppState
from incidentctl.errors import UsageError
from incidentctl.exitcodes import ExitCode
from incidentctl.runbook.locate import JOURNAL_ENV

if TYPE_CHECKING:
    from rich.console import Console

    from incidentctl.sandbox.sandbox import Sandbox

#: How long the demo's health and dependency checks wait. The sandbox answers on loopback in milliseconds; the
#: scenarios whose services hang (dependency-outage, traffic-spike) show it within seconds instead of the
#: production runbook's 5-10 s per step.
CHECK_TIMEOUT = "2s"

#: How many times the wall clock the demo's cluster runs: a rollout (a simulated minute or less) and the checks'
#: settling (a few simulated minutes while the bad minutes leave the 5xx ratio's window) then take seconds. What
#: speed cannot shorten is a probe's wall-clock timeout; at 30 the dependency outage, whose every look waits out
#: CHECK_TIMEOUT, took 24 s, at 60 it takes 15-17 s and the other scenarios 5-12 s (a 2-core machine).
SPEED = 60.0


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
    """Play an incident on a local sandbox cluster: detect, triage and declare, investigate, acknowledge,
    mitigate and verify, timeline."""
    from rich.markup import escape

    from incidentctl.sandbox import scenarios as catalogue
    from incidentctl.sandbox.sandbox import Sandbox
    from incidentctl.sandbox.sandbox_runbook import write_runbook

    state: AppState = ctx.obj
    if scenario not in catalogue.SCENARIOS:
        raise UsageError(f"unknown scenario {scenario!r}", hint=f"choose one of: {', '.join(catalogue.SCENARIOS)}")
    if state.printer.format.is_machine:
        raise UsageError("the demo is for people: run it without -o json|yaml")
    out = state.printer.out
    if keep is not None:
        _check_keep(keep)
    with tempfile.TemporaryDirectory(prefix="incidentctl-demo-") as tmp:
        folder = keep if keep is not None else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        sandbox = Sandbox(scenario, realtime=True, speed=SPEED).start()
        try:
            kubeconfig = sandbox.write_kubeconfig(folder / "kubeconfig")
            runbook = write_runbook(
                folder / "runbook.yaml",
                sandbox.url,
                "incidents",
                check_timeout=CHECK_TIMEOUT,
                credentials=sandbox.notify.credentials,
            )
            journal = folder / "incidents"
            out.rule(f"[bold]incidentctl demo[/]: scenario {scenario}")
            out.print(catalogue.SCENARIOS[scenario].summary, highlight=False)
            out.print(f"[dim]sandbox cluster {sandbox.url}; runbook {runbook}[/]", highlight=False)
            base = ["--runbook", str(runbook), "--kubeconfig", str(kubeconfig)]
            env = _demo_env(state.env, journal)
            steps = [
                ("Detect (runbook 1.1: kubectl get pods/services/ingress, curl -f .../health)", ["detect"]),
                ("Triage and declare (runbook 1.2: assess impact, determine severity)", ["triage", "--declare"]),
                (
                    "Investigate (runbook 2.1-2.2: every view at once, the evidence kept in the incident)",
                    ["investigate"],
                ),
                ("Acknowledge (the response-time clock stops)", ["incident", "ack", "@open"]),
                (_MITIGATE, list(catalogue.SCENARIOS[scenario].fix)),
                ("The timeline so far, ready for the post-mortem", ["incident", "timeline", "@open", "-o", "markdown"]),
            ]
            for title, template in steps:
                incident = _open_incident(journal)
                if ("@open" in template or title == _MITIGATE) and incident is None:
                    out.print()
                    out.print(
                        "Triage found nothing to declare, so there is no incident to acknowledge, mitigate or "
                        "write a timeline for.",
                        highlight=False,
                    )
                    break
                out.print()
                out.rule(f"[bold]{title}[/]", align="left")
                if not template:
                    out.print(
                        f"no incidentctl command fixes {scenario}; by hand: {catalogue.SCENARIOS[scenario].mitigation}",
                        highlight=False,
                        markup=False,
                    )
                    continue
                args = [incident if a == "@open" and incident else a for a in template]
                out.print(f"[dim]$ incidentctl {escape(shlex.join(args))}[/]", highlight=False)
                _run_step([*base, *args], state, env, sandbox)
            out.print()
            out.rule("[bold]Your turn[/]", align="left")
            out.print(
                f"Start a drill you can poke at with kubectl: incidentctl sandbox up --scenario {scenario}\n"
                f"The same fix by hand: {catalogue.SCENARIOS[scenario].mitigation}",
                highlight=False,
                markup=False,
            )
        finally:
            sandbox.stop()


def _check_keep(keep: Path) -> None:
    """A reused folder would mix two runs' incidents in one journal; refuse it rather than delete anything."""
    if keep.exists() and not keep.is_dir():
        raise UsageError(f"--keep {keep} is not a folder", hint="name a new folder for the demo's files")
    if keep.is_dir() and any(keep.iterdir()):
        raise UsageError(
            f"--keep {keep} is not empty (an earlier demo, or other files)",
            hint="name a new folder, or remove this one first",
        )


def _demo_env(parent: Mapping[str, str], journal: Path) -> dict[str, str]:
    """The responder's environment without anything that points at their real runbook, journal or cluster.

    Every ``INCIDENTCTL_*`` setting but the actor is dropped (a runbook, a journal or any setting added later),
    and so is ``KUBECONFIG``; the journal is named explicitly, so the demo can only write into its own.
    """
    env = {k: v for k, v in parent.items() if not k.startswith("INCIDENTCTL_") and k != "KUBECONFIG"}
    env["INCIDENTCTL_ACTOR"] = parent.get("INCIDENTCTL_ACTOR") or "demo"
    env[JOURNAL_ENV] = str(journal)
    return env


def _open_incident(journal: Path) -> str | None:
    ids = sorted(p.name for p in journal.glob("INC-*") if p.is_dir())
    return ids[-1] if ids else None


def _run_step(args: list[str], parent: AppState, env: Mapping[str, str], sandbox: Sandbox) -> None:
    """Run one real command in-process with its own state (the parent's folder, the demo's environment; none of
    the parent's --runbook, --kubeconfig, --context or -n). Its clock is the cluster's and its waits are scaled
    to it: at the demo's speed a wall-clock clock would see a rollout finish before it started, and judge the
    checks on a window of metrics the cluster left behind minutes ago."""
    from incidentctl.cli.app import app

    state = AppState(env=env, clock=_cluster_clock(sandbox), sleep=_cluster_sleep(sandbox), cwd=parent.cwd)
    state.confirm = _answers_yes(state.printer.err)
    code = app(args, standalone_mode=False, obj=state, prog_name="incidentctl")
    if code not in (None, int(ExitCode.OK), int(ExitCode.PROBLEMS_FOUND)):
        raise typer.Exit(int(code))


_MITIGATE = "Mitigate (runbook 3.1-3.3: the fix, its plan and diff shown, confirmed, verified)"


def _cluster_clock(sandbox: Sandbox) -> Callable[[], datetime]:
    return sandbox.now


def _cluster_sleep(sandbox: Sandbox) -> Callable[[float], None]:
    def sleep(seconds: float) -> None:
        time.sleep(sandbox.clock.wall_seconds(seconds))

    return sleep


def _answers_yes(console: Console) -> Callable[[str], bool]:
    """The demo's answer to the mitigation's question, printed where the prompt would be, after the plan."""
    from rich.markup import escape

    def answer(question: str) -> bool:
        console.print(f"{escape(question)} \\[y/N]: y [dim](the demo answers yes)[/]", highlight=False)
        return True

    return answer
