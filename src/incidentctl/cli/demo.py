"""``incidentctl demo``: the whole flow on the built-in sandbox, for a newcomer with no cluster.

It starts a sandbox with a scripted incident and runs the real commands against it, in the runbook's order
(:mod:`incidentctl.cli.demo_steps`), each under the runbook section it replaces. Nothing here is staged: the same
code paths answer a real cluster. The commands only ever see the demo's own runbook, kubeconfig and journal,
whatever the responder's environment or options name: a demo must never touch a real incident.

The mitigation is the scenario's own fix (``Scenario.fix``), through the real command: its plan and diff are
shown, and the demo answers its question on screen, as a responder would type ``y``; the fix's own verification
follows under its own heading. After each message to people the demo shows what the sandbox's Slack, Statuspage
and PagerDuty stand-ins and the email folder hold. Once the fix is verified healthy the incident is resolved and
people are told; the post-mortem is drafted from the journal and a daily report closes the flow.

Everything is left for the reader: the demo's folder (a fresh one under ``TMPDIR``, or ``--keep DIR``) keeps the
runbook, the journal with the incident's folder and the post-mortem, and the end prints where they are, also after
Ctrl-C or a failed step. The sandbox stops with the demo, so its kubeconfig is removed and the runbook says so.

The sandbox's clock runs :data:`SPEED` times the wall clock, and so does every command's (their clock is the
cluster's, their waits are scaled to it), so the rollout and the checks' settling take seconds while every time
they compare agrees.
"""

from __future__ import annotations

import shlex
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from incidentctl.cli.demo_steps import VERIFY, VERIFY_SAYS, Kind, Step, steps
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
#: CHECK_TIMEOUT, took 24 s, at 60 it takes 18 s and the other scenarios 3-15 s (medians of 3 runs on a 2-core
#: machine with a load of 2-6).
SPEED = 60.0

_PROMPT = "Enter runs it, q stops"


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
            help="Leave the runbook, journal and post-mortem in DIR, a new or empty folder (default: a new folder "
            "under TMPDIR).",
            show_default=False,
        ),
    ] = None,
    step: Annotated[
        bool,
        typer.Option("--step", help="Pause before each step on a terminal (Enter runs it, q stops the demo)."),
    ] = False,
) -> None:
    """Play an incident on a local sandbox cluster: detect, triage and declare, tell people, acknowledge,
    investigate, mitigate and verify, a status update, an escalation check, resolve, the post-mortem, a report."""
    from incidentctl.sandbox import scenarios as catalogue
    from incidentctl.sandbox import world
    from incidentctl.sandbox.sandbox import Sandbox

    state: AppState = ctx.obj
    if scenario not in catalogue.SCENARIOS:
        raise UsageError(f"unknown scenario {scenario!r}", hint=f"choose one of: {', '.join(catalogue.SCENARIOS)}")
    if state.printer.format.is_machine:
        raise UsageError("the demo is for people: run it without -o json|yaml")
    folder = _make_keep(keep) if keep is not None else _make_folder(state.env)
    pause = _pauser(state) if step else None
    deployments = frozenset(c.name for c in world.SERVICES)
    play = _Play(state, scenario, folder, steps(catalogue.SCENARIOS[scenario].fix, deployments))
    code = int(ExitCode.OK)
    sandbox: Sandbox | None = None
    try:
        try:
            sandbox = Sandbox(scenario, realtime=True, speed=SPEED).start()
            code = play.run(sandbox, pause)
        except KeyboardInterrupt:
            code = int(ExitCode.INTERRUPTED)
    finally:
        if sandbox is not None:
            sandbox.stop()
        _leave(folder, sandbox.url if sandbox is not None else None)
    if code == ExitCode.INTERRUPTED:
        state.printer.err.print("interrupted: the sandbox is stopped; what was done is in the journal", highlight=False)
    play.what_is_left(sandbox.url if sandbox is not None else None)
    if code == ExitCode.OK and play.stopped is None:
        play.your_turn(catalogue.SCENARIOS[scenario].mitigation)
    if code != ExitCode.OK:
        raise typer.Exit(code)


def _make_folder(env: Mapping[str, str]) -> Path:
    """A fresh folder of the demo's own under the responder's TMPDIR, left for the reader."""
    where = env.get("TMPDIR") or None
    try:
        return Path(tempfile.mkdtemp(prefix="incidentctl-demo-", dir=where))
    except OSError as e:
        raise UsageError(
            f"cannot make the demo's folder in {where or tempfile.gettempdir()}: {e.strerror or e}",
            hint="set TMPDIR to a folder you can write, or name one with --keep DIR",
        ) from e


def _make_keep(keep: Path) -> Path:
    """A reused folder would mix two runs' incidents in one journal: refuse it rather than delete anything."""
    hint = "name a new folder for the demo's files, or remove this one first"
    if keep.is_symlink() and not keep.exists():
        raise UsageError(f"--keep {keep} is a symlink to nothing", hint=hint)
    if keep.exists() and not keep.is_dir():
        raise UsageError(f"--keep {keep} is not a folder", hint=hint)
    try:
        if keep.is_dir() and any(keep.iterdir()):
            raise UsageError(f"--keep {keep} is not empty (an earlier demo, or other files)", hint=hint)
        keep.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"--keep {keep} cannot be made: {e.strerror or e}", hint=hint) from e
    return keep


def _pauser(state: AppState) -> Callable[[str], bool]:
    """How ``--step`` asks before each step: the injected ``confirm`` (tests), a terminal's prompt, or, with no
    terminal to answer (CI), nobody: said once, and the demo runs on rather than wait for an answer that never
    comes."""
    if state.confirm is not None:
        return state.confirm
    if sys.stdin.isatty():
        return _ask(state.printer.err)
    state.printer.note("--step: stdin is not a terminal, so the demo does not pause before its steps")
    return lambda _question: True


def _ask(console: Console) -> Callable[[str], bool]:
    from rich.markup import escape

    def ask(question: str) -> bool:
        try:
            answer = console.input(f"[bold]{escape(question)}[/] [dim]({_PROMPT})[/] ")
        except EOFError:  # Ctrl-D: nobody will answer the next one either
            return False
        return answer.strip().lower() not in ("q", "quit")

    return ask


@dataclass
class _Play:
    """One demo: its steps run in order against one sandbox, and what they left."""

    parent: AppState
    scenario: str
    folder: Path
    steps: list[Step]
    #: the step the responder stopped before (``--step``, q), if any
    stopped: Step | None = None
    _verify_shown: bool = field(default=False, repr=False)

    @property
    def journal(self) -> Path:
        return self.folder / "incidents"

    @property
    def out(self) -> Console:
        return self.parent.printer.out

    def run(self, sandbox: Sandbox, pause: Callable[[str], bool] | None) -> int:
        """Every step, in order; the exit code of the first that failed, else 0."""
        from incidentctl.sandbox import scenarios as catalogue
        from incidentctl.sandbox.sandbox_runbook import write_runbook

        kubeconfig = sandbox.write_kubeconfig(self.folder / "kubeconfig")
        runbook = write_runbook(
            self.folder / "runbook.yaml",
            sandbox.url,
            "incidents",
            check_timeout=CHECK_TIMEOUT,
            credentials=sandbox.notify.credentials,
        )
        out = self.out
        out.rule(f"[bold]incidentctl demo[/]: scenario {self.scenario}")
        out.print(catalogue.SCENARIOS[self.scenario].summary, highlight=False)
        out.print(f"[dim]sandbox cluster {sandbox.url}; runbook {runbook}[/]", highlight=False)
        base = ["--runbook", str(runbook), "--kubeconfig", str(kubeconfig)]
        env = _demo_env(self.parent.env, self.journal)
        for number, step in enumerate(self.steps, 1):
            incident = _open_incident(self.journal)
            if step.needs_incident and incident is None:
                out.print()
                out.print(_NOTHING_DECLARED, highlight=False)
                break
            if step.needs_mitigated and not (incident is not None and _mitigated(self.journal, incident)):
                out.print()
                out.print(_STAYS_OPEN, highlight=False)
                continue
            self._heading(f"Step {number}/{len(self.steps)}: {step.name}", step)
            if pause is not None and not pause(f"Step {number}/{len(self.steps)}: {step.name}"):
                self.stopped = step
                out.print(f"stopped before step {number} ({step.name}), as you asked", highlight=False)
                return int(ExitCode.OK)
            if not step.commands:
                by_hand = catalogue.SCENARIOS[self.scenario].mitigation
                out.print(f"no incidentctl command fixes {self.scenario}; by hand: {by_hand}", markup=False)
            for command in step.commands:
                args = [self._fill(a, incident) for a in command.args]
                code = self._command(base, args, env, sandbox, command.kind)
                if code is not None:
                    return code
        return int(ExitCode.OK)

    def _heading(self, title: str, step: Step) -> None:
        from rich.markup import escape

        self.out.print()
        self.out.rule(f"[bold]{escape(title)}[/]", align="left")
        self.out.print(step.replaces_line(), style="dim", highlight=False, markup=False, soft_wrap=True)

    def _fill(self, arg: str, incident: str | None) -> str:
        if arg == "@open" and incident:
            return incident
        if arg == "@postmortem":
            return str(self.folder / f"{incident}-postmortem.md")
        return arg

    def _command(
        self, base: list[str], args: list[str], env: Mapping[str, str], sandbox: Sandbox, kind: Kind
    ) -> int | None:
        """Run one command; the exit code that ends the demo, or None to go on."""
        from rich.markup import escape

        from incidentctl.cli.demo_channels import where_it_went

        self.out.print(f"[dim]$ incidentctl {escape(shlex.join(args))}[/]", highlight=False)
        code = _run_step([*base, *args], self.parent, env, sandbox, on_yes=self._show_verify)
        if code == ExitCode.INTERRUPTED:
            return code
        if kind is Kind.TELL:
            if code != ExitCode.OK:
                self.out.print(
                    f"[dim]not everything was delivered (exit {code}): what was not stays queued in the incident's "
                    "journal, and `incidentctl communicate flush` sends it; the response goes on[/]",
                    highlight=False,
                )
            where_it_went(self.out, sandbox, self.folder)
            return None
        return None if code in (ExitCode.OK, ExitCode.PROBLEMS_FOUND) else code

    def _show_verify(self) -> None:
        """The verification's heading, once: the demo has just said yes, the change goes out and is verified."""
        if self._verify_shown:
            return
        self._verify_shown = True
        self._heading(VERIFY.name, VERIFY)
        self.out.print(VERIFY_SAYS, highlight=False, markup=False, soft_wrap=True)

    def what_is_left(self, url: str | None) -> None:
        """Where the reader finds what the demo did, however it ended."""
        out = self.out
        out.print()
        out.rule("[bold]What the demo left[/]", align="left")
        said = [f"The demo's folder: {self.folder} (runbook.yaml, the journal in incidents/, the email in outbox/)"]
        incident = _open_incident(self.journal)
        if incident is None:
            said.append("No incident was declared, so there is no incident folder or post-mortem.")
        else:
            said.append(f"The incident's folder: {self.journal / incident} (incident.yaml, timeline.jsonl, evidence/)")
            postmortem = self.folder / f"{incident}-postmortem.md"
            if postmortem.is_file():
                said.append(f"The post-mortem: {postmortem}")
            else:
                said.append("No post-mortem was drafted: the demo stopped before that step.")
        if url is not None:
            said.append(
                f"The sandbox cluster ({url}) is stopped: its kubeconfig is removed, and the URLs and secrets in "
                "runbook.yaml no longer answer; the journal and the post-mortem stay readable."
            )
        for line in said:
            out.print(line, highlight=False, markup=False, soft_wrap=True)

    def your_turn(self, by_hand: str) -> None:
        self.out.print()
        self.out.rule("[bold]Your turn[/]", align="left")
        self.out.print(
            f"Start a drill you can poke at with kubectl: incidentctl sandbox up --scenario {self.scenario}\n"
            f"The same fix by hand: {by_hand}",
            highlight=False,
            markup=False,
        )


_NOTHING_DECLARED = (
    "Triage found nothing to declare, so there is no incident to acknowledge, mitigate or write a post-mortem for."
)
_STAYS_OPEN = (
    "The fix was not verified healthy, so the incident stays open: the post-mortem below is a draft of an ongoing "
    "incident."
)


def _leave(folder: Path, url: str | None) -> None:
    """What outlives the sandbox must not point at it as if it still ran: its kubeconfig (a token for a port that
    is gone) is removed, and the runbook, whose URLs and secrets were the sandbox's, says so at its top."""
    (folder / "kubeconfig").unlink(missing_ok=True)
    runbook = folder / "runbook.yaml"
    if url is None or not runbook.is_file():
        return
    note = (
        f"# Left by `incidentctl demo`: the sandbox cluster was stopped when the demo ended, so {url} and the\n"
        "# secrets in secrets/ no longer answer. The journal (incidents/) and the post-mortem stay readable.\n"
    )
    runbook.write_text(note + runbook.read_text(encoding="utf-8"), encoding="utf-8")


def _demo_env(parent: Mapping[str, str], journal: Path) -> dict[str, str]:
    """The responder's environment without anything that points at their real runbook, journal or cluster.

    Every ``INCIDENTCTL_*`` setting but the actor is dropped (a runbook, a journal or any setting added later),
    and so is ``KUBECONFIG``; the journal is named explicitly, so the demo can only write into its own.
    """
    env = {k: v for k, v in parent.items() if not k.startswith("INCIDENTCTL_") and k != "KUBECONFIG"}
    env["INCIDENTCTL_ACTOR"] = parent.get("INCIDENTCTL_ACTOR") or "demo"
    env[JOURNAL_ENV] = str(journal)
    return env


def _mitigated(journal: Path, incident: str) -> bool:
    """Whether the journal says the impact is over (a mitigation verified healthy): only then is it resolved."""
    from incidentctl.core.events import Milestone, milestones
    from incidentctl.journal.store import Journal

    store = Journal(journal, clock=datetime.now, actor="demo")
    return Milestone.MITIGATED in milestones(store.timeline(incident))


def _open_incident(journal: Path) -> str | None:
    ids = sorted(p.name for p in journal.glob("INC-*") if p.is_dir())
    return ids[-1] if ids else None


def _run_step(
    args: list[str], parent: AppState, env: Mapping[str, str], sandbox: Sandbox, *, on_yes: Callable[[], None]
) -> int:
    """Run one real command in-process with its own state (the parent's folder, the demo's environment; none of
    the parent's --runbook, --kubeconfig, --context or -n); its exit code. Its clock is the cluster's and its
    waits are scaled to it (through the parent's ``sleep``): at the demo's speed a wall-clock clock would see a
    rollout finish before it started, and judge the checks on a window of metrics the cluster left behind."""
    from incidentctl.cli.app import app

    state = AppState(env=env, clock=sandbox.now, sleep=_cluster_sleep(sandbox, parent.sleep), cwd=parent.cwd)
    state.confirm = _answers_yes(state.printer.err, on_yes)
    code = app(args, standalone_mode=False, obj=state, prog_name="incidentctl")
    return int(ExitCode.OK) if code is None else int(code)


def _cluster_sleep(sandbox: Sandbox, sleep: Callable[[float], None]) -> Callable[[float], None]:
    def scaled(seconds: float) -> None:
        sleep(sandbox.clock.wall_seconds(seconds))

    return scaled


def _answers_yes(console: Console, then: Callable[[], None]) -> Callable[[str], bool]:
    """The demo's answer to the mitigation's question, printed where the prompt would be, after the plan."""
    from rich.markup import escape

    def answer(question: str) -> bool:
        console.print(f"{escape(question)} \\[y/N]: y [dim](the demo answers yes)[/]", highlight=False)
        then()
        return True

    return answer
