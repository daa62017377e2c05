"""A signal's value reads the same wherever a report shows it: a Prometheus check's summary, a rule's verdict,
triage's impact line. Before, one detect report printed "error_rate 0.1 %" next to "error rate 42.8%"."""

from __future__ import annotations

import random

import pytest

from incidentctl.adapters import prometheus
from incidentctl.core import rules
from incidentctl.core.times import format_elapsed, format_percent

RATIOS = [0.0, 0.00004, 0.0004, 0.001, 0.0123, 0.12, 0.1234, 0.428, 0.999, 0.99995, 1.0, 2.5]
SECONDS = [0.0, 0.0004, 0.012, 0.375, 0.9996, 2.5, 31.0, 119.0, 899.0, 7200.0]


def _more(values: list[float], scale: float) -> list[float]:
    rng = random.Random(7)
    return values + [rng.random() * scale for _ in range(500)] + [rng.random() * scale / 1e4 for _ in range(200)]


@pytest.mark.parametrize("value", _more(RATIOS, 1.0))
def test_a_ratio_reads_the_same_in_every_place(value: float) -> None:
    expected = format_percent(value)
    assert prometheus.format_value(value, "ratio") == expected
    assert rules.format_value(value, "ratio") == expected
    assert " " not in expected
    if value > 0:
        assert expected != "0%", value


@pytest.mark.parametrize("value", _more(SECONDS, 3600.0))
def test_a_time_reads_the_same_in_every_place(value: float) -> None:
    expected = format_elapsed(value)
    assert prometheus.format_value(value, "seconds") == expected
    assert rules.format_value(value, "seconds") == expected
    assert " " not in expected


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (0.0004, "ratio", "0.04%"),
        (0.428, "ratio", "42.8%"),
        (0.375, "seconds", "375ms"),
        (float("inf"), "seconds", "+Inf"),
        (float("nan"), "ratio", "NaN"),
        (3.0, "count", "3"),
    ],
)
def test_the_one_style(value: float, unit: str, text: str) -> None:
    assert prometheus.format_value(value, unit) == text
    assert rules.format_value(value, unit) == text
