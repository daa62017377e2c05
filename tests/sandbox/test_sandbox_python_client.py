"""The official Python client reads every object without validation errors, watches, execs, and sees the API's
errors (404, 409, 403, 429, 5xx) as the exceptions it raises against a real cluster."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException
from kubernetes.stream import stream

from incidentctl.sandbox.sandbox import Sandbox

NS = "sarvanom-production"


def load_client(sandbox: Sandbox, path: Path) -> Any:
    """The official client configured from the sandbox's kubeconfig, as a user's kubeconfig would."""
    from kubernetes import config

    sandbox.write_kubeconfig(path)
    configuration = client.Configuration()
    config.load_kube_config(config_file=str(path), client_configuration=configuration)
    return client.ApiClient(configuration)


@pytest.fixture
def api(sandbox: Sandbox, tmp_path: Path) -> Iterator[Any]:
    api_client = load_client(sandbox, tmp_path / "kubeconfig")
    yield api_client
    api_client.close()


def _exec(core: client.CoreV1Api, pod: str, command: list[str]) -> tuple[int | None, str, str]:
    resp = stream(
        core.connect_get_namespaced_pod_exec,
        pod,
        NS,
        command=command,
        stderr=True,
        stdin=False,
        stdout=True,
        tty=False,
        _preload_content=False,
    )
    resp.run_forever(timeout=10)
    out, err = resp.read_stdout() or "", resp.read_stderr() or ""
    code = resp.returncode
    resp.close()
    return code, out, err


def test_every_kind_deserialises_into_the_client_models(api: Any) -> None:
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    net = client.NetworkingV1Api(api)
    pods = core.list_pod_for_all_namespaces()
    assert {p.metadata.name for p in pods.items} >= {"postgres-0", "redis-0"}
    pod = core.read_namespaced_pod("postgres-0", NS)
    assert pod.status.phase == "Running"
    assert pod.status.container_statuses[0].ready is True
    assert pod.metadata.owner_references[0].kind == "StatefulSet"
    nodes = core.list_node()
    assert len(nodes.items) == 3
    assert nodes.items[0].status.allocatable["cpu"] == "3920m"
    assert len(core.list_namespace().items) == 5
    services = core.list_namespaced_service(NS)
    names = {s.metadata.name for s in services.items}
    assert names == {"gateway", "gateway-standby", "retrieval", "synthesis", "postgres", "redis"}
    endpoints = core.read_namespaced_endpoints("gateway", NS)
    assert len(endpoints.subsets[0].addresses) == 3
    events = core.list_event_for_all_namespaces()
    assert all(isinstance(e.count, int) and e.involved_object.kind for e in events.items)
    assert core.read_namespaced_config_map("synthesis-config", NS).data["LLM_PROVIDER"] == "openai"
    deploys = apps.list_namespaced_deployment(NS)
    assert {d.metadata.name for d in deploys.items} == {"gateway", "retrieval", "synthesis"}
    gateway = apps.read_namespaced_deployment("gateway", NS)
    assert gateway.status.available_replicas == 3
    assert {c.type for c in gateway.status.conditions} == {"Available", "Progressing"}
    replica_sets = apps.list_namespaced_replica_set(NS, label_selector="app=gateway")
    assert sorted(int(rs.metadata.annotations["deployment.kubernetes.io/revision"]) for rs in replica_sets.items) == [
        1,
        2,
        3,
        4,
    ]
    sts = apps.read_namespaced_stateful_set("postgres", NS)
    assert sts.status.ready_replicas == 1
    ingress = net.read_namespaced_ingress("sarvanom", NS)
    assert ingress.spec.rules[0].host == "api.sarvanom.com"
    scale = apps.read_namespaced_deployment_scale("gateway", NS)
    assert scale.spec.replicas == 3
    assert scale.status.selector == "app=gateway"


def test_paged_lists(api: Any) -> None:
    core = client.CoreV1Api(api)
    first = core.list_namespaced_pod(NS, limit=4)
    assert len(first.items) == 4
    assert first.metadata._continue
    assert first.metadata.remaining_item_count == 7
    rest = core.list_namespaced_pod(NS, limit=100, _continue=first.metadata._continue)
    names = [p.metadata.name for p in first.items + rest.items]
    assert len(names) == 11 == len(set(names))
    assert rest.metadata._continue is None


def test_selectors(api: Any) -> None:
    core = client.CoreV1Api(api)
    assert len(core.list_namespaced_pod(NS, label_selector="app in (gateway,retrieval)").items) == 6
    assert len(core.list_namespaced_pod(NS, label_selector="app!=gateway,app.kubernetes.io/part-of").items) == 8
    assert [p.metadata.name for p in core.list_namespaced_pod(NS, field_selector="metadata.name=redis-0").items] == [
        "redis-0"
    ]
    assert len(core.list_namespaced_pod(NS, field_selector="status.phase!=Running").items) == 0


def test_logs_are_plain_text(api: Any, sandbox: Sandbox) -> None:
    core = client.CoreV1Api(api)
    text = core.read_namespaced_pod_log("redis-0", NS, container="redis", tail_lines=3)
    assert isinstance(text, str)
    assert len(text.splitlines()) == 3
    pod = core.list_namespaced_pod(NS, label_selector="app=gateway").items[0].metadata.name
    recent = core.read_namespaced_pod_log(pod, NS, since_seconds=60, timestamps=True)
    assert recent
    for line in recent.splitlines():
        stamp = datetime.fromisoformat(line.split(" ", 1)[0][:26] + "+00:00")
        assert sandbox.now() - timedelta(seconds=61) <= stamp <= sandbox.now()


def test_exec_returns_output_and_exit_codes(api: Any, sandbox: Sandbox) -> None:
    core = client.CoreV1Api(api)
    code, out, err = _exec(
        core, "postgres-0", ["psql", "-U", "sarvanom", "-d", "sarvanom_production", "-c", "SELECT 1;"]
    )
    assert (code, err) == (0, "")
    assert "(1 row)" in out
    code, out, _ = _exec(core, "redis-0", ["redis-cli", "ping"])
    assert (code, out) == (0, "PONG\n")
    code, _, err = _exec(core, "redis-0", ["redis-server-typo"])
    assert code == 127
    assert "executable file not found" in err
    preloaded = stream(
        core.connect_get_namespaced_pod_exec,
        "redis-0",
        NS,
        command=["redis-cli", "ping"],
        stderr=True,
        stdin=False,
        stdout=True,
        tty=False,
    )
    assert preloaded == "PONG\n"
    sandbox.inject("db-outage")
    code, out, err = _exec(
        core, "postgres-0", ["psql", "-U", "sarvanom", "-d", "sarvanom_production", "-c", "SELECT 1;"]
    )
    assert code == 2
    assert out == ""
    assert "remaining connection slots are reserved" in err


def test_watch_from_a_resource_version(api: Any, sandbox: Sandbox) -> None:
    apps = client.AppsV1Api(api)
    listed = apps.list_namespaced_deployment(NS)
    rv = listed.metadata.resource_version
    apps.patch_namespaced_deployment_scale("synthesis", NS, {"spec": {"replicas": 4}})
    seen = []
    w = watch.Watch()
    for event in w.stream(apps.list_namespaced_deployment, NS, resource_version=rv, timeout_seconds=2):
        seen.append((event["type"], event["object"].metadata.name, event["object"].spec.replicas))
        if event["object"].metadata.name == "synthesis" and event["object"].spec.replicas == 4:
            w.stop()
    assert ("MODIFIED", "synthesis", 4) in seen


def test_conflict_on_a_stale_resource_version(api: Any) -> None:
    core = client.CoreV1Api(api)
    cm = core.read_namespaced_config_map("synthesis-config", NS)
    cm.data["CIRCUIT_BREAKER"] = "open"
    core.replace_namespaced_config_map("synthesis-config", NS, cm)
    cm.data["CIRCUIT_BREAKER"] = "half-open"
    with pytest.raises(ApiException) as caught:
        core.replace_namespaced_config_map("synthesis-config", NS, cm)
    assert caught.value.status == 409
    assert "the object has been modified" in caught.value.body
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_pod("nope", NS)
    assert missing.value.status == 404
    assert missing.value.reason == "Not Found"


def test_injected_faults(api: Any, sandbox: Sandbox) -> None:
    core = client.CoreV1Api(api)
    sandbox.faults.forbid("list", "pods")
    with pytest.raises(ApiException) as denied:
        core.list_namespaced_pod(NS)
    assert denied.value.status == 403
    message = json.loads(denied.value.body)["message"]
    assert message == (
        'pods is forbidden: User "sandbox-admin" cannot list resource "pods" in API group "" in the '
        'namespace "sarvanom-production"'
    )
    assert core.list_namespaced_service(NS).items  # only that verb and resource
    sandbox.faults.clear()
    sandbox.faults.rate_limit(retry_after=7)
    with pytest.raises(urllib.error.HTTPError) as limited:
        urllib.request.urlopen(f"{sandbox.url}/api/v1/namespaces/{NS}/services", timeout=5)
    assert limited.value.code == 429
    assert limited.value.headers["Retry-After"] == "7"
    assert json.loads(limited.value.read())["reason"] == "TooManyRequests"
    sandbox.faults.rate_limit(retry_after=1)
    started = time.monotonic()
    assert core.list_namespaced_service(NS).items  # urllib3 honours Retry-After on a 429 and tries again
    assert time.monotonic() - started >= 1.0
    sandbox.faults.errors(503, count=2)
    for _ in range(2):
        with pytest.raises(ApiException) as unavailable:
            core.list_namespaced_service(NS)
        assert unavailable.value.status == 503
    assert core.list_namespaced_service(NS).items  # the burst is over
    sandbox.faults.latency(0.3, count=1)
    started = time.monotonic()
    core.list_namespaced_service(NS)
    assert time.monotonic() - started >= 0.3


def test_stopped_server_refuses_connections_and_comes_back(api: Any, sandbox: Sandbox) -> None:
    core = client.CoreV1Api(api)
    port = sandbox.port
    sandbox.stop()
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
    sandbox.start()
    assert sandbox.port == port
    assert core.read_namespaced_pod("redis-0", NS).metadata.name == "redis-0"


def test_replace_without_a_resource_version_is_unconditional(api: Any) -> None:
    core = client.CoreV1Api(api)
    cm = core.read_namespaced_config_map("synthesis-config", NS)
    cm.metadata.resource_version = None
    cm.data["LLM_TIMEOUT_SECONDS"] = "20"
    replaced = core.replace_namespaced_config_map("synthesis-config", NS, cm)
    assert replaced.data["LLM_TIMEOUT_SECONDS"] == "20"
    assert int(replaced.metadata.resource_version) > 0
