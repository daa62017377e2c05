"""A credential inside a URL (a token in the query, userinfo in a redirect) never reaches a check's report, an error
message or the debug log of the HTTP clients: the probe, Prometheus and Alertmanager."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest
from pytest_httpx import HTTPXMock

from incidentctl.adapters.alertmanager import AlertmanagerClient, check_alerts
from incidentctl.adapters.http_client import new_http_client
from incidentctl.adapters.http_probe import MAX_REDIRECTS, probe_http
from incidentctl.adapters.prometheus import PrometheusClient
from incidentctl.core.checks import CheckResult, Health
from incidentctl.errors import IncidentctlError
from incidentctl.runbook.model import Alertmanager, HttpCheck, Prometheus

SECRETS = ("q-s3cr3t", "r-s3cr3t", "u-s3cr3t", "f-s3cr3t")
URL = f"https://api.sarvanom.com/health?region=eu&token={SECRETS[0]}"


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    """The client the commands use (its httpx request log is part of what --debug can show)."""
    with new_http_client() as c:
        yield c


@pytest.fixture
def debug_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


def _probe(client: httpx.Client, url: str = URL) -> CheckResult:
    return probe_http(client, HttpCheck(url=url), check_id="http:gateway", subject="gateway")


def _assert_clean(*texts: object) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in str(text)


def test_the_target_and_the_observed_url_mask_the_token(
    httpx_mock: HTTPXMock, client: httpx.Client, debug_log: pytest.LogCaptureFixture
) -> None:
    httpx_mock.add_response(url=URL, status_code=503)

    result = _probe(client)

    assert result.health is Health.DOWN
    assert result.target == "https://api.sarvanom.com/health?region=eu&token=***"
    assert result.observed["url"] == result.target
    _assert_clean(repr(result), debug_log.text)
    assert httpx_mock.get_request().url == URL  # type: ignore[union-attr]  # the real request keeps the token


def test_a_redirect_to_a_url_with_a_token_is_reported_masked(
    httpx_mock: HTTPXMock, client: httpx.Client, debug_log: pytest.LogCaptureFixture
) -> None:
    hop = f"https://login.sarvanom.com/sso?next=%2Fhealth&access_token={SECRETS[1]}#id_token={SECRETS[3]}"
    httpx_mock.add_response(url=URL, status_code=302, headers={"Location": hop})
    httpx_mock.add_response(status_code=200)

    result = _probe(client)

    assert result.health is Health.OK
    assert result.reasons == (
        "redirected to https://login.sarvanom.com/sso?next=%2Fhealth&access_token=***#id_token=***",
    )
    _assert_clean(repr(result), debug_log.text)


def test_a_redirect_to_userinfo_and_an_unsupported_scheme_is_masked_in_the_error(
    httpx_mock: HTTPXMock, client: httpx.Client, debug_log: pytest.LogCaptureFixture
) -> None:
    hop = f"ftp://admin:{SECRETS[2]}@files.sarvanom.com/x?sig=y"
    httpx_mock.add_response(url=URL, status_code=302, headers={"Location": hop})
    # what httpx's transport raises for a scheme it cannot speak (pytest-httpx stands in for the transport)
    httpx_mock.add_exception(httpx.UnsupportedProtocol("Request URL has an unsupported protocol 'ftp://'."), url=hop)

    result = _probe(client)

    assert result.health is Health.DOWN
    assert "ftp://***@files.sarvanom.com/x?sig=***" in " ".join([result.summary, *result.reasons])
    _assert_clean(repr(result), debug_log.text)


def test_too_many_redirects_names_the_last_hop_masked(httpx_mock: HTTPXMock, client: httpx.Client) -> None:
    httpx_mock.add_response(status_code=302, headers={"Location": f"/again?key={SECRETS[1]}"}, is_reusable=True)

    result = _probe(client)

    assert result.summary == f"more than {MAX_REDIRECTS} redirects (last to https://api.sarvanom.com/again?key=***)"
    _assert_clean(repr(result))


def test_a_transport_error_that_quotes_the_url_is_masked(
    httpx_mock: HTTPXMock, client: httpx.Client, debug_log: pytest.LogCaptureFixture
) -> None:
    httpx_mock.add_exception(httpx.ProxyError(f"proxy refused CONNECT for {URL}"), url=URL)

    result = _probe(client)

    assert result.health is Health.DOWN
    _assert_clean(repr(result), debug_log.text)


def test_prometheus_errors_mask_the_token_in_its_url(httpx_mock: HTTPXMock, client: httpx.Client) -> None:
    base = f"http://prometheus.monitoring.svc:9090?token={SECRETS[0]}"
    httpx_mock.add_exception(httpx.ConnectError("[Errno 111] Connection refused"))
    prom = PrometheusClient(client, Prometheus(url=base))

    with pytest.raises(IncidentctlError) as info:
        prom.query("up")

    assert "Prometheus at http://prometheus.monitoring.svc:9090?token=***" in str(info.value)
    _assert_clean(str(info.value), info.value.hint)


def test_alertmanager_errors_and_targets_mask_the_token_in_its_url(httpx_mock: HTTPXMock, client: httpx.Client) -> None:
    base = f"http://alertmanager.monitoring.svc:9093?auth={SECRETS[0]}"
    httpx_mock.add_response(status_code=500, text=f"upstream {base} failed")
    am = AlertmanagerClient(client, Alertmanager(url=base))

    result = check_alerts(am, "gateway")

    assert result.health is Health.UNKNOWN
    assert result.target.startswith("http://alertmanager.monitoring.svc:9093?auth=*** {")
    _assert_clean(repr(result))
