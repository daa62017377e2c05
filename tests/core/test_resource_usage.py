"""Usage against requests and limits, OOM kills and node conditions, from objects as the API returns them."""

from __future__ import annotations

import copy
from datetime import timedelta
from decimal import Decimal

import pytest
from tests.core.kube_objects import NOW, WINDOW, condition, healthy_pod, oom_recovered_pod, restarted_pod

from incidentctl.core.resource_usage import container_resources, node_resources

JSON = dict[str, object]


def metrics(name: str, cpu: str, memory: str) -> dict[str, object]:
    return {
        "metadata": {"name": name, "namespace": "sarvanom-production", "creationTimestamp": "2025-09-09T12:00:00Z"},
        "timestamp": "2025-09-09T11:59:53Z",
        "window": "15.01s",
        "containers": [{"name": "app", "usage": {"cpu": cpu, "memory": memory}}],
    }


def node(**status: object) -> dict[str, object]:
    return {
        "metadata": {"name": "node-1"},
        "status": {
            "allocatable": {"cpu": "3920m", "memory": "13349880Ki", "pods": "110"},
            "conditions": [
                condition("MemoryPressure", "False", "KubeletHasSufficientMemory"),
                condition("DiskPressure", "False", "KubeletHasNoDiskPressure"),
                condition("PIDPressure", "False", "KubeletHasSufficientPID"),
                condition("Ready", "True", "KubeletReady"),
            ],
            **status,
        },
    }


def test_memory_near_the_limit_is_measured_exactly_against_limit_and_request() -> None:
    pod = healthy_pod()
    (c,) = container_resources(
        pod, "synthesis", metrics(pod["metadata"]["name"], "5m", "480Mi"), now=NOW, window=WINDOW
    )
    assert c.memory.of_limit == Decimal(480) / Decimal(512)
    assert c.memory.of_request == Decimal(480) / Decimal(256)
    assert c.near_memory_limit
    assert c.cpu.limit is None
    assert c.cpu.of_limit is None
    assert not c.near_cpu_limit
    assert c.cpu.usage == Decimal("0.005")


def test_just_under_ninety_percent_is_not_near() -> None:
    pod = healthy_pod()
    usage = f"{int(512 * 1024 * 0.9) - 1}Ki"
    (c,) = container_resources(pod, "synthesis", metrics(pod["metadata"]["name"], "5m", usage), now=NOW, window=WINDOW)
    assert not c.near_memory_limit


def test_an_oom_kill_carries_its_time_and_counts_as_recent_only_within_the_window() -> None:
    pod = oom_recovered_pod(finished_ago=5)
    (c,) = container_resources(pod, "retrieval", None, now=NOW, window=WINDOW)
    assert c.oom_killed_recently
    assert c.last_termination is not None
    assert c.last_termination.finished_at == NOW - timedelta(minutes=5)
    assert c.last_termination.exit_code == 137
    assert not c.measured
    assert c.memory.usage is None
    (old,) = container_resources(oom_recovered_pod(finished_ago=90), "retrieval", None, now=NOW, window=WINDOW)
    assert old.last_termination is not None
    assert old.last_termination.oom_killed
    assert not old.oom_killed_recently


def test_restarts_without_oom_are_counted_but_are_not_oom_kills() -> None:
    pod = restarted_pod("synthesis-7d9f8c6b5-r3st1", restarts=4, finished_ago=3)
    (c,) = container_resources(pod, "synthesis", None, now=NOW, window=WINDOW)
    assert c.restarts == 4
    assert c.recent_exit
    assert not c.oom_killed_recently


@pytest.mark.parametrize(
    ("where", "value"),
    [("limits", "512MB"), ("limits", "1.5.3Gi"), ("limits", ""), ("requests", "lots"), ("limits", None)],
)
def test_a_quantity_that_cannot_be_read_is_a_problem_never_zero(where: str, value: object) -> None:
    pod = healthy_pod()
    spec = copy.deepcopy(pod)
    spec["spec"]["containers"][0]["resources"][where]["memory"] = value
    (c,) = container_resources(
        spec, "synthesis", metrics(pod["metadata"]["name"], "5m", "480Mi"), now=NOW, window=WINDOW
    )
    if value is None:  # absent is not malformed: the JSON null of a cleared field
        assert c.problems == ()
        return
    assert len(c.problems) == 1
    assert f"{where}.memory" in c.problems[0]
    assert repr(value) in c.problems[0]
    if where == "limits":
        assert c.memory.limit is None
        assert c.memory.of_limit is None
        assert not c.near_memory_limit


def test_malformed_usage_from_the_metrics_api_is_a_problem_too() -> None:
    pod = healthy_pod()
    (c,) = container_resources(
        pod, "synthesis", metrics(pod["metadata"]["name"], "5 m", "480Mi"), now=NOW, window=WINDOW
    )
    assert c.cpu.usage is None
    assert any("usage.cpu" in p for p in c.problems)


def test_a_node_under_pressure_and_not_ready() -> None:
    n = node()
    conditions = n["status"]["conditions"]  # type: ignore[index]
    conditions[0] = condition(
        "MemoryPressure", "True", "KubeletHasInsufficientMemory", "kubelet has insufficient memory available"
    )
    conditions[3] = condition("Ready", "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status.")
    usage = {"metadata": {"name": "node-1"}, "usage": {"cpu": "3600000000n", "memory": "12000000Ki"}}
    r = node_resources(n, usage)
    assert r.pressures == (("MemoryPressure", "kubelet has insufficient memory available"),)
    assert r.not_ready
    assert r.ready == "Unknown"
    assert r.cpu.of_limit == Decimal("3.6") / Decimal("3.92")
    assert r.near_allocatable


def test_a_healthy_node_without_metrics_is_not_measured() -> None:
    r = node_resources(node(), None)
    assert not r.pressures
    assert not r.not_ready
    assert not r.measured
    assert r.memory.usage is None
    assert r.memory.limit == Decimal(13349880 * 1024)
