"""KubeClient's writes against the sandbox: a delete is only of the object planned for (uid and resourceVersion
preconditions), a server-side apply creates or updates and honours dryRun=All and the resourceVersion it
carries. These are the requests ``mitigate`` sends; each answer is the one a real API server gives."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from incidentctl.adapters.kube import KubeClient, KubeConflict, KubeNotFound
from incidentctl.sandbox import resources, world
from incidentctl.sandbox.sandbox import Sandbox
from incidentctl.sandbox.testing import sandbox, sandbox_factory  # noqa: F401 - the fixtures

NS = world.NAMESPACE


@pytest.fixture
def client(sandbox: Sandbox, tmp_path: Path) -> Iterator[KubeClient]:  # noqa: F811
    kube = KubeClient(kubeconfig=str(sandbox.write_kubeconfig(tmp_path / "kubeconfig")))
    yield kube
    kube.close()


def _stored(sb: Sandbox, rt: resources.ResourceType, name: str) -> dict[str, object] | None:
    with sb.store.lock:
        return sb.store.get(rt, NS, name)


def test_a_delete_with_another_pods_uid_is_a_conflict(client: KubeClient, sandbox: Sandbox) -> None:  # noqa: F811
    pod = client.get("pods", NS, "postgres-0")
    with pytest.raises(KubeConflict) as caught:
        client.delete("pods", NS, "postgres-0", uid="00000000-0000-0000-0000-000000000000")
    assert caught.value.status == 409
    assert "delete pods/postgres-0" in str(caught.value)
    stored = _stored(sandbox, resources.PODS, "postgres-0")
    assert stored is not None
    assert stored["metadata"]["uid"] == pod["metadata"]["uid"]  # type: ignore[index]


def test_a_delete_with_a_stale_resource_version_is_a_conflict(client: KubeClient, sandbox: Sandbox) -> None:  # noqa: F811
    cm = client.get("configmaps", NS, "synthesis-config")
    client.patch("configmaps", NS, "synthesis-config", {"data": {"CIRCUIT_BREAKER": "open"}})
    with pytest.raises(KubeConflict):
        client.delete("configmaps", NS, "synthesis-config", resource_version=cm["metadata"]["resourceVersion"])
    assert _stored(sandbox, resources.CONFIGMAPS, "synthesis-config") is not None


def test_a_dry_run_delete_leaves_it_and_a_real_one_takes_it(client: KubeClient, sandbox: Sandbox) -> None:  # noqa: F811
    pod = client.get("pods", NS, "redis-0")
    uid = pod["metadata"]["uid"]
    answer = client.delete("pods", NS, "redis-0", uid=uid, dry_run=True)
    assert answer["metadata"]["uid"] == uid
    assert _stored(sandbox, resources.PODS, "redis-0") is not None
    client.delete("pods", NS, "redis-0", uid=uid)
    again = _stored(sandbox, resources.PODS, "redis-0")  # its statefulset makes a new one at once
    assert again is not None
    assert again["metadata"]["uid"] != uid  # type: ignore[index]
    with pytest.raises(KubeConflict):  # the new one is not the pod planned for
        client.delete("pods", NS, "redis-0", uid=uid)
    with pytest.raises(KubeNotFound):
        client.delete("pods", NS, "redis-9", uid=uid)


SERVICE = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "canary", "namespace": NS},
    "spec": {"selector": {"app": "synthesis"}, "ports": [{"port": 8080}]},
}


def test_server_side_apply_creates_and_a_dry_run_does_not(client: KubeClient, sandbox: Sandbox) -> None:  # noqa: F811
    would = client.patch("services", NS, "canary", SERVICE, patch_type="apply", dry_run=True)
    assert would["metadata"]["name"] == "canary"
    assert _stored(sandbox, resources.SERVICES, "canary") is None
    made = client.patch("services", NS, "canary", SERVICE, patch_type="apply")
    assert made["spec"]["ports"][0]["port"] == 8080
    assert _stored(sandbox, resources.SERVICES, "canary") is not None


def test_server_side_apply_with_a_stale_resource_version_is_a_conflict(
    client: KubeClient,
    sandbox: Sandbox,  # noqa: F811
) -> None:
    cm = client.get("configmaps", NS, "synthesis-config")
    planned = cm["metadata"]["resourceVersion"]
    client.patch("configmaps", NS, "synthesis-config", {"data": {"CIRCUIT_BREAKER": "open"}})
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "synthesis-config", "namespace": NS, "resourceVersion": planned},
        "data": {"LLM_TIMEOUT_SECONDS": "45"},
    }
    with pytest.raises(KubeConflict):
        client.patch("configmaps", NS, "synthesis-config", body, patch_type="apply")
    stored = _stored(sandbox, resources.CONFIGMAPS, "synthesis-config")
    assert stored is not None
    assert stored["data"]["LLM_TIMEOUT_SECONDS"] != "45"  # type: ignore[index]
    fresh = client.get("configmaps", NS, "synthesis-config")["metadata"]["resourceVersion"]
    body["metadata"]["resourceVersion"] = fresh  # type: ignore[index]
    applied = client.patch("configmaps", NS, "synthesis-config", body, patch_type="apply")
    assert applied["data"]["LLM_TIMEOUT_SECONDS"] == "45"
    assert applied["data"]["CIRCUIT_BREAKER"] == "open"  # the fields it does not name are left alone
