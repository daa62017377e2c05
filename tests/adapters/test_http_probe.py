"""HTTP probe semantics against pytest-httpx: statuses, bodies, slowness, transport failures, retries, redirects,
secret headers. (Deadlines, TLS and resets against real loopback servers are in test_http_probe_loopback.py.)"""

from __future__ import annotations

import logging
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock

from incidentctl.adapters.http_probe import MAX_REDIRECTS, probe_http
from incidentctl.adapters.secrets import Secrets
from incidentctl.core.checks import CheckResult, Failure, Health, HttpObservation
from incidentctl.runbook.model import HttpCheck

URL = "https://api.sarvanom.com/health"
TOKEN = "sk-live-4f9a2c7e81d3"


def check(**overrides: Any) -> HttpCheck:
    return HttpCheck.model_validate({"url": URL, **overrides})


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as c:
        yield c


def probe(client: httpx.Client, spec: HttpCheck, secrets: Secrets | None = None) -> CheckResult:
    return probe_http(client, spec, check_id="http:gateway", kind="http", subject="gateway", secrets=secrets)


def seen(result: CheckResult) -> HttpObservation:
    assert isinstance(result.observation, HttpObservation)
    return result.observation


def test_expected_status_is_ok_with_latency_measured(httpx_mock: HTTPXMock, client: httpx.Client) -> None:
    httpx_mock.add_response(url=URL, status_code=200, json={"status": "ok"})
    result = probe(client, check())
    assert result.health is Health.OK
    assert result.summary.startswith("200 OK in ")
    assert result.summary.endswith("ms")
    assert (result.check, result.kind, result.subject, result.target) == ("http:gateway", "http", "gateway", URL)
    assert result.latency_s is not None
    assert result.latency_s >= 0
    assert result.observed["status"] == 200
    assert result.observed["requests"] == 1


def test_a_401_is_ok_when_the_runbook_expects_it(httpx_mock: HTTPXMock, client: httpx.Client) -> None:
    httpx_mock.add_response(url=URL, status_code=401)
    assert probe(client, check(expect_status=[200, 401])).health is Health.OK


def test_a_503_is_down_and_not_retried(httpx_mock: HTTPXMock, client: httpx.Client) -> None:
    httpx_mock.add_response(url=URL, status_code=503, text="upstream connect error")
    result = probe(client, check())
    assert result.health is Health.DOWN
    assert result.summary.startswith("503 Service Unavailable in ")
    assert result.reasons == ("expected 200",)
    assert result.observed["status"] == 503
    assert len(httpx_mock.get_requests()) == 1


def test_body_regex_match_is_ok_and_mismatch_is_down(httpx_mock: HTTPXMock, client: httpx.Client) -> None:
    httpx_mock.add_response(url=URL, json={"status": "ok", "db": "up"})
    # the bytes as a server sends them (json= would depend on httpx: 0.27 writes spaces after the colons)
    httpx_mock.add_response(url=URL, content=b'{"status":"degraded","db":"down"}')
    spec = check(expect_body=r'"status":\s*"ok"')
    good, bad = probe(client, spec), probe(client, spec)
    assert good.health is Health.OK
    assert seen(good).body_matches is True
    assert bad.health is Health.DOWN
    assert bad.summary.startswith("200 OK in ")
    assert 'but the body does not match /"status":\\s*"ok"/' in bad.summary
    assert seen(bad).body_matches is False
    assert '"status":"degraded"' in (seen(bad).body_excerpt or "")


def test_slower_than_slow_after_is_degraded(httpx_mock: HTTPXMock, client: httpx.Client) -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        time.sleep(0.05)
        return httpx.Response(200)

    httpx_mock.add_callback(slow, url=URL)
    result = probe(client, check(slow_after="10ms"))
    assert result.health is Health.DEGRADED
    assert "(slower than 10ms)" in result.summary


@pytest.mark.parametrize("exc_type", [httpx.ReadTimeout, httpx.ConnectTimeout, httpx.PoolTimeout])
def test_a_timeout_is_down_and_not_retried(
    httpx_mock: HTTPXMock, client: httpx.Client, exc_type: type[httpx.TimeoutException]
) -> None:
    httpx_mock.add_exception(exc_type("timed out"), url=URL)
    result = probe(client, check(timeout="5s"))
    assert result.health is Health.DOWN
    assert result.summary == "no answer within 5s"
    assert len(httpx_mock.get_requests()) == 1


def _verify_error(message: str) -> ssl.SSLCertVerificationError:
    err = ssl.SSLCertVerificationError(1, f"[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: {message}")
    err.verify_message = message
    return err


def _connect_error(cause: BaseException, text: str) -> httpx.ConnectError:
    # The shape httpx raises: its error caused by httpcore's, caused by the socket or ssl error.
    err = httpx.ConnectError(text)
    err.__cause__ = cause
    return err


@pytest.mark.parametrize(
    ("cause", "expected"),
    [
        (ConnectionRefusedError(111, "Connection refused"), "connection refused by api.sarvanom.com:443"),
        (socket.gaierror(-2, "Name or service not known"), "DNS lookup failed for api.sarvanom.com"),
        (_verify_error("self-signed certificate"), "TLS certificate of api.sarvanom.com not accepted: self-signed"),
    ],
)
def test_transport_failures_are_down_with_a_clear_reason(
    httpx_mock: HTTPXMock, client: httpx.Client, cause: BaseException, expected: str
) -> None:
    httpx_mock.add_exception(_connect_error(cause, str(cause)), url=URL)
    result = probe(client, check())
    assert result.health is Health.DOWN
    assert result.summary.startswith(expected)
    assert "\n" not in result.summary
    assert len(httpx_mock.get_requests()) == 1


def test_failures_described_only_by_their_message_are_still_recognised(
    httpx_mock: HTTPXMock, client: httpx.Client
) -> None:
    httpx_mock.add_exception(httpx.ConnectError("[Errno -3] Temporary failure in name resolution"), url=URL)
    assert probe(client, check()).summary == "DNS lookup failed for api.sarvanom.com"


def test_a_remote_protocol_error_is_retried_once_then_succeeds(httpx_mock: HTTPXMock, client: httpx.Client) -> None:
    httpx_mock.add_exception(httpx.RemoteProtocolError("Server disconnected without sending a response."), url=URL)
    httpx_mock.add_response(url=URL, status_code=200)
    result = probe(client, check())
    assert result.health is Health.OK
    assert result.observed["requests"] == 2


def test_a_connection_reset_every_time_gives_up_after_three_tries(httpx_mock: HTTPXMock, client: httpx.Client) -> None:
    for _ in range(3):
        err = httpx.ReadError("[Errno 104] Connection reset by peer")
        err.__cause__ = ConnectionResetError(104, "Connection reset by peer")
        httpx_mock.add_exception(err, url=URL)
    result = probe(client, check())
    assert result.health is Health.DOWN
    assert result.summary == "connection reset by api.sarvanom.com:443 (3 tries)"
    assert len(httpx_mock.get_requests()) == 3


def test_redirects_are_followed_and_reported(httpx_mock: HTTPXMock, client: httpx.Client) -> None:
    httpx_mock.add_response(url=URL, status_code=301, headers={"Location": "https://api.sarvanom.com/v2/health"})
    httpx_mock.add_response(url="https://api.sarvanom.com/v2/health", status_code=302, headers={"Location": "/ready"})
    httpx_mock.add_response(url="https://api.sarvanom.com/ready", status_code=200, text="ok")
    result = probe(client, check(expect_body="^ok$"))
    assert result.health is Health.OK
    assert result.summary.endswith("after 2 redirects")
    assert result.reasons == (
        "redirected to https://api.sarvanom.com/v2/health",
        "redirected to https://api.sarvanom.com/ready",
    )
    assert result.observed["url"] == "https://api.sarvanom.com/ready"
    assert result.observed["requests"] == 3


def test_more_than_five_redirects_is_down(httpx_mock: HTTPXMock, client: httpx.Client) -> None:
    for hop in range(MAX_REDIRECTS + 1):
        here = URL if hop == 0 else f"https://api.sarvanom.com/hop{hop}"
        httpx_mock.add_response(url=here, status_code=302, headers={"Location": f"/hop{hop + 1}"})
    result = probe(client, check())
    assert result.health is Health.DOWN
    assert result.summary == "more than 5 redirects (last to https://api.sarvanom.com/hop6)"
    assert len(result.reasons) == MAX_REDIRECTS


def test_a_redirect_status_that_is_expected_is_not_followed_without_location(
    httpx_mock: HTTPXMock, client: httpx.Client
) -> None:
    httpx_mock.add_response(url=URL, status_code=302)
    result = probe(client, check())
    assert result.health is Health.DOWN
    assert result.summary.startswith("302 Found in ")


def test_an_expected_redirect_is_the_answer_and_not_followed(httpx_mock: HTTPXMock, client: httpx.Client) -> None:
    httpx_mock.add_response(url="http://api.sarvanom.com/", status_code=301, headers={"Location": URL})
    result = probe(client, HttpCheck(url="http://api.sarvanom.com/", expect_status=[301]))
    assert result.health is Health.OK
    assert result.summary.startswith("301 Moved Permanently in ")
    assert len(httpx_mock.get_requests()) == 1


# --- secrets ---------------------------------------------------------------------------------------------------


def _all_text(result: CheckResult) -> str:
    return repr(result)


def test_secret_headers_are_sent_but_never_reported(
    httpx_mock: HTTPXMock, client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    # The server echoes the credential back in a body that does not match: the report must still not show it.
    httpx_mock.add_response(url=URL, status_code=200, text=f"invalid key {TOKEN} for this route")
    secrets = Secrets({"OPENAI_API_KEY": f"Bearer {TOKEN}"})
    spec = check(headers={"Authorization": {"env": "OPENAI_API_KEY"}}, expect_body="^ok$")
    with caplog.at_level(logging.DEBUG, logger="incidentctl"):
        result = probe(client, spec, secrets)
    request = httpx_mock.get_request()
    assert request is not None
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert result.health is Health.DOWN
    assert "invalid key ***" in (seen(result).body_excerpt or "")
    assert TOKEN not in _all_text(result)
    assert TOKEN not in caplog.text
    assert "http:gateway" in caplog.text  # the probe did log, just not the secret


def test_a_secret_in_an_error_message_is_masked(httpx_mock: HTTPXMock, client: httpx.Client) -> None:
    httpx_mock.add_exception(httpx.RemoteProtocolError(f"bad header value {TOKEN}"), url=URL, is_reusable=True)
    secrets = Secrets({"KEY": TOKEN})
    result = probe(client, check(headers={"X-Api-Key": {"env": "KEY"}}), secrets)
    assert result.health is Health.DOWN
    assert "***" in result.summary
    assert TOKEN not in _all_text(result)


def test_secret_headers_are_not_forwarded_to_another_origin(httpx_mock: HTTPXMock, client: httpx.Client) -> None:
    httpx_mock.add_response(url=URL, status_code=307, headers={"Location": "https://api.sarvanom.com/health2"})
    httpx_mock.add_response(url="https://api.sarvanom.com/health2", status_code=302,
                            headers={"Location": "https://status.example.org/health"})  # fmt: skip
    httpx_mock.add_response(url="https://status.example.org/health", status_code=200)
    secrets = Secrets({"KEY": TOKEN})
    result = probe(client, check(headers={"X-Api-Key": {"env": "KEY"}}), secrets)
    assert result.health is Health.OK
    first, same_origin, other_origin = httpx_mock.get_requests()
    assert first.headers["X-Api-Key"] == TOKEN
    assert same_origin.headers["X-Api-Key"] == TOKEN
    assert "X-Api-Key" not in other_origin.headers


def test_a_missing_secret_is_unknown_and_nothing_is_sent(httpx_mock: HTTPXMock, client: httpx.Client) -> None:
    result = probe(client, check(headers={"Authorization": {"env": "OPENAI_API_KEY"}}), Secrets({}))
    assert result.health is Health.UNKNOWN
    assert result.summary == "check not run: environment variable OPENAI_API_KEY is not set " \
        "(the runbook reads a secret from it)"  # fmt: skip
    assert httpx_mock.get_requests() == []


def test_head_requests_use_head(httpx_mock: HTTPXMock, client: httpx.Client) -> None:
    httpx_mock.add_response(url=URL, method="HEAD", status_code=200)
    result = probe(client, check(method="HEAD"))
    assert result.health is Health.OK
    assert result.observed["method"] == "HEAD"


# --- what failed, as data ----------------------------------------------------------------------------------------


def _reset() -> httpx.ReadError:
    err = httpx.ReadError("[Errno 104] Connection reset by peer")
    err.__cause__ = ConnectionResetError(104, "Connection reset by peer")
    return err


@pytest.mark.parametrize(
    ("exc", "failure"),
    [
        (lambda: httpx.ReadTimeout("timed out"), Failure.TIMEOUT),
        (lambda: httpx.ConnectTimeout("timed out"), Failure.TIMEOUT),
        (lambda: _connect_error(ConnectionRefusedError(111, "Connection refused"), "refused"), Failure.REFUSED),
        (lambda: httpx.ConnectError("[Errno 111] Connection refused"), Failure.REFUSED),
        (lambda: _connect_error(socket.gaierror(-2, "Name or service not known"), "dns"), Failure.DNS),
        (lambda: httpx.ConnectError("[Errno -3] Temporary failure in name resolution"), Failure.DNS),
        (lambda: _connect_error(_verify_error("self-signed certificate"), "tls"), Failure.TLS),
        (lambda: httpx.RemoteProtocolError("Server disconnected without sending a response."), Failure.PROTOCOL),
        (_reset, Failure.RESET),
        # a transport error whose words say "timed out" is still not a timeout of the check
        (lambda: httpx.ConnectError("cannot reach: upstream timed out"), Failure.UNREACHABLE),
    ],
    ids=[
        "read-timeout",
        "connect-timeout",
        "refused",
        "refused-text",
        "dns",
        "dns-text",
        "tls",
        "protocol",
        "reset",
        "words-timed-out",
    ],
)
def test_a_transport_failure_is_typed(
    httpx_mock: HTTPXMock, client: httpx.Client, exc: Callable[[], Exception], failure: Failure
) -> None:
    httpx_mock.add_exception(exc(), url=URL, is_reusable=True)
    result = probe(client, check(timeout="5s"))
    assert result.health is Health.DOWN
    assert result.failure is failure


def test_a_503_whose_body_says_timed_out_is_a_status_failure(httpx_mock: HTTPXMock, client: httpx.Client) -> None:
    httpx_mock.add_response(url=URL, status_code=503, text="upstream request timed out: no answer within 5s")
    result = probe(client, check(expect_body="ok"))
    assert result.health is Health.DOWN
    assert result.failure is Failure.HTTP_STATUS
    assert seen(result).status == 503


def test_a_body_that_does_not_match_and_a_slow_answer_are_typed(httpx_mock: HTTPXMock, client: httpx.Client) -> None:
    httpx_mock.add_response(url=URL, status_code=200, text="timed out")
    result = probe(client, check(expect_body="^ok$"))
    assert (result.health, result.failure) == (Health.DOWN, Failure.BODY_MISMATCH)

    def slow(request: httpx.Request) -> httpx.Response:
        time.sleep(0.05)
        return httpx.Response(200)

    httpx_mock.add_callback(slow, url=URL)
    result = probe(client, check(slow_after="10ms"))
    assert (result.health, result.failure) == (Health.DEGRADED, Failure.SLOW)


def test_an_answer_as_expected_has_no_failure(httpx_mock: HTTPXMock, client: httpx.Client) -> None:
    httpx_mock.add_response(url=URL, status_code=200)
    result = probe(client, check())
    assert (result.health, result.failure) == (Health.OK, None)


def test_too_many_redirects_and_a_missing_secret_are_typed(httpx_mock: HTTPXMock, client: httpx.Client) -> None:
    for hop in range(MAX_REDIRECTS + 1):
        here = URL if hop == 0 else f"https://api.sarvanom.com/hop{hop}"
        httpx_mock.add_response(url=here, status_code=302, headers={"Location": f"/hop{hop + 1}"})
    assert probe(client, check()).failure is Failure.TOO_MANY_REDIRECTS
    missing = probe(client, check(headers={"Authorization": {"env": "OPENAI_API_KEY"}}), Secrets({}))
    assert (missing.health, missing.failure) == (Health.UNKNOWN, Failure.NOT_CONFIGURED)
