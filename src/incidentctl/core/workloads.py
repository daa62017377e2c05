"""Reading Kubernetes objects the way an experienced on-call engineer reads `kubectl get` output.

Pure functions over the API's JSON (dicts as the API returns them), so every rule here is unit-testable with
real object shapes and no cluster: what makes a pod a problem (CrashLoopBackOff, OOMKilled, ImagePullBackOff,
Pending/unschedulable, Evicted, not ready, recent restarts), when a deployment is down, degraded or stuck, and
whether a service has anyone behind it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from incidentctl.core.checks import (
    CheckKind,
    CheckResult,
    DeploymentObservation,
    Failure,
    Health,
    PodsObservation,
    ServiceObservation,
)
from incidentctl.core.times import format_duration, format_elapsed, parse_rfc3339_or_none

JSON = Mapping[str, Any]

#: Waiting reasons that mean the container will not come up by itself, and what each one is.
WAITING_FAILURES = {
    "CrashLoopBackOff": Failure.CRASH_LOOP,
    "ImagePullBackOff": Failure.IMAGE_PULL,
    "ErrImagePull": Failure.IMAGE_PULL,
    "InvalidImageName": Failure.IMAGE_PULL,
    "CreateContainerConfigError": Failure.CONTAINER_ERROR,
    "CreateContainerError": Failure.CONTAINER_ERROR,
    "RunContainerError": Failure.CONTAINER_ERROR,
}
BAD_WAITING = set(WAITING_FAILURES)

#: Which of a pod check's failures says most about it (the check's ``failure``), most telling first.
POD_FAILURE_ORDER = (
    Failure.OOM_KILLED,
    Failure.CRASH_LOOP,
    Failure.IMAGE_PULL,
    Failure.CONTAINER_ERROR,
    Failure.UNSCHEDULABLE,
    Failure.EVICTED,
    Failure.POD_FAILED,
    Failure.CRASHED,
    Failure.WAITING,
    Failure.NOT_READY,
    Failure.RESTARTS,
)


parse_time = parse_rfc3339_or_none


def _meta(obj: JSON) -> JSON:
    return obj.get("metadata") or {}


def _status(obj: JSON) -> JSON:
    return obj.get("status") or {}


def selector_matches(selector: JSON | None, labels: Mapping[str, str] | None) -> bool:
    """A LabelSelector (matchLabels and matchExpressions) against an object's labels."""
    if not selector:
        return False
    labels = labels or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        present = key in labels
        if (
            (op == "In" and labels.get(key) not in values)
            or (op == "NotIn" and present and labels.get(key) in values)
            or (op == "Exists" and not present)
            or (op == "DoesNotExist" and present)
        ):
            return False
    return True


@dataclass(frozen=True)
class PodProblem:
    """One thing wrong with a pod: what it is, kubectl's word for it, and the line a person reads."""

    failure: Failure
    #: kubectl's STATUS word: "CrashLoopBackOff", "OOMKilled", "Pending", "not ready".
    word: str
    #: "CrashLoopBackOff (last exit: OOMKilled, code 137)", "Pending: Unschedulable (0/3 nodes ...)".
    text: str
    #: Further failures the same line tells of (OOM_KILLED for a back-off after an OOMKilled exit).
    also: tuple[Failure, ...] = ()

    @property
    def all(self) -> tuple[Failure, ...]:
        return (self.failure, *self.also)


@dataclass(frozen=True)
class PodState:
    name: str
    ready: bool
    phase: str
    #: What is wrong, typed and in kubectl's words.
    issues: tuple[PodProblem, ...]
    restarts: int
    #: Restarts known to fall in the window. The API keeps only each container's last termination, so this is
    #: exact for a pod that started within the window, and otherwise 1 per container that restarted recently
    #: (all that can be proven); ``restarts`` has the lifetime total.
    recent_restarts: int
    #: When a container last stopped within the window (None when none did).
    last_restart: datetime | None = None

    @property
    def serving(self) -> bool:
        return self.ready and self.phase == "Running"

    @property
    def problems(self) -> tuple[str, ...]:
        """What is wrong, in kubectl's words, one line each."""
        return tuple(p.text for p in self.issues)

    @property
    def failures(self) -> tuple[Failure, ...]:
        return tuple(f for p in self.issues for f in p.all)


def pod_state(pod: JSON, *, now: datetime, window: timedelta) -> PodState:
    meta, status = _meta(pod), _status(pod)
    phase = str(status.get("phase") or "Unknown")
    problems: list[PodProblem] = []
    if status.get("reason") == "Evicted":
        why = (status.get("message") or "the node ran short of resources").strip()
        problems.append(PodProblem(Failure.EVICTED, "Evicted", f"Evicted: {why}"))
    conditions = {c.get("type"): c for c in status.get("conditions") or []}
    if phase == "Pending":
        scheduled = conditions.get("PodScheduled") or {}
        if scheduled.get("status") == "False":
            why = scheduled.get("message") or scheduled.get("reason") or "not scheduled"
            text = f"Pending: {scheduled.get('reason') or 'Unschedulable'} ({why})"
            problems.append(PodProblem(Failure.UNSCHEDULABLE, "Pending", text))
    if phase == "Failed" and status.get("reason") != "Evicted":
        text = f"Failed: {status.get('reason') or status.get('message') or 'the pod failed'}"
        problems.append(PodProblem(Failure.POD_FAILED, "Failed", text))
    restarts = recent = 0
    last_restart: datetime | None = None
    started = parse_time(status.get("startTime")) or parse_time(meta.get("creationTimestamp"))
    started_in_window = started is not None and now - started <= window
    for cs in status.get("containerStatuses") or []:
        count = int(cs.get("restartCount") or 0)
        restarts += count
        state = cs.get("state") or {}
        waiting = state.get("waiting") or {}
        stopped = state.get("terminated") or {}
        last = (cs.get("lastState") or {}).get("terminated") or {}
        reason = waiting.get("reason")
        if reason in WAITING_FAILURES:
            text = str(reason)
            if last.get("reason"):
                text += f" (last exit: {last.get('reason')}, code {last.get('exitCode')})"
            also = (Failure.OOM_KILLED,) if last.get("reason") == "OOMKilled" else ()
            problems.append(PodProblem(WAITING_FAILURES[reason], str(reason), text, also))
        elif reason and phase != "Pending":
            problems.append(PodProblem(Failure.WAITING, str(reason), str(reason)))
        elif stopped.get("reason") and phase == "Running":
            # kubectl's STATUS column in the moment between a crash and the back-off: "OOMKilled", "Error".
            failure = Failure.OOM_KILLED if stopped.get("reason") == "OOMKilled" else Failure.CRASHED
            text = f"{stopped.get('reason')} (exit {stopped.get('exitCode')})"
            problems.append(PodProblem(failure, str(stopped["reason"]), text))
        if last.get("reason") == "OOMKilled" and not any(Failure.OOM_KILLED in p.all for p in problems):
            text = f"OOMKilled (exit {last.get('exitCode', 137)})"
            problems.append(PodProblem(Failure.OOM_KILLED, "OOMKilled", text))
        finished = parse_time(last.get("finishedAt"))
        if finished is not None and now - finished <= window and count:
            recent += count if started_in_window else 1
            last_restart = finished if last_restart is None else max(last_restart, finished)
    ready_condition = (conditions.get("Ready") or {}).get("status") == "True"
    if not ready_condition and phase == "Running" and not problems:
        problems.append(PodProblem(Failure.NOT_READY, "not ready", "not ready (readiness probe failing)"))
    return PodState(
        name=str(meta.get("name")),
        ready=ready_condition,
        phase=phase,
        issues=tuple(problems),
        restarts=restarts,
        recent_restarts=recent,
        last_restart=last_restart,
    )


def pods_of(selector: JSON | None, pods: Sequence[JSON]) -> list[JSON]:
    return [p for p in pods if selector_matches(selector, _meta(p).get("labels"))]


def deployment_check(component: str, dep: JSON | None, name: str) -> CheckResult:
    check, target = f"deployment:{component}", f"deployment/{name}"
    kind = CheckKind.DEPLOYMENT
    if dep is None:
        return CheckResult(
            check, kind, target, Health.DOWN, f"deployment {name} not found", component, failure=Failure.NOT_FOUND
        )
    spec, status, meta = dep.get("spec") or {}, _status(dep), _meta(dep)
    desired = int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1)
    updated = int(status.get("updatedReplicas") or 0)
    ready = int(status.get("readyReplicas") or 0)
    available = int(status.get("availableReplicas") or 0)
    conditions = {c.get("type"): c for c in status.get("conditions") or []}
    progressing = conditions.get("Progressing") or {}
    observed = DeploymentObservation(
        desired=desired,
        updated=updated,
        ready=ready,
        available=available,
        revision=(meta.get("annotations") or {}).get("deployment.kubernetes.io/revision"),
    )
    summary = f"{ready}/{desired} ready, {updated} up-to-date, {available} available"
    reasons: list[str] = []
    health = Health.OK
    failure: Failure | None = None
    if desired == 0:
        health, summary, failure = Health.DOWN, "scaled to 0 replicas", Failure.SCALED_TO_ZERO
    elif available == 0:
        health, failure = Health.DOWN, Failure.UNAVAILABLE
        reasons.append("no available replica")
    elif ready < desired or available < desired:
        health, failure = Health.DEGRADED, Failure.REPLICAS_NOT_READY
    if progressing.get("reason") == "ProgressDeadlineExceeded":
        health = Health.worst([health, Health.DEGRADED])
        failure = failure if health is Health.DOWN else Failure.ROLLOUT_STUCK
        reasons.append(f"rollout stuck: {progressing.get('message') or 'progress deadline exceeded'}")
    elif spec.get("paused"):
        reasons.append("rollout paused")
    elif updated < desired or int(meta.get("generation") or 0) > int(status.get("observedGeneration") or 0):
        reasons.append(f"rolling out: {updated}/{desired} updated")
    elif int(status.get("replicas") or 0) > updated:
        # kubectl rollout status: "Waiting for deployment rollout to finish: 1 old replicas are pending termination"
        reasons.append(f"rolling out: {int(status.get('replicas') or 0) - updated} old replica(s) pending termination")
    return CheckResult(
        check, kind, target, health, summary, component, tuple(reasons), observation=observed, failure=failure
    )


def pods_check(component: str, pods: Sequence[JSON], *, now: datetime, window: timedelta) -> CheckResult:
    check, target = f"pods:{component}", f"pods of {component}"
    states = [pod_state(p, now=now, window=window) for p in pods]
    if not states:
        return CheckResult(check, CheckKind.PODS, target, Health.DOWN, "no pods", component, failure=Failure.NO_PODS)
    serving = sum(s.serving for s in states)
    reasons = []
    seen: set[Failure] = set()
    for s in states:
        bits = list(s.problems)
        seen.update(s.failures)
        if s.recent_restarts and s.recent_restarts == s.restarts:
            bits.append(f"{s.recent_restarts} restart(s) in the last {format_duration(window)}")
            seen.add(Failure.RESTARTS)
        elif s.last_restart is not None:
            ago = format_elapsed(max(now - s.last_restart, timedelta(0)))
            bits.append(f"restarted {ago} ago ({s.restarts} restarts in total)")
            seen.add(Failure.RESTARTS)
        if bits:
            reasons.append(f"{s.name}: {', '.join(bits)}")
    health = Health.DOWN if serving == 0 else (Health.DEGRADED if reasons or serving < len(states) else Health.OK)
    summary = f"{serving}/{len(states)} pods ready"
    worst = sorted({p.word for s in states for p in s.issues})
    if worst:
        summary += f" ({', '.join(worst)})"
    if health is not Health.OK and not seen:
        seen.add(Failure.NOT_READY)  # not serving, and the pod does not say why (still starting, terminating)
    failures = tuple(f for f in POD_FAILURE_ORDER if f in seen)
    observed = PodsObservation(
        pods=len(states),
        ready=serving,
        restarts=sum(s.restarts for s in states),
        recent_restarts=sum(s.recent_restarts for s in states),
        failures=failures,
    )
    failure = failures[0] if failures and health is not Health.OK else None
    return CheckResult(
        check, CheckKind.PODS, target, health, summary, component, tuple(reasons), observation=observed, failure=failure
    )


def ready_addresses(endpoints: JSON | None) -> int:
    if not endpoints:
        return 0
    return sum(len(subset.get("addresses") or []) for subset in endpoints.get("subsets") or [])


def service_check(component: str, name: str, service: JSON | None, endpoints: JSON | None) -> CheckResult:
    check, target, kind = f"service:{component}", f"service/{name}", CheckKind.SERVICE
    if service is None:
        return CheckResult(
            check, kind, target, Health.DOWN, f"service {name} not found", component, failure=Failure.NOT_FOUND
        )
    ready = ready_addresses(endpoints)
    if ready == 0:
        return CheckResult(
            check,
            kind,
            target,
            Health.DOWN,
            "no ready endpoints",
            component,
            observation=ServiceObservation(ready_endpoints=0),
            failure=Failure.NO_ENDPOINTS,
        )
    return CheckResult(
        check,
        kind,
        target,
        Health.OK,
        f"{ready} ready endpoint(s)",
        component,
        observation=ServiceObservation(ready_endpoints=ready),
    )


def _external(service: JSON) -> bool:
    """An ExternalName Service (another region, a managed service) has no endpoints in this cluster by design."""
    return (service.get("spec") or {}).get("type") == "ExternalName"


def ingress_checks(
    ingresses: Sequence[JSON],
    services: Mapping[str, JSON],
    endpoints: Mapping[str, JSON],
    component_by_service: Mapping[str, str],
) -> list[CheckResult]:
    """Every backend of every ingress must exist and have someone behind it."""
    out = []
    kind = CheckKind.INGRESS
    for ing in ingresses:
        name = str(_meta(ing).get("name"))
        namespace = _meta(ing).get("namespace")
        check, target = f"ingress:{name}", f"ingress/{name}"
        backends: list[str] = []
        spec = ing.get("spec") or {}
        default = ((spec.get("defaultBackend") or {}).get("service") or {}).get("name")
        if default:
            backends.append(default)
        for rule in spec.get("rules") or []:
            for path in (rule.get("http") or {}).get("paths") or []:
                svc = ((path.get("backend") or {}).get("service") or {}).get("name")
                if svc and svc not in backends:
                    backends.append(svc)
        reasons = []
        failures: list[Failure] = []
        for svc in backends:
            if svc not in services:
                reasons.append(f"backend service {svc} not found")
                failures.append(Failure.NOT_FOUND)
            elif ready_addresses(endpoints.get(svc)) == 0 and not _external(services[svc]):
                reasons.append(f"backend service {svc} has no ready endpoints")
                failures.append(Failure.NO_ENDPOINTS)
        subjects = {component_by_service.get(svc) for svc in backends} - {None}
        subject = next(iter(subjects)) if len(subjects) == 1 else None
        ns = str(namespace) if namespace else None
        if not backends:
            out.append(
                CheckResult(
                    check,
                    kind,
                    target,
                    Health.DEGRADED,
                    "no backends",
                    subject,
                    failure=Failure.NO_BACKENDS,
                    name=name,
                    namespace=ns,
                )
            )
        elif reasons:
            health = Health.DOWN if len(reasons) == len(backends) else Health.DEGRADED
            out.append(
                CheckResult(
                    check,
                    kind,
                    target,
                    health,
                    f"{len(backends) - len(reasons)}/{len(backends)} backends serving",
                    subject,
                    tuple(reasons),
                    failure=failures[0],
                    name=name,
                    namespace=ns,
                )
            )
        else:
            out.append(
                CheckResult(
                    check,
                    kind,
                    target,
                    Health.OK,
                    f"{len(backends)} backend(s) serving",
                    subject,
                    name=name,
                    namespace=ns,
                )
            )
    return out
