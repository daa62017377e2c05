"""Decisions read what a check found as data (its kind, its failure, its observation), never the words of its
summary: a summary is rewritten for people at will, and cluster text (pod names, messages, bodies) lands in it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tests.core import kube_objects as k
from tests.core import results as R

from incidentctl.core.checks import CheckKind, CheckResult, Failure, Health, HttpObservation, PodsObservation
from incidentctl.core.signals import builtin_signals
from incidentctl.core.triage import classify, infer_category
from incidentctl.core.workloads import pods_check
from incidentctl.runbook.model import Runbook

URL = "https://api.sarvanom.com/health"


@pytest.fixture(scope="module")
def rb() -> Runbook:
    return R.runbook()


def gateway_down(failure: Failure, summary: str) -> CheckResult:
    return CheckResult(
        "http:gateway",
        CheckKind.HTTP,
        URL,
        Health.DOWN,
        summary,
        "gateway",
        failure=failure,
        observation=HttpObservation(method="GET", error=summary),
    )


def service_down(rb: Runbook, result: CheckResult) -> bool:
    [sv] = builtin_signals(rb, R.replace(R.healthy(), result))["service_down"]
    return bool(sv.value)


@pytest.mark.parametrize(
    "summary",
    ["connection refused by api.sarvanom.com:443", "proxy: upstream timed out", "no answer within 5s (said the proxy)"],
)
def test_a_refused_endpoint_is_an_outage_whatever_its_summary_says(rb: Runbook, summary: str) -> None:
    result = gateway_down(Failure.REFUSED, summary)
    assert service_down(rb, result) is True
    t = classify(rb, R.replace(R.healthy(), result), builtin_signals(rb, R.replace(R.healthy(), result)), now=k.NOW)
    assert (t.severity, t.decided_by) == ("P1", "p1-service-down")


@pytest.mark.parametrize(
    "summary", ["no answer within 5s", "response not complete within 400ms", "deadline passed", "gave up after 5s"]
)
def test_a_timeout_is_not_an_outage_however_it_is_worded(rb: Runbook, summary: str) -> None:
    """A slow answer still serves requests (the error rate says how badly): P2 material, not the P1 of an outage."""
    result = gateway_down(Failure.TIMEOUT, summary)
    assert service_down(rb, result) is False
    t = classify(rb, R.replace(R.healthy(), result), builtin_signals(rb, R.replace(R.healthy(), result)), now=k.NOW)
    assert t.severity != "P1"


def pods_problem(*pods: k.JSON) -> CheckResult:
    return pods_check(
        "retrieval", [*pods, k.healthy_pod("retrieval-5c8d7b9f4-ok000", app="retrieval")], now=k.NOW, window=k.WINDOW
    )


def _failed_with_message(message: str) -> k.JSON:
    return k.pod(
        "retrieval-5c8d7b9f4-f41l0",
        phase="Failed",
        message=message,
        conditions=k.pod_conditions(ready=False),
    )


@pytest.mark.parametrize(
    ("finding", "category"),
    [
        # the words of a pod's name or message are not its failure
        (lambda: pods_problem(k.crashloop_pod("memory-cache-7d9f8c6b5-abcde")), "application/service"),
        (lambda: pods_problem(k.crashloop_pod("pending-jobs-7d9f8c6b5-abcde")), "application/service"),
        (lambda: pods_problem(k.crashloop_pod("slow-evicted-7d9f8c6b5-abcde")), "application/service"),
        (lambda: pods_problem(_failed_with_message("startup check: memory limit too low")), "application/service"),
        # OOMKilled is the failure that says memory
        (lambda: pods_problem(k.oom_just_killed_pod("plain-7d9f8c6b5-abcde")), "application/performance"),
        (lambda: pods_problem(k.oom_recovered_pod()), "application/performance"),
    ],
    ids=["name-memory", "name-pending", "name-evicted", "message-memory", "oomkilled", "oomkilled-before"],
)
def test_the_category_comes_from_the_failure_not_from_words(
    rb: Runbook, finding: Callable[[], CheckResult], category: str
) -> None:
    result = finding()
    assert result.health is not Health.OK
    assert infer_category(rb, [result]) == category


def test_a_pod_check_carries_every_failure_of_its_pods() -> None:
    result = pods_problem(k.crashloop_pod(), k.oom_just_killed_pod(), k.unschedulable_pod())
    assert result.failure is Failure.OOM_KILLED
    assert isinstance(result.observation, PodsObservation)
    assert set(result.observation.failures) >= {Failure.CRASH_LOOP, Failure.OOM_KILLED, Failure.UNSCHEDULABLE}


def test_kind_is_an_enum_that_writes_the_same_strings() -> None:
    result = R.http("gateway")
    plain: str = "http"
    assert result.kind is CheckKind.HTTP
    assert result.kind == plain
    assert {plain: 1}[result.kind] == 1
    assert f"{result.kind}" == "http"
