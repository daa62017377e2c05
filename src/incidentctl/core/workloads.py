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

from incidentctl.core.checks import CheckResult, Health
from incidentctl.core.times import format_duration, format_elapsed, parse_rfc3339_or_none

JSON = Mapping[str, Any]

#: Waiting reasons that mean the container will not come up by itself.
BAD_WAITING = {
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
}


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
class PodState:
    name: str
    ready: bool
    phase: str
    #: What is wrong, in kubectl's words: "CrashLoopBackOff", "OOMKilled", "Pending: unschedulable ...".
    problems: tuple[str, ...]
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


def pod_state(pod: JSON, *, now: datetime, window: timedelta) -> PodState:
    meta, status = _meta(pod), _status(pod)
    phase = str(status.get("phase") or "Unknown")
    problems: list[str] = []
    if status.get("reason") == "Evicted":
        problems.append(f"Evicted: {(status.get('message') or 'the node ran short of resources').strip()}")
    conditions = {c.get("type"): c for c in status.get("conditions") or []}
    if phase == "Pending":
        scheduled = conditions.get("PodScheduled") or {}
        if scheduled.get("status") == "False":
            why = scheduled.get("message") or scheduled.get("reason") or "not scheduled"
            problems.append(f"Pending: {scheduled.get('reason') or 'Unschedulable'} ({why})")
    if phase == "Failed" and status.get("reason") != "Evicted":
        problems.append(f"Failed: {status.get('reason') or status.get('message') or 'the pod failed'}")
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
        if reason in BAD_WAITING:
            text = str(reason)
            if last.get("reason"):
                text += f" (last exit: {last.get('reason')}, code {last.get('exitCode')})"
            problems.append(text)
        elif reason and phase != "Pending":
            problems.append(str(reason))
        elif stopped.get("reason") and phase == "Running":
            # kubectl's STATUS column in the moment between a crash and the back-off: "OOMKilled", "Error".
            problems.append(f"{stopped.get('reason')} (exit {stopped.get('exitCode')})")
        if last.get("reason") == "OOMKilled" and not any("OOMKilled" in p for p in problems):
            problems.append(f"OOMKilled (exit {last.get('exitCode', 137)})")
        finished = parse_time(last.get("finishedAt"))
        if finished is not None and now - finished <= window and count:
            recent += count if started_in_window else 1
            last_restart = finished if last_restart is None else max(last_restart, finished)
    ready_condition = (conditions.get("Ready") or {}).get("status") == "True"
    if not ready_condition and phase == "Running" and not problems:
        problems.append("not ready (readiness probe failing)")
    return PodState(
        name=str(meta.get("name")),
        ready=ready_condition,
        phase=phase,
        problems=tuple(problems),
        restarts=restarts,
        recent_restarts=recent,
        last_restart=last_restart,
    )


def pods_of(selector: JSON | None, pods: Sequence[JSON]) -> list[JSON]:
    return [p for p in pods if selector_matches(selector, _meta(p).get("labels"))]


def deployment_check(component: str, dep: JSON | None, name: str) -> CheckResult:
    check, target = f"deployment:{component}", f"deployment/{name}"
    if dep is None:
        return CheckResult(check, "deployment", target, Health.DOWN, f"deployment {name} not found", component)
    spec, status, meta = dep.get("spec") or {}, _status(dep), _meta(dep)
    desired = int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1)
    updated = int(status.get("updatedReplicas") or 0)
    ready = int(status.get("readyReplicas") or 0)
    available = int(status.get("availableReplicas") or 0)
    conditions = {c.get("type"): c for c in status.get("conditions") or []}
    progressing = conditions.get("Progressing") or {}
    observed = {
        "desired": desired,
        "updated": updated,
        "ready": ready,
        "available": available,
        "revision": (meta.get("annotations") or {}).get("deployment.kubernetes.io/revision"),
    }
    summary = f"{ready}/{desired} ready, {updated} up-to-date, {available} available"
    reasons: list[str] = []
    health = Health.OK
    if desired == 0:
        health, summary = Health.DOWN, "scaled to 0 replicas"
    elif available == 0:
        health = Health.DOWN
        reasons.append("no available replica")
    elif ready < desired or available < desired:
        health = Health.DEGRADED
    if progressing.get("reason") == "ProgressDeadlineExceeded":
        health = Health.worst([health, Health.DEGRADED])
        reasons.append(f"rollout stuck: {progressing.get('message') or 'progress deadline exceeded'}")
    elif spec.get("paused"):
        reasons.append("rollout paused")
    elif updated < desired or int(meta.get("generation") or 0) > int(status.get("observedGeneration") or 0):
        reasons.append(f"rolling out: {updated}/{desired} updated")
    elif int(status.get("replicas") or 0) > updated:
        # kubectl rollout status: "Waiting for deployment rollout to finish: 1 old replicas are pending termination"
        reasons.append(f"rolling out: {int(status.get('replicas') or 0) - updated} old replica(s) pending termination")
    return CheckResult(check, "deployment", target, health, summary, component, tuple(reasons), observed=observed)


def pods_check(component: str, pods: Sequence[JSON], *, now: datetime, window: timedelta) -> CheckResult:
    check, target = f"pods:{component}", f"pods of {component}"
    states = [pod_state(p, now=now, window=window) for p in pods]
    if not states:
        return CheckResult(check, "pods", target, Health.DOWN, "no pods", component)
    serving = sum(s.serving for s in states)
    reasons = []
    for s in states:
        bits = list(s.problems)
        if s.recent_restarts and s.recent_restarts == s.restarts:
            bits.append(f"{s.recent_restarts} restart(s) in the last {format_duration(window)}")
        elif s.last_restart is not None:
            ago = format_elapsed(max(now - s.last_restart, timedelta(0)))
            bits.append(f"restarted {ago} ago ({s.restarts} restarts in total)")
        if bits:
            reasons.append(f"{s.name}: {', '.join(bits)}")
    health = Health.DOWN if serving == 0 else (Health.DEGRADED if reasons or serving < len(states) else Health.OK)
    summary = f"{serving}/{len(states)} pods ready"
    worst = sorted({_problem_kind(p) for s in states for p in s.problems})
    if worst:
        summary += f" ({', '.join(worst)})"
    observed = {
        "pods": len(states),
        "ready": serving,
        "restarts": sum(s.restarts for s in states),
        "recent_restarts": sum(s.recent_restarts for s in states),
    }
    return CheckResult(check, "pods", target, health, summary, component, tuple(reasons), observed=observed)


def ready_addresses(endpoints: JSON | None) -> int:
    if not endpoints:
        return 0
    return sum(len(subset.get("addresses") or []) for subset in endpoints.get("subsets") or [])


def service_check(component: str, name: str, service: JSON | None, endpoints: JSON | None) -> CheckResult:
    check, target = f"service:{component}", f"service/{name}"
    if service is None:
        return CheckResult(check, "service", target, Health.DOWN, f"service {name} not found", component)
    ready = ready_addresses(endpoints)
    if ready == 0:
        return CheckResult(
            check, "service", target, Health.DOWN, "no ready endpoints", component, observed={"ready_endpoints": 0}
        )
    return CheckResult(
        check,
        "service",
        target,
        Health.OK,
        f"{ready} ready endpoint(s)",
        component,
        observed={"ready_endpoints": ready},
    )


def ingress_checks(
    ingresses: Sequence[JSON],
    services: Mapping[str, JSON],
    endpoints: Mapping[str, JSON],
    component_by_service: Mapping[str, str],
) -> list[CheckResult]:
    """Every backend of every ingress must exist and have someone behind it."""
    out = []
    for ing in ingresses:
        name = str(_meta(ing).get("name"))
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
        for svc in backends:
            if svc not in services:
                reasons.append(f"backend service {svc} not found")
            elif ready_addresses(endpoints.get(svc)) == 0:
                reasons.append(f"backend service {svc} has no ready endpoints")
        subjects = {component_by_service.get(svc) for svc in backends} - {None}
        subject = next(iter(subjects)) if len(subjects) == 1 else None
        if not backends:
            out.append(
                CheckResult(f"ingress:{name}", "ingress", f"ingress/{name}", Health.DEGRADED, "no backends", subject)
            )
        elif reasons:
            health = Health.DOWN if len(reasons) == len(backends) else Health.DEGRADED
            out.append(
                CheckResult(
                    f"ingress:{name}",
                    "ingress",
                    f"ingress/{name}",
                    health,
                    f"{len(backends) - len(reasons)}/{len(backends)} backends serving",
                    subject,
                    tuple(reasons),
                )
            )
        else:
            out.append(
                CheckResult(
                    f"ingress:{name}",
                    "ingress",
                    f"ingress/{name}",
                    Health.OK,
                    f"{len(backends)} backend(s) serving",
                    subject,
                )
            )
    return out


def _problem_kind(problem: str) -> str:
    """The head of a problem for the summary: "CrashLoopBackOff", "Pending", "not ready"."""
    return problem.split(" (", maxsplit=1)[0].split(":", maxsplit=1)[0]
