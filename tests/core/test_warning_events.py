"""Warning events in every shape a cluster holds, grouped by reason and object, counted and dated right."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.core.kube_objects import NAMESPACE, NOW, ts

from incidentctl.core.warning_events import event_fact, warning_groups

JSON = dict[str, object]


def core_event(
    name: str, reason: str, pod: str, *, count: int, first: float, last: float, type_: str = "Warning"
) -> JSON:
    """What the kubelet writes (core/v1 recorder)."""
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": NAMESPACE, "creationTimestamp": ts(first)},
        "involvedObject": {"kind": "Pod", "namespace": NAMESPACE, "name": pod, "apiVersion": "v1"},
        "reason": reason,
        "message": f"{reason} of {pod}",
        "source": {"component": "kubelet", "host": "node-1"},
        "firstTimestamp": ts(first),
        "lastTimestamp": ts(last),
        "count": count,
        "type": type_,
        "eventTime": None,
        "reportingComponent": "kubelet",
        "reportingInstance": "node-1",
    }


def micro(minutes_ago: float) -> str:
    return (NOW - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def scheduler_event_via_core(pod: str, *, series: int | None, first: float, last: float) -> JSON:
    """What kube-scheduler writes (events.k8s.io/v1), read through core/v1: no count, no timestamps."""
    event: JSON = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{pod}.18", "namespace": NAMESPACE, "creationTimestamp": ts(first)},
        "involvedObject": {"kind": "Pod", "namespace": NAMESPACE, "name": pod},
        "reason": "FailedScheduling",
        "message": "0/3 nodes are available: 3 Insufficient cpu.",
        "source": {},
        "firstTimestamp": None,
        "lastTimestamp": None,
        "type": "Warning",
        "eventTime": micro(first),
        "action": "Scheduling",
        "reportingComponent": "default-scheduler",
        "reportingInstance": "default-scheduler-cp-1",
    }
    if series is not None:
        event["series"] = {"count": series, "lastObservedTime": micro(last)}
    return event


def scheduler_event_via_events_api(pod: str, *, series: int, first: float, last: float) -> JSON:
    """The same event read through events.k8s.io/v1: regarding, note, deprecated* fields."""
    return {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": f"{pod}.19", "namespace": NAMESPACE, "creationTimestamp": ts(first)},
        "regarding": {"kind": "Pod", "namespace": NAMESPACE, "name": pod},
        "reason": "FailedScheduling",
        "note": "0/3 nodes are available: 3 Insufficient memory.",
        "type": "Warning",
        "eventTime": micro(first),
        "series": {"count": series, "lastObservedTime": micro(last)},
        "reportingController": "default-scheduler",
        "reportingInstance": "default-scheduler-cp-1",
        "action": "Scheduling",
    }


def test_the_old_shape_counts_and_dates() -> None:
    fact = event_fact(core_event("a", "BackOff", "synthesis-1", count=12, first=20, last=1))
    assert (fact.count, fact.first_seen, fact.last_seen) == (
        12,
        NOW - timedelta(minutes=20),
        NOW - timedelta(minutes=1),
    )
    assert (fact.kind, fact.name, fact.source) == ("Pod", "synthesis-1", "kubelet")


def test_the_new_shape_read_through_core_counts_its_series_and_dates_its_last_observation() -> None:
    fact = event_fact(scheduler_event_via_core("gateway-1", series=7, first=30, last=2))
    assert fact.count == 7
    assert fact.first_seen == NOW - timedelta(minutes=30)
    assert fact.last_seen == NOW - timedelta(minutes=2)
    assert fact.source == "default-scheduler"


def test_a_new_shape_event_seen_once_has_no_series_and_is_one_occurrence_at_its_event_time() -> None:
    fact = event_fact(scheduler_event_via_core("gateway-1", series=None, first=4, last=4))
    assert (fact.count, fact.last_seen) == (1, NOW - timedelta(minutes=4))


def test_the_events_api_shape_is_read_too() -> None:
    fact = event_fact(scheduler_event_via_events_api("gateway-2", series=3, first=10, last=3))
    assert (fact.kind, fact.name, fact.count) == ("Pod", "gateway-2", 3)
    assert fact.message == "0/3 nodes are available: 3 Insufficient memory."
    assert fact.last_seen == NOW - timedelta(minutes=3)
    assert fact.source == "default-scheduler"


def test_groups_by_reason_and_object_newest_first_within_the_window() -> None:
    events = [
        core_event("a1", "BackOff", "synthesis-1", count=5, first=40, last=10),
        core_event("a2", "BackOff", "synthesis-1", count=3, first=9, last=2),  # same reason and pod: one group
        core_event("b", "Unhealthy", "postgres-0", count=30, first=15, last=1),
        core_event("c", "Pulled", "synthesis-1", count=4, first=15, last=1, type_="Normal"),  # not a warning
        core_event("d", "BackOff", "gateway-9", count=2, first=300, last=200),  # before the window
        scheduler_event_via_core("gateway-1", series=7, first=30, last=5),
    ]
    groups = warning_groups(events, since=NOW - timedelta(hours=1))
    assert [(g.reason, g.object, g.count) for g in groups] == [
        ("Unhealthy", "Pod/postgres-0", 30),
        ("BackOff", "Pod/synthesis-1", 8),
        ("FailedScheduling", "Pod/gateway-1", 7),
    ]
    backoff = groups[1]
    assert backoff.first_seen == NOW - timedelta(minutes=40)
    assert backoff.last_seen == NOW - timedelta(minutes=2)
    assert backoff.message == "BackOff of synthesis-1"


def test_an_event_without_any_time_is_kept_and_sorts_last() -> None:
    timeless = core_event("t", "FailedMount", "redis-0", count=1, first=0, last=0)
    for key in ("firstTimestamp", "lastTimestamp"):
        timeless[key] = None
    timeless["metadata"] = {"name": "t", "namespace": NAMESPACE}
    groups = warning_groups(
        [timeless, core_event("a", "BackOff", "x", count=1, first=5, last=5)], since=NOW - timedelta(hours=1)
    )
    assert [g.reason for g in groups] == ["BackOff", "FailedMount"]
    assert groups[1].last_seen is None


def test_a_zero_or_missing_count_is_one_occurrence() -> None:
    event = core_event("z", "BackOff", "x", count=0, first=5, last=5)
    assert event_fact(event).count == 1
    del event["count"]
    assert event_fact(event).count == 1
    assert datetime(2025, 9, 9, 11, 55, tzinfo=timezone.utc) == event_fact(event).last_seen
