"""``investigate resources`` against the sandbox's scenarios: OOM kills with their time, memory near the limit,
CPU at its limit, nodes under pressure, and a metrics API that is absent or refused (said, never "fine"), each
held to what real ``kubectl top`` and ``kubectl get pods`` say about the same cluster."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from tests.conftest import Invoke
from tests.phases.conftest import Site, run
from tests.phases.test_output_schemas import document

from incidentctl.adapters.kube import KubeClient
from incidentctl.cli.state import AppState
from incidentctl.core.quantity import format_cpu, format_memory
from incidentctl.sandbox import world
from incidentctl.sandbox.faults import Fault
from incidentctl.sandbox.testing import kubectl_for

pytestmark = pytest.mark.integration

ABSENT = "metrics.k8s.io not available: top needs metrics-server"


def resources(invoke: Invoke, site: Site, *args: str) -> tuple[int, dict[str, Any]]:
    """The command at the cluster's time (the sandbox's clock is frozen; the window counts back from it)."""
    state = AppState(clock=site.sandbox.now)
    result = invoke(site.args("investigate", "resources", "-o", "json", *args), state=state)
    assert result.exit_code in (0, 3), result.output
    return result.exit_code, document(result, "InvestigateResources")["data"]


def texts(data: dict[str, Any], *, problem: bool = True) -> list[str]:
    return [f["text"] for f in data["findings"] if f["problem"] is problem]


def kube_pods(site: Site, tmp_path: Any) -> list[dict[str, Any]]:
    out = kubectl_for(site.sandbox, tmp_path)("get", "pods", "-o", "json")
    items: list[dict[str, Any]] = json.loads(out.stdout)["items"]
    return items


def test_memory_leak_names_every_oom_kill_with_its_time_as_kubectl_has_it(
    invoke: Invoke, site_for: Callable[..., Site], tmp_path: Any
) -> None:
    site = site_for("memory-leak")
    code, data = resources(invoke, site)
    assert code == 3
    killed = {
        p["metadata"]["name"]: cs["lastState"]["terminated"]["finishedAt"]
        for p in kube_pods(site, tmp_path)
        for cs in p["status"].get("containerStatuses", [])
        if (cs.get("lastState") or {}).get("terminated", {}).get("reason") == "OOMKilled"
    }
    assert len(killed) == 3
    crashes = [f for f in data["findings"] if f["rank"] == "CRASHES" and f["problem"]]
    for pod, when in killed.items():
        assert any(f["text"].startswith(f"{pod}/retrieval OOMKilled at {when}") for f in crashes), crashes
    rows = {c["pod"]: c for c in data["containers"]}
    for pod, when in killed.items():
        assert rows[pod]["oomKilledRecently"] is True
        assert rows[pod]["lastTermination"] == {
            "reason": "OOMKilled",
            "exitCode": 137,
            "finishedAt": when,
            "oomKilled": True,
        }
        assert rows[pod]["memory"]["limit"] == 1024**3
    assert {c["component"] for c in data["containers"]} == {"gateway", "retrieval", "synthesis", "postgres", "redis"}


def test_a_container_near_its_memory_limit_is_a_finding_with_the_numbers_kubectl_top_shows(
    invoke: Invoke, site_for: Callable[..., Site], tmp_path: Any
) -> None:
    site = site_for("memory-leak")
    sb = site.sandbox
    limit = 1024**3
    for _ in range(200):  # simulated time, until a restarted retrieval container has grown to 90 % of its limit
        sb.advance(5)
        near = [
            m["metadata"]["name"]
            for m in sb.sim.pod_metrics(world.NAMESPACE)
            for c in m["containers"]
            if c["name"] == "retrieval" and int(c["usage"]["memory"].removesuffix("Ki")) * 1024 >= 0.9 * limit
        ]
        if near:
            break
    assert near, "the leak never brought a running retrieval container near its limit"
    code, data = resources(invoke, site)
    assert code == 3
    row = next(c for c in data["containers"] if c["pod"] == near[0])
    assert row["nearMemoryLimit"] is True
    assert row["memory"]["ofLimit"] == pytest.approx(row["memory"]["usage"] / limit)
    assert row["memory"]["ofRequest"] == pytest.approx(row["memory"]["usage"] / (512 * 1024**2))
    assert any(t.startswith(f"{near[0]}/retrieval memory ") and "near an OOM kill" in t for t in texts(data))
    top = kubectl_for(sb, tmp_path)("top", "pods", "--containers", "--no-headers")
    assert top.returncode == 0, top.stderr
    by_container = {(c["pod"], c["container"]): c for c in data["containers"]}
    shown = 0
    for line in top.stdout.splitlines():
        pod, container, cpu, memory = line.split()
        ours = by_container[(pod, container)]
        assert format_cpu(Decimal(str(ours["cpu"]["usage"]))) == cpu
        assert format_memory(Decimal(str(ours["memory"]["usage"]))) == memory
        shown += 1
    assert shown == sum(1 for c in data["containers"] if c["measured"])


def test_traffic_spike_shows_the_gateway_cpu_at_its_limit(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    code, data = resources(invoke, site_for("traffic-spike"), "gateway")
    assert code == 3
    assert {c["component"] for c in data["containers"]} == {"gateway"}
    assert all(c["nearCpuLimit"] for c in data["containers"])
    throttled = [t for t in texts(data) if "CPU" in t and t.endswith("throttled")]
    assert len(throttled) == len(data["containers"]) == 3
    assert all("1000m limit (100%)" in t for t in throttled)


def test_bad_deploy_crashes_are_exits_with_their_code(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    code, data = resources(invoke, site_for("bad-deploy"), "synthesis")
    assert code == 3
    crashed = [t for t in texts(data) if "exited Error (code 139)" in t]
    assert len(crashed) == 2
    assert all("now CrashLoopBackOff" in t for t in crashed)


def test_nodes_under_pressure_and_not_ready_are_findings(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    site.sandbox.node_condition(world.NODES[0], "MemoryPressure")
    site.sandbox.node_condition(world.NODES[1], "DiskPressure")
    site.sandbox.node_condition(world.NODES[2], "Ready", "False")
    code, data = resources(invoke, site)
    assert code == 3
    problems = texts(data)
    assert f"node {world.NODES[0]} MemoryPressure: kubelet has insufficient memory available" in problems
    assert f"node {world.NODES[1]} DiskPressure: kubelet has disk pressure" in problems
    assert f"node {world.NODES[2]} NotReady (Ready=False)" in problems
    nodes = {n["name"]: n for n in data["nodes"]}
    assert nodes[world.NODES[0]]["pressures"] == [
        {"condition": "MemoryPressure", "message": "kubelet has insufficient memory available"}
    ]
    assert nodes[world.NODES[2]]["notReady"] is True


def test_healthy_is_fine_with_every_number_kubectl_top_nodes_shows(
    invoke: Invoke, site_for: Callable[..., Site], tmp_path: Any
) -> None:
    site = site_for("healthy")
    code, data = resources(invoke, site)
    assert code == 0, texts(data)
    assert texts(data) == []
    assert any("containers within their limits" in t for t in texts(data, problem=False))
    assert data["podMetrics"] == {"status": "available", "message": None}
    top = kubectl_for(site.sandbox, tmp_path)("top", "nodes", "--no-headers")
    nodes = {n["name"]: n for n in data["nodes"]}
    assert len(nodes) == 3
    for line in top.stdout.splitlines():
        name, cpu, _cpu_pct, memory, _mem_pct = line.split()
        assert format_cpu(Decimal(str(nodes[name]["cpu"]["usage"]))) == cpu
        assert format_memory(Decimal(str(nodes[name]["memory"]["usage"]))) == memory


def test_table_shows_usage_against_limits_and_the_findings(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    result = run(invoke, site_for("memory-leak"), "investigate", "resources")
    assert result.exit_code == 3
    assert "%LIM" in result.stdout
    assert "OOMKilled at" in result.stdout
    assert "memory limit 1024Mi" in result.stdout


def test_without_metrics_server_says_so_and_still_shows_oom_kills(
    invoke: Invoke, site_for: Callable[..., Site], tmp_path: Any
) -> None:
    site = site_for("memory-leak", metrics_server=False)
    assert "Metrics API not available" in kubectl_for(site.sandbox, tmp_path)("top", "pods").stderr
    code, data = resources(invoke, site)
    assert code == 3
    assert data["podMetrics"] == {"status": "absent", "message": ABSENT}
    assert data["nodeMetrics"]["status"] == "absent"
    assert any(t.startswith(ABSENT) for t in texts(data))
    assert sum("OOMKilled at" in t for t in texts(data)) == 3
    assert all(not c["measured"] and c["memory"]["usage"] is None for c in data["containers"])
    assert not any("within their limits" in t for t in texts(data, problem=False))


def test_a_healthy_cluster_without_metrics_is_never_fine(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("healthy", metrics_server=False)
    code, data = resources(invoke, site)
    assert code == 3
    assert texts(data) == [f"{ABSENT}; usage against requests and limits not shown"]
    table = run(invoke, site, "investigate", "resources")
    assert table.exit_code == 3
    assert ABSENT in table.stdout


@pytest.mark.parametrize("path", ["/apis/metrics.k8s.io/", "/apis/metrics.k8s.io/v1beta1/nodes"])
def test_refused_metrics_say_so_and_the_rest_is_shown(invoke: Invoke, site_for: Callable[..., Site], path: str) -> None:
    site = site_for("bad-deploy")
    site.sandbox.faults.add(Fault("forbidden", "kube", path=path))
    code, data = resources(invoke, site)
    assert code == 3
    if path.endswith("/nodes"):
        assert data["podMetrics"]["status"] == "available"
        assert data["nodeMetrics"]["status"] == "forbidden"
        assert any(t.startswith("node usage not shown: metrics.k8s.io refused: ") for t in texts(data))
    else:
        assert data["podMetrics"]["status"] == "forbidden"
        assert "forbidden" in data["podMetrics"]["message"]
        assert any(t.startswith("metrics.k8s.io refused: ") for t in texts(data))
    assert sum("exited Error (code 139)" in t for t in texts(data)) == 2


def test_nodes_refused_to_a_namespace_bound_user_are_said(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    site.sandbox.faults.add(Fault("forbidden", "kube", path="/api/v1/nodes"))
    code, data = resources(invoke, site)
    assert code == 3
    assert data["nodes"] == []
    assert data["nodesError"].startswith("nodes not readable: list nodes: ")
    assert data["nodesError"] in texts(data)


def test_pods_refused_is_one_line_and_exit_4(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    site.sandbox.faults.add(Fault("forbidden", "kube", path=f"/api/v1/namespaces/{world.NAMESPACE}/pods"))
    result = run(invoke, site, "investigate", "resources")
    assert result.exit_code == 4
    assert "Traceback" not in result.output
    assert result.stderr.startswith("error: list pods in namespace sarvanom-production: ")
    assert len([line for line in result.stderr.splitlines() if line.startswith("error:")]) == 1


def test_a_stopped_cluster_is_exit_4_with_an_error_envelope(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    site.sandbox.stop()
    result = run(invoke, site, "investigate", "resources", "-o", "json")
    assert result.exit_code == 4
    assert document(result, "Error")["error"]["reason"]


def test_unknown_component_and_bad_since_are_usage_errors(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    result = run(invoke, site, "investigate", "resources", "gatewya")
    assert result.exit_code == 2
    assert "unknown component 'gatewya'" in result.stderr
    result = run(invoke, site, "investigate", "resources", "--since", "soon")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --since: ")


def test_evidence_is_the_raw_top_and_conditions(site_for: Callable[..., Site]) -> None:
    from incidentctl.phases.investigate.base import Section
    from incidentctl.phases.investigate.resources import ResourcesRequest, run_resources

    site = site_for("memory-leak")
    state = AppState(runbook_path=site.runbook, kubeconfig=str(site.kubeconfig), env={})
    result = run_resources(state.phase_context(), ResourcesRequest())
    section: Section = result
    files = {e.path: e for e in section.evidence()}
    assert set(files) == {
        "resources/pod-metrics.json",
        "resources/node-metrics.json",
        "resources/containers.json",
        "resources/nodes.json",
    }
    out = io.BytesIO()
    files["resources/nodes.json"].write(out)
    nodes = json.loads(out.getvalue())
    assert {n["name"] for n in nodes} == set(world.NODES)
    assert all("conditions" in n and "allocatable" in n for n in nodes)
    out = io.BytesIO()
    files["resources/pod-metrics.json"].write(out)
    assert all(m["containers"][0]["usage"]["memory"].endswith("Ki") for m in json.loads(out.getvalue()))
    assert section.exit_code == 3
    assert [f.rank.name for f in section.findings()][:3] == ["CRASHES"] * 3


class _MetricsNotScrapedYet(KubeClient):
    """A real client of the sandbox, except that metrics-server has not scraped the namespace's pods yet (it
    answers an empty list for pods that started within its resolution, about 15 s)."""

    def pod_metrics(self, namespace: str) -> list[dict[str, Any]]:
        return []


def test_a_running_container_without_usage_is_said_not_counted_as_fine(site_for: Callable[..., Site]) -> None:
    import dataclasses

    from incidentctl.phases.investigate.resources import ResourcesRequest, run_resources

    site = site_for("healthy")
    ctx = AppState(runbook_path=site.runbook, kubeconfig=str(site.kubeconfig), env={}).phase_context()
    kube = lambda: _MetricsNotScrapedYet(kubeconfig=str(site.kubeconfig), env={})  # noqa: E731
    ctx = dataclasses.replace(ctx, adapters=dataclasses.replace(ctx.adapters, kube=kube))
    result = run_resources(ctx, ResourcesRequest(components=("gateway",)))
    problems = [f.text for f in result.findings() if f.problem]
    assert len(problems) == 3
    assert all(t.endswith("is running but metrics.k8s.io has no usage for it") for t in problems)
    assert not any("within their limits" in f.text for f in result.findings())
    assert result.exit_code == 3


@pytest.mark.parametrize("width", [80, 100, 140])
def test_the_table_fits_the_terminal_and_never_shortens_a_name(site_for: Callable[..., Site], width: int) -> None:
    from rich.console import Console

    from incidentctl.phases.investigate.resources import ResourcesRequest, run_resources
    from incidentctl.render.investigate_resources import WIDE, resources_table

    site = site_for("memory-leak")
    site.sandbox.node_condition(world.NODES[1], "MemoryPressure")
    ctx = AppState(runbook_path=site.runbook, kubeconfig=str(site.kubeconfig), env={}).phase_context()
    result = run_resources(ctx, ResourcesRequest())
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=True, color_system=None, soft_wrap=False)
    resources_table(console, result)
    lines = buffer.getvalue().splitlines()
    assert all(len(line) <= width for line in lines), lines
    cells = [line.split() for line in lines]
    for c in result.containers:
        assert any(row and row[0] == c.pod for row in cells), c.pod
    for name in world.NODES:
        assert any(row and row[0] == name for row in cells), name
    text = buffer.getvalue()
    assert "…" not in text
    assert "CrashLoopBa" in text
    assert ("%REQ" in text) is (width >= WIDE)


def test_a_namespace_that_does_not_exist_is_an_error_not_missing_pods(
    invoke: Invoke, site_for: Callable[..., Site]
) -> None:
    result = run(invoke, site_for("healthy"), "-n", "sarvanom-prod", "investigate", "resources")
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: namespace 'sarvanom-prod' does not exist on ")
    assert "Traceback" not in result.output
