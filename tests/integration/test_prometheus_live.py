"""The runbook's signals against a real Prometheus scraping the exporter (traffic described in conftest.py)."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from incidentctl.adapters.prometheus import PrometheusClient, PrometheusQueryError, check_signal, signal_query
from incidentctl.core.checks import Health
from incidentctl.errors import UnreachableError
from incidentctl.runbook.loader import load_runbook
from incidentctl.runbook.model import Prometheus, Runbook

pytestmark = pytest.mark.integration

RUNBOOK = Path(__file__).resolve().parents[2] / "runbook.yaml"
PRODUCTION = "sarvanom-production"


@pytest.fixture(scope="module")
def runbook() -> Runbook:
    return load_runbook(RUNBOOK)


@pytest.fixture
def prom(http: httpx.Client, prometheus_server: Any) -> PrometheusClient:
    return PrometheusClient(http, Prometheus(url=prometheus_server.url))


def value_of(prom: PrometheusClient, runbook: Runbook, signal: str, component: str, namespace: str) -> float:
    [sample] = prom.query(signal_query(runbook.signals[signal], component, namespace))
    return sample.value


@pytest.mark.parametrize(
    ("component", "namespace", "expected"),
    [("gateway", PRODUCTION, 0.12), ("retrieval", PRODUCTION, 0.0), ("gateway", "staging", 1.0)],
)
def test_the_runbooks_error_rate_query_gives_the_exporters_ratio(
    prom: PrometheusClient, runbook: Runbook, component: str, namespace: str, expected: float
) -> None:
    assert value_of(prom, runbook, "error_rate", component, namespace) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(("component", "expected"), [("gateway", 0.375), ("retrieval", 0.095)])
def test_the_runbooks_response_time_query_gives_the_exporters_p95(
    prom: PrometheusClient, runbook: Runbook, component: str, expected: float
) -> None:
    assert value_of(prom, runbook, "response_time", component, PRODUCTION) == pytest.approx(expected, rel=1e-6)


def test_a_component_without_requests_gives_nan(prom: PrometheusClient, runbook: Runbook) -> None:
    assert math.isnan(value_of(prom, runbook, "error_rate", "synthesis", PRODUCTION))
    assert math.isnan(value_of(prom, runbook, "response_time", "synthesis", PRODUCTION))


def test_a_component_that_never_failed_has_an_error_rate_of_zero(prom: PrometheusClient, runbook: Runbook) -> None:
    """It has no 5xx series at all: a plain ratio of sums gives no data, the runbook's query gives 0."""
    plain = (
        f'sum(rate(http_requests_total{{namespace="{PRODUCTION}",service="notifier",code=~"5.."}}[5m]))'
        f' / sum(rate(http_requests_total{{namespace="{PRODUCTION}",service="notifier"}}[5m]))'
    )
    assert prom.query(plain) == []
    result = check_signal(prom, "error_rate", runbook.signals["error_rate"], component="notifier", namespace=PRODUCTION)
    assert result.health is Health.OK
    assert result.observed["value"] == 0.0
    assert result.summary == "error_rate 0%"


def test_check_signal_reports_the_error_rate_for_detect(prom: PrometheusClient, runbook: Runbook) -> None:
    result = check_signal(prom, "error_rate", runbook.signals["error_rate"], component="gateway", namespace=PRODUCTION)
    assert result.health is Health.OK
    assert result.kind == "signal"
    assert result.summary == "error_rate 12%"
    assert result.observed["value"] == pytest.approx(0.12, abs=1e-6)


def test_check_signal_says_no_data_for_an_idle_component(prom: PrometheusClient, runbook: Runbook) -> None:
    signal = runbook.signals["response_time"]
    result = check_signal(prom, "response_time", signal, component="synthesis", namespace=PRODUCTION)
    assert result.summary == "response_time: no data (no requests in the window)"
    assert result.observed["value"] is None


def test_a_scalar_query(prom: PrometheusClient) -> None:
    [sample] = prom.query("scalar(count(up))")
    assert dict(sample.labels) == {}
    assert sample.value == 1.0


def test_query_range_gives_points_with_the_same_ratio(prom: PrometheusClient, runbook: Runbook) -> None:
    promql = signal_query(runbook.signals["error_rate"], "gateway", PRODUCTION)
    end = time.time()
    [series] = prom.query_range(promql, end - 5, end, 1)
    assert series.points
    assert all(v == pytest.approx(0.12, abs=1e-6) for _, v in series.points)


def test_bad_promql_is_rejected_by_the_real_server_naming_the_query(prom: PrometheusClient) -> None:
    with pytest.raises(PrometheusQueryError) as info:
        prom.query('sum(rate(http_requests_total{service="gateway"}[5m])')
    assert info.value.query == 'sum(rate(http_requests_total{service="gateway"}[5m])'
    assert "Prometheus rejected the query 'sum(rate(" in str(info.value)
    assert "bad_data" in str(info.value)


def test_a_prometheus_that_is_not_running_is_unreachable(http: httpx.Client) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    prom = PrometheusClient(http, Prometheus(url=f"http://127.0.0.1:{port}"))
    with pytest.raises(UnreachableError, match=rf"connection refused by 127.0.0.1:{port}"):
        prom.query("up")
