"""Reading pods, deployments, services and ingresses the way `kubectl get` is read during an incident."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from tests.core import kube_objects as k

from incidentctl.core.checks import Failure, Health, PodsObservation, ServiceObservation
from incidentctl.core.workloads import (
    deployment_check,
    ingress_checks,
    pod_state,
    pods_check,
    pods_of,
    ready_addresses,
    selector_matches,
    service_check,
)


def state(pod: dict[str, Any]) -> Any:
    return pod_state(pod, now=k.NOW, window=k.WINDOW)


# --- one pod ----------------------------------------------------------------------------------------------------


def test_a_running_ready_pod_has_no_problems_and_serves() -> None:
    s = state(k.healthy_pod())
    assert s.name == "synthesis-7d9f8c6b5-abcde"
    assert s.problems == ()
    assert s.serving
    assert (s.restarts, s.recent_restarts, s.last_restart) == (0, 0, None)


def test_crash_loop_names_the_last_exit() -> None:
    s = state(k.crashloop_pod())
    assert s.problems == ("CrashLoopBackOff (last exit: Error, code 1)",)
    assert not s.serving
    assert s.restarts == 7


def test_crash_loop_from_memory_says_oomkilled_once() -> None:
    s = state(k.crashloop_pod(last_reason="OOMKilled", exit_code=137))
    assert s.problems == ("CrashLoopBackOff (last exit: OOMKilled, code 137)",)


def test_a_pod_back_up_after_an_oom_kill_still_shows_it() -> None:
    s = state(k.oom_recovered_pod())
    assert s.serving
    assert s.problems == ("OOMKilled (exit 137)",)


def test_a_container_killed_a_moment_ago_reads_as_kubectl_shows_it() -> None:
    first_kill = k.oom_just_killed_pod()
    first_kill["status"]["containerStatuses"][0].update(restartCount=0, lastState={})
    s = state(first_kill)
    assert s.problems == ("OOMKilled (exit 137)",)
    assert not any("readiness" in p for p in s.problems)

    crashed = k.oom_just_killed_pod()
    crashed["status"]["containerStatuses"][0]["state"]["terminated"].update(reason="Error", exitCode=2)
    crashed["status"]["containerStatuses"][0]["lastState"] = {}
    assert state(crashed).problems == ("Error (exit 2)",)


@pytest.mark.parametrize("reason", ["ImagePullBackOff", "ErrImagePull"])
def test_image_pull_failures_are_problems_even_while_pending(reason: str) -> None:
    s = state(k.image_pull_pod(reason=reason))
    assert s.phase == "Pending"
    assert s.problems == (reason,)


def test_unschedulable_pod_says_why_in_the_schedulers_words() -> None:
    s = state(k.unschedulable_pod())
    assert len(s.problems) == 1
    assert s.problems[0].startswith("Pending: Unschedulable (0/3 nodes are available: 3 Insufficient cpu.")
    assert not s.serving


def test_a_pod_being_created_is_not_serving_but_not_a_problem() -> None:
    s = state(k.creating_pod())
    assert s.problems == ()
    assert not s.serving


def test_evicted_pod_keeps_the_kubelets_message() -> None:
    s = state(k.evicted_pod())
    assert s.phase == "Failed"
    assert s.problems == (f"Evicted: {k.EVICTION_MESSAGE.strip()}",)
    assert not s.serving


def test_a_failed_pod_that_was_not_evicted_says_failed() -> None:
    failed = k.pod(
        "synthesis-7d9f8c6b5-f41l0",
        phase="Failed",
        reason="DeadlineExceeded",
        message="Pod was active on the node longer than the specified deadline",
        conditions=k.pod_conditions(ready=False),
    )
    assert state(failed).problems == ("Failed: DeadlineExceeded",)


def test_running_but_not_ready_blames_the_readiness_probe() -> None:
    s = state(k.not_ready_pod())
    assert s.phase == "Running"
    assert s.problems == ("not ready (readiness probe failing)",)
    assert not s.serving


def test_restarts_within_the_window_of_a_young_pod_all_count() -> None:
    s = state(k.restarted_pod("synthesis-7d9f8c6b5-r3st0", restarts=2, finished_ago=10, created_ago=30))
    assert s.problems == ()
    assert s.serving
    assert (s.restarts, s.recent_restarts) == (2, 2)
    assert s.last_restart == k.NOW - timedelta(minutes=10)


def test_an_old_pods_lifetime_restarts_are_not_claimed_for_the_window() -> None:
    week_old = k.restarted_pod("synthesis-7d9f8c6b5-0ld00", restarts=40, finished_ago=10, created_ago=60 * 24 * 7)
    s = state(week_old)
    assert s.restarts == 40
    assert s.recent_restarts == 1


def test_a_restart_before_the_window_is_not_recent() -> None:
    s = state(k.restarted_pod("synthesis-7d9f8c6b5-0ld01", restarts=3, finished_ago=90, created_ago=180))
    assert (s.restarts, s.recent_restarts, s.last_restart) == (3, 0, None)


# --- a component's pods -----------------------------------------------------------------------------------------


def test_all_pods_ready_is_ok() -> None:
    pods = [k.healthy_pod(f"synthesis-7d9f8c6b5-ok00{i}") for i in range(3)]
    r = pods_check("synthesis", pods, now=k.NOW, window=k.WINDOW)
    assert r.check == "pods:synthesis"
    assert r.health is Health.OK
    assert r.summary == "3/3 pods ready"
    assert r.reasons == ()
    assert r.observation == PodsObservation(pods=3, ready=3, restarts=0, recent_restarts=0)
    assert r.failure is None


def test_some_pods_failing_is_degraded_with_one_reason_per_pod() -> None:
    pods = [k.healthy_pod(), k.crashloop_pod(), k.not_ready_pod("synthesis-7d9f8c6b5-rdy00")]
    r = pods_check("synthesis", pods, now=k.NOW, window=k.WINDOW)
    assert r.health is Health.DEGRADED
    assert r.summary == "1/3 pods ready (CrashLoopBackOff, not ready)"
    assert r.reasons == (
        "synthesis-7d9f8c6b5-k2x4p: CrashLoopBackOff (last exit: Error, code 1), 7 restart(s) in the last 1h",
        "synthesis-7d9f8c6b5-rdy00: not ready (readiness probe failing)",
    )
    assert isinstance(r.observation, PodsObservation)
    assert r.observation.recent_restarts == 7
    assert r.failure is Failure.CRASH_LOOP
    assert r.observation.failures == (Failure.CRASH_LOOP, Failure.NOT_READY, Failure.RESTARTS)


def test_no_pod_serving_is_down_and_the_summary_names_each_kind_of_problem() -> None:
    pods = [k.image_pull_pod(), k.unschedulable_pod(), k.evicted_pod(), k.oom_just_killed_pod()]
    r = pods_check("synthesis", pods, now=k.NOW, window=k.WINDOW)
    assert r.health is Health.DOWN
    assert r.summary == "0/4 pods ready (Evicted, ImagePullBackOff, OOMKilled, Pending)"


def test_recent_restarts_alone_make_a_serving_component_degraded() -> None:
    pods = [
        k.healthy_pod(),
        k.restarted_pod("synthesis-7d9f8c6b5-0ld00", restarts=40, finished_ago=10, created_ago=10080),
    ]
    r = pods_check("synthesis", pods, now=k.NOW, window=k.WINDOW)
    assert r.health is Health.DEGRADED
    assert r.summary == "2/2 pods ready"
    assert r.reasons == ("synthesis-7d9f8c6b5-0ld00: restarted 10m ago (40 restarts in total)",)


def test_a_pod_still_starting_makes_the_component_degraded_without_a_reason() -> None:
    r = pods_check("synthesis", [k.healthy_pod(), k.creating_pod()], now=k.NOW, window=k.WINDOW)
    assert r.health is Health.DEGRADED
    assert r.summary == "1/2 pods ready"
    assert r.reasons == ()


def test_no_pods_at_all_is_down() -> None:
    r = pods_check("synthesis", [], now=k.NOW, window=k.WINDOW)
    assert (r.health, r.summary) == (Health.DOWN, "no pods")


# --- label selectors --------------------------------------------------------------------------------------------

LABELS = {"app": "synthesis", "tier": "backend", "track": "stable"}


@pytest.mark.parametrize(
    ("selector", "matches"),
    [
        ({"matchLabels": {"app": "synthesis"}}, True),
        ({"matchLabels": {"app": "synthesis", "tier": "backend"}}, True),
        ({"matchLabels": {"app": "retrieval"}}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["backend", "cache"]}]}, True),
        ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["frontend"]}]}, False),
        ({"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}, False),
        ({"matchExpressions": [{"key": "track", "operator": "NotIn", "values": ["canary"]}]}, True),
        ({"matchExpressions": [{"key": "track", "operator": "NotIn", "values": ["stable"]}]}, False),
        ({"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["a"]}]}, True),
        ({"matchExpressions": [{"key": "track", "operator": "Exists"}]}, True),
        ({"matchExpressions": [{"key": "zone", "operator": "Exists"}]}, False),
        ({"matchExpressions": [{"key": "zone", "operator": "DoesNotExist"}]}, True),
        ({"matchExpressions": [{"key": "track", "operator": "DoesNotExist"}]}, False),
        (
            {
                "matchLabels": {"app": "synthesis"},
                "matchExpressions": [{"key": "track", "operator": "NotIn", "values": ["canary"]}],
            },
            True,
        ),
        (
            {
                "matchLabels": {"app": "synthesis"},
                "matchExpressions": [{"key": "track", "operator": "In", "values": ["canary"]}],
            },
            False,
        ),
        (None, False),
        ({}, False),
    ],
)
def test_label_selectors(selector: dict[str, Any] | None, matches: bool) -> None:
    assert selector_matches(selector, LABELS) is matches


def test_an_object_without_labels_matches_only_absence() -> None:
    assert selector_matches({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}, None)
    assert not selector_matches({"matchLabels": {"app": "synthesis"}}, None)


def test_pods_of_a_deployment_are_picked_by_its_selector() -> None:
    canary = k.healthy_pod("synthesis-canary-aaaaa")
    canary["metadata"]["labels"]["track"] = "canary"
    pods = [k.healthy_pod(), canary, k.healthy_pod("retrieval-5c8d7b9f4-bbbbb", app="retrieval")]
    selector = k.deployment("synthesis")["spec"]["selector"]
    assert [p["metadata"]["name"] for p in pods_of(selector, pods)] == [
        "synthesis-7d9f8c6b5-abcde",
        "synthesis-canary-aaaaa",
    ]
    stable_only = {**selector, "matchExpressions": [{"key": "track", "operator": "NotIn", "values": ["canary"]}]}
    assert [p["metadata"]["name"] for p in pods_of(stable_only, pods)] == ["synthesis-7d9f8c6b5-abcde"]


# --- deployments ------------------------------------------------------------------------------------------------


def test_a_fully_available_deployment_is_ok() -> None:
    r = deployment_check("synthesis", k.deployment(), "synthesis")
    assert (r.check, r.kind, r.target, r.subject) == (
        "deployment:synthesis",
        "deployment",
        "deployment/synthesis",
        "synthesis",
    )
    assert r.health is Health.OK
    assert r.summary == "3/3 ready, 3 up-to-date, 3 available"
    assert r.reasons == ()
    assert r.observed == {"desired": 3, "updated": 3, "ready": 3, "available": 3, "revision": "12"}


def test_a_missing_deployment_is_down() -> None:
    r = deployment_check("synthesis", None, "synthesis")
    assert (r.health, r.summary) == (Health.DOWN, "deployment synthesis not found")


def test_scaled_to_zero_is_down() -> None:
    r = deployment_check("gateway", k.deployment("gateway", replicas=0, ready=0), "gateway")
    assert (r.health, r.summary) == (Health.DOWN, "scaled to 0 replicas")


def test_no_available_replica_is_down() -> None:
    r = deployment_check("synthesis", k.deployment(ready=0), "synthesis")
    assert r.health is Health.DOWN
    assert r.summary == "0/3 ready, 3 up-to-date, 0 available"
    assert r.reasons == ("no available replica",)


def test_fewer_ready_than_desired_is_degraded() -> None:
    r = deployment_check("synthesis", k.deployment(ready=2), "synthesis")
    assert r.health is Health.DEGRADED
    assert r.summary == "2/3 ready, 3 up-to-date, 2 available"


def test_a_stuck_rollout_is_at_least_degraded_and_quotes_the_controller() -> None:
    dep = k.deployment(ready=3, updated=1, generation=5, progressing=k.STUCK)
    r = deployment_check("synthesis", dep, "synthesis")
    assert r.health is Health.DEGRADED
    assert r.reasons == ('rollout stuck: ReplicaSet "synthesis-6f5b4c9d8" has timed out progressing.',)

    with_nothing_available = k.deployment(ready=0, updated=1, progressing=k.STUCK)
    down = deployment_check("synthesis", with_nothing_available, "synthesis")
    assert down.health is Health.DOWN
    assert down.reasons[0] == "no available replica"
    assert down.reasons[1].startswith("rollout stuck: ")


def test_a_rollout_in_progress_is_reported_but_not_a_problem_by_itself() -> None:
    r = deployment_check("synthesis", k.deployment(ready=3, updated=1), "synthesis")
    assert r.health is Health.OK
    assert r.reasons == ("rolling out: 1/3 updated",)

    new_spec_not_yet_seen = k.deployment(generation=6, observed_generation=5)
    assert deployment_check("synthesis", new_spec_not_yet_seen, "synthesis").reasons == ("rolling out: 3/3 updated",)


def test_old_replicas_still_terminating_mean_the_rollout_is_not_finished() -> None:
    dep = k.deployment(ready=3, updated=3)
    dep["status"]["replicas"] = 4
    r = deployment_check("synthesis", dep, "synthesis")
    assert r.health is Health.OK
    assert r.reasons == ("rolling out: 1 old replica(s) pending termination",)


def test_a_paused_rollout_says_so() -> None:
    r = deployment_check("synthesis", k.deployment(paused=True, updated=1), "synthesis")
    assert r.reasons == ("rollout paused",)


def test_replicas_default_to_one_when_the_spec_leaves_them_out() -> None:
    r = deployment_check("synthesis", k.deployment(replicas=None, ready=1), "synthesis")
    assert r.health is Health.OK
    assert r.observed["desired"] == 1


# --- services and endpoints -------------------------------------------------------------------------------------


def test_a_service_with_ready_endpoints_is_ok() -> None:
    r = service_check("synthesis", "synthesis", k.service(), k.endpoints(ready=2, not_ready=1))
    assert (r.check, r.target, r.health) == ("service:synthesis", "service/synthesis", Health.OK)
    assert r.summary == "2 ready endpoint(s)"
    assert r.observation == ServiceObservation(ready_endpoints=2)


@pytest.mark.parametrize(
    "eps",
    [k.endpoints(ready=0, not_ready=2), k.endpoints(ready=0), None],
    ids=["only not-ready addresses", "no subsets", "no endpoints object"],
)
def test_a_service_nobody_ready_is_behind_is_down(eps: dict[str, Any] | None) -> None:
    r = service_check("synthesis", "synthesis", k.service(), eps)
    assert (r.health, r.summary) == (Health.DOWN, "no ready endpoints")


def test_a_missing_service_is_down() -> None:
    r = service_check("synthesis", "synthesis", None, None)
    assert (r.health, r.summary) == (Health.DOWN, "service synthesis not found")


def test_ready_addresses_counts_every_subset() -> None:
    eps = k.endpoints(ready=2)
    eps["subsets"].append({"addresses": [{"ip": "10.244.3.9"}], "ports": [{"port": 9090, "protocol": "TCP"}]})
    assert ready_addresses(eps) == 3
    assert ready_addresses(None) == 0


# --- ingresses --------------------------------------------------------------------------------------------------

BY_SERVICE = {"gateway": "gateway", "retrieval": "retrieval", "synthesis": "synthesis"}


def _ingress_world(*, gateway_ready: int = 2, retrieval_ready: int = 2) -> tuple[dict[str, Any], dict[str, Any]]:
    services = {name: k.service(name) for name in ("gateway", "retrieval")}
    eps = {
        "gateway": k.endpoints("gateway", ready=gateway_ready),
        "retrieval": k.endpoints("retrieval", ready=retrieval_ready),
    }
    return services, eps


def test_an_ingress_whose_backends_serve_is_ok_and_about_its_component() -> None:
    services, eps = _ingress_world()
    [r] = ingress_checks([k.ingress(paths={"/": "gateway"}, default="gateway")], services, eps, BY_SERVICE)
    assert (r.check, r.kind, r.target) == ("ingress:api", "ingress", "ingress/api")
    assert r.health is Health.OK
    assert r.summary == "1 backend(s) serving"
    assert r.subject == "gateway"


def test_a_backend_without_endpoints_degrades_an_ingress_with_several() -> None:
    services, eps = _ingress_world(retrieval_ready=0)
    ing = k.ingress(paths={"/": "gateway", "/v1/search": "retrieval"})
    [r] = ingress_checks([ing], services, eps, BY_SERVICE)
    assert r.health is Health.DEGRADED
    assert r.summary == "1/2 backends serving"
    assert r.reasons == ("backend service retrieval has no ready endpoints",)
    assert r.subject is None


def test_an_ingress_whose_only_backend_is_missing_is_down() -> None:
    services, eps = _ingress_world()
    [r] = ingress_checks([k.ingress(paths={"/": "gateway-v2"})], services, eps, BY_SERVICE)
    assert r.health is Health.DOWN
    assert r.summary == "0/1 backends serving"
    assert r.reasons == ("backend service gateway-v2 not found",)


def test_an_ingress_with_no_backend_is_degraded() -> None:
    services, eps = _ingress_world()
    [r] = ingress_checks([k.ingress()], services, eps, BY_SERVICE)
    assert (r.health, r.summary) == (Health.DEGRADED, "no backends")


def test_every_ingress_gets_its_own_check() -> None:
    services, eps = _ingress_world(gateway_ready=0)
    checks = ingress_checks(
        [k.ingress("api", paths={"/": "gateway"}), k.ingress("search", paths={"/": "retrieval"})],
        services,
        eps,
        BY_SERVICE,
    )
    assert [(r.check, r.health, r.subject) for r in checks] == [
        ("ingress:api", Health.DOWN, "gateway"),
        ("ingress:search", Health.OK, "retrieval"),
    ]
