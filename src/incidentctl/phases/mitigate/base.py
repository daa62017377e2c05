"""The shapes every mitigation shares: what an action is given, what the contract is asked and what it returns.

An *action* (:class:`Action`) only reads and plans: ``plan(env)`` reads the objects it would change and returns a
:class:`~incidentctl.core.mitigation.Plan`. It never sends a write; the one safety contract
(:func:`incidentctl.phases.mitigate.contract.run_mitigate`) does, after the guardrails, the dry-run or the
confirmation, and the journal entry. That is what makes "every mutation goes through one contract" true by
construction rather than by review: an action has no way to write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, Protocol

from incidentctl.errors import IncidentctlError, UsageError
from incidentctl.exitcodes import ExitCode

if TYPE_CHECKING:
    from incidentctl.adapters.kube import KubeClient
    from incidentctl.core.incident import Incident
    from incidentctl.core.mitigation import ObjectRef, Plan
    from incidentctl.core.report import DetectReport
    from incidentctl.runbook.model import Runbook


@dataclass(frozen=True)
class ActionEnv:
    """What an action plans with: the runbook, where it writes, a client to read with, and the time."""

    runbook: Runbook
    namespace: str
    kube: KubeClient
    clock: Callable[[], datetime]
    #: The folder runbook.yaml is in (hotfix manifests are relative to it).
    runbook_dir: Any = None


class Action(Protocol):
    """One mitigation, planned from what the cluster says now (called again after a 409 Conflict)."""

    @property
    def name(self) -> str:
        """One of :data:`incidentctl.core.mitigation.ACTIONS`."""
        ...

    def plan(self, env: ActionEnv) -> Plan: ...


class MitigationRefused(IncidentctlError):
    """A guardrail, the responder or the state of the cluster said no; nothing was changed. Exit 5."""

    exit_code = ExitCode.REFUSED
    reason = "Refused"

    def __init__(self, message: str, *, rule: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        #: The guardrail's name (``severity-actions``, ``replica-bounds``, ``namespaces``...), for the journal
        #: and ``-o json``.
        self.rule = rule


class NotConfirmed(MitigationRefused):
    """The responder did not say yes, or there was no terminal to ask on and no ``--yes``."""

    reason = "NotConfirmed"


class PlanChanged(MitigationRefused):
    """An object changed between the plan and the write (409 Conflict): nothing was written over it blind."""

    reason = "Conflict"


class NoSuchRevision(UsageError):
    """``--to-revision`` names a revision the history does not have (as kubectl: "unable to find specified
    revision")."""

    reason = "NotFound"


Outcome = Literal["dry-run", "unchanged", "applied", "failed", "refused"]


@dataclass(frozen=True)
class RolloutStatus:
    """One workload's rollout as kubectl's ``rollout status`` judges it, at one moment."""

    ref: ObjectRef
    #: ``done``, ``progressing`` or ``failed`` (ProgressDeadlineExceeded, or the wait timed out).
    state: Literal["done", "progressing", "failed"]
    #: kubectl's words: "Waiting for deployment "gateway" rollout to finish: 1 of 3 updated replicas are available..."
    message: str
    desired: int = 0
    updated: int = 0
    available: int = 0


@dataclass(frozen=True)
class Progress:
    """What the verification is waiting on now, for the progress display (rich on a terminal, lines off it)."""

    #: ``rollout`` (waiting for a workload) or ``checks`` (a round of the components' checks).
    stage: Literal["rollout", "checks"]
    message: str
    #: Seconds waited so far.
    elapsed: float = 0.0
    rollout: RolloutStatus | None = None
    #: For a checks round: whether everything verified was healthy.
    healthy: bool | None = None


@dataclass(frozen=True)
class Verification:
    """After a mitigation: the rollouts awaited, then the components' checks re-run."""

    components: tuple[str, ...]
    rollouts: tuple[RolloutStatus, ...]
    #: The checks, as detect reports them (None when the rollouts never finished and the checks were not run).
    report: DetectReport | None
    healthy: bool
    #: What is still wrong, one line each.
    still_wrong: tuple[str, ...] = ()
    timed_out: bool = False
    seconds: float = 0.0

    @property
    def exit_code(self) -> ExitCode:
        """0 healthy; the cluster error's own code (4) when the checks could not read the cluster, since "not
        verified" then means "could not look", not "still broken"; 3 anything else still wrong."""
        if self.healthy:
            return ExitCode.OK
        if self.report is not None and self.report.cluster_error is not None:
            return ExitCode(int(self.report.cluster_error.exit_code))
        return ExitCode.PROBLEMS_FOUND


@dataclass(frozen=True)
class MitigateRequest:
    """What the responder asked for, and how to talk to them while it runs."""

    action: Action
    #: ``--incident``: the incident to record in (None: the only open one).
    incident: str | None = None
    #: ``--reason``: why (required by the guardrails for destructive actions).
    reason: str | None = None
    #: ``--dry-run``: send every write with ``dryRun=All``; nothing changes.
    dry_run: bool = False
    #: ``--yes``: do not ask.
    yes: bool = False
    #: Shows the plan and asks; None when there is no terminal to ask on (then only ``--yes`` proceeds).
    confirm: Callable[[Plan], bool] | None = None
    #: Shows the plan as soon as it is made, when nobody is asked (``--yes``, ``--dry-run``, no terminal); the plan
    #: it is given has the runbook's secrets masked, as everything recorded and shown.
    show: Callable[[Plan], None] | None = None
    #: Shows a plan again after it was re-read (a 409 Conflict), with why; None: nobody to show it to.
    replanned: Callable[[Plan, str], None] | None = None
    #: Told what the verification waits on, each time it looks.
    progress: Callable[[Progress], None] = lambda _progress: None
    #: Wait for the rollouts and re-run the checks afterwards (``--no-verify``: False).
    verify: bool = True
    #: ``--auto-undo``: revert a restart, scale or rollout that did not make things better.
    auto_undo: bool = False
    #: ``--timeout``: how long to wait for the rollouts (None: the runbook's ``mitigation.verify.timeout``).
    timeout: timedelta | None = None
    #: How long the checks may take to turn healthy once the rollouts are done (a 5xx ratio over 5 minutes falls
    #: off as the bad minutes leave its window); None: the runbook's ``mitigation.verify.settle``.
    settle: timedelta | None = None
    #: The mitigation this one reverts (``mitigate undo``): ``M2``.
    undoes: str | None = None


@dataclass(frozen=True)
class VerifyRequest:
    """``mitigate verify [COMPONENT...]``: what to verify without a mitigation of this tool's (a fix someone made by
    hand, or a second look after one)."""

    #: Components, datastores or a datastore's pod, as ``mitigate restart`` names them; empty: every component.
    targets: tuple[str, ...] = ()
    #: ``--incident``: where the verification is recorded (None: the only open incident, if there is one).
    incident: str | None = None
    progress: Callable[[Progress], None] = lambda _progress: None
    timeout: timedelta | None = None
    settle: timedelta | None = None


@dataclass(frozen=True)
class VerifyResult:
    verification: Verification
    #: The runbook's datastores judged besides the components.
    datastores: tuple[str, ...] = ()
    #: Where ``mitigation_verified`` was recorded (None: nowhere, see ``messages``).
    incident_id: str | None = None
    messages: tuple[str, ...] = ()

    @property
    def exit_code(self) -> ExitCode:
        """0 healthy; 4 when the checks could not read the cluster; 3 anything else still wrong."""
        return self.verification.exit_code


@dataclass(frozen=True)
class MitigateResult:
    plan: Plan
    outcome: Outcome
    #: ``M3``: the mitigation's number in its incident (None for a dry run or a refusal).
    action_id: str | None = None
    incident_id: str | None = None
    #: For a dry run: the objects as the server says they would be (object label -> object).
    dry_run_objects: dict[str, Any] = field(default_factory=dict)
    verification: Verification | None = None
    #: What ``--auto-undo`` did after a failed verification.
    undone_by: MitigateResult | None = None
    #: Plans re-read after a 409 Conflict before this one was applied.
    replanned: int = 0
    #: Things said along the way (one line each): a plan that changed, an undo that was not possible.
    messages: tuple[str, ...] = ()
    #: The incident the mitigation belongs to (its severity is what the guardrails judged).
    incident: Incident | None = None

    @property
    def exit_code(self) -> ExitCode:
        """0 done (and verified healthy, when verified); 3 applied but still unhealthy; 4 applied, but the
        verification could not read the cluster; 5 refused or failed."""
        if self.outcome in ("refused", "failed"):
            return ExitCode.REFUSED
        if self.verification is not None:
            return self.verification.exit_code
        return ExitCode.OK
