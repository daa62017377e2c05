"""investigate resources: ``kubectl top pods`` and ``kubectl top nodes`` against requests and limits, with the
restarts, OOM kills and node conditions that ``kubectl describe`` would show, for the runbook's components.

Five reads run at once (pods, deployments, nodes, and metrics.k8s.io for pods and for nodes). Only pods and
deployments are needed to say anything; a metrics API that is absent (no metrics-server: 404) or refused (403)
is said as a problem and the rest is still shown, so an OOM kill is never hidden behind a missing top. Nodes are
cluster-scoped, and a namespace-bound on-call user is often refused them: that too is said, not skipped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import Enum
from typing import IO, TYPE_CHECKING, Any

from incidentctl.core.quantity import format_cpu, format_memory
from incidentctl.core.resource_usage import (
    NODE_NEAR_ALLOCATABLE,
    ContainerResources,
    NodeResources,
    by_name,
    container_resources,
    node_resources,
)
from incidentctl.core.times import format_duration, format_percent, format_rfc3339
from incidentctl.core.workloads import selector_matches
from incidentctl.errors import IncidentctlError, UsageError
from incidentctl.exitcodes import ExitCode
from incidentctl.phases.checks import missing_namespace
from incidentctl.phases.context import PhaseContext
from incidentctl.phases.investigate.base import Evidence, Finding, Rank
from incidentctl.phases.investigate.saving import EvidenceRequest, Kept, check_incident, keep_view

if TYPE_CHECKING:
    from decimal import Decimal

    from incidentctl.runbook.model import Runbook

JSON = dict[str, Any]

#: What ``kubectl top`` says without metrics-server, and what this view says in its place.
METRICS_ABSENT = "metrics.k8s.io not available: top needs metrics-server"


class MetricsStatus(str, Enum):
    """Whether metrics.k8s.io could be read, as a fact a script can act on."""

    AVAILABLE = "available"
    #: Not served (404: no metrics-server, or its APIService is not registered).
    ABSENT = "absent"
    #: Refused (401/403): RBAC does not let this user read metrics.
    FORBIDDEN = "forbidden"
    #: Any other failure (metrics-server down: 503, a timeout).
    FAILED = "failed"
    #: Not asked (nodes could not be listed, so there was nothing to measure them against).
    SKIPPED = "skipped"


VIEW = "resources"


@dataclass(frozen=True)
class MetricsRead:
    status: MetricsStatus
    #: Why not available, for people (None when it was).
    message: str | None = None


@dataclass(frozen=True)
class ResourcesRequest:
    #: Components (or datastores) by name; empty: every component and datastore of the runbook.
    components: tuple[str, ...] = ()
    #: A container exit within this window counts as a recent crash; older ones are history.
    window: timedelta = timedelta(hours=1)
    #: Where to keep what was looked at (the umbrella passes NO_SAVE: it keeps every view's in one folder).
    evidence: EvidenceRequest = field(default_factory=EvidenceRequest)


@dataclass(frozen=True)
class ResourcesResult:
    """What the resources view saw. Implements :class:`~incidentctl.phases.investigate.base.Section`."""

    namespace: str
    window: timedelta
    taken_at: datetime
    containers: tuple[ContainerResources, ...] = ()
    nodes: tuple[NodeResources, ...] = ()
    pod_metrics: MetricsRead = MetricsRead(MetricsStatus.SKIPPED)
    node_metrics: MetricsRead = MetricsRead(MetricsStatus.SKIPPED)
    #: Why nodes could not be listed (None when they were).
    nodes_error: str | None = None
    #: Components the runbook names that have nothing to look at: "retrieval: deployment retrieval not found".
    missing: tuple[str, ...] = ()
    #: The namespace could not be read at all (pods or deployments refused, the API unreachable).
    cluster_error: IncidentctlError | None = None
    #: The raw material, already redacted: the PodMetrics and NodeMetrics items, the containers' statuses, the
    #: nodes' conditions and allocatable.
    raw: dict[str, Any] = field(default_factory=dict)
    #: Where the evidence went (set by the run function; nothing when the umbrella ran the view).
    kept: Kept = field(default_factory=Kept)

    @property
    def exit_code(self) -> int:
        if self.cluster_error is not None:
            return int(self.cluster_error.exit_code)
        return int(ExitCode.PROBLEMS_FOUND if any(f.problem for f in self.findings()) else ExitCode.OK)

    def findings(self) -> Sequence[Finding]:
        return resource_findings(self)

    def evidence(self) -> Iterable[Evidence]:
        for name in ("pod-metrics", "node-metrics", "containers", "nodes"):
            if name in self.raw:
                yield Evidence(f"resources/{name}.json", _json_writer(self.raw[name]))


def _json_writer(value: Any) -> Callable[[IO[bytes]], None]:
    def write(out: IO[bytes]) -> None:
        out.write(json.dumps(value, indent=2, sort_keys=True).encode())
        out.write(b"\n")

    return write


def run_resources(ctx: PhaseContext, request: ResourcesRequest) -> ResourcesResult:
    """Usage against requests and limits; the raw material kept in the open incident (nothing when the
    namespace could not be read at all)."""
    check_incident(ctx, request.evidence)
    result = _run_resources(ctx, request)
    if result.cluster_error is not None:
        return result
    return replace(result, kept=keep_view(ctx, request.evidence, VIEW, result))


def _run_resources(ctx: PhaseContext, request: ResourcesRequest) -> ResourcesResult:
    """Read everything at once, then judge each container and node."""
    from incidentctl.adapters.kube import KubeError

    namespace = ctx.settings.namespace.value
    selected = _selected(ctx.runbook, request.components)
    try:
        client = ctx.adapters.kube()
    except IncidentctlError as e:
        return ResourcesResult(namespace, request.window, ctx.clock(), cluster_error=e)
    try:
        with ThreadPoolExecutor(max_workers=5, thread_name_prefix="resources") as pool:
            reads = {
                "pods": pool.submit(client.list, "pods", namespace),
                "deployments": pool.submit(client.list, "deployments", namespace),
                "nodes": pool.submit(client.list_nodes),
                "pod-metrics": pool.submit(client.pod_metrics, namespace),
                "node-metrics": pool.submit(client.node_metrics),
            }
            got: dict[str, list[JSON]] = {}
            errors: dict[str, KubeError] = {}
            for name, future in reads.items():
                try:
                    got[name] = future.result()
                except KubeError as e:
                    errors[name] = e
        if not errors.keys() & {"pods", "deployments"} and not got["pods"] and not got["deployments"]:
            missing_ns = missing_namespace(client, namespace)
            if missing_ns is not None:
                errors["pods"] = missing_ns
    finally:
        client.close()
    now = ctx.clock()
    for required in ("pods", "deployments"):
        if required in errors:
            return ResourcesResult(namespace, request.window, now, cluster_error=errors[required])
    pod_metrics = _metrics_read(errors.get("pod-metrics"))
    node_metrics = _metrics_read(errors.get("node-metrics"))
    pods_by_component, missing = _pods_by_component(ctx.runbook, selected, got["pods"], got["deployments"])
    usage = by_name(got.get("pod-metrics", []))
    containers = [
        c
        for component, pods in pods_by_component.items()
        for pod in pods
        for c in container_resources(pod, component, usage.get(pod["metadata"]["name"]), now=now, window=request.window)
    ]
    used_nodes = {c.node for c in containers if c.node}
    nodes: list[NodeResources] = []
    nodes_error = None
    if "nodes" in errors:
        nodes_error = f"nodes not readable: {errors['nodes']}"
        node_metrics = MetricsRead(MetricsStatus.SKIPPED, "nodes could not be listed")
    else:
        node_usage = by_name(got.get("node-metrics", []))
        nodes = [
            node_resources(n, node_usage.get(n["metadata"]["name"]) if "node-metrics" in got else None)
            for n in got["nodes"]
            if n["metadata"]["name"] in used_nodes
        ]
    pod_names = {c.pod for c in containers}
    raw = {
        "pod-metrics": [m for m in got.get("pod-metrics", []) if m["metadata"]["name"] in pod_names],
        "node-metrics": [m for m in got.get("node-metrics", []) if m["metadata"]["name"] in used_nodes],
        "containers": [
            {"pod": p["metadata"]["name"], "component": comp, "status": p.get("status") or {}}
            for comp, pods in pods_by_component.items()
            for p in pods
        ],
        "nodes": [
            {
                "name": n["metadata"]["name"],
                **{k: (n.get("status") or {}).get(k) for k in ("conditions", "allocatable")},
            }
            for n in got.get("nodes", [])
            if n["metadata"]["name"] in used_nodes
        ],
    }
    return ResourcesResult(
        namespace=namespace,
        window=request.window,
        taken_at=now,
        containers=tuple(containers),
        nodes=tuple(sorted(nodes, key=lambda n: n.name)),
        pod_metrics=pod_metrics,
        node_metrics=node_metrics,
        nodes_error=nodes_error,
        missing=tuple(missing),
        raw=ctx.secrets.redact_data(raw),
    )


def _selected(rb: Runbook, names: Sequence[str]) -> list[str]:
    known = [c.name for c in rb.components] + [d.name for d in rb.datastores]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UsageError(f"unknown component {unknown[0]!r}", hint=f"components and datastores: {', '.join(known)}")
    return list(names) or known


def _pods_by_component(
    rb: Runbook, selected: Sequence[str], pods: list[JSON], deployments: list[JSON]
) -> tuple[dict[str, list[JSON]], list[str]]:
    """A component's pods are those its deployment selects; a datastore's is the pod the runbook names."""
    by_deployment = {d["metadata"]["name"]: d for d in deployments}
    by_pod = {p["metadata"]["name"]: p for p in pods}
    out: dict[str, list[JSON]] = {}
    missing: list[str] = []
    for comp in rb.components:
        if comp.name not in selected:
            continue
        dep = by_deployment.get(comp.deployment)
        if dep is None:
            missing.append(f"{comp.name}: deployment {comp.deployment} not found")
            continue
        selector = (dep.get("spec") or {}).get("selector")
        mine = [p for p in pods if selector_matches(selector, (p.get("metadata") or {}).get("labels"))]
        if not mine:
            missing.append(f"{comp.name}: deployment {comp.deployment} has no pods")
        out[comp.name] = sorted(mine, key=lambda p: str(p["metadata"]["name"]))
    for ds in rb.datastores:
        if ds.name not in selected:
            continue
        pod = by_pod.get(ds.pod)
        if pod is None:
            missing.append(f"{ds.name}: pod {ds.pod} not found")
        else:
            out[ds.name] = [pod]
    return out, missing


def _metrics_read(error: Exception | None) -> MetricsRead:
    from incidentctl.adapters.kube import KubeForbidden, KubeNotFound, KubeUnauthorized

    if error is None:
        return MetricsRead(MetricsStatus.AVAILABLE)
    if isinstance(error, KubeNotFound):
        return MetricsRead(MetricsStatus.ABSENT, METRICS_ABSENT)
    if isinstance(error, (KubeForbidden, KubeUnauthorized)):
        return MetricsRead(MetricsStatus.FORBIDDEN, f"metrics.k8s.io refused: {error}")
    return MetricsRead(MetricsStatus.FAILED, f"metrics.k8s.io could not be read: {error}")


# --- findings ---------------------------------------------------------------------------------------------------


def _pct(ratio: Decimal | None) -> str:
    return format_percent(float(ratio)) if ratio is not None else "?"


def _when(value: datetime | None) -> str:
    return format_rfc3339(value) if value is not None else "an unknown time"


def resource_findings(result: ResourcesResult) -> list[Finding]:
    """The summary lines: crashes first (OOM kills, then other recent exits), then pressure, then what is fine."""
    if result.cluster_error is not None:
        return [Finding(Rank.RESOURCE_PRESSURE, f"resources not readable: {result.cluster_error}")]
    out: list[Finding] = []
    crashes = 0
    for c in result.containers:
        where = f"{c.pod}/{c.container}"
        term = c.last_termination
        if c.oom_killed_recently and term is not None:
            crashes += 1
            limit = format_memory(c.memory.limit) if c.memory.limit is not None else "no"
            out.append(
                Finding(
                    Rank.CRASHES,
                    f"{where} OOMKilled at {_when(term.finished_at)} (exit {term.exit_code}, memory limit {limit}); "
                    f"{c.restarts} restarts, now {c.state}",
                )
            )
        elif c.recent_exit and term is not None:
            crashes += 1
            out.append(
                Finding(
                    Rank.CRASHES,
                    f"{where} exited {term.reason} (code {term.exit_code}) at {_when(term.finished_at)}; "
                    f"{c.restarts} restarts, now {c.state}",
                )
            )
    metrics_missing = [
        m.message for m in (result.pod_metrics,) if m.status is not MetricsStatus.AVAILABLE and m.message
    ]
    for c in result.containers:
        where = f"{c.pod}/{c.container}"
        if result.pod_metrics.status is MetricsStatus.AVAILABLE and c.state == "Running" and not c.measured:
            out.append(Finding(Rank.RESOURCE_PRESSURE, f"{where} is running but metrics.k8s.io has no usage for it"))
        for problem in c.problems:
            out.append(Finding(Rank.RESOURCE_PRESSURE, f"{where}: cannot read {problem}"))
        if c.near_memory_limit and c.memory.usage is not None and c.memory.limit is not None:
            out.append(
                Finding(
                    Rank.RESOURCE_PRESSURE,
                    f"{where} memory {format_memory(c.memory.usage)} of its {format_memory(c.memory.limit)} limit "
                    f"({_pct(c.memory.of_limit)}): near an OOM kill",
                )
            )
        if c.near_cpu_limit and c.cpu.usage is not None and c.cpu.limit is not None:
            out.append(
                Finding(
                    Rank.RESOURCE_PRESSURE,
                    f"{where} CPU {format_cpu(c.cpu.usage)} of its {format_cpu(c.cpu.limit)} limit "
                    f"({_pct(c.cpu.of_limit)}): throttled",
                )
            )
    for n in result.nodes:
        if n.not_ready:
            out.append(Finding(Rank.RESOURCE_PRESSURE, f"node {n.name} NotReady (Ready={n.ready})"))
        for kind, message in n.pressures:
            out.append(Finding(Rank.RESOURCE_PRESSURE, f"node {n.name} {kind}: {message}"))
        for problem in n.problems:
            out.append(Finding(Rank.RESOURCE_PRESSURE, f"node {n.name}: cannot read {problem}"))
        for word, amount, fmt in (("memory", n.memory, format_memory), ("CPU", n.cpu, format_cpu)):
            ratio = amount.of_limit
            if ratio is not None and ratio >= NODE_NEAR_ALLOCATABLE and amount.usage is not None and amount.limit:
                out.append(
                    Finding(
                        Rank.RESOURCE_PRESSURE,
                        f"node {n.name} {word} {fmt(amount.usage)} of {fmt(amount.limit)} allocatable ({_pct(ratio)})",
                    )
                )
    for message in metrics_missing:
        out.append(Finding(Rank.RESOURCE_PRESSURE, f"{message}; usage against requests and limits not shown"))
    if result.nodes_error is not None:
        out.append(Finding(Rank.RESOURCE_PRESSURE, result.nodes_error))
    elif (
        result.node_metrics.status is not MetricsStatus.AVAILABLE
        and result.node_metrics.message
        and result.node_metrics.message not in metrics_missing
    ):
        out.append(Finding(Rank.RESOURCE_PRESSURE, f"node usage not shown: {result.node_metrics.message}"))
    for line in result.missing:
        out.append(Finding(Rank.OTHER, line))
    if not crashes and result.containers:
        out.append(
            Finding(Rank.CRASHES, f"no container exited in the last {format_duration(result.window)}", problem=False)
        )
    if not any(f.problem and f.rank is Rank.RESOURCE_PRESSURE for f in out) and result.containers:
        measured = sum(1 for c in result.containers if c.measured)
        out.append(
            Finding(
                Rank.RESOURCE_PRESSURE,
                f"{measured} running containers within their limits; {len(result.nodes)} nodes without pressure",
                problem=False,
            )
        )
    return out
