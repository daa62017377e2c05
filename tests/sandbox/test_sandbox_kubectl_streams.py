"""Streams and the less common pod states, through real kubectl: watch, follow, exec, Pending, ImagePullBackOff,
and a StatefulSet rollout."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from incidentctl.sandbox.sandbox import Sandbox
from incidentctl.sandbox.testing import Kubectl, wait_for_watch

pytestmark = pytest.mark.integration


def _statuses(k: Kubectl, selector: str) -> list[str]:
    out = k("get", "pods", "-l", selector, "--no-headers").stdout
    return [line.split()[2] for line in out.splitlines()]


def test_scaling_past_the_nodes_leaves_pods_pending(kubectl: Kubectl, sandbox: Sandbox) -> None:
    assert kubectl("scale", "deploy/gateway", "--replicas=30").returncode == 0
    sandbox.advance(30)
    statuses = _statuses(kubectl, "app=gateway")
    assert statuses.count("Running") >= 10
    assert statuses.count("Pending") >= 5
    events = kubectl("get", "events", "--field-selector", "reason=FailedScheduling", "-o", "json")
    messages = {e["message"] for e in json.loads(events.stdout)["items"]}
    assert any(m.startswith("0/3 nodes are available: 3 Insufficient cpu.") for m in messages)
    pending = json.loads(kubectl("get", "pods", "--field-selector", "status.phase=Pending", "-o", "json").stdout)
    condition = pending["items"][0]["status"]["conditions"][0]
    assert (condition["type"], condition["status"], condition["reason"]) == ("PodScheduled", "False", "Unschedulable")


def test_a_tag_that_does_not_exist_cannot_be_pulled(kubectl: Kubectl, sandbox: Sandbox) -> None:
    image = "registry.sarvanom.com/sarvanom/retrieval:3.9.9"
    assert kubectl("set", "image", "deploy/retrieval", f"retrieval={image}").returncode == 0
    sandbox.advance(60)
    assert sorted(_statuses(kubectl, "app=retrieval")) == ["ImagePullBackOff", "Running", "Running", "Running"]
    status = kubectl("rollout", "status", "deploy/retrieval", "--timeout=2s")
    assert status.returncode == 1
    assert 'Waiting for deployment "retrieval" rollout to finish: 1 out of 3 new replicas' in status.stdout
    failed = kubectl("get", "events", "--field-selector", "reason=Failed", "-o", "json")
    assert any(f'Failed to pull image "{image}"' in e["message"] for e in json.loads(failed.stdout)["items"])
    pod = next(
        line.split()[0]
        for line in kubectl("get", "pods", "--no-headers").stdout.splitlines()
        if "ImagePullBackOff" in line
    )
    logs = kubectl("logs", pod)
    assert "is waiting to start: trying and failing to pull image" in logs.stderr
    sandbox.advance(600)
    stuck = kubectl("rollout", "status", "deploy/retrieval", "--timeout=2s")
    assert stuck.returncode == 1
    assert 'deployment "retrieval" exceeded its progress deadline' in stuck.stderr


def test_statefulset_restart_and_status(kubectl: Kubectl, sandbox: Sandbox) -> None:
    before = json.loads(kubectl("get", "pod", "postgres-0", "-o", "json").stdout)["metadata"]["uid"]
    assert kubectl("rollout", "restart", "statefulset/postgres").returncode == 0
    status = kubectl.run_while_advancing("rollout", "status", "statefulset/postgres", "--timeout=60s")
    assert status.returncode == 0
    assert status.stderr == ""
    assert "partitioned roll out complete: 1 new pods have been updated..." in status.stdout
    after = json.loads(kubectl("get", "pod", "postgres-0", "-o", "json").stdout)
    assert after["metadata"]["uid"] != before
    assert after["status"]["containerStatuses"][0]["ready"] is True


def test_follow_and_watch_stream_while_time_moves(kubectl: Kubectl, sandbox: Sandbox) -> None:
    follow = subprocess.Popen(
        kubectl.command("logs", "-f", "deploy/gateway", "--tail=1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    watching = sandbox.store.watcher_count()
    watch = subprocess.Popen(
        kubectl.command("get", "pods", "-w", "-l", "app=postgres"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert follow.stdout is not None
        assert follow.stdout.readline(), "the follow stream is open (its first line arrived)"
        assert wait_for_watch(sandbox, watching, watch)
        assert kubectl("delete", "pod", "postgres-0").returncode == 0
        for _ in range(6):
            sandbox.advance(5)
            time.sleep(0.3)
    finally:
        follow.terminate()
        watch.terminate()
    logs, _ = follow.communicate(timeout=10)
    watched, _ = watch.communicate(timeout=10)
    assert len(logs.splitlines()) >= 5, "new request lines arrive as simulated time passes (after the first)"
    assert all("gateway.access" in line for line in logs.splitlines())
    rows = [line.split() for line in watched.splitlines()]
    assert rows[0][:3] == ["NAME", "READY", "STATUS"]
    states = [row[2] for row in rows[1:]]
    assert "Pending" in states or "ContainerCreating" in states
    assert rows[-1][1:3] == ["1/1", "Running"]


def test_exec_with_stdin_and_a_tty_request(kubectl: Kubectl) -> None:
    plain = kubectl("exec", "redis-0", "--", "redis-cli", "ping")
    assert (plain.returncode, plain.stdout, plain.stderr) == (0, "PONG\n", "")
    interactive = kubectl("exec", "-i", "redis-0", "--", "redis-cli", "ping", timeout=20)
    assert (interactive.returncode, interactive.stdout) == (0, "PONG\n")
    missing = kubectl("exec", "redis-0", "--", "redis-server-typo")
    assert missing.returncode == 127
    assert "command terminated with exit code 127" in missing.stderr


def test_an_evicted_pod_stays_failed_and_is_replaced(kubectl: Kubectl, sandbox: Sandbox) -> None:
    victim = json.loads(kubectl("get", "pods", "-l", "app=retrieval", "-o", "json").stdout)["items"][0]
    name = victim["metadata"]["name"]
    sandbox.evict(name)
    pod = json.loads(kubectl("get", "pod", name, "-o", "json").stdout)
    assert (pod["status"]["phase"], pod["status"]["reason"]) == ("Failed", "Evicted")
    assert pod["status"]["message"].startswith("The node was low on resource: memory.")
    sandbox.advance(10)
    rows = [line.split() for line in kubectl("get", "pods", "-l", "app=retrieval", "--no-headers").stdout.splitlines()]
    assert len(rows) == 4
    assert sum(1 for row in rows if row[1:3] == ["1/1", "Running"]) == 3, "the ReplicaSet replaced it"
    events = kubectl("get", "events", "--field-selector", f"reason=Evicted,involvedObject.name={name}")
    assert "The node was low on resource: memory." in events.stdout
    deploy = json.loads(kubectl("get", "deploy", "retrieval", "-o", "json").stdout)["status"]
    assert (deploy["replicas"], deploy["availableReplicas"]) == (3, 3)
