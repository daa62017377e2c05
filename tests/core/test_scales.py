"""Scale-downs read from the deployment controller's events, in both event shapes, capped, and only the
Deployment's own: the rules of :mod:`incidentctl.core.scales` on the API's objects as plain dicts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from incidentctl.core.scales import MAX_SCALES, scale_downs

T0 = datetime(2026, 3, 14, 14, 0, tzinfo=timezone.utc)
UID = "9b1f3c1e-0000-4000-8000-000000000001"
RS = "gateway-7c9d5f8b6d"


def stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def deployment(replicas: int = 0, writes: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "metadata": {"name": "gateway", "namespace": "prod", "uid": UID, "managedFields": writes or []},
        "spec": {"replicas": replicas},
    }


def core_event(message: str, at: datetime, count: int = 1) -> dict[str, Any]:
    """A core/v1 event as the deployment controller's recorder writes it."""
    return {
        "metadata": {"name": f"gateway.{int(at.timestamp())}", "namespace": "prod"},
        "involvedObject": {"kind": "Deployment", "namespace": "prod", "name": "gateway", "uid": UID},
        "reason": "ScalingReplicaSet",
        "message": message,
        "source": {"component": "deployment-controller"},
        "firstTimestamp": stamp(at),
        "lastTimestamp": stamp(at),
        "count": count,
        "type": "Normal",
    }


def scale_write(at: datetime, manager: str = "cleanup-job") -> dict[str, Any]:
    return {
        "manager": manager,
        "operation": "Update",
        "subresource": "scale",
        "time": stamp(at),
        "fieldsV1": {"f:spec": {"f:replicas": {}}},
    }


def test_the_controllers_scale_down_with_who_wrote_the_replicas() -> None:
    dep = deployment(writes=[scale_write(T0 - timedelta(seconds=1))])
    [down] = scale_downs("gateway", dep, [core_event(f"Scaled down replica set {RS} to 0 from 3", T0)], RS)
    assert (down.time, down.replicas, down.previous_replicas, down.who, down.source) == (
        T0,
        0,
        3,
        "cleanup-job",
        "event",
    )


def test_a_write_far_from_the_event_is_not_its_author() -> None:
    dep = deployment(writes=[scale_write(T0 - timedelta(hours=3))])
    [down] = scale_downs("gateway", dep, [core_event(f"Scaled down replica set {RS} to 0 from 3", T0)], RS)
    assert down.who is None


def test_the_events_api_shape_is_read_too() -> None:
    """events.k8s.io/v1 read as such: regarding, note, series; no lastTimestamp."""
    event = {
        "metadata": {"name": "gateway.x", "namespace": "prod"},
        "regarding": {"kind": "Deployment", "name": "gateway", "uid": UID},
        "reason": "ScalingReplicaSet",
        "note": f"Scaled down replica set {RS} to 1 from 4",
        "reportingController": "deployment-controller",
        "eventTime": "2026-03-14T13:00:00.000000Z",
        "series": {"count": 2, "lastObservedTime": "2026-03-14T14:00:00.000000Z"},
        "type": "Normal",
    }
    [down] = scale_downs("gateway", deployment(replicas=1), [event], RS)
    assert (down.time, down.replicas, down.previous_replicas, down.count) == (T0, 1, 4, 2)


def test_thousands_of_scale_downs_keep_the_newest() -> None:
    events = [
        core_event(f"Scaled down replica set {RS} to {n} from {n + 1}", T0 + timedelta(seconds=n)) for n in range(5000)
    ]
    found = scale_downs("gateway", deployment(replicas=1), events, RS)
    assert len(found) == MAX_SCALES
    assert found[-1].replicas == 4999
    assert [d.time for d in found] == sorted(d.time for d in found)


def test_scale_ups_and_other_replicasets_are_no_scale_down() -> None:
    events = [
        core_event(f"Scaled up replica set {RS} to 3 from 0", T0),
        core_event("Scaled down replica set gateway-0ld to 0 from 3", T0),
    ]
    assert scale_downs("gateway", deployment(replicas=3), events, RS) == ()


def test_no_current_replicaset_reads_no_event() -> None:
    assert (
        scale_downs("gateway", deployment(replicas=3), [core_event(f"Scaled down replica set {RS} to 2", T0)], None)
        == ()
    )


def test_with_the_events_gone_a_deployment_at_zero_is_dated_by_its_write() -> None:
    dep = deployment(replicas=0, writes=[scale_write(T0, "kubectl")])
    [down] = scale_downs("gateway", dep, [], RS)
    assert (down.time, down.replicas, down.previous_replicas, down.who, down.source) == (
        T0,
        0,
        None,
        "kubectl",
        "managedFields",
    )
    assert scale_downs("gateway", deployment(replicas=2, writes=[scale_write(T0)]), [], RS) == ()


def test_a_controllers_write_is_nobodys_change() -> None:
    dep = deployment(replicas=0, writes=[scale_write(T0, "kube-controller-manager")])
    assert scale_downs("gateway", dep, [], RS) == ()


def test_junk_in_place_of_objects_is_skipped() -> None:
    junk: list[Any] = ["text", None, {"involvedObject": "nope"}, {"involvedObject": {"kind": "Deployment"}}]
    dep = deployment(replicas=3)
    dep["metadata"]["managedFields"] = ["not an entry", {"manager": "x", "time": "later"}]
    assert scale_downs("gateway", dep, junk, RS) == ()
