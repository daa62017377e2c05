"""Prometheus client: result shapes (vector, scalar, matrix; NaN and +Inf), error shapes, signals as checks."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest
from pytest_httpx import HTTPXMock

from incidentctl.adapters.prometheus import (
    PrometheusClient,
    PrometheusQueryError,
    check_signal,
    signal_query,
)
from incidentctl.adapters.secrets import Secrets
from incidentctl.core.checks import Health
from incidentctl.core.rules import format_value
from incidentctl.errors import ConfigError, UnauthorizedError, UnreachableError
from incidentctl.exitcodes import ExitCode
from incidentctl.runbook.loader import load_runbook
from incidentctl.runbook.model import Prometheus, Signal

BASE = "http://prometheus.monitoring.svc:9090"
QUERY_URL = f"{BASE}/api/v1/query"
RUNBOOK = Path(__file__).resolve().parents[2] / "runbook.yaml"
NS = "sarvanom-production"


def vector(*items: tuple[dict[str, str], str]) -> dict[str, object]:
    result = [{"metric": m, "value": [1735781451.781, v]} for m, v in items]
    return {"status": "success", "data": {"resultType": "vector", "result": result}}


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client() as c:
        yield c


@pytest.fixture
def prom(http: httpx.Client) -> PrometheusClient:
    return PrometheusClient(http, Prometheus(url=BASE + "/"))


@pytest.fixture(scope="module")
def signals() -> dict[str, Signal]:
    return dict(load_runbook(RUNBOOK).signals)


def test_a_vector_gives_one_sample_per_series(httpx_mock: HTTPXMock, prom: PrometheusClient) -> None:
    httpx_mock.add_response(url=QUERY_URL, method="POST", json=vector(({"job": "gateway"}, "0.12"), ({}, "3")))
    samples = prom.query("sum(rate(x[5m])) by (job)", at=1735781451.0)
    assert [(dict(s.labels), s.value, s.raw) for s in samples] == [({"job": "gateway"}, 0.12, "0.12"), ({}, 3.0, "3")]
    assert samples[0].timestamp == 1735781451.781
    form = parse_qs(httpx_mock.get_request().content.decode())  # type: ignore[union-attr]
    assert form["query"] == ["sum(rate(x[5m])) by (job)"]
    assert form["time"] == ["1735781451.000"]
    assert form["timeout"] == ["10s"]


def test_nan_and_infinity_are_read_as_floats(httpx_mock: HTTPXMock, prom: PrometheusClient) -> None:
    httpx_mock.add_response(url=QUERY_URL, json=vector(({"a": "1"}, "NaN"), ({"a": "2"}, "+Inf"), ({"a": "3"}, "-Inf")))
    nan, inf, ninf = prom.query("q")
    assert math.isnan(nan.value)
    assert nan.raw == "NaN"
    assert inf.value == math.inf
    assert ninf.value == -math.inf


def test_a_scalar_gives_one_sample_without_labels(httpx_mock: HTTPXMock, prom: PrometheusClient) -> None:
    httpx_mock.add_response(
        url=QUERY_URL, json={"status": "success", "data": {"resultType": "scalar", "result": [1735781451.781, "1"]}}
    )
    [sample] = prom.query("1")
    assert (dict(sample.labels), sample.value) == ({}, 1.0)


def test_a_range_vector_in_an_instant_query_is_a_query_error(httpx_mock: HTTPXMock, prom: PrometheusClient) -> None:
    httpx_mock.add_response(
        url=QUERY_URL,
        json={"status": "success", "data": {"resultType": "matrix", "result": [{"metric": {}, "values": []}]}},
    )
    with pytest.raises(PrometheusQueryError, match=r"returns a range vector"):
        prom.query("up[5m]")


def test_query_range_returns_series_of_points(httpx_mock: HTTPXMock, prom: PrometheusClient) -> None:
    httpx_mock.add_response(
        url=f"{BASE}/api/v1/query_range",
        json={
            "status": "success",
            "data": {
                "resultType": "matrix",
                "result": [{"metric": {"service": "gateway"}, "values": [[100, "0.1"], [115, "NaN"], [130, "0.2"]]}],
            },
        },
    )
    [series] = prom.query_range("q", 100, 130, 15)
    assert dict(series.labels) == {"service": "gateway"}
    assert [t for t, _ in series.points] == [100.0, 115.0, 130.0]
    assert series.points[0][1] == 0.1
    assert math.isnan(series.points[1][1])
    form = parse_qs(httpx_mock.get_request().content.decode())  # type: ignore[union-attr]
    assert (form["start"], form["end"], form["step"]) == (["100.000"], ["130.000"], ["15"])


@pytest.mark.parametrize(("status", "error_type"), [(400, "bad_data"), (422, "execution")])
def test_a_rejected_query_is_a_config_error_naming_the_query(
    httpx_mock: HTTPXMock, prom: PrometheusClient, status: int, error_type: str
) -> None:
    httpx_mock.add_response(
        url=QUERY_URL,
        status_code=status,
        json={"status": "error", "errorType": error_type, "error": '1:6: parse error: unexpected "}"'},
    )
    with pytest.raises(PrometheusQueryError) as info:
        prom.query("rate(}")
    assert isinstance(info.value, ConfigError)
    assert info.value.exit_code == ExitCode.USAGE
    assert info.value.query == "rate(}"
    assert (
        str(info.value) == f"Prometheus rejected the query 'rate(}}': {error_type}: 1:6: parse error: unexpected \"}}\""
    )


def test_an_overloaded_server_is_unreachable(httpx_mock: HTTPXMock, prom: PrometheusClient) -> None:
    httpx_mock.add_response(
        url=QUERY_URL,
        status_code=503,
        json={"status": "error", "errorType": "timeout", "error": "query timed out in expression evaluation"},
    )
    with pytest.raises(UnreachableError, match=r"could not answer the query 'q' \(503 Service Unavailable\): timeout"):
        prom.query("q")


def test_a_gateway_error_page_is_unreachable(httpx_mock: HTTPXMock, prom: PrometheusClient) -> None:
    httpx_mock.add_response(url=QUERY_URL, status_code=502, html="<html>Bad Gateway</html>")
    with pytest.raises(UnreachableError, match=r"answered 502 Bad Gateway without a Prometheus API response"):
        prom.query("q")


def test_a_wrong_url_is_a_config_error(httpx_mock: HTTPXMock, prom: PrometheusClient) -> None:
    httpx_mock.add_response(url=QUERY_URL, status_code=404, text="404 page not found")
    with pytest.raises(ConfigError, match=r"no Prometheus API at http://prometheus.monitoring.svc:9090 \(404"):
        prom.query("q")


def test_connection_refused_is_unreachable_with_the_reason(httpx_mock: HTTPXMock, prom: PrometheusClient) -> None:
    err = httpx.ConnectError("[Errno 111] Connection refused")
    err.__cause__ = ConnectionRefusedError(111, "Connection refused")
    httpx_mock.add_exception(err, url=QUERY_URL)
    with pytest.raises(UnreachableError) as info:
        prom.query("q")
    assert str(info.value) == (
        "cannot reach Prometheus at http://prometheus.monitoring.svc:9090: "
        "connection refused by prometheus.monitoring.svc:9090"
    )
    assert info.value.exit_code == ExitCode.UNREACHABLE


def test_a_timeout_is_unreachable(httpx_mock: HTTPXMock, prom: PrometheusClient) -> None:
    httpx_mock.add_exception(httpx.ReadTimeout("timed out"), url=QUERY_URL)
    with pytest.raises(UnreachableError, match=r"did not answer within 10s"):
        prom.query("q")


def test_the_token_is_sent_as_bearer_and_masked_in_errors(httpx_mock: HTTPXMock, http: httpx.Client) -> None:
    token = "prom-token-7d1e9a0b"
    httpx_mock.add_response(
        url=QUERY_URL, status_code=400, json={"status": "error", "errorType": "bad_data", "error": f"echo {token}"}
    )
    client = PrometheusClient(
        http, Prometheus(url=BASE, token={"env": "PROM_TOKEN"}), secrets=Secrets({"PROM_TOKEN": token})
    )
    with pytest.raises(PrometheusQueryError) as info:
        client.query("q")
    assert httpx_mock.get_request().headers["Authorization"] == f"Bearer {token}"  # type: ignore[union-attr]
    assert token not in str(info.value)


def test_refused_credentials_are_unauthorized(httpx_mock: HTTPXMock, prom: PrometheusClient) -> None:
    httpx_mock.add_response(url=QUERY_URL, status_code=403, text="forbidden")
    with pytest.raises(UnauthorizedError, match=r"refused the credentials \(403 Forbidden\)"):
        prom.query("q")


# --- signals ---------------------------------------------------------------------------------------------------


def test_signal_query_fills_in_the_runbooks_placeholders(signals: dict[str, Signal]) -> None:
    promql = signal_query(signals["error_rate"], "gateway", NS)
    assert "$" not in promql
    assert f'{{namespace="{NS}",service="gateway",code=~"5.."}}' in promql
    assert f'{{namespace="{NS}",service="gateway"}}' in promql


def test_signal_query_escapes_quotes_in_values() -> None:
    signal = Signal(description="d", unit="count", query='up{service="$component"}')
    assert signal_query(signal, 'a"b', NS) == 'up{service="a\\"b"}'


def test_an_unknown_placeholder_is_a_config_error() -> None:
    signal = Signal(description="d", unit="count", query='up{service="$componet"}')
    with pytest.raises(ConfigError, match=r"uses \$componet; only \$component and \$namespace are replaced"):
        signal_query(signal, "gateway", NS)


def test_a_builtin_signal_has_no_query() -> None:
    with pytest.raises(ConfigError, match=r"no query"):
        signal_query(Signal(description="d", unit="bool", source="builtin"), "gateway", NS)


def test_check_signal_reports_the_value(
    httpx_mock: HTTPXMock, prom: PrometheusClient, signals: dict[str, Signal]
) -> None:
    httpx_mock.add_response(url=QUERY_URL, json=vector(({}, "0.12")))
    result = check_signal(prom, "error_rate", signals["error_rate"], component="gateway", namespace=NS)
    assert (result.check, result.kind, result.subject, result.health) == (
        "signal:error_rate:gateway", "signal", "gateway", Health.OK
    )  # fmt: skip
    assert result.summary == "error_rate 12%"
    assert result.observed["value"] == 0.12
    assert result.observed["unit"] == "ratio"
    assert result.target == signal_query(signals["error_rate"], "gateway", NS)


def test_check_signal_nan_is_no_data(httpx_mock: HTTPXMock, prom: PrometheusClient, signals: dict[str, Signal]) -> None:
    httpx_mock.add_response(url=QUERY_URL, json=vector(({}, "NaN")))
    result = check_signal(prom, "error_rate", signals["error_rate"], component="synthesis", namespace=NS)
    assert result.health is Health.OK
    assert result.summary == "error_rate: no data (no requests in the window)"
    assert result.observed["value"] is None
    assert result.observed["raw"] == "NaN"


def test_check_signal_empty_is_no_data(
    httpx_mock: HTTPXMock, prom: PrometheusClient, signals: dict[str, Signal]
) -> None:
    httpx_mock.add_response(url=QUERY_URL, json=vector())
    result = check_signal(prom, "response_time", signals["response_time"], component="ghost", namespace=NS)
    assert result.summary == "response_time: no data (no matching series)"
    assert result.observed["value"] is None


def test_check_signal_with_several_series_shows_the_largest(httpx_mock: HTTPXMock, prom: PrometheusClient) -> None:
    httpx_mock.add_response(url=QUERY_URL, json=vector(({"pod": "a"}, "0.25"), ({"pod": "b"}, "2.5")))
    signal = Signal(description="d", unit="seconds", query='latency{service="$component"}')
    result = check_signal(prom, "latency", signal, component="gateway", namespace=NS)
    assert result.summary == "latency 2.5s"
    assert result.reasons == ('2 series; the largest is shown ({pod="b"})',)


def test_check_signal_unreachable_is_unknown_not_an_exception(
    httpx_mock: HTTPXMock, prom: PrometheusClient, signals: dict[str, Signal]
) -> None:
    httpx_mock.add_exception(httpx.ConnectError("[Errno 111] Connection refused"), url=QUERY_URL)
    result = check_signal(prom, "error_rate", signals["error_rate"], component="gateway", namespace=NS)
    assert result.health is Health.UNKNOWN
    assert result.summary == (
        "error_rate: cannot reach Prometheus at http://prometheus.monitoring.svc:9090: "
        "connection refused by prometheus.monitoring.svc:9090"
    )


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [(0.12, "ratio", "12%"), (0.1234, "ratio", "12.3%"), (0.375, "seconds", "375ms"), (31.0, "seconds", "31s"),
     (3.0, "count", "3"), (1.0, "bool", "yes"), (math.inf, "seconds", "+Inf")],
)  # fmt: skip
def test_format_value(value: float, unit: str, text: str) -> None:
    assert format_value(value, unit) == text
