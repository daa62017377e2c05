"""``--auto-undo``: a restart or a rollback that does not make things healthy is reverted, through the same contract
(planned, recorded as undoing the first, applied and verified), and how each is undone is recorded up front."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml
from tests.mitigate.conftest import Drill


def _short_settle(d: Drill, settle: str = "30s") -> None:
    """The checks may take this long to turn healthy after the rollouts (the runbook's default is minutes)."""
    rb: dict[str, Any] = yaml.safe_load(d.site.runbook.read_text())
    rb.setdefault("mitigation", {}).setdefault("verify", {})["settle"] = settle
    d.site.runbook.write_text(yaml.safe_dump(rb, sort_keys=False))


def _mitigations(d: Drill, incident: str) -> list[tuple[str, str | None, Any]]:
    """(kind, id, what matters of it) for each mitigation event, in order."""
    out: list[tuple[str, str | None, Any]] = []
    for event in d.timeline(incident):
        kind, data = event["kind"], event["data"]
        if kind == "mitigation_planned":
            out.append((kind, data["id"], data.get("undoes")))
        elif kind == "mitigation_verified":
            out.append((kind, data.get("id"), data["healthy"]))
        elif kind.startswith("mitigation_"):
            out.append((kind, data.get("id"), None))
    return out


def test_a_restart_that_does_not_fix_a_bad_image_is_undone(drill: Callable[..., Drill]) -> None:
    d = drill("bad-deploy")
    incident = d.declare()
    code, doc = d.json("mitigate", "restart", "synthesis", "--yes", "--auto-undo", "--timeout", "30s")
    data = doc["data"]
    assert code == 3, doc
    assert data["plan"]["undo"]["action"] == "rollback"
    assert data["plan"]["undo"]["args"] == {"revisions": {"synthesis": 4}}
    assert data["verification"]["healthy"] is False
    undone = data["undoneBy"]
    assert undone is not None, doc
    assert undone["outcome"] == "applied"
    assert undone["actionId"] == "M2"
    assert undone["plan"]["summary"] == "roll back deployment/synthesis from revision 5 to 4"
    assert _mitigations(d, incident) == [
        ("mitigation_planned", "M1", None),
        ("mitigation_applied", "M1", None),
        ("mitigation_verified", "M1", False),
        ("mitigation_planned", "M2", "M1"),
        ("mitigation_applied", "M2", None),
        ("mitigation_verified", "M2", False),
    ]
    # the restart's template (its restartedAt) is gone again: revision 4's pod template runs
    deployment = d.sandbox.store.must_get(_deployments(), "sarvanom-production", "synthesis")
    annotations = deployment["spec"]["template"]["metadata"].get("annotations") or {}
    assert "kubectl.kubernetes.io/restartedAt" not in annotations


def test_a_rollback_that_does_not_fix_a_config_change_is_undone(drill: Callable[..., Drill]) -> None:
    d = drill("bad-config")
    _short_settle(d)
    incident = d.declare()
    code, doc = d.json("mitigate", "rollback", "synthesis", "--yes", "--auto-undo")
    data = doc["data"]
    assert code == 3, doc
    assert data["plan"]["summary"] == "roll back deployment/synthesis from revision 3 to 2"
    assert data["verification"]["healthy"] is False
    assert data["undoneBy"]["plan"]["summary"] == "roll back deployment/synthesis from revision 4 to 3"
    assert [m[:2] for m in _mitigations(d, incident)] == [
        ("mitigation_planned", "M1"),
        ("mitigation_applied", "M1"),
        ("mitigation_verified", "M1"),
        ("mitigation_planned", "M2"),
        ("mitigation_applied", "M2"),
        ("mitigation_verified", "M2"),
    ]
    image = d.sandbox.store.must_get(_deployments(), "sarvanom-production", "synthesis")["spec"]["template"]["spec"][
        "containers"
    ][0]["image"]
    assert image.endswith("synthesis:2.4.3")


def test_a_restart_that_helps_is_not_undone(drill: Callable[..., Drill]) -> None:
    d = drill("memory-leak")
    incident = d.declare()
    code, doc = d.json("mitigate", "restart", "retrieval", "--yes", "--auto-undo")
    assert code == 0, doc
    assert doc["data"]["undoneBy"] is None
    assert [m[0] for m in _mitigations(d, incident)] == [
        "mitigation_planned",
        "mitigation_applied",
        "mitigation_verified",
    ]


def test_a_pod_delete_records_that_it_cannot_be_undone(drill: Callable[..., Drill]) -> None:
    d = drill("db-outage")
    d.declare()
    code, doc = d.json("mitigate", "restart", "postgres-0", "--dry-run", "--reason", "connection slots exhausted")
    assert code == 0, doc
    assert doc["data"]["plan"]["undo"] is None


def _deployments() -> Any:
    from incidentctl.sandbox import resources

    return resources.DEPLOYMENTS


def test_a_scale_down_that_leaves_the_spike_unabsorbed_is_scaled_back(drill: Callable[..., Drill]) -> None:
    d = drill("traffic-spike")
    _short_settle(d)
    incident = d.declare()
    code, doc = d.json("mitigate", "scale", "gateway=2", "--yes", "--auto-undo")
    data = doc["data"]
    assert code == 3, doc
    assert data["verification"]["healthy"] is False
    assert data["undoneBy"]["plan"]["summary"] == "scale gateway=3"
    assert data["undoneBy"]["outcome"] == "applied"
    assert [m[0] for m in _mitigations(d, incident)][3:5] == ["mitigation_planned", "mitigation_applied"]
    assert d.sandbox.store.must_get(_deployments(), "sarvanom-production", "gateway")["spec"]["replicas"] == 3
