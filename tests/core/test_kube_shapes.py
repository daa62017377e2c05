"""The objects the workload tests read are real API objects: each round-trips through the official client's
models unchanged, so no field in them is misspelt, invented or of the wrong type."""

from __future__ import annotations

from typing import Any

import pytest
from tests.core import kube_objects as k

OBJECTS: list[tuple[str, dict[str, Any]]] = [
    ("healthy pod", k.healthy_pod()),
    ("CrashLoopBackOff pod", k.crashloop_pod()),
    ("OOMKilled crash-looping pod", k.crashloop_pod(last_reason="OOMKilled", exit_code=137)),
    ("pod restarted after OOMKilled", k.oom_recovered_pod()),
    ("pod just OOMKilled", k.oom_just_killed_pod()),
    ("ImagePullBackOff pod", k.image_pull_pod()),
    ("ErrImagePull pod", k.image_pull_pod(reason="ErrImagePull")),
    ("unschedulable pod", k.unschedulable_pod()),
    ("ContainerCreating pod", k.creating_pod()),
    ("evicted pod", k.evicted_pod()),
    ("not ready pod", k.not_ready_pod()),
    ("restarted pod", k.restarted_pod("synthesis-7d9f8c6b5-r3st0", restarts=2, finished_ago=10)),
    ("healthy deployment", k.deployment()),
    ("scaled-to-0 deployment", k.deployment(replicas=0, ready=0)),
    ("deployment with no available replica", k.deployment(ready=0)),
    ("stuck deployment", k.deployment(ready=2, updated=1, progressing=k.STUCK)),
    ("paused deployment", k.deployment(paused=True, updated=1)),
    ("deployment without spec.replicas", k.deployment(replicas=None, ready=1)),
    ("service", k.service()),
    ("endpoints", k.endpoints(ready=2, not_ready=1)),
    ("endpoints without subsets", k.endpoints(ready=0)),
    ("ingress", k.ingress(paths={"/": "gateway", "/v1/search": "retrieval"}, default="gateway")),
]


@pytest.mark.parametrize(("what", "obj"), OBJECTS, ids=[w for w, _ in OBJECTS])
def test_objects_round_trip_through_the_official_models(what: str, obj: dict[str, Any]) -> None:
    from kubernetes import client

    model: Any = {
        "Pod": client.V1Pod,
        "Deployment": client.V1Deployment,
        "Service": client.V1Service,
        "Endpoints": client.V1Endpoints,
        "Ingress": client.V1Ingress,
    }[obj["kind"]]
    parsed = model.from_dict(obj)
    assert parsed is not None
    assert parsed.model_dump(by_alias=True, exclude_none=True, mode="json") == obj, what
