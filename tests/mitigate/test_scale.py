"""``mitigate scale`` on the sandbox: the traffic spike is absorbed by scaling the gateway within the runbook's
bounds; a count outside them (or no count at all) changes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from tests.mitigate.conftest import Drill, resource_versions

from incidentctl.sandbox.testing import Kubectl, kubectl, kubectl_for, sandbox  # noqa: F401 - fixtures


def test_traffic_spike_is_fixed_by_scaling_the_gateway(drill: Callable[..., Drill]) -> None:
    d = drill("traffic-spike")
    incident = d.declare()
    code, doc = d.json("mitigate", "scale", "gateway=5", "--yes")
    data = doc["data"]
    assert code == 0, doc
    assert data["outcome"] == "applied"
    assert data["verification"]["healthy"] is True
    write = data["plan"]["writes"][0]
    assert write["describe"] == "patch deployment/gateway/scale"
    assert write["resourceVersion"]
    assert [(f["field"], f["before"], f["after"]) for f in data["plan"]["changes"][0]["fields"]] == [
        ("replicas", "3", "5")
    ]
    assert "bounds 2-10" in data["plan"]["changes"][0]["summary"]
    assert d.kinds(incident) == ["mitigation_planned", "mitigation_applied", "mitigation_verified"]
    planned = next(e for e in d.timeline(incident) if e["kind"] == "mitigation_planned")
    assert planned["data"]["undo"] == {
        "action": "scale",
        "args": {"replicas": {"gateway": 3}},
        "summary": "scale gateway back to 3 replicas",
    }
    real = kubectl_for(d.sandbox, d.site.runbook.parent)
    shown = real.run("get", "deployment", "gateway", "-n", "sarvanom-production", "-o", "json", check=True)
    assert json.loads(shown.stdout)["spec"]["replicas"] == 5


def test_a_component_alone_scales_to_the_runbooks_surge(drill: Callable[..., Drill]) -> None:
    d = drill("traffic-spike")
    d.declare()
    code, doc = d.json("mitigate", "scale", "gateway", "--dry-run")
    assert code == 0, doc
    assert doc["data"]["outcome"] == "dry-run"
    fields = doc["data"]["plan"]["changes"][0]["fields"]
    assert [(f["field"], f["before"], f["after"]) for f in fields] == [("replicas", "3", "5")]


@pytest.mark.parametrize("count", ["11", "1", "0", str(10**30)])
def test_a_count_outside_the_bounds_is_refused_and_recorded(drill: Callable[..., Drill], count: str) -> None:
    d = drill("traffic-spike")
    incident = d.declare()
    before = resource_versions(d.sandbox)
    result = d.run("mitigate", "scale", f"gateway={count}", "--yes")
    assert result.exit_code == 5, result.output
    assert "replica-bounds" in result.stderr
    assert "Traceback" not in result.output
    assert resource_versions(d.sandbox) == before
    assert d.kinds(incident) == ["mitigation_refused"]
    refused = d.timeline(incident)[-1]["data"]
    assert refused["rule"] == "replica-bounds"


@pytest.mark.parametrize(
    ("arg", "said"),
    [
        ("gateway=five", "not a whole number"),
        ("gateway=-1", "not a whole number"),
        ("gateway=2.5", "not a whole number"),
        ("gateway=", "not a whole number"),
        ("=3", "no component"),
        ("nosuch=3", "nothing in the runbook"),
        ("postgres", "nothing in the runbook"),
    ],
)
def test_a_malformed_count_is_a_usage_error(drill: Callable[..., Drill], arg: str, said: str) -> None:
    d = drill("traffic-spike")
    incident = d.declare()
    before = resource_versions(d.sandbox)
    result = d.run("mitigate", "scale", arg, "--yes")
    assert result.exit_code == 2, result.output
    assert said in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2, result.stderr
    assert resource_versions(d.sandbox) == before
    assert d.kinds(incident) == []


def test_the_same_component_twice_with_two_counts_is_a_usage_error(drill: Callable[..., Drill]) -> None:
    d = drill("traffic-spike")
    d.declare()
    result = d.run("mitigate", "scale", "gateway=4", "gateway=5", "--yes")
    assert result.exit_code == 2, result.output
    assert "gateway" in result.stderr


def test_a_count_already_running_is_nothing_to_do(drill: Callable[..., Drill]) -> None:
    d = drill("traffic-spike")
    incident = d.declare()
    code, doc = d.json("mitigate", "scale", "gateway=3", "--yes")
    assert code == 0, doc
    assert doc["data"]["outcome"] == "unchanged"
    assert d.kinds(incident) == []


def test_a_stale_resource_version_on_the_scale_subresource_is_a_conflict(kubectl: Kubectl) -> None:  # noqa: F811
    """As a real API server: a PATCH of /scale carrying an old metadata.resourceVersion is 409, nothing changed."""
    got = kubectl.run("get", "deployment", "gateway", "-n", "sarvanom-production", "-o", "json", check=True)
    version = json.loads(got.stdout)["metadata"]["resourceVersion"]
    kubectl.run("scale", "deployment", "gateway", "-n", "sarvanom-production", "--replicas=4", check=True)
    stale = json.dumps({"metadata": {"resourceVersion": version}, "spec": {"replicas": 5}})
    patched = kubectl.run(
        "patch",
        "deployment",
        "gateway",
        "-n",
        "sarvanom-production",
        "--subresource=scale",
        "--type=merge",
        "-p",
        stale,
    )
    assert patched.returncode != 0
    assert "the object has been modified" in patched.stderr
    current = kubectl.run("get", "deployment", "gateway", "-n", "sarvanom-production", "-o", "json", check=True)
    assert json.loads(current.stdout)["spec"]["replicas"] == 4


def test_the_table_shows_current_and_new_replicas_and_the_bounds(drill: Callable[..., Drill]) -> None:
    d = drill("traffic-spike")
    d.declare()
    result = d.run("mitigate", "scale", "gateway=5", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "scale deployment/gateway from 3 to 5 replicas (bounds 2-10)" in result.stderr
    assert "replicas: 3 → 5" in result.stderr
    assert "undo: scale gateway back to 3 replicas" in result.stderr


def test_without_bounds_in_the_runbook_a_count_beyond_the_api_is_a_usage_error(drill: Callable[..., Drill]) -> None:
    d = drill("traffic-spike")
    rb: dict[str, Any] = yaml.safe_load(d.site.runbook.read_text())
    for comp in rb["components"]:
        comp.pop("scale", None)
    d.site.runbook.write_text(yaml.safe_dump(rb, sort_keys=False))
    incident = d.declare()
    before = resource_versions(d.sandbox)
    result = d.run("mitigate", "scale", f"gateway={10**30}", "--yes")
    assert result.exit_code == 2, result.output
    assert "more than the API can hold" in result.stderr
    result = d.run("mitigate", "scale", "gateway", "--yes")
    assert result.exit_code == 2, result.output
    assert "no scale.surge for gateway" in result.stderr
    assert resource_versions(d.sandbox) == before
    assert d.kinds(incident) == []
