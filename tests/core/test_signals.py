"""The built-in signals the runbook's rules speak of, derived from check results: an outage is nobody served,
a partial outage is a failed part while users are still served, and counts and ratios carry their evidence."""

from __future__ import annotations

import pytest
from tests.core import kube_objects as k
from tests.core import results as R

from incidentctl.core.checks import CheckKind, CheckResult, Failure, Health
from incidentctl.core.rules import SignalValue
from incidentctl.core.signals import builtin_signals, measured_signals, subject_health
from incidentctl.core.workloads import deployment_check, pods_check, service_check
from incidentctl.runbook.model import Runbook


@pytest.fixture(scope="module")
def rb() -> Runbook:
    return R.runbook()


def one(signals: dict[str, list[SignalValue]], name: str) -> SignalValue:
    [sv] = signals[name]
    return sv


def test_all_healthy_means_every_builtin_signal_is_off(rb: Runbook) -> None:
    s = builtin_signals(rb, R.healthy())
    assert set(s) == {
        "service_down",
        "partial_outage",
        "components_down",
        "components_degraded",
        "pods_not_ready",
        "dependency_down",
        "datastore_down",
        "security_breach",
    }
    # Only gateway is user-facing in the runbook: it is the one an outage is judged on.
    assert [(sv.subject, sv.value) for sv in s["service_down"]] == [("gateway", False)]
    assert one(s, "partial_outage").value is False
    assert one(s, "components_down").value == 0
    assert one(s, "components_degraded").value == 0
    assert one(s, "pods_not_ready").value == 0
    assert one(s, "pods_not_ready").detail == "0/9 pods"
    assert one(s, "dependency_down").value == 0
    assert one(s, "security_breach").value is False


def test_a_gateway_scaled_to_zero_is_a_complete_outage(rb: Runbook) -> None:
    down = [
        deployment_check("gateway", k.deployment("gateway", replicas=0, ready=0), "gateway"),
        pods_check("gateway", [], now=k.NOW, window=k.WINDOW),
        service_check("gateway", "gateway", k.service("gateway"), k.endpoints("gateway", ready=0)),
    ]
    s = builtin_signals(rb, R.replace(R.healthy(), *down))
    sv = one(s, "service_down")
    assert sv.value is True
    assert sv.detail == (
        "deployment:gateway: scaled to 0 replicas; pods:gateway: no pods; service:gateway: no ready endpoints"
    )
    # Everything is down, so it is not a partial outage.
    assert one(s, "partial_outage").value is False
    assert one(s, "components_down").value == 1


@pytest.mark.parametrize(
    "health_check",
    [
        R.http("gateway", error="connection refused by api.sarvanom.com:443", failure=Failure.REFUSED),
        R.http("gateway", error="DNS lookup failed for api.sarvanom.com", failure=Failure.DNS),
    ],
    ids=["refused", "dns"],
)
def test_an_unreachable_health_endpoint_is_an_outage(rb: Runbook, health_check: CheckResult) -> None:
    s = builtin_signals(rb, R.replace(R.healthy(), health_check))
    assert one(s, "service_down").value is True


@pytest.mark.parametrize(
    "health_check",
    [R.http("gateway", 503), R.http("gateway", error="no answer within 5s", failure=Failure.TIMEOUT)],
    ids=["503", "timeout"],
)
def test_a_503_or_a_slow_health_answer_is_not_an_outage(rb: Runbook, health_check: CheckResult) -> None:
    """Requests are still being served; the error rate says how badly (a P2, not the P1 of an outage)."""
    s = builtin_signals(rb, R.replace(R.healthy(), health_check))
    assert one(s, "service_down").value is False
    assert one(s, "components_down").value == 1
    assert one(s, "components_degraded").value == 1


def test_a_failed_internal_component_is_a_partial_outage(rb: Runbook) -> None:
    s = builtin_signals(rb, R.replace(R.healthy(), *R.workload("synthesis", ready=0)))
    assert one(s, "service_down").value is False
    partial = one(s, "partial_outage")
    assert (partial.value, partial.detail) == (True, "synthesis")
    assert (one(s, "components_down").value, one(s, "components_down").detail) == (1, "synthesis")


def test_a_failed_datastore_is_a_partial_outage_and_a_datastore_down(rb: Runbook) -> None:
    s = builtin_signals(rb, R.replace(R.healthy(), R.datastore("postgres", up=False)))
    assert one(s, "partial_outage").detail == "postgres"
    assert (one(s, "datastore_down").value, one(s, "datastore_down").detail) == (1, "postgres")
    assert one(s, "components_down").value == 0


def test_degraded_components_are_counted_with_the_down_ones(rb: Runbook) -> None:
    results = R.replace(R.healthy(), *R.workload("synthesis", ready=2), *R.workload("retrieval", ready=0))
    s = builtin_signals(rb, results)
    degraded = one(s, "components_degraded")
    assert (degraded.value, degraded.detail) == (2, "retrieval, synthesis")
    assert one(s, "components_down").value == 1


def test_pods_not_ready_is_the_share_of_all_pods(rb: Runbook) -> None:
    results = R.replace(R.healthy(), *R.workload("synthesis", ready=0))
    sv = one(builtin_signals(rb, results), "pods_not_ready")
    assert sv.value == pytest.approx(3 / 9)
    assert sv.detail == "3/9 pods"


def test_pods_not_ready_is_unknown_without_pod_checks(rb: Runbook) -> None:
    results = [r for r in R.healthy() if r.kind != "pods"]
    sv = one(builtin_signals(rb, results), "pods_not_ready")
    assert (sv.value, sv.detail) == (None, None)


def test_a_dead_dependency_is_counted(rb: Runbook) -> None:
    s = builtin_signals(rb, R.replace(R.healthy(), R.dependency("openai", up=False)))
    assert (one(s, "dependency_down").value, one(s, "dependency_down").detail) == (1, "openai")
    assert one(s, "partial_outage").value is False


def test_a_security_breach_is_only_ever_declared_by_hand(rb: Runbook) -> None:
    sv = one(builtin_signals(rb, R.healthy(), declared=["security_breach"]), "security_breach")
    assert (sv.value, sv.source) == (True, "declared by hand")


def test_an_unknown_check_does_not_count_as_a_failure(rb: Runbook) -> None:
    forbidden = CheckResult(
        "pods:retrieval",
        CheckKind.PODS,
        "pods of retrieval",
        Health.UNKNOWN,
        "forbidden (HTTP 403)",
        "retrieval",
        failure=Failure.FORBIDDEN,
    )
    s = builtin_signals(rb, R.replace(R.healthy(), forbidden))
    assert one(s, "components_degraded").value == 0
    assert subject_health(R.replace(R.healthy(), forbidden), "retrieval") is Health.UNKNOWN


def test_subject_health_is_the_worst_of_its_checks() -> None:
    results = R.replace(R.healthy(), *R.workload("synthesis", ready=2))
    assert subject_health(results, "synthesis") is Health.DEGRADED
    assert subject_health(results, "gateway") is Health.OK
    assert subject_health(results, "nothing-checked") is Health.OK


def test_measured_signals_come_from_the_prometheus_checks() -> None:
    results = [
        R.signal("error_rate", "gateway", 0.12),
        R.signal("error_rate", "synthesis", None),
        R.signal("response_time", "gateway", 31.5, unit="seconds"),
        R.http("gateway"),
    ]
    s = measured_signals(results)
    assert set(s) == {"error_rate", "response_time"}
    assert [(sv.subject, sv.value, sv.unit, sv.source) for sv in s["error_rate"]] == [
        ("gateway", 0.12, "ratio", "prometheus"),
        ("synthesis", None, "ratio", "prometheus"),
    ]
    assert [(sv.subject, sv.value, sv.unit) for sv in s["response_time"]] == [("gateway", 31.5, "seconds")]


def test_a_signal_check_that_could_not_run_gives_no_value() -> None:
    failed = CheckResult(
        "signal:error_rate:gateway",
        CheckKind.SIGNAL,
        "error_rate",
        Health.UNKNOWN,
        "error_rate: Prometheus unreachable",
        failure=Failure.UNREACHABLE,
    )
    assert measured_signals([failed]) == {}
