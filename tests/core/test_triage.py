"""classify() with the real runbook: the most severe matching rule decides and says why, the default applies when
something is wrong but no rule matched, and the impact, SLA burn, deadlines and category follow from it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import pytest
from tests.core import kube_objects as k
from tests.core import results as R

from incidentctl.core.checks import CheckKind, CheckResult, Failure, Health
from incidentctl.core.signals import builtin_signals, measured_signals
from incidentctl.core.triage import Deadline, Triage, classify, infer_category
from incidentctl.core.workloads import deployment_check, pods_check
from incidentctl.runbook.model import Runbook

STARTED = k.NOW - timedelta(hours=1)


@pytest.fixture(scope="module")
def rb() -> Runbook:
    return R.runbook()


def triage(
    rb: Runbook, results: Sequence[CheckResult], *, since: datetime | None = STARTED, declared: Sequence[str] = ()
) -> Triage:
    """What the triage phase does: built-in and measured signals, then the runbook's rules."""
    signals = {**builtin_signals(rb, results, declared=declared), **measured_signals(results)}
    return classify(rb, results, signals, now=k.NOW, since=since)


# --- severity and its reason ------------------------------------------------------------------------------------


def test_healthy_is_no_incident(rb: Runbook) -> None:
    t = triage(rb, R.healthy())
    assert t.healthy
    assert (t.severity, t.severity_name, t.decided_by, t.category) == (None, None, None, None)
    assert t.reason == "healthy: every check passed"
    assert (t.deadlines, t.notify, t.response_time, t.components, t.evidence) == ((), (), None, (), ())
    assert not any(m.matched for m in t.rules)


def test_an_error_rate_over_10_percent_is_p2_and_says_so(rb: Runbook) -> None:
    t = triage(rb, R.replace(R.healthy(), R.signal("error_rate", "synthesis", 0.14)))
    assert (t.severity, t.severity_name, t.decided_by) == ("P2", "High", "p2-error-rate")
    assert t.reason == "P2: error_rate 14% > 10% on synthesis (rule p2-error-rate)"
    assert t.components == ("synthesis",)
    assert t.evidence == ("synthesis: error_rate 0.14",)


def test_the_most_severe_of_several_matching_rules_wins_and_the_others_are_kept(rb: Runbook) -> None:
    results = R.replace(R.healthy(), *R.workload("synthesis", ready=0), R.signal("error_rate", "synthesis", 0.14))
    t = triage(rb, results)
    assert t.severity == "P2"
    assert t.reason == "P2: error_rate 14% > 10% on synthesis (rule p2-error-rate); 3/9 pods not ready"
    assert [(m.rule, m.severity, m.matched) for m in t.rules] == [
        ("p1-service-down", "P1", False),
        ("p2-error-rate", "P2", True),
        ("p2-response-time", "P2", False),
        ("p2-partial-outage", "P2", True),
        ("p2-security-attack", "P2", False),
        ("p3-component-failure", "P3", True),
        ("p3-dependency-failure", "P3", False),
    ]
    by_rule = {m.rule: m for m in t.rules}
    assert by_rule["p1-service-down"].because == "not service_down on gateway"
    assert by_rule["p3-component-failure"].because == "components_degraded 1 >= 1"
    assert by_rule["p2-response-time"].because == "response_time: no data"


def test_a_complete_outage_beats_everything(rb: Runbook) -> None:
    gateway_gone = [
        deployment_check("gateway", k.deployment("gateway", replicas=0, ready=0), "gateway"),
        pods_check("gateway", [], now=k.NOW, window=k.WINDOW),
        R.http("gateway", error="connection refused by api.sarvanom.com:443", failure=Failure.REFUSED),
    ]
    results = R.replace(R.healthy(), *gateway_gone, R.signal("error_rate", "synthesis", 0.5))
    t = triage(rb, results)
    assert (t.severity, t.severity_name, t.decided_by) == ("P1", "Critical", "p1-service-down")
    # A gateway scaled to 0 has no pods to be "not ready": only the six others count, all ready.
    assert t.reason == "P1: service_down on gateway (rule p1-service-down)"
    assert t.notify == ("slack", "email", "status-page", "pagerduty")
    assert t.users_affected == 1.0
    assert t.users_affected_basis == "the service is down for everyone"


def test_a_single_failing_component_without_user_impact_is_p3(rb: Runbook) -> None:
    t = triage(rb, R.replace(R.healthy(), *R.workload("retrieval", ready=2)))
    assert (t.severity, t.decided_by) == ("P3", "p3-component-failure")
    assert t.reason == "P3: components_degraded 1 >= 1 (rule p3-component-failure); 1/9 pods not ready"
    assert t.components == ("retrieval",)


def test_a_dead_dependency_alone_is_p3(rb: Runbook) -> None:
    t = triage(rb, R.replace(R.healthy(), R.dependency("openai", up=False)))
    assert (t.severity, t.decided_by) == ("P3", "p3-dependency-failure")
    assert t.reason == "P3: dependency_down 1 >= 1 (rule p3-dependency-failure)"
    assert t.category == "application/integration"


def test_slow_responses_are_p2_by_the_latency_rule(rb: Runbook) -> None:
    t = triage(rb, R.replace(R.healthy(), R.signal("response_time", "gateway", 42.0, unit="seconds")))
    assert (t.severity, t.decided_by) == ("P2", "p2-response-time")
    assert t.reason == "P2: response_time 42s > 30s on gateway (rule p2-response-time)"
    assert t.category == "application/performance"


def test_problems_no_rule_covers_get_the_runbook_default(rb: Runbook) -> None:
    forbidden = CheckResult(
        "pods:retrieval",
        CheckKind.PODS,
        "pods of retrieval",
        Health.UNKNOWN,
        "forbidden (HTTP 403)",
        "retrieval",
        failure=Failure.FORBIDDEN,
    )
    t = triage(rb, R.replace(R.healthy(), forbidden))
    assert (t.severity, t.severity_name, t.decided_by) == ("P4", "Low", "default")
    assert t.reason == "P4: 1 problem(s) found but no rule matched (runbook default)"
    assert t.evidence == ("retrieval: forbidden (HTTP 403)",)
    # A check that could not run says nothing about the kind of incident.
    assert t.category is None


def test_a_declared_security_breach_is_a_p2_by_its_rule(rb: Runbook) -> None:
    """An attack in progress is High even while every check is healthy (runbook rule p2-security-attack)."""
    t = triage(rb, R.healthy(), declared=["security_breach"])
    assert not t.healthy
    assert (t.severity, t.decided_by) == ("P2", "p2-security-attack")


# --- users affected ---------------------------------------------------------------------------------------------


def test_users_affected_is_the_user_facing_error_rate(rb: Runbook) -> None:
    results = R.replace(R.healthy(), R.signal("error_rate", "gateway", 0.12), R.signal("error_rate", "synthesis", 0.40))
    t = triage(rb, results)
    assert t.users_affected == pytest.approx(0.12)
    assert t.users_affected_basis == "error rate 12% on gateway"
    # The severity reason names the worst offender anywhere.
    assert t.reason == "P2: error_rate 40% > 10% on synthesis (rule p2-error-rate)"


def test_without_a_user_facing_rate_the_worst_rate_anywhere_stands_in(rb: Runbook) -> None:
    results = [r for r in R.healthy() if r.check != "signal:error_rate:gateway"]
    results = R.replace(results, R.signal("error_rate", "synthesis", 0.40))
    t = triage(rb, results)
    assert t.users_affected == pytest.approx(0.40)
    assert t.users_affected_basis == "error rate 40% on synthesis"


def test_users_affected_is_unknown_when_the_problem_does_not_show_in_errors(rb: Runbook) -> None:
    results = R.replace(R.healthy(), *R.workload("retrieval", ready=2), R.signal("error_rate", "gateway", 0.0))
    t = triage(rb, results)
    assert t.users_affected is None
    assert t.users_affected_basis == "error rate 0% on gateway: impact not measurable from here"

    no_rates = [r for r in R.replace(R.healthy(), *R.workload("retrieval", ready=2)) if r.kind != "signal"]
    t = triage(rb, no_rates)
    assert t.users_affected is None
    assert t.users_affected_basis == "no error-rate signal: impact not measurable from here"


def test_nobody_is_affected_when_healthy(rb: Runbook) -> None:
    results = R.replace(R.healthy(), R.signal("error_rate", "gateway", 0.0))
    t = triage(rb, results)
    assert (t.users_affected, t.users_affected_basis) == (0.0, "every check passed")


# --- SLA burn ---------------------------------------------------------------------------------------------------


def test_sla_burn_is_the_error_rate_over_the_error_budget(rb: Runbook) -> None:
    t = triage(rb, R.replace(R.healthy(), R.signal("error_rate", "gateway", 0.14)))
    sla = t.sla
    assert sla["slo"] == "99.9% over 30d"
    assert sla["error_rate"] == pytest.approx(0.14)
    # budget = 1 - 99.9% = 0.1%; burning at 14% errors is 140 times the sustainable rate
    assert sla["burn_rate"] == pytest.approx(0.14 / (1 - 0.999))
    assert sla["burn_rate"] == pytest.approx(140)
    # one hour at 140x of a 30-day window: 140 * 1h / 720h = 19.4% of the budget
    assert sla["budget_used"] == pytest.approx(140 / 720)
    assert sla["elapsed_s"] == 3600


def test_an_outage_burns_at_the_full_rate(rb: Runbook) -> None:
    gateway_gone = [deployment_check("gateway", k.deployment("gateway", replicas=0, ready=0), "gateway")]
    t = triage(rb, R.replace(R.healthy(), *gateway_gone), since=k.NOW - timedelta(minutes=43, seconds=12))
    assert t.sla["error_rate"] == 1.0
    assert t.sla["burn_rate"] == pytest.approx(1000)
    # 43.2 minutes is exactly the whole month's budget at 99.9% (0.1% of 30 days)
    assert t.sla["budget_used"] == pytest.approx(1.0)


def test_sla_burn_follows_the_users_error_rate_not_an_internal_one(rb: Runbook) -> None:
    results = R.replace(R.healthy(), R.signal("error_rate", "gateway", 0.02), R.signal("error_rate", "synthesis", 0.40))
    t = triage(rb, results)
    assert t.sla["error_rate"] == pytest.approx(0.02)
    assert t.sla["burn_rate"] == pytest.approx(20)
    assert t.users_affected == pytest.approx(0.02)


def test_nan_rates_and_a_fresh_incident_burn_nothing_yet(rb: Runbook) -> None:
    results = R.replace(R.healthy(), R.signal("error_rate", "gateway", float("nan")))
    t = triage(rb, results, since=None)
    assert t.sla["elapsed_s"] == 0
    assert t.sla["budget_used"] == 0


def test_no_slo_in_the_runbook_means_no_sla_numbers(rb: Runbook) -> None:
    without = rb.model_copy(update={"slo": None})
    t = triage(without, R.replace(R.healthy(), R.signal("error_rate", "gateway", 0.14)))
    assert t.sla == {"slo": None}


# --- deadlines --------------------------------------------------------------------------------------------------


def test_p2_escalates_to_the_engineering_manager_within_30_minutes(rb: Runbook) -> None:
    t = triage(rb, R.replace(R.healthy(), R.signal("error_rate", "gateway", 0.14)))
    assert t.response_time == timedelta(minutes=15)
    assert t.deadlines == (
        Deadline("respond (High)", "on-call (L1)", STARTED + timedelta(minutes=15)),
        Deadline(
            "Escalate to Engineering Manager within 30 minutes",
            "Engineering Manager (L3)",
            STARTED + timedelta(minutes=30),
        ),
        Deadline("first status update", "slack, email, status-page", STARTED + timedelta(minutes=15)),
    )


def test_p1_goes_to_the_cto_at_once(rb: Runbook) -> None:
    gateway_gone = [deployment_check("gateway", k.deployment("gateway", replicas=0, ready=0), "gateway")]
    t = triage(rb, R.replace(R.healthy(), *gateway_gone))
    assert t.response_time == timedelta(minutes=5)
    assert t.deadlines[0] == Deadline("respond (Critical)", "on-call (L1)", STARTED + timedelta(minutes=5))
    assert t.deadlines[1] == Deadline("Immediate escalation to CTO", "CTO (L4)", STARTED)


def test_p3_goes_to_a_senior_engineer_within_2_hours(rb: Runbook) -> None:
    t = triage(rb, R.replace(R.healthy(), *R.workload("retrieval", ready=2)))
    assert t.deadlines[1] == Deadline(
        "Escalate to Senior Engineer within 2 hours", "Senior Operations Engineer (L2)", STARTED + timedelta(hours=2)
    )
    assert t.deadlines[2] == Deadline("first status update", "slack", STARTED + timedelta(hours=1))


def test_p4_follows_the_standard_process_without_a_deadline(rb: Runbook) -> None:
    forbidden = CheckResult(
        "pods:retrieval", CheckKind.PODS, "pods of retrieval", Health.UNKNOWN, "forbidden", "retrieval"
    )
    t = triage(rb, R.replace(R.healthy(), forbidden))
    assert t.deadlines[0] == Deadline("respond (Low)", "on-call (L1)", STARTED + timedelta(hours=4))
    assert t.deadlines[1] == Deadline("Standard support process", "standard support", None)


def test_without_a_start_the_deadlines_count_from_now(rb: Runbook) -> None:
    t = triage(rb, R.replace(R.healthy(), R.signal("error_rate", "gateway", 0.14)), since=None)
    assert t.deadlines[1].by == k.NOW + timedelta(minutes=30)


# --- category ---------------------------------------------------------------------------------------------------


def test_a_failing_datastore_explains_the_503s(rb: Runbook) -> None:
    results = R.replace(
        R.healthy(),
        R.http("gateway", 503),
        R.signal("error_rate", "gateway", 0.35),
        R.datastore("postgres", up=False),
    )
    t = triage(rb, results)
    assert t.category == "infrastructure/database"
    assert infer_category(rb, [r for r in results if r.health is not Health.OK]) == "infrastructure/database"


def pods_problem(*pods: k.JSON) -> CheckResult:
    return pods_check(
        "retrieval", [*pods, k.healthy_pod("retrieval-5c8d7b9f4-ok000", app="retrieval")], now=k.NOW, window=k.WINDOW
    )


def _insufficient_memory() -> k.JSON:
    pod = k.unschedulable_pod()
    pod["status"]["conditions"][0]["message"] = "0/3 nodes are available: 3 Insufficient memory."
    return pod


@pytest.mark.parametrize(
    ("finding", "category"),
    [
        (lambda: pods_problem(k.crashloop_pod()), "application/service"),
        (lambda: pods_problem(k.image_pull_pod()), "application/service"),
        (lambda: pods_problem(k.oom_just_killed_pod()), "application/performance"),
        (lambda: pods_problem(k.evicted_pod()), "infrastructure/compute"),
        (lambda: pods_problem(k.unschedulable_pod()), "infrastructure/compute"),
        (lambda: pods_problem(_insufficient_memory()), "infrastructure/compute"),
        (lambda: R.dependency("anthropic", up=False), "application/integration"),
        (lambda: R.datastore("redis", up=False), "infrastructure/database"),
        (lambda: R.http("gateway", 503), "application/service"),
        (lambda: R.signal("response_time", "gateway", 42.0, unit="seconds"), "application/performance"),
    ],
    ids=[
        "crashloop",
        "image-pull",
        "oomkilled",
        "evicted-for-memory",
        "unschedulable",
        "insufficient-memory",
        "dependency",
        "datastore",
        "http-503",
        "latency",
    ],
)
def test_category_from_the_most_telling_finding(rb: Runbook, finding: Callable[[], CheckResult], category: str) -> None:
    result = finding()
    assert result.health is not Health.OK
    assert infer_category(rb, [result]) == category


def test_the_service_without_endpoints_is_a_network_problem_only_when_nothing_explains_it(rb: Runbook) -> None:
    no_endpoints = R.workload("synthesis", ready=0)[2]
    assert infer_category(rb, [no_endpoints]) == "infrastructure/network"
    crashing = R.workload("synthesis", ready=0)
    assert infer_category(rb, crashing) == "application/service"


def test_only_the_runbooks_categories_are_returned(rb: Runbook) -> None:
    only_security = rb.model_copy(update={"categories": {"security": rb.categories["security"]}})
    assert infer_category(only_security, [R.datastore("postgres", up=False)]) is None
    assert infer_category(rb, []) is None
