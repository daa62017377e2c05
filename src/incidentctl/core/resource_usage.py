"""What ``kubectl top pods``, ``kubectl top nodes`` and ``kubectl describe`` tell an experienced responder, read
from the API's JSON: usage against each container's requests and limits, OOM kills and restarts, and nodes under
pressure. Pure functions over the objects as the API returns them (pods, nodes, PodMetrics, NodeMetrics).

A quantity that cannot be read is never taken as zero: the container (or node) carries the problem, and its
percentages are unknown rather than "fine".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from incidentctl.core.quantity import QuantityError, parse_quantity
from incidentctl.core.times import parse_rfc3339_or_none

JSON = Mapping[str, Any]

#: Memory at or above this share of the limit is a finding: the kernel OOM-kills at the limit, and a container
#: that grows does not stay at 90 % for long.
MEMORY_NEAR_LIMIT = Decimal("0.9")
#: CPU at or above this share of the limit is throttled by the CFS quota for part of every period (latency).
CPU_NEAR_LIMIT = Decimal("0.9")
#: A node whose pods use this share of its allocatable memory or CPU is about to evict or starve them.
NODE_NEAR_ALLOCATABLE = Decimal("0.9")

#: Node conditions that are trouble when True (the kubelet's words).
PRESSURE_CONDITIONS = ("MemoryPressure", "DiskPressure", "PIDPressure")


@dataclass(frozen=True)
class Termination:
    """A container's last exit (``lastState.terminated``): why and when."""

    reason: str
    exit_code: int | None
    finished_at: datetime | None

    @property
    def oom_killed(self) -> bool:
        return self.reason == "OOMKilled"


@dataclass(frozen=True)
class Amount:
    """One resource of one container: usage, request and limit, in base units; None where absent or unreadable."""

    usage: Decimal | None = None
    request: Decimal | None = None
    limit: Decimal | None = None

    @property
    def of_limit(self) -> Decimal | None:
        return _ratio(self.usage, self.limit)

    @property
    def of_request(self) -> Decimal | None:
        return _ratio(self.usage, self.request)


@dataclass(frozen=True)
class ContainerResources:
    pod: str
    container: str
    #: The runbook component (or datastore) the pod belongs to.
    component: str
    node: str | None
    cpu: Amount
    memory: Amount
    restarts: int
    #: "Running", "CrashLoopBackOff", "ContainerCreating", ...
    state: str
    last_termination: Termination | None
    #: Whether the last exit falls within the window asked about (a restart last week is history, not a crash).
    recent_exit: bool
    #: Whether metrics.k8s.io had this container (a container that is not running has no usage).
    measured: bool
    #: Quantities that could not be read, one line each ("limits.memory: '1Gb' is not a quantity ...").
    problems: tuple[str, ...] = ()

    @property
    def near_memory_limit(self) -> bool:
        ratio = self.memory.of_limit
        return ratio is not None and ratio >= MEMORY_NEAR_LIMIT

    @property
    def near_cpu_limit(self) -> bool:
        ratio = self.cpu.of_limit
        return ratio is not None and ratio >= CPU_NEAR_LIMIT

    @property
    def oom_killed_recently(self) -> bool:
        return self.recent_exit and self.last_termination is not None and self.last_termination.oom_killed


@dataclass(frozen=True)
class NodeResources:
    name: str
    #: The Ready condition's status: "True", "False" or "Unknown" (a node that stopped posting status).
    ready: str
    #: Conditions in trouble: MemoryPressure, DiskPressure, PIDPressure (True), with the kubelet's message.
    pressures: tuple[tuple[str, str], ...]
    cpu: Amount
    memory: Amount
    measured: bool
    problems: tuple[str, ...] = ()

    @property
    def not_ready(self) -> bool:
        return self.ready != "True"

    @property
    def near_allocatable(self) -> bool:
        return any(r is not None and r >= NODE_NEAR_ALLOCATABLE for r in (self.cpu.of_limit, self.memory.of_limit))


def _ratio(part: Decimal | None, whole: Decimal | None) -> Decimal | None:
    if part is None or whole is None or whole <= 0:
        return None
    return part / whole


def _quantity(value: Any, what: str, problems: list[str]) -> Decimal | None:
    if value is None:
        return None
    try:
        return parse_quantity(value)
    except QuantityError as e:
        problems.append(f"{what}: {e}")
        return None


def container_resources(
    pod: JSON,
    component: str,
    metrics: JSON | None,
    *,
    now: datetime,
    window: timedelta,
) -> list[ContainerResources]:
    """Each container of a pod, its usage (from the pod's PodMetrics, or None) against its requests and limits."""
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    usages = {c.get("name"): c.get("usage") or {} for c in (metrics or {}).get("containers") or []}
    statuses = {c.get("name"): c for c in status.get("containerStatuses") or []}
    out: list[ContainerResources] = []
    for container in spec.get("containers") or []:
        name = str(container.get("name"))
        resources = container.get("resources") or {}
        requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
        usage = usages.get(name)
        problems: list[str] = []
        amounts = {}
        for resource in ("cpu", "memory"):
            # a limit without a request gets the limit as its request, as the API server defaults it
            limit = _quantity(limits.get(resource), f"limits.{resource}", problems)
            request = _quantity(requests.get(resource, limits.get(resource)), f"requests.{resource}", problems)
            used = _quantity((usage or {}).get(resource), f"usage.{resource}", problems) if usage else None
            amounts[resource] = Amount(used, request, limit)
        cs = statuses.get(name) or {}
        state = cs.get("state") or {}
        word = (
            "Running"
            if "running" in state
            else str((state.get("waiting") or {}).get("reason") or (state.get("terminated") or {}).get("reason") or "")
        ) or "Unknown"
        last = (cs.get("lastState") or {}).get("terminated")
        current_exit = state.get("terminated")
        termination = _termination(current_exit or last)
        recent = termination is not None and (
            termination.finished_at is None or now - termination.finished_at <= window
        )
        out.append(
            ContainerResources(
                pod=str(meta.get("name")),
                container=name,
                component=component,
                node=spec.get("nodeName"),
                cpu=amounts["cpu"],
                memory=amounts["memory"],
                restarts=int(cs.get("restartCount") or 0),
                state=word,
                last_termination=termination,
                recent_exit=recent,
                measured=usage is not None,
                problems=tuple(problems),
            )
        )
    return out


def _termination(terminated: JSON | None) -> Termination | None:
    if not terminated:
        return None
    code = terminated.get("exitCode")
    return Termination(
        reason=str(terminated.get("reason") or "Error"),
        exit_code=int(code) if isinstance(code, int) else None,
        finished_at=parse_rfc3339_or_none(terminated.get("finishedAt")),
    )


def node_resources(node: JSON, metrics: JSON | None) -> NodeResources:
    """A node's conditions, and its usage (NodeMetrics) against its allocatable, as ``kubectl top node`` divides."""
    meta = node.get("metadata") or {}
    status = node.get("status") or {}
    conditions = {c.get("type"): c for c in status.get("conditions") or []}
    ready = str((conditions.get("Ready") or {}).get("status") or "Unknown")
    pressures = tuple(
        (kind, str(conditions[kind].get("message") or conditions[kind].get("reason") or ""))
        for kind in PRESSURE_CONDITIONS
        if kind in conditions and conditions[kind].get("status") == "True"
    )
    allocatable = status.get("allocatable") or {}
    usage = (metrics or {}).get("usage") if metrics is not None else None
    problems: list[str] = []
    amounts = {
        resource: Amount(
            usage=_quantity((usage or {}).get(resource), f"usage.{resource}", problems) if usage else None,
            limit=_quantity(allocatable.get(resource), f"allocatable.{resource}", problems),
        )
        for resource in ("cpu", "memory")
    }
    return NodeResources(
        name=str(meta.get("name")),
        ready=ready,
        pressures=pressures,
        cpu=amounts["cpu"],
        memory=amounts["memory"],
        measured=usage is not None,
        problems=tuple(problems),
    )


def by_name(items: Sequence[JSON]) -> dict[str, JSON]:
    """Metrics items by object name (PodMetrics and NodeMetrics are named as the pod or node they measure)."""
    return {str((i.get("metadata") or {}).get("name")): i for i in items}
