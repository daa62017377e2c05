"""How ``investigate resources`` looks: ``kubectl top``'s columns with the limits beside them, then the findings;
and the ``-o json`` document (kind ``InvestigateResources``).

Pod, node and condition messages are cluster text: one line each, through ``core.text``, never as rich markup.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from pydantic import Field

from incidentctl.core.quantity import format_cpu, format_memory
from incidentctl.core.text import one_line
from incidentctl.core.times import format_percent
from incidentctl.phases.investigate.resources import MetricsStatus
from incidentctl.render.output_model import OutputModel, UtcTime

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from rich.console import Console

    from incidentctl.core.resource_usage import Amount
    from incidentctl.phases.investigate.base import Finding
    from incidentctl.phases.investigate.resources import ResourcesResult


class FindingOutput(OutputModel):
    """One line of the summary: its rank (CRASHES, RESOURCE_PRESSURE, EVENTS, ...) and whether it is a problem."""

    rank: str
    text: str
    problem: bool


class AmountOutput(OutputModel):
    """Usage against request and limit: CPU in cores, memory in bytes (a node's limit is its allocatable)."""

    usage: float | None
    request: float | None
    limit: float | None
    of_request: float | None = Field(description="usage / request (1.0 = at the request); null when unknown.")
    of_limit: float | None = Field(description="usage / limit (1.0 = at the limit); null when unknown.")


class TerminationOutput(OutputModel):
    reason: str
    exit_code: int | None
    finished_at: UtcTime | None
    oom_killed: bool


class ContainerOutput(OutputModel):
    pod: str
    container: str
    component: str
    node: str | None
    state: str
    restarts: int
    last_termination: TerminationOutput | None
    recent_exit: bool = Field(description="The last exit falls within the window asked about.")
    oom_killed_recently: bool
    near_memory_limit: bool
    near_cpu_limit: bool
    measured: bool = Field(description="metrics.k8s.io had usage for it (false: no metrics, or not running).")
    cpu: AmountOutput
    memory: AmountOutput
    problems: list[str] = Field(description="Quantities that could not be read.")


class PressureOutput(OutputModel):
    condition: str
    message: str


class NodeOutput(OutputModel):
    name: str
    ready: str
    not_ready: bool
    pressures: list[PressureOutput]
    measured: bool
    cpu: AmountOutput
    memory: AmountOutput
    problems: list[str]


class MetricsOutput(OutputModel):
    status: MetricsStatus
    message: str | None


class InvestigateResourcesOutput(OutputModel):
    """investigate resources: pod and node usage against requests, limits and allocatable; restarts, OOM kills,
    nodes under pressure."""

    namespace: str
    taken_at: UtcTime
    window_seconds: float
    pod_metrics: MetricsOutput
    node_metrics: MetricsOutput
    nodes_error: str | None
    missing: list[str]
    containers: list[ContainerOutput]
    nodes: list[NodeOutput]
    findings: list[FindingOutput]


def finding_outputs(findings: Sequence[Finding]) -> list[FindingOutput]:
    return [FindingOutput(rank=f.rank.name, text=f.text, problem=f.problem) for f in findings]


def _amount(a: Amount) -> AmountOutput:
    return AmountOutput(usage=a.usage, request=a.request, limit=a.limit, of_request=a.of_request, of_limit=a.of_limit)


def resources_data(result: ResourcesResult) -> InvestigateResourcesOutput:
    containers = [
        ContainerOutput(
            pod=c.pod,
            container=c.container,
            component=c.component,
            node=c.node,
            state=c.state,
            restarts=c.restarts,
            last_termination=TerminationOutput(
                reason=c.last_termination.reason,
                exit_code=c.last_termination.exit_code,
                finished_at=c.last_termination.finished_at,
                oom_killed=c.last_termination.oom_killed,
            )
            if c.last_termination is not None
            else None,
            recent_exit=c.recent_exit,
            oom_killed_recently=c.oom_killed_recently,
            near_memory_limit=c.near_memory_limit,
            near_cpu_limit=c.near_cpu_limit,
            measured=c.measured,
            cpu=_amount(c.cpu),
            memory=_amount(c.memory),
            problems=list(c.problems),
        )
        for c in result.containers
    ]
    nodes = [
        NodeOutput(
            name=n.name,
            ready=n.ready,
            not_ready=n.not_ready,
            pressures=[PressureOutput(condition=k, message=m) for k, m in n.pressures],
            measured=n.measured,
            cpu=_amount(n.cpu),
            memory=_amount(n.memory),
            problems=list(n.problems),
        )
        for n in result.nodes
    ]
    return InvestigateResourcesOutput(
        namespace=result.namespace,
        taken_at=result.taken_at,
        window_seconds=result.window.total_seconds(),
        pod_metrics=MetricsOutput(status=result.pod_metrics.status, message=result.pod_metrics.message),
        node_metrics=MetricsOutput(status=result.node_metrics.status, message=result.node_metrics.message),
        nodes_error=result.nodes_error,
        missing=list(result.missing),
        containers=containers,
        nodes=nodes,
        findings=finding_outputs(result.findings()),
    )


# --- the table --------------------------------------------------------------------------------------------------


def _usage(a: Amount, fmt: Callable[[Decimal], str]) -> str:
    return fmt(a.usage) if a.usage is not None else "-"


def print_findings(console: Console, findings: Sequence[Finding]) -> None:
    """The findings, problems first as they rank, each one line of literal text."""
    from rich.text import Text

    for f in sorted(findings, key=lambda f: (not f.problem, f.rank)):
        mark, style = ("!", "bold red") if f.problem else ("-", "dim")
        console.print(Text(f"{mark} {one_line(f.text)}", style=style))


#: From this terminal width on, the limits and the shares of the requests get columns of their own.
WIDE = 118


def _pct(ratio: Decimal | None) -> str:
    return format_percent(float(ratio)) if ratio is not None else "-"


def resources_table(console: Console, result: ResourcesResult) -> None:
    """``kubectl top pods`` with each container's usage as a share of its limit (and, on a wide terminal, the
    limit and the share of the request), ``kubectl top nodes`` with the nodes' conditions, then the findings.

    Names are never shortened (a responder copies them into the next command); the state column wraps instead.
    """
    from rich.table import Table
    from rich.text import Text

    wide = console.width >= WIDE
    several = {c.pod for c in result.containers if sum(1 for o in result.containers if o.pod == c.pod) > 1}
    names = [one_line(f"{c.pod}/{c.container}" if c.pod in several else c.pod) for c in result.containers]
    pods = Table(title=f"Pods in {one_line(result.namespace)}", title_justify="left", box=None, pad_edge=False)
    pods.add_column("POD", no_wrap=True, min_width=max((len(n) for n in names), default=3))
    for resource in ("CPU", "MEMORY"):
        pods.add_column(resource, justify="right", no_wrap=True)
        if wide:
            pods.add_column("LIMIT", justify="right", no_wrap=True)
        pods.add_column("%LIM", justify="right", no_wrap=True)
        if wide:
            pods.add_column("%REQ", justify="right", no_wrap=True)
    pods.add_column("RESTARTS", justify="right", no_wrap=True)
    pods.add_column("STATE", ratio=1, overflow="fold")
    for name, c in zip(names, result.containers, strict=True):
        term = c.last_termination
        state = c.state if term is None else f"{c.state} (last: {term.reason}, exit {term.exit_code})"
        cells: list[str | Text] = [Text(name)]
        for amount, fmt, near in (
            (c.cpu, format_cpu, c.near_cpu_limit),
            (c.memory, format_memory, c.near_memory_limit),
        ):
            cells.append(_usage(amount, fmt))
            if wide:
                cells.append(fmt(amount.limit) if amount.limit is not None else "none")
            cells.append(Text(_pct(amount.of_limit), style="bold red" if near else ""))
            if wide:
                cells.append(_pct(amount.of_request))
        cells.append(Text(str(c.restarts), style="bold red" if c.recent_exit else ""))
        cells.append(Text(one_line(state), style="bold red" if c.oom_killed_recently else ""))
        pods.add_row(*cells)
    console.print(pods)
    if result.nodes:
        nodes = Table(title="Nodes", title_justify="left", box=None, pad_edge=False)
        nodes.add_column("NODE", no_wrap=True, min_width=max(len(one_line(n.name)) for n in result.nodes))
        nodes.add_column("READY", no_wrap=True)
        for resource in ("CPU", "MEMORY"):
            nodes.add_column(resource, justify="right", no_wrap=True)
            if wide:
                nodes.add_column("ALLOCATABLE", justify="right", no_wrap=True)
            nodes.add_column("%", justify="right", no_wrap=True)
        nodes.add_column("PRESSURE", ratio=1, overflow="fold")
        for n in result.nodes:
            row: list[str | Text] = [Text(one_line(n.name)), Text(n.ready, style="bold red" if n.not_ready else "")]
            for amount, fmt in ((n.cpu, format_cpu), (n.memory, format_memory)):
                row.append(_usage(amount, fmt))
                if wide:
                    row.append(fmt(amount.limit) if amount.limit is not None else "-")
                row.append(_pct(amount.of_limit))
            row.append(Text(", ".join(k for k, _ in n.pressures) or "-", style="bold red" if n.pressures else ""))
            nodes.add_row(*row)
        console.print()
        console.print(nodes)
    console.print()
    print_findings(console, result.findings())
