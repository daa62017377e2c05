"""``incidentctl demo``: the whole flow on the built-in sandbox, for a newcomer with no cluster.

It starts a sandbox with a scripted incident in a temporary folder and runs the real commands against it, one
after another, each under the runbook step it replaces. Nothing here is staged: the same code paths answer a
real cluster. The commands only ever see the demo's own runbook, kubeconfig and journal, whatever the
responder's environment or options name: a demo must never touch a real incident.

The mitigation is the scenario's own fix (``Scenario.fix``), through the real command: its plan and diff are
shown, and the demo answers its question on screen, as a responder would type ``y``. After the declaration the
initial notification goes out (``communicate send initial``) and after the mitigation one status update
(``communicate send update``), to the sandbox's Slack, Statuspage and PagerDuty stand-ins and the email folder;
after each the demo shows what those hold (what ``sandbox status`` shows), so a newcomer sees the incident
channel, the status message edited in place, the status-page incident and the page. Once the fix is verified
healthy the incident is resolved and people are told; the post-mortem is drafted from the journal into a file
that outlives the demo (beside the journal with ``--keep``), and a daily report closes the flow. The sandbox's
clock runs :data:`SPEED` times the wall clock, and so does every command's (their clock is the cluster's, their
waits are scaled to it), so the rollout and the checks' settling take seconds while every time they compare agrees.
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
    """Play an incident on a local sandbox cluster: detect, triage and declare, tell people, investigate,
    acknowledge, an escalation check, mitigate and verify, a status update, resolve, the post-mortem, a report."""
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
            # the post-mortem outlives the demo's temporary files, so the reader can open it afterwards
            postmortem: Path | None = keep
            for title, template in _steps(list(catalogue.SCENARIOS[scenario].fix)):
                incident = _open_incident(journal)
                if ("@open" in template or title == _MITIGATE) and incident is None:
                    out.print()
                    out.print(_NOTHING_DECLARED, highlight=False)
                    break
                if _stays_open(out, title, journal, incident):
                    continue
                out.print()
                out.rule(f"[bold]{title}[/]", align="left")
                if not template:
                    out.print(
                        f"no incidentctl command fixes {scenario}; by hand: {catalogue.SCENARIOS[scenario].mitigation}",
                        highlight=False,
                        markup=False,
                    )
                    continue
                args, postmortem = _arguments(template, incident, postmortem)
                out.print(f"[dim]$ incidentctl {escape(shlex.join(args))}[/]", highlight=False)
                if template[0] == "communicate":
                    _tell(out, [*base, *args], state, env, sandbox, folder)
                else:
                    _run_step([*base, *args], state, env, sandbox)
            _your_turn(out, scenario, catalogue.SCENARIOS[scenario].mitigation, postmortem)
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


def _steps(fix: list[str]) -> list[tuple[str, list[str]]]:
    """The demo's steps: a title (the runbook step it replaces) and the command; ``@open`` is the incident's id
    and ``@postmortem`` the post-mortem's file."""
    return [
        ("Detect (runbook 1.1: kubectl get pods/services/ingress, curl -f .../health)", ["detect"]),
        ("Triage and declare (runbook 1.2: assess impact, determine severity)", ["triage", "--declare"]),
        (_TELL, ["communicate", "send", "initial", "@open"]),
        (
            "Investigate (runbook 2.1-2.2: every view at once, the evidence kept in the incident)",
            ["investigate"],
        ),
        ("Acknowledge (the response-time clock stops)", ["incident", "ack", "@open"]),
        (_ESCALATE, ["escalate", "check", "@open"]),
        (_MITIGATE, fix),
        (
            _UPDATE,
            ["communicate", "send", "update", "@open", "--update", _update_text(fix)],
        ),
        (_RESOLVE, ["incident", "status", "@open", "resolved", "-m", "Verified healthy after the fix."]),
        (_RESOLVED, ["communicate", "send", "resolution", "@open"]),
        (_POSTMORTEM, ["postmortem", "draft", "@open", "--file", "@postmortem"]),
        (_REPORT, ["report", "daily"]),
    ]


_NOTHING_DECLARED = (
    "Triage found nothing to declare, so there is no incident to acknowledge, mitigate or write a post-mortem for."
)


def _your_turn(out: Console, scenario: str, by_hand: str, postmortem: Path | None) -> None:
    out.print()
    out.rule("[bold]Your turn[/]", align="left")
    for written in sorted(postmortem.glob("INC-*-postmortem.md")) if postmortem else []:
        out.print(f"Open the post-mortem: {written}", highlight=False, markup=False)
    out.print(
        f"Start a drill you can poke at with kubectl: incidentctl sandbox up --scenario {scenario}\n"
        f"The same fix by hand: {by_hand}",
        highlight=False,
        markup=False,
    )


def _arguments(template: list[str], incident: str | None, postmortem: Path | None) -> tuple[list[str], Path | None]:
    """A step's command with ``@open`` and ``@postmortem`` filled in; the post-mortem's folder is made on first use
    (beside the kept journal, else a folder of its own that outlives the demo's temporary files)."""
    args = [incident if a == "@open" and incident else a for a in template]
    if "@postmortem" in args:
        postmortem = postmortem or Path(tempfile.mkdtemp(prefix="incidentctl-demo-postmortem-"))
        args = [str(postmortem / f"{incident}-postmortem.md") if a == "@postmortem" else a for a in args]
    return args, postmortem


def _stays_open(out: Console, title: str, journal: Path, incident: str | None) -> bool:
    """The resolve steps run only when the journal says the impact is over: a fix that was not verified healthy
    leaves the incident open, and the post-mortem is then the draft of an ongoing incident."""
    if title not in (_RESOLVE, _RESOLVED) or (incident is not None and _mitigated(journal, incident)):
        return False
    if title == _RESOLVE:
        out.print()
        out.print(
            "The fix was not verified healthy, so the incident stays open: the post-mortem below is a draft of an "
            "ongoing incident.",
            highlight=False,
        )
    return True


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
    args: list[str], parent: AppState, env: Mapping[str, str], sandbox: Sandbox, *, fatal: bool = True
) -> int | None:
    """Run one real command in-process with its own state (the parent's folder, the demo's environment; none of
    the parent's --runbook, --kubeconfig, --context or -n). Its clock is the cluster's and its waits are scaled
    to it: at the demo's speed a wall-clock clock would see a rollout finish before it started, and judge the
    checks on a window of metrics the cluster left behind minutes ago.

    A failed step ends the demo, unless it is not ``fatal``: a message a channel did not take stays queued, and
    a responder whose chat is down goes on mitigating, so the demo does too."""
    from incidentctl.cli.app import app

    state = AppState(env=env, clock=_cluster_clock(sandbox), sleep=_cluster_sleep(sandbox), cwd=parent.cwd)
    state.confirm = _answers_yes(state.printer.err)
    code = app(args, standalone_mode=False, obj=state, prog_name="incidentctl")
    if fatal and code not in (None, int(ExitCode.OK), int(ExitCode.PROBLEMS_FOUND)):
        raise typer.Exit(int(code))
    return None if code is None else int(code)


_MITIGATE = "Mitigate (runbook 3.1-3.3: the fix, its plan and diff shown, confirmed, verified)"
_TELL = "Tell people (runbook 1.3: the incident channel and its status message, the email, the status page, the page)"
_ESCALATE = "Escalation check (runbook: the matrix's automatic and time-based rules on the journal)"
_RESOLVE = "Resolve (runbook 3.3: the fix verified healthy, the incident resolved)"
_RESOLVED = "Tell people it is over (runbook 4.1: the resolution notification, the status page resolved)"
_POSTMORTEM = "Post-mortem (runbook: post-incident analysis; the template filled from the journal)"
_REPORT = "A short report (runbook: incident metrics; MTTD, MTTA, MTTR from the journal)"
_UPDATE = "Status update (runbook 4.1: the Slack status message edited in place, the status page updated)"


def _update_text(fix: list[str]) -> str:
    if not fix:
        return "Investigating; no automated mitigation applies."
    return f"Mitigated with `incidentctl {shlex.join(fix)}` and verified healthy; monitoring."


def _tell(
    out: Console, args: list[str], parent: AppState, env: Mapping[str, str], sandbox: Sandbox, folder: Path
) -> None:
    """A communicate step, then what the channels hold; a message not delivered does not end the demo."""
    code = _run_step(args, parent, env, sandbox, fatal=False)
    if code not in (None, int(ExitCode.OK)):
        out.print(
            f"[dim]not everything was delivered (exit {code}): what was not stays queued in the incident's journal, "
            "and `incidentctl communicate flush` sends it; the response goes on[/]",
            highlight=False,
        )
    _where_it_went(out, sandbox, folder)


def _where_it_went(out: Console, sandbox: Sandbox, folder: Path) -> None:
    """What the sandbox's channel stand-ins hold after a communicate step (what `sandbox status` shows): the
    Slack channels and their messages, the Statuspage incidents, the PagerDuty incidents, the email files."""
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
