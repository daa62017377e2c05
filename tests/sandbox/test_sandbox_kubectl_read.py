"""Real kubectl 1.37 reads the sandbox as it reads a cluster: real columns, logs, events, top, history."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from incidentctl.sandbox.sandbox import Sandbox
from incidentctl.sandbox.testing import Kubectl, kubectl_for, running_sandbox

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def bad_deploy() -> Iterator[Sandbox]:
    with running_sandbox("bad-deploy") as sb:
        yield sb


@pytest.fixture
def k(bad_deploy: Sandbox, tmp_path: Path) -> Kubectl:
    return kubectl_for(bad_deploy, tmp_path)


def _rows(text: str) -> list[list[str]]:
    return [re.split(r"\s{2,}", line.strip()) for line in text.strip().splitlines()]


def test_get_pods_deploy_svc_ing_prints_real_columns(k: Kubectl) -> None:
    result = k("get", "pods,deploy,svc,ing")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    blocks = result.stdout.strip().split("\n\n")
    assert _rows(blocks[0])[0] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert _rows(blocks[1])[0] == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert _rows(blocks[2])[0] == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    assert _rows(blocks[3])[0] == ["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"]
    pods = {row[0]: row for row in _rows(blocks[0])[1:]}
    crashing = [row for name, row in pods.items() if name.startswith("pod/synthesis") and row[2] == "CrashLoopBackOff"]
    assert len(crashing) == 2
    for row in crashing:
        assert row[1] == "0/1"
        assert re.fullmatch(r"\d+ \(\d+[sm]\d*s? ago\)", row[3]), row[3]
    assert pods["pod/postgres-0"][1:3] == ["1/1", "Running"]
    deploys = {row[0]: row for row in _rows(blocks[1])[1:]}
    assert deploys["deployment.apps/gateway"][1:4] == ["3/3", "3", "3"]
    assert deploys["deployment.apps/synthesis"][1:4] == ["2/3", "2", "2"]
    ingress = _rows(blocks[3])[1]
    assert ingress[:5] == ["ingress.networking.k8s.io/sarvanom", "nginx", "api.sarvanom.com", "203.0.113.10", "80, 443"]


def test_get_pods_all_namespaces_has_namespace_column(k: Kubectl) -> None:
    result = k("get", "pods", "-A")
    assert result.returncode == 0
    assert result.stderr == ""
    rows = _rows(result.stdout)
    assert rows[0][:2] == ["NAMESPACE", "NAME"]
    namespaces = {row[0] for row in rows[1:]}
    assert namespaces == {"kube-system", "sarvanom-production"}


def test_wide_output_and_paging(k: Kubectl) -> None:
    result = k("get", "pods", "-o", "wide", "--chunk-size=2")
    assert result.returncode == 0
    assert result.stderr == ""
    rows = _rows(result.stdout)
    assert rows[0][:7] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE"]
    assert len(rows) == 1 + 12  # 3 gateway, 3 retrieval, 4 synthesis, postgres-0, redis-0
    assert all(row[5].startswith("10.244.") for row in rows[1:])


def test_get_json_items_are_kubernetes_objects(k: Kubectl) -> None:
    result = k("get", "deploy", "synthesis", "-o", "json")
    deploy = json.loads(result.stdout)
    assert deploy["kind"] == "Deployment"
    conditions = {c["type"]: c for c in deploy["status"]["conditions"]}
    assert conditions["Progressing"]["status"] == "True"
    image = deploy["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image.endswith("synthesis:2.5.0")


def test_logs_of_a_deployment_tail(k: Kubectl) -> None:
    result = k("logs", "deploy/gateway", "--tail=20")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 20
    assert all(" gateway.access " in line for line in lines)
    assert any("status=502" in line for line in lines), "bad-deploy's 502s reach the gateway log"
    assert result.stderr.startswith("Found 3 pods, using pod/gateway-")  # what kubectl itself says


def test_previous_logs_of_a_crash_looping_pod_show_the_crash(k: Kubectl, bad_deploy: Sandbox) -> None:
    pods = json.loads(k("get", "pods", "-l", "app=synthesis", "-o", "json").stdout)["items"]
    crashing = next(p for p in pods if p["status"]["containerStatuses"][0]["restartCount"] > 0)
    last = crashing["status"]["containerStatuses"][0]["lastState"]["terminated"]
    assert last["exitCode"] == 139
    result = k("logs", crashing["metadata"]["name"], "-p")
    assert result.returncode == 0, result.stderr
    assert "synthesis 2.5.0 starting" in result.stdout
    assert "Fatal Python error: Segmentation fault" in result.stdout
    stamped = k("logs", crashing["metadata"]["name"], "-p", "--timestamps", "--tail=1")
    stamp = stamped.stdout.split(" ", 1)[0]
    assert stamp[:19] == last["finishedAt"][:19] or stamp < last["finishedAt"]


def test_logs_of_a_healthy_pod_without_previous_instance_is_an_error(k: Kubectl) -> None:
    result = k("logs", "redis-0", "-p")
    assert result.returncode == 1
    assert 'previous terminated container "redis" in pod "redis-0" not found' in result.stderr


def test_top_pods_and_nodes(k: Kubectl) -> None:
    pods = k("top", "pods")
    assert pods.returncode == 0
    assert pods.stderr == ""
    rows = _rows(pods.stdout)
    assert rows[0] == ["NAME", "CPU(cores)", "MEMORY(bytes)"]
    names = {row[0] for row in rows[1:]}
    assert "postgres-0" in names
    assert any(n.startswith("gateway-") for n in names)
    assert all(re.fullmatch(r"\d+m", row[1]) and re.fullmatch(r"\d+Mi", row[2]) for row in rows[1:])
    nodes = k("top", "nodes")
    assert nodes.returncode == 0
    assert nodes.stderr == ""
    rows = _rows(nodes.stdout)
    assert rows[0] == ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"]
    assert len(rows) == 4
    assert all(0 < int(row[2].rstrip("%")) < 100 for row in rows[1:])


def test_warning_events(k: Kubectl) -> None:
    result = k("get", "events", "--field-selector", "type=Warning")
    assert result.returncode == 0
    assert result.stderr == ""
    rows = _rows(result.stdout)
    assert rows[0] == ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert {row[1] for row in rows[1:]} == {"Warning"}
    backoff = [row for row in rows[1:] if row[2] == "BackOff"]
    assert backoff
    assert all(row[3].startswith("pod/synthesis-") for row in backoff)
    assert re.search(r"\(x\d+ over \d+m", backoff[0][0])
    normal = k("get", "events", "--field-selector", "reason=ScalingReplicaSet")
    assert "Scaled up replica set synthesis-" in normal.stdout


def test_rollout_history_lists_revisions_with_change_cause(k: Kubectl) -> None:
    result = k("rollout", "history", "deployment/synthesis")
    assert result.returncode == 0
    assert result.stderr == ""
    rows = _rows(result.stdout)
    assert rows[1] == ["REVISION", "CHANGE-CAUSE"]
    assert [row[0] for row in rows[2:]] == ["1", "2", "3", "4"]
    assert "2.5.0" in rows[-1][1]
    detail = k("rollout", "history", "deployment/synthesis", "--revision=3")
    assert "synthesis:2.4.3" in detail.stdout


def test_not_found_is_a_status_error(k: Kubectl) -> None:
    result = k("get", "deploy", "nope")
    assert result.returncode == 1
    assert result.stderr.strip() == 'Error from server (NotFound): deployments.apps "nope" not found'


def test_bad_selector_is_a_bad_request(k: Kubectl) -> None:
    result = k("get", "pods", "--field-selector", "spec.bogus=1")
    assert result.returncode == 1
    assert "BadRequest" in result.stderr


def test_exec_into_a_container_that_is_not_running(k: Kubectl) -> None:
    pods = json.loads(k("get", "pods", "-l", "app=synthesis", "-o", "json").stdout)["items"]
    waiting = next(p["metadata"]["name"] for p in pods if p["status"]["containerStatuses"][0]["state"].get("waiting"))
    result = k("exec", waiting, "--", "date")
    assert result.returncode == 1
    assert result.stderr.strip() == 'error: unable to upgrade connection: container not found ("synthesis")'
