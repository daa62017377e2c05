"""The runbook's structured conditions against signal values: every operator, bool signals, missing and NaN
values, durations still pending, and the words triage shows for each outcome."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from incidentctl.core.rules import SignalValue, evaluate_all, evaluate_condition, format_value
from incidentctl.core.times import format_elapsed
from incidentctl.runbook.model import Condition


def cond(**fields: Any) -> Condition:
    """A condition parsed the way the runbook's YAML is (``threshold: 10%``, ``for: 15m``)."""
    return Condition.model_validate(fields)


def rate(value: float | None, subject: str | None = "synthesis") -> SignalValue:
    return SignalValue("error_rate", "ratio", value, subject, source="prometheus")


@pytest.mark.parametrize(
    ("op", "value", "holds", "text"),
    [
        (">", 0.14, True, "error_rate 14% > 10% on synthesis"),
        (">", 0.10, False, "error_rate 10% <= 10% on synthesis"),
        (">=", 0.10, True, "error_rate 10% >= 10% on synthesis"),
        (">=", 0.05, False, "error_rate 5% < 10% on synthesis"),
        ("<", 0.05, True, "error_rate 5% < 10% on synthesis"),
        ("<", 0.10, False, "error_rate 10% >= 10% on synthesis"),
        ("<=", 0.10, True, "error_rate 10% <= 10% on synthesis"),
        ("<=", 0.25, False, "error_rate 25% > 10% on synthesis"),
        ("==", 0.10, True, "error_rate 10% == 10% on synthesis"),
        ("==", 0.11, False, "error_rate 11% != 10% on synthesis"),
        ("!=", 0.11, True, "error_rate 11% != 10% on synthesis"),
        ("!=", 0.10, False, "error_rate 10% == 10% on synthesis"),
    ],
)
def test_each_operator_and_its_words(op: str, value: float, holds: bool, text: str) -> None:
    outcome = evaluate_condition(cond(signal="error_rate", op=op, threshold="10%"), [rate(value)])
    assert outcome.holds is holds
    assert outcome.text == text
    assert outcome.subject == "synthesis"
    assert not outcome.pending


def test_seconds_and_counts_read_in_their_units() -> None:
    slow = evaluate_condition(
        cond(signal="response_time", op=">", threshold="30s"),
        [SignalValue("response_time", "seconds", 45.2, "gateway")],
    )
    assert (slow.holds, slow.text) == (True, "response_time 45.2s > 30s on gateway")
    fast = evaluate_condition(
        cond(signal="response_time", op=">", threshold="30s"),
        [SignalValue("response_time", "seconds", 0.375, "gateway")],
    )
    assert (fast.holds, fast.text) == (False, "response_time 375ms <= 30s on gateway")
    count = evaluate_condition(
        cond(signal="components_degraded", op=">=", threshold=1),
        [SignalValue("components_degraded", "count", 2.0, None)],
    )
    assert (count.holds, count.text) == (True, "components_degraded 2 >= 1")


def test_a_count_without_threshold_means_more_than_zero() -> None:
    c = cond(signal="dependency_down")
    assert evaluate_condition(c, [SignalValue("dependency_down", "count", 1.0)]).text == "dependency_down 1 > 0"
    assert not evaluate_condition(c, [SignalValue("dependency_down", "count", 0.0)]).holds


def test_bool_signals_hold_when_on() -> None:
    c = cond(signal="service_down")
    on = evaluate_condition(c, [SignalValue("service_down", "bool", True, "gateway")])
    assert (on.holds, on.text) == (True, "service_down on gateway")
    off = evaluate_condition(c, [SignalValue("service_down", "bool", False, "gateway")])
    assert (off.holds, off.text) == (False, "not service_down on gateway")


def test_an_unknown_value_never_holds() -> None:
    outcome = evaluate_condition(cond(signal="error_rate", op=">", threshold="10%"), [rate(None)])
    assert (outcome.holds, outcome.text) == (False, "error_rate unknown on synthesis")


def test_no_values_at_all_is_no_data() -> None:
    outcome = evaluate_condition(cond(signal="error_rate", op=">", threshold="10%"), [])
    assert (outcome.holds, outcome.text) == (False, "error_rate: no data")


@pytest.mark.parametrize("op", [">", "<", "==", "!="])
def test_nan_never_holds_and_is_not_described_as_a_comparison(op: str) -> None:
    outcome = evaluate_condition(cond(signal="error_rate", op=op, threshold="10%"), [rate(float("nan"))])
    assert not outcome.holds
    assert outcome.text == "error_rate NaN on synthesis (not comparable)"


def test_an_infinite_latency_holds_and_reads_as_inf() -> None:
    outcome = evaluate_condition(
        cond(signal="response_time", op=">", threshold="30s"),
        [SignalValue("response_time", "seconds", float("inf"), "gateway")],
    )
    assert (outcome.holds, outcome.text) == (True, "response_time +Inf > 30s on gateway")


def test_the_worst_offender_is_the_one_reported() -> None:
    values = [rate(0.12, "gateway"), rate(0.41, "synthesis"), rate(0.02, "retrieval")]
    outcome = evaluate_condition(cond(signal="error_rate", op=">", threshold="10%"), values)
    assert (outcome.holds, outcome.subject) == (True, "synthesis")
    assert outcome.text == "error_rate 41% > 10% on synthesis"

    lowest = evaluate_condition(cond(signal="error_rate", op="<", threshold="10%"), values)
    assert lowest.subject == "retrieval"


def test_one_subject_is_enough_and_a_pending_one_is_shown_over_a_plain_no() -> None:
    c = cond(signal="service_down", **{"for": "15m"})
    values = [
        SignalValue("service_down", "bool", False, "gateway"),
        SignalValue("service_down", "bool", True, "api", held_for=timedelta(minutes=4)),
    ]
    outcome = evaluate_condition(c, values)
    assert not outcome.holds
    assert outcome.pending
    assert outcome.text == "service_down on api for 4m of 15m"


@pytest.mark.parametrize(
    ("held", "holds", "pending", "text"),
    [
        (None, False, True, "service_down on gateway for an unknown time of 15m"),
        (timedelta(0), False, True, "service_down on gateway for 0s of 15m"),
        (timedelta(seconds=90), False, True, "service_down on gateway for 1m30s of 15m"),
        (timedelta(minutes=14, seconds=59), False, True, "service_down on gateway for 14m59s of 15m"),
        (timedelta(minutes=15), True, False, "service_down on gateway for 15m"),
        (timedelta(hours=3), True, False, "service_down on gateway for 3h"),
    ],
)
def test_a_duration_is_pending_until_it_has_held_long_enough(
    held: timedelta | None, holds: bool, pending: bool, text: str
) -> None:
    c = cond(signal="service_down", **{"for": "15m"})
    outcome = evaluate_condition(c, [SignalValue("service_down", "bool", True, "gateway", held_for=held)])
    assert (outcome.holds, outcome.pending, outcome.text) == (holds, pending, text)


def test_a_false_comparison_is_never_pending() -> None:
    c = cond(signal="error_rate", op=">", threshold="20%", **{"for": "5m"})
    outcome = evaluate_condition(c, [rate(0.12)])
    assert (outcome.holds, outcome.pending) == (False, False)


def test_every_condition_of_a_rule_must_hold_each_by_any_subject() -> None:
    conditions = [
        cond(signal="error_rate", op=">", threshold="10%"),
        cond(signal="response_time", op=">", threshold="30s"),
    ]
    signals = {
        "error_rate": [rate(0.14, "synthesis")],
        "response_time": [SignalValue("response_time", "seconds", 31.0, "gateway")],
    }
    matched, outcomes = evaluate_all(conditions, signals)
    assert matched
    assert [o.subject for o in outcomes] == ["synthesis", "gateway"]

    signals["response_time"] = [SignalValue("response_time", "seconds", 2.0, "gateway")]
    matched, outcomes = evaluate_all(conditions, signals)
    assert not matched
    assert [o.holds for o in outcomes] == [True, False]

    matched, outcomes = evaluate_all(conditions, {"error_rate": [rate(0.14)]})
    assert not matched
    assert outcomes[1].text == "response_time: no data"


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (None, "ratio", "unknown"),
        (True, "bool", "yes"),
        (False, "bool", "no"),
        (0.1408, "ratio", "14.1%"),
        (0.999, "ratio", "99.9%"),
        (float("nan"), "ratio", "NaN"),
        (float("inf"), "seconds", "+Inf"),
        (3.0, "count", "3"),
        (0.0, "seconds", "0s"),
        (0.2, "seconds", "200ms"),
        (30.0, "seconds", "30s"),
        (240.0, "seconds", "4m"),
        (7200.0, "seconds", "2h"),
    ],
)
def test_values_in_words(value: float | bool | None, unit: Any, text: str) -> None:
    assert format_value(value, unit) == text


def test_seconds_in_words() -> None:
    assert format_elapsed(float("nan")) == "NaN"
    assert format_elapsed(119.0) == "1m59s"
    assert format_elapsed(900.0) == "15m"
