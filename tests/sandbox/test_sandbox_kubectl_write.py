"""kubectl's mutations behave as on a real cluster: scale, rollout restart/status/undo, patch, dry-run, delete."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from incidentctl.sandbox.sandbox import Sandbox
from incidentctl.sandbox.testing import Kubectl

pytestmark = pytest.mark.integration


def _deploy(k: Kubectl, name: str) -> dict:  # type: ignore[type-arg]
    return json.loads(k("get", "deploy", name, "-o", "json").stdout)  # type: ignore[no-any-return]


def _pods(k: Kubectl, selector: str) -> list[dict]:  # type: ignore[type-arg]
    return json.loads(k("get", "pods", "-l", selector, "-o", "json").stdout)["items"]  # type: ignore[no-any-return]


def test_scale_changes_pods_and_status(kubectl: Kubectl, sandbox: Sandbox) -> None:
    result = kubectl("scale", "deployment", "gateway", "--replicas=5")
    assert result.returncode == 0
    assert result.stderr == ""
    assert result.stdout.strip() == "deployment.apps/gateway scaled"
    assert len(_pods(kubectl, "app=gateway")) == 5  # the ReplicaSet reacts at once
    sandbox.advance(10)
    status = _deploy(kubectl, "gateway")["status"]
    assert (status["replicas"], status["readyReplicas"], status["availableReplicas"]) == (5, 5, 5)
    down = kubectl("scale", "deployment/gateway", "--replicas=2", "--current-replicas=5")
    assert down.returncode == 0, down.stderr
    assert len(_pods(kubectl, "app=gateway")) == 2
    stale = kubectl("scale", "deployment/gateway", "--replicas=4", "--current-replicas=5")
    assert stale.returncode == 1
    assert "Expected replicas to be 5, was 2" in stale.stderr


def test_rollout_restart_then_status_finishes_without_warnings(kubectl: Kubectl, sandbox: Sandbox) -> None:
    before = {p["metadata"]["name"] for p in _pods(kubectl, "app=retrieval")}
    restart = kubectl("rollout", "restart", "deployment/retrieval")
    assert restart.returncode == 0
    assert restart.stderr == ""
    assert restart.stdout.strip() == "deployment.apps/retrieval restarted"
    status = kubectl.run_while_advancing("rollout", "status", "deployment/retrieval", "--timeout=120s")
    assert status.returncode == 0, status.stderr
    assert status.stderr == ""
    assert status.stdout.strip().endswith('deployment "retrieval" successfully rolled out')
    assert "Waiting for deployment" in status.stdout
    after = {p["metadata"]["name"] for p in _pods(kubectl, "app=retrieval")}
    assert len(after) == 3
    assert not (after & before)
    history = kubectl("rollout", "history", "deployment/retrieval")
    assert [line.split()[0] for line in history.stdout.splitlines()[2:] if line.strip()] == ["1", "2", "3", "4"]
    template = _deploy(kubectl, "retrieval")["spec"]["template"]
    assert "kubectl.kubernetes.io/restartedAt" in template["metadata"]["annotations"]


def test_rollout_status_of_a_finished_rollout_returns_at_once(kubectl: Kubectl) -> None:
    result = kubectl("rollout", "status", "deployment/gateway", "--timeout=10s")
    assert result.returncode == 0
    assert result.stderr == ""
    assert result.stdout.strip() == 'deployment "gateway" successfully rolled out'


def test_image_change_undo_and_to_revision(kubectl: Kubectl, sandbox: Sandbox) -> None:
    image = "registry.sarvanom.com/sarvanom/gateway:1.14.0"
    changed = kubectl("set", "image", "deployment/gateway", f"gateway={image}")
    assert changed.returncode == 0, changed.stderr
    done = kubectl.run_while_advancing("rollout", "status", "deployment/gateway", "--timeout=120s")
    assert done.returncode == 0
    assert done.stderr == ""
    assert {p["spec"]["containers"][0]["image"] for p in _pods(kubectl, "app=gateway")} == {image}
    # an old ReplicaSet is reused, not recreated: revision 3 becomes 5
    history = kubectl("rollout", "history", "deployment/gateway").stdout
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["1", "2", "4", "5"]
    undo = kubectl("rollout", "undo", "deployment/gateway")
    assert undo.returncode == 0
    assert undo.stdout.strip() == "deployment.apps/gateway rolled back"
    kubectl.run_while_advancing("rollout", "status", "deployment/gateway", "--timeout=120s")
    assert _deploy(kubectl, "gateway")["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":1.14.2")
    to_first = kubectl("rollout", "undo", "deployment/gateway", "--to-revision=1")
    assert to_first.returncode == 0, to_first.stderr
    kubectl.run_while_advancing("rollout", "status", "deployment/gateway", "--timeout=120s")
    deploy = _deploy(kubectl, "gateway")
    assert deploy["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":1.12.0")
    assert deploy["metadata"]["annotations"]["kubernetes.io/change-cause"].startswith("deploy gateway 1.12.0")
    missing = kubectl("rollout", "undo", "deployment/gateway", "--to-revision=42")
    assert missing.returncode == 1
    assert "unable to find specified revision 42 in history" in missing.stderr


def test_server_side_dry_run_changes_nothing(kubectl: Kubectl) -> None:
    result = kubectl("scale", "deployment/synthesis", "--replicas=7", "--dry-run=server")
    assert result.returncode == 0, result.stderr
    assert "(server dry run)" in result.stdout
    assert _deploy(kubectl, "synthesis")["spec"]["replicas"] == 3
    patched = kubectl(
        "patch", "deployment", "synthesis", "--dry-run=server", "-o", "json", "-p", '{"spec":{"replicas":9}}'
    )
    assert json.loads(patched.stdout)["spec"]["replicas"] == 9
    assert _deploy(kubectl, "synthesis")["spec"]["replicas"] == 3


def test_the_three_patch_types(kubectl: Kubectl) -> None:
    strategic = kubectl(
        "patch",
        "deployment",
        "synthesis",
        "-p",
        '{"spec":{"template":{"spec":{"containers":[{"name":"synthesis","env":[{"name":"LOG_LEVEL",'
        '"value":"debug"}]}]}}}}',
    )
    assert strategic.returncode == 0, strategic.stderr
    container = _deploy(kubectl, "synthesis")["spec"]["template"]["spec"]["containers"][0]
    assert container["image"].endswith("synthesis:2.4.3"), "strategic merge keeps the rest of the container"
    assert {"name": "LOG_LEVEL", "value": "debug"} in container["env"]
    assert {"name": "REDIS_URL", "value": "redis://redis:6379/1"} in container["env"]
    merge = kubectl(
        "patch",
        "configmap",
        "synthesis-config",
        "--type=merge",
        "-p",
        '{"data":{"CIRCUIT_BREAKER":"open","LLM_TIMEOUT_SECONDS":null}}',
    )
    assert merge.returncode == 0, merge.stderr
    data = json.loads(kubectl("get", "cm", "synthesis-config", "-o", "json").stdout)["data"]
    assert data["CIRCUIT_BREAKER"] == "open"
    assert "LLM_TIMEOUT_SECONDS" not in data
    jsonpatch = kubectl(
        "patch",
        "deployment",
        "gateway",
        "--type=json",
        "-p",
        '[{"op":"replace","path":"/spec/replicas","value":4},'
        '{"op":"add","path":"/metadata/labels/tier","value":"edge"}]',
    )
    assert jsonpatch.returncode == 0, jsonpatch.stderr
    deploy = _deploy(kubectl, "gateway")
    assert deploy["spec"]["replicas"] == 4
    assert deploy["metadata"]["labels"]["tier"] == "edge"
    failing = kubectl(
        "patch", "deployment", "gateway", "--type=json", "-p", '[{"op":"test","path":"/spec/replicas","value":99}]'
    )
    assert failing.returncode == 1
    invalid = kubectl("patch", "deployment", "gateway", "--type=merge", "-p", '{"spec":{"replicas":-1}}')
    assert invalid.returncode == 1
    assert "spec.replicas: Invalid value: -1" in invalid.stderr


def test_deleting_a_pod_gets_it_replaced(kubectl: Kubectl, sandbox: Sandbox) -> None:
    postgres = _pods(kubectl, "app=postgres")[0]
    result = kubectl("delete", "pod", "postgres-0", "--timeout=30s")
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.strip() == 'pod "postgres-0" deleted from sarvanom-production namespace'
        or result.stdout.strip() == 'pod "postgres-0" deleted'
    )
    replacement = _pods(kubectl, "app=postgres")[0]
    assert replacement["metadata"]["name"] == "postgres-0"
    assert replacement["metadata"]["uid"] != postgres["metadata"]["uid"]
    sandbox.advance(15)
    assert _pods(kubectl, "app=postgres")[0]["status"]["containerStatuses"][0]["ready"] is True
    gateway = _pods(kubectl, "app=gateway")[0]["metadata"]["name"]
    assert kubectl("delete", "pod", gateway).returncode == 0
    assert len(_pods(kubectl, "app=gateway")) == 3


def test_create_from_a_file_and_conflicts(kubectl: Kubectl, tmp_path: Path) -> None:
    manifest = tmp_path / "cm.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: drill-notes\ndata:\n  owner: ops\n")
    created = kubectl("create", "-f", str(manifest))
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == "configmap/drill-notes created"
    again = kubectl("create", "-f", str(manifest))
    assert again.returncode == 1
    assert 'configmaps "drill-notes" already exists' in again.stderr
    listed = kubectl("get", "configmaps")
    assert "drill-notes" in listed.stdout
    deleted = kubectl("delete", "-f", str(manifest))
    assert deleted.returncode == 0, deleted.stderr
    assert "drill-notes" not in kubectl("get", "configmaps").stdout


def test_typed_requests_sent_as_protobuf(kubectl: Kubectl, sandbox: Sandbox) -> None:
    created = kubectl("create", "configmap", "drill-flags", "--from-literal=maintenance=on", "--from-literal=x=1")
    assert created.returncode == 0, created.stderr
    data = json.loads(kubectl("get", "configmap", "drill-flags", "-o", "json").stdout)["data"]
    assert data == {"maintenance": "on", "x": "1"}
    assert kubectl("auth", "can-i", "patch", "deployments").stdout.strip() == "yes"
    sandbox.faults.forbid("patch", "deployments")
    denied = kubectl("auth", "can-i", "patch", "deployments")
    assert denied.returncode == 1
    assert denied.stdout.strip().startswith("no")
    assert kubectl("auth", "can-i", "get", "deployments").stdout.strip() == "yes"
    refused = kubectl("rollout", "restart", "deployment/gateway")
    assert refused.returncode == 1
    assert (
        'deployments.apps "gateway" is forbidden: User "sandbox-admin" cannot patch resource "deployments"'
        in refused.stderr
    )


def test_apply_a_hotfix_manifest(kubectl: Kubectl, sandbox: Sandbox, tmp_path: Path) -> None:
    manifest = tmp_path / "hotfix.yaml"
    manifest.write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: synthesis\n"
        "  namespace: sarvanom-production\n  annotations:\n"
        "    kubernetes.io/change-cause: hotfix synthesis 2.4.4\nspec:\n  template:\n    spec:\n"
        "      containers:\n      - name: synthesis\n"
        "        image: registry.sarvanom.com/sarvanom/synthesis:2.4.3\n"
        '        env:\n        - name: TOKENIZER_THREADS\n          value: "1"\n'
    )
    applied = kubectl("apply", "-f", str(manifest))
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout.strip() == "deployment.apps/synthesis configured"
    done = kubectl.run_while_advancing("rollout", "status", "deployment/synthesis", "--timeout=120s")
    assert done.returncode == 0, done.stderr
    deploy = json.loads(kubectl("get", "deploy", "synthesis", "-o", "json").stdout)
    container = deploy["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "TOKENIZER_THREADS", "value": "1"} in container["env"]
    assert {"name": "REDIS_URL", "value": "redis://redis:6379/1"} in container["env"], "apply merges by name"
    history = kubectl("rollout", "history", "deployment/synthesis").stdout
    assert history.splitlines()[-2].split(None, 1) == ["4", "hotfix synthesis 2.4.4"]
    server_side = kubectl("apply", "--server-side", "--force-conflicts", "-f", str(manifest))
    assert server_side.returncode == 0, server_side.stderr
