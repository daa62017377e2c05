"""Kubernetes objects exactly as the API server returns them (camelCase JSON, zero counts omitted).

Each builder gives what ``kubectl get -o json`` shows for a real object in that state; test_kube_shapes.py proves
every one round-trips through the official client's models, so a misspelt or invented field fails there.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

JSON = dict[str, Any]

NAMESPACE = "sarvanom-production"
NOW = datetime(2025, 9, 9, 12, 0, tzinfo=timezone.utc)
WINDOW = timedelta(hours=1)


def ts(minutes_ago: float) -> str:
    """An API timestamp (RFC 3339, UTC, whole seconds) ``minutes_ago`` before NOW."""
    return (NOW - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def condition(kind: str, status: str, reason: str | None = None, message: str | None = None, ago: float = 30) -> JSON:
    out: JSON = {"type": kind, "status": status, "lastTransitionTime": ts(ago)}
    if reason:
        out["reason"] = reason
    if message:
        out["message"] = message
    return out


def pod_conditions(*, ready: bool, scheduled: bool = True, container: str = "app") -> list[JSON]:
    if not scheduled:
        return [
            condition(
                "PodScheduled",
                "False",
                "Unschedulable",
                "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: "
                "3 No preemption victims found for incoming pod.",
            )
        ]
    not_ready = f"containers with unready status: [{container}]"
    return [
        condition("PodReadyToStartContainers", "True"),
        condition("Initialized", "True"),
        condition("Ready", "True") if ready else condition("Ready", "False", "ContainersNotReady", not_ready),
        condition("ContainersReady", "True")
        if ready
        else condition("ContainersReady", "False", "ContainersNotReady", not_ready),
        condition("PodScheduled", "True"),
    ]


def running(started_ago: float = 30) -> JSON:
    return {"running": {"startedAt": ts(started_ago)}}


def terminated(reason: str, exit_code: int, finished_ago: float, ran_for: float = 2) -> JSON:
    return {
        "exitCode": exit_code,
        "reason": reason,
        "startedAt": ts(finished_ago + ran_for),
        "finishedAt": ts(finished_ago),
        "containerID": "containerd://4f1c2b9e0d7a",
    }


def container_status(
    name: str = "app",
    *,
    ready: bool,
    state: JSON,
    restarts: int = 0,
    last_state: JSON | None = None,
    image: str = "registry.sarvanom.com/app:2.4.1",
    pulled: bool = True,
) -> JSON:
    out: JSON = {
        "name": name,
        "state": state,
        "lastState": last_state or {},
        "ready": ready,
        "restartCount": restarts,
        "image": image,
        "imageID": f"{image.split(':', maxsplit=1)[0]}@sha256:9b2e6c1f" if pulled else "",
        "started": "running" in state,
    }
    if pulled:
        out["containerID"] = "containerd://8a7d2c4e1b90"
    return out


def pod(
    name: str,
    *,
    app: str = "synthesis",
    phase: str = "Running",
    conditions: list[JSON] | None = None,
    containers: list[JSON] | None = None,
    reason: str | None = None,
    message: str | None = None,
    created_ago: float = 30,
    labels: dict[str, str] | None = None,
) -> JSON:
    status: JSON = {"phase": phase, "qosClass": "Burstable"}
    if conditions is not None:
        status["conditions"] = conditions
    if reason:
        status["reason"] = reason
    if message:
        status["message"] = message
    if phase != "Pending" or containers:
        status.update(hostIP="10.0.1.12", podIP="10.244.1.17", startTime=ts(created_ago))
    if containers is not None:
        status["containerStatuses"] = containers
    spec: JSON = {
        "containers": [
            {
                "name": "app",
                "image": "registry.sarvanom.com/app:2.4.1",
                "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                "resources": {"limits": {"memory": "512Mi"}, "requests": {"cpu": "250m", "memory": "256Mi"}},
            }
        ],
        "restartPolicy": "Always",
    }
    if "hostIP" in status:
        spec["nodeName"] = "node-1"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": NAMESPACE,
            "uid": f"uid-{name}",
            "resourceVersion": "48213",
            "creationTimestamp": ts(created_ago),
            "labels": labels if labels is not None else {"app": app, "pod-template-hash": "7d9f8c6b5"},
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": f"{app}-7d9f8c6b5",
                    "uid": f"uid-rs-{app}",
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": spec,
        "status": status,
    }


# --- pods in the states the runbook's first five minutes look for ----------------------------------------------


def healthy_pod(name: str = "synthesis-7d9f8c6b5-abcde", app: str = "synthesis") -> JSON:
    return pod(
        name,
        app=app,
        conditions=pod_conditions(ready=True),
        containers=[container_status(ready=True, state=running())],
    )


def crashloop_pod(
    name: str = "synthesis-7d9f8c6b5-k2x4p", *, last_reason: str = "Error", exit_code: int = 1, restarts: int = 7
) -> JSON:
    return pod(
        name,
        conditions=pod_conditions(ready=False),
        containers=[
            container_status(
                ready=False,
                restarts=restarts,
                state={
                    "waiting": {
                        "reason": "CrashLoopBackOff",
                        "message": f"back-off 5m0s restarting failed container=app pod={name}_{NAMESPACE}(uid-{name})",
                    }
                },
                last_state={"terminated": terminated(last_reason, exit_code, finished_ago=2)},
            )
        ],
    )


def oom_recovered_pod(name: str = "retrieval-5c8d7b9f4-q8wzt", finished_ago: float = 5) -> JSON:
    """Killed for memory, restarted, serving again: kubectl shows Running with a restart."""
    return pod(
        name,
        app="retrieval",
        conditions=pod_conditions(ready=True),
        containers=[
            container_status(
                ready=True,
                restarts=1,
                state=running(started_ago=finished_ago),
                last_state={"terminated": terminated("OOMKilled", 137, finished_ago=finished_ago)},
            )
        ],
    )


def oom_just_killed_pod(name: str = "retrieval-5c8d7b9f4-m3n7v") -> JSON:
    """The moment after the kernel killed it: kubectl's STATUS column says OOMKilled."""
    return pod(
        name,
        app="retrieval",
        conditions=pod_conditions(ready=False),
        containers=[
            container_status(
                ready=False,
                restarts=3,
                state={"terminated": terminated("OOMKilled", 137, finished_ago=0.1)},
                last_state={"terminated": terminated("OOMKilled", 137, finished_ago=3)},
            )
        ],
    )


def image_pull_pod(name: str = "synthesis-6f5b4c9d8-zz9qk", reason: str = "ImagePullBackOff") -> JSON:
    image = "registry.sarvanom.com/app:2.4.2-typo"
    message = (
        f'Back-off pulling image "{image}"'
        if reason == "ImagePullBackOff"
        else f'rpc error: code = NotFound desc = failed to pull and unpack image "{image}": not found'
    )
    return pod(
        name,
        phase="Pending",
        conditions=pod_conditions(ready=False),
        containers=[
            container_status(
                ready=False, state={"waiting": {"reason": reason, "message": message}}, image=image, pulled=False
            )
        ],
    )


def unschedulable_pod(name: str = "synthesis-7d9f8c6b5-p3nd1") -> JSON:
    return pod(name, phase="Pending", conditions=pod_conditions(ready=False, scheduled=False))


def creating_pod(name: str = "synthesis-7d9f8c6b5-n3w00") -> JSON:
    """Scheduled, image being pulled: not serving yet, but nothing is wrong."""
    return pod(
        name,
        phase="Pending",
        created_ago=0.2,
        conditions=pod_conditions(ready=False),
        containers=[container_status(ready=False, state={"waiting": {"reason": "ContainerCreating"}}, pulled=False)],
    )


EVICTION_MESSAGE = (
    "The node was low on resource: memory. Threshold quantity: 100Mi, available: 51200Ki. "
    "Container app was using 700Mi, request is 256Mi, has larger consumption of memory. "
)


def evicted_pod(name: str = "retrieval-5c8d7b9f4-ev1ct") -> JSON:
    return pod(
        name,
        app="retrieval",
        phase="Failed",
        reason="Evicted",
        message=EVICTION_MESSAGE,
        conditions=[
            condition("DisruptionTarget", "True", "TerminationByKubelet", "The node was low on resource: memory."),
            condition("Ready", "False", "PodFailed"),
            condition("PodScheduled", "True"),
        ],
        containers=[
            container_status(
                ready=False,
                state={
                    "terminated": {
                        "exitCode": 137,
                        "reason": "ContainerStatusUnknown",
                        "message": "The container could not be located when the pod was terminated",
                    }
                },
            )
        ],
    )


def not_ready_pod(name: str = "gateway-6c7d8e9f0-rdy00") -> JSON:
    """Running, but its readiness probe fails: the service sends it nothing."""
    return pod(
        name,
        app="gateway",
        conditions=pod_conditions(ready=False),
        containers=[container_status(ready=False, state=running())],
    )


def restarted_pod(name: str, *, restarts: int, finished_ago: float, created_ago: float = 30) -> JSON:
    return pod(
        name,
        created_ago=created_ago,
        conditions=pod_conditions(ready=True),
        containers=[
            container_status(
                ready=True,
                restarts=restarts,
                state=running(started_ago=finished_ago),
                last_state={"terminated": terminated("Error", 1, finished_ago=finished_ago)},
            )
        ],
    )


# --- deployments, services, endpoints, ingresses ----------------------------------------------------------------


def deployment(
    name: str = "synthesis",
    *,
    replicas: int | None = 3,
    ready: int = 3,
    available: int | None = None,
    updated: int | None = None,
    generation: int = 4,
    observed_generation: int | None = None,
    progressing: JSON | None = None,
    paused: bool = False,
) -> JSON:
    available = ready if available is None else available
    desired = 1 if replicas is None else replicas
    updated = desired if updated is None else updated
    spec: JSON = {
        "selector": {"matchLabels": {"app": name}},
        "template": {
            "metadata": {"labels": {"app": name}},
            "spec": {"containers": [{"name": "app", "image": f"registry.sarvanom.com/{name}:2.4.1"}]},
        },
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
        "revisionHistoryLimit": 10,
        "progressDeadlineSeconds": 600,
    }
    if replicas is not None:
        spec["replicas"] = replicas
    if paused:
        spec["paused"] = True
    status: JSON = {"observedGeneration": generation if observed_generation is None else observed_generation}
    # The API leaves zero counts out of a deployment's status.
    for key, value in (
        ("replicas", max(desired, updated)),
        ("updatedReplicas", updated),
        ("readyReplicas", ready),
        ("availableReplicas", available),
        ("unavailableReplicas", max(desired - available, 0)),
    ):
        if value:
            status[key] = value
    status["conditions"] = [
        condition("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
        if available
        else condition(
            "Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability."
        ),
        progressing
        or condition(
            "Progressing",
            "True",
            "NewReplicaSetAvailable",
            f'ReplicaSet "{name}-7d9f8c6b5" has successfully progressed.',
        ),
    ]
    for cond in status["conditions"]:
        cond["lastUpdateTime"] = cond["lastTransitionTime"]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": NAMESPACE,
            "uid": f"uid-deploy-{name}",
            "generation": generation,
            "creationTimestamp": ts(60 * 24 * 30),
            "annotations": {"deployment.kubernetes.io/revision": "12"},
            "labels": {"app": name},
        },
        "spec": spec,
        "status": status,
    }


STUCK = condition(
    "Progressing", "False", "ProgressDeadlineExceeded", 'ReplicaSet "synthesis-6f5b4c9d8" has timed out progressing.'
)


def service(name: str = "synthesis") -> JSON:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": NAMESPACE, "uid": f"uid-svc-{name}", "labels": {"app": name}},
        "spec": {
            "type": "ClusterIP",
            "clusterIP": "10.96.14.201",
            "clusterIPs": ["10.96.14.201"],
            "selector": {"app": name},
            "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}],
            "sessionAffinity": "None",
        },
        "status": {"loadBalancer": {}},
    }


def _address(pod_name: str, ip: str) -> JSON:
    return {
        "ip": ip,
        "nodeName": "node-1",
        "targetRef": {"kind": "Pod", "name": pod_name, "namespace": NAMESPACE, "uid": f"uid-{pod_name}"},
    }


def endpoints(name: str = "synthesis", *, ready: int = 2, not_ready: int = 0) -> JSON:
    """The API leaves ``subsets`` out when nothing backs the service."""
    out: JSON = {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": {"app": name}},
    }
    if ready or not_ready:
        subset: JSON = {"ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}
        if ready:
            subset["addresses"] = [_address(f"{name}-7d9f8c6b5-r{i}", f"10.244.1.{20 + i}") for i in range(ready)]
        if not_ready:
            subset["notReadyAddresses"] = [
                _address(f"{name}-7d9f8c6b5-n{i}", f"10.244.2.{20 + i}") for i in range(not_ready)
            ]
        out["subsets"] = [subset]
    return out


def _path(path: str, svc: str) -> JSON:
    return {"path": path, "pathType": "Prefix", "backend": {"service": {"name": svc, "port": {"number": 80}}}}


def ingress(name: str = "api", *, paths: dict[str, str] | None = None, default: str | None = None) -> JSON:
    spec: JSON = {
        "ingressClassName": "nginx",
        "tls": [{"hosts": ["api.sarvanom.com"], "secretName": "api-sarvanom-com-tls"}],
    }
    if default:
        spec["defaultBackend"] = {"service": {"name": default, "port": {"number": 80}}}
    if paths is not None:
        spec["rules"] = [{"host": "api.sarvanom.com", "http": {"paths": [_path(p, svc) for p, svc in paths.items()]}}]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": name, "namespace": NAMESPACE, "generation": 1},
        "spec": spec,
        "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.10"}]}},
    }
