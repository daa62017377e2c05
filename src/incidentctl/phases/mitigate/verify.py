"""Verification: wait for the rollouts a mitigation started, then re-run the checks detect runs on its components.

Replaces ``verify_fix.sh``. "Fixed" is judged by the same checks that said "broken" (:mod:`incidentctl.phases.health`),
never by "the command succeeded": a rollback that rolled out but still serves 5xx is not a fix. Signals measured
over a window (a 5xx ratio over 5 minutes) fall off only as the bad minutes leave the window, so once the rollouts
are done the checks are re-run every ``checks_interval`` until they are healthy or ``settle`` has passed.

Waiting goes through ``ctx.sleep``; a test's sandbox moves its simulated clock there.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from incidentctl.core.checks import Health
from incidentctl.core.events import EventKind
from incidentctl.core.rollout_status import RolloutState, deployment_status, pod_replaced_status, statefulset_status
from incidentctl.errors import UsageError
from incidentctl.phases.mitigate.base import Progress, RolloutStatus, Verification, VerifyRequest, VerifyResult

if TYPE_CHECKING:
    from incidentctl.adapters.kube import KubeClient
    from incidentctl.core.mitigation import ObjectRef, Plan
    from incidentctl.core.report import DetectReport
    from incidentctl.journal.base import JournalStore
    from incidentctl.phases.context import PhaseContext
    from incidentctl.phases.mitigate.base import MitigateRequest


def verify_plan(ctx: PhaseContext, kube: KubeClient, plan: Plan, request: MitigateRequest) -> Verification:
    """Verify what ``plan`` changed: its rollouts, then its components' and datastores' checks."""
    old_uids = {label: (state or {}).get("uid") for label, state in plan.before.items() if isinstance(state, Mapping)}
    return verify(
        ctx,
        kube,
        components=plan.components,
        datastores=plan.datastores,
        rollouts=plan.rollouts,
        old_uids=old_uids,
        progress=request.progress,
        timeout=request.timeout,
        settle=request.settle,
    )


def run_verify(ctx: PhaseContext, request: VerifyRequest) -> VerifyResult:
    """``mitigate verify``: wait for the named workloads' rollouts and re-run their checks, then record the outcome
    in the open incident (a fix made by hand is verified, and counted as mitigated, like one of ours)."""
    from incidentctl.core.mitigation import ObjectRef
    from incidentctl.phases.mitigate.restart import resolve_target
    from incidentctl.phases.recording import open_incident

    rb = ctx.runbook
    namespace = ctx.settings.namespace.value
    known = [*rb.component_names(), *(d.name for d in rb.datastores), *(d.pod for d in rb.datastores)]
    components: list[str] = []
    datastores: list[str] = []
    rollouts: list[ObjectRef] = []
    for text in dict.fromkeys(request.targets or rb.component_names()):
        try:
            target = resolve_target(rb, text)
        except UsageError as e:
            raise UsageError(e.message, hint=f"verify one of: {', '.join(known)}") from e
        rollouts.append(ObjectRef(target.ref_resource, target.name, namespace))
        if target.component is not None:
            components.append(target.component)
        if target.datastore is not None:
            datastores.append(target.datastore)
            store = next(d for d in rb.datastores if d.name == target.datastore)
            components.extend(store.used_by)
    journal = ctx.journal()
    where = open_incident(journal, request.incident)  # before the wait: a wrong --incident is said at once
    kube = ctx.adapters.kube()
    try:
        verification = verify(
            ctx,
            kube,
            components=tuple(dict.fromkeys(components)),
            datastores=tuple(datastores),
            rollouts=tuple(dict.fromkeys(rollouts)),
            progress=request.progress,
            timeout=request.timeout,
            settle=request.settle,
        )
    finally:
        kube.close()
    messages: tuple[str, ...] = ()
    incident_id: str | None = None
    if where.incident is not None:
        incident_id = where.incident.id
        record_verification(journal, incident_id, None, verification, redact=ctx.secrets.redact_data)
    elif where.ambiguous:
        messages = (
            f"not recorded: {len(where.ambiguous)} incidents are open and none was named "
            f"({', '.join(where.ambiguous)}); name one with --incident",
        )
    return VerifyResult(verification, tuple(datastores), incident_id, messages)


def verify(
    ctx: PhaseContext,
    kube: KubeClient,
    *,
    components: Sequence[str],
    datastores: Sequence[str] = (),
    rollouts: Sequence[ObjectRef] = (),
    old_uids: Mapping[str, str | None] | None = None,
    progress: Callable[[Progress], None] = lambda _p: None,
    timeout: timedelta | None = None,
    settle: timedelta | None = None,
) -> Verification:
    settings = ctx.runbook.mitigation.verify
    budget = (timeout or settings.timeout).total_seconds()
    settle_s = (settle if settle is not None else settings.settle).total_seconds()
    waited = _Waited(ctx.sleep)
    statuses = _await_rollouts(
        kube, rollouts, old_uids or {}, progress, waited, budget, settings.interval.total_seconds()
    )
    if any(s.state != "done" for s in statuses):
        wrong = tuple(f"{s.ref.label}: {s.message}" for s in statuses if s.state != "done")
        return Verification(
            tuple(components),
            tuple(statuses),
            None,
            healthy=False,
            still_wrong=wrong,
            timed_out=any(s.state == "progressing" for s in statuses),
            seconds=waited.total,
        )
    started = waited.total
    while True:
        report = _checks(ctx, components)
        wrong = _still_wrong(report, components, datastores)
        healthy = not wrong
        progress(
            Progress(
                "checks",
                "healthy" if healthy else "; ".join(wrong[:3]),
                elapsed=waited.total,
                healthy=healthy,
            )
        )
        if healthy or waited.total - started >= settle_s:
            return Verification(
                tuple(components),
                tuple(statuses),
                report,
                healthy=healthy,
                still_wrong=wrong,
                timed_out=False,
                seconds=waited.total,
            )
        waited.sleep(
            min(settings.checks_interval.total_seconds(), max(0.0, settle_s - (waited.total - started))) or 1.0
        )


class _Waited:
    """Time spent waiting, counted in the waits only: each counts as the longer of what was asked and what it took
    (a sandbox's sleep moves its clock and takes no wall time). The looks between waits are not counted, so a slow
    cluster stretches the wait in real time rather than cutting the rollout's budget or the settle short."""

    def __init__(self, sleep: Callable[[float], None]) -> None:
        self._sleep = sleep
        self.total = 0.0

    def sleep(self, seconds: float) -> None:
        started = time.monotonic()
        self._sleep(seconds)
        self.total += max(seconds, time.monotonic() - started)


def _await_rollouts(
    kube: KubeClient,
    rollouts: Sequence[ObjectRef],
    old_uids: Mapping[str, str | None],
    progress: Callable[[Progress], None],
    waited: _Waited,
    budget: float,
    interval: float,
) -> list[RolloutStatus]:
    from incidentctl.adapters.kube import KubeNotFound

    pending = list(rollouts)
    last: dict[str, RolloutStatus] = {}
    while True:
        for ref in list(pending):
            try:
                obj: Any = kube.get(ref.resource, ref.namespace, ref.name)
            except KubeNotFound:
                obj = None
            state = _state(ref, obj, old_uids.get(ref.label))
            status = RolloutStatus(ref, state.state, state.message, state.desired, state.updated, state.available)
            progress(Progress("rollout", state.message, elapsed=waited.total, rollout=status))
            last[ref.label] = status
            if state.state != "progressing":
                pending.remove(ref)
        if not pending:
            break
        if waited.total >= budget:
            for ref in pending:
                seen = last[ref.label]
                message = f"timed out after {int(budget)}s: {seen.message}"
                last[ref.label] = replace(seen, state="failed", message=message)
            break
        waited.sleep(interval)
    return [last[r.label] for r in rollouts]


def _state(ref: ObjectRef, obj: Any, old_uid: str | None) -> RolloutState:
    if ref.resource == "pods":
        return pod_replaced_status(obj, old_uid)
    if obj is None:
        return RolloutState("failed", f"{ref.label} is gone")
    if ref.resource == "statefulsets":
        return statefulset_status(obj)
    return deployment_status(obj)


def _checks(ctx: PhaseContext, components: Sequence[str]) -> DetectReport:
    from incidentctl.phases.health import DetectOptions, health_report

    return health_report(ctx, DetectOptions(namespace=ctx.settings.namespace.value, components=tuple(components)))


def _still_wrong(report: DetectReport, components: Sequence[str], datastores: Sequence[str]) -> tuple[str, ...]:
    """What keeps the verified components (and the datastores the mitigation touched) from being healthy. Another
    subject failing (an external dependency still down behind an open circuit breaker) does not count against it;
    an unknown check does: a check that could not run is no evidence of health."""
    judged = set(components) | set(datastores)
    if report.cluster_error is not None:
        return (f"the cluster could not be read: {report.cluster_error}",)
    wrong: list[str] = []
    for subject in report.subjects:
        if subject.name in judged and subject.health is not Health.OK:
            reasons = "; ".join(subject.reasons) or subject.health.value
            wrong.append(f"{subject.name}: {reasons}")
    missing = judged - {s.name for s in report.subjects}
    wrong.extend(f"{name}: not checked" for name in sorted(missing))
    return tuple(wrong)


def record_verification(
    journal: JournalStore,
    incident_id: str | None,
    action_id: str | None,
    verification: Verification,
    *,
    redact: Callable[[Any], Any] = lambda value: value,
) -> None:
    """``mitigation_verified``; ``redact`` masks the runbook's secrets (a check's reason may quote a URL)."""
    if incident_id is None:
        return
    data: dict[str, Any] = {
        "healthy": verification.healthy,
        "components": list(verification.components),
        "still_wrong": list(verification.still_wrong),
        "rollouts": [f"{s.ref.label}: {s.message}" for s in verification.rollouts],
        "timed_out": verification.timed_out,
        "seconds": round(verification.seconds, 1),
    }
    if action_id is not None:
        data["id"] = action_id
    journal.append(incident_id, EventKind.MITIGATION_VERIFIED, redact(data))
