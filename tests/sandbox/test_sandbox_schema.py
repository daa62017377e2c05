"""Every object the sandbox serves validates, strictly, against the Kubernetes 1.37 schema (kubernetes-validate),
in every scenario and after the cluster has been through rollouts, crashes, evictions and unschedulable pods."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from incidentctl.sandbox import resources
from incidentctl.sandbox.sandbox import Sandbox
from incidentctl.sandbox.scenarios import SCENARIOS

kubernetes_validate = pytest.importorskip("kubernetes_validate")


def _invalid(sb: Sandbox) -> list[str]:
    problems = []
    for rt in resources.STORED:
        for obj in sb.store.list(rt):
            try:
                kubernetes_validate.validate(obj, "1.37.0", strict=True)
            except kubernetes_validate.ValidationError as e:
                problems.append(f"{rt.kind} {obj['metadata'].get('name')}: {'/'.join(map(str, e.path))}: {e.message}")
    return problems


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_every_object_validates(scenario: str, sandbox_factory: Callable[..., Sandbox]) -> None:
    sb = sandbox_factory(scenario)
    assert _invalid(sb) == []


def test_objects_stay_valid_through_a_busy_hour(sandbox_factory: Callable[..., Sandbox]) -> None:
    sb = sandbox_factory("bad-deploy")
    sb.inject("memory-leak")
    sb.evict(
        next(
            p["metadata"]["name"]
            for p in sb.store.list(resources.PODS, "sarvanom-production")
            if p["metadata"]["name"].startswith("gateway")
        )
    )
    deploy = sb.store.must_get(resources.DEPLOYMENTS, "sarvanom-production", "gateway")
    scaled = dict(deploy)
    scaled["spec"] = dict(deploy["spec"], replicas=25)
    scaled["metadata"] = dict(deploy["metadata"], generation=deploy["metadata"]["generation"] + 1)
    sb.store.replace(resources.DEPLOYMENTS, scaled)
    sb.sim.react()
    sb.advance(3600)
    kinds = {p["status"].get("phase") for p in sb.store.list(resources.PODS)}
    assert {"Running", "Pending", "Failed"} <= kinds
    assert _invalid(sb) == []
