"""What ``investigate resources`` and ``investigate events`` need from the sandbox, held to real kubectl: a cluster
without metrics-server, nodes under pressure or not ready, and kube-scheduler's events in the events.k8s.io shape."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from incidentctl.sandbox import world
from incidentctl.sandbox.sandbox import Sandbox
from incidentctl.sandbox.testing import Kubectl, kubectl_for

pytestmark = pytest.mark.integration

NODE = world.NODES[0]


def test_without_metrics_server_top_is_not_available_and_everything_else_is(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    sb = sandbox_factory("healthy", metrics_server=False)
    kubectl = kubectl_for(sb, tmp_path)
    top = kubectl("top", "pods")
    assert top.returncode == 1
    assert "Metrics API not available" in top.stderr
    assert "Metrics API not available" in kubectl("top", "nodes").stderr
    assert "metrics.k8s.io/v1beta1" not in kubectl("api-versions").stdout
    assert kubectl("get", "pods").returncode == 0
    sb.metrics_server = True  # metrics-server deployed again: top works at once
    assert kubectl("top", "pods").returncode == 0


def test_a_node_under_memory_pressure_and_one_not_ready(kubectl: Kubectl, sandbox: Sandbox) -> None:
    sandbox.node_condition(NODE, "MemoryPressure")
    sandbox.node_condition(world.NODES[1], "Ready", "Unknown")
    node = json.loads(kubectl("get", "node", NODE, "-o", "json").stdout)
    pressure = next(c for c in node["status"]["conditions"] if c["type"] == "MemoryPressure")
    assert (pressure["status"], pressure["reason"]) == ("True", "KubeletHasInsufficientMemory")
    rows = {line.split()[0]: line.split()[1] for line in kubectl("get", "nodes", "--no-headers").stdout.splitlines()}
    assert rows[NODE] == "Ready"
    assert rows[world.NODES[1]] == "NotReady"
    described = [line.split() for line in kubectl("describe", "node", NODE).stdout.splitlines()]
    assert ["MemoryPressure", "True"] in [words[:2] for words in described]
    events = json.loads(kubectl("get", "events", "-n", "default", "-o", "json").stdout)["items"]
    assert any(e["reason"] == "NodeHasInsufficientMemory" and e["involvedObject"]["name"] == NODE for e in events)
    with pytest.raises(ValueError, match="unknown node condition"):
        sandbox.node_condition(NODE, "MemoryPressure", "Maybe")


def test_scheduler_events_have_the_events_api_shape_and_kubectl_counts_their_series(
    kubectl: Kubectl, sandbox: Sandbox
) -> None:
    assert kubectl("scale", "deploy/gateway", "--replicas=30").returncode == 0
    sandbox.advance(150)  # a FailedScheduling a minute per pending pod: a series of three
    items = json.loads(kubectl("get", "events", "--field-selector", "reason=FailedScheduling", "-o", "json").stdout)[
        "items"
    ]
    assert items
    repeated = [e for e in items if e.get("series")]
    assert repeated, "a pod that stays pending is reported again, as a series"
    for event in items:
        assert event.get("count") is None
        assert event["lastTimestamp"] is None
        assert event["eventTime"].endswith("Z")
        assert event["reportingComponent"] == "default-scheduler"
    event = repeated[0]
    table = kubectl("get", "events", "--field-selector", f"metadata.name={event['metadata']['name']}").stdout
    assert f"(x{event['series']['count']} over" in table
