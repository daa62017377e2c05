"""Alertmanager client: the v2 request and response shapes, matchers, errors, and alerts as a detect check."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from pytest_httpx import HTTPXMock

from incidentctl.adapters.alertmanager import (
    AlertmanagerClient,
    Matcher,
    NewAlert,
    check_alerts,
    parse_api_time,
)
from incidentctl.core.checks import Health
from incidentctl.errors import ConfigError, UnreachableError
from incidentctl.runbook.model import Alertmanager

BASE = "http://alertmanager.monitoring.svc:9093"
NS_MATCHER = 'namespace="sarvanom-production"'


def api_alert(name: str, severity: str, starts: str, **labels: str) -> dict[str, object]:
    return {
        "labels": {"alertname": name, "severity": severity, "namespace": "sarvanom-production", **labels},
        "annotations": {"summary": f"{name} on  gateway\n(5m)"},
        "startsAt": starts,
        "endsAt": "2026-01-02T04:04:05.000Z",
        "updatedAt": "2026-01-02T03:05:00.123456789Z",
        "fingerprint": f"fp-{name}",
        "receivers": [{"name": "null"}],
        "status": {"state": "active", "silencedBy": [], "inhibitedBy": []},
        "generatorURL": "http://prometheus/graph?g0.expr=up",
    }


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client() as c:
        yield c


@pytest.fixture
def am(http: httpx.Client) -> AlertmanagerClient:
    return AlertmanagerClient(http, Alertmanager(url=BASE, matchers=[NS_MATCHER]))


def test_alerts_sends_the_scope_and_matchers_as_repeated_filters(httpx_mock: HTTPXMock, am: AlertmanagerClient) -> None:
    httpx_mock.add_response(json=[api_alert("GatewayErrors", "critical", "2026-01-02T03:04:05.987654321Z")])
    [alert] = am.alerts(['service="gateway"', 'code=~"5.."'])
    request = httpx_mock.get_request()
    assert request is not None
    assert request.method == "GET"
    assert request.url.path == "/api/v2/alerts"
    assert request.url.params.get_list("filter") == [NS_MATCHER, 'service="gateway"', 'code=~"5.."']
    assert (request.url.params["active"], request.url.params["silenced"], request.url.params["inhibited"]) == (
        "true", "false", "false"
    )  # fmt: skip
    assert alert.name == "GatewayErrors"
    assert alert.severity == "critical"
    assert alert.state == "active"
    assert alert.starts_at == datetime(2026, 1, 2, 3, 4, 5, 987654, tzinfo=timezone.utc)
    assert alert.receivers == ("null",)
    assert alert.summary == "GatewayErrors on gateway (5m)"


def test_post_alerts_sends_an_array_of_postable_alerts(httpx_mock: HTTPXMock, am: AlertmanagerClient) -> None:
    httpx_mock.add_response(method="POST", url=f"{BASE}/api/v2/alerts", status_code=200)
    start = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    am.post_alerts([NewAlert({"alertname": "Drill", "service": "gateway"}, {"summary": "drill"}, starts_at=start)])
    body = json.loads(httpx_mock.get_request().content)  # type: ignore[union-attr]
    assert body == [
        {
            "labels": {"alertname": "Drill", "service": "gateway"},
            "annotations": {"summary": "drill"},
            "startsAt": "2026-01-02T03:04:05Z",
        }
    ]


def test_create_silence_sends_structured_matchers_and_returns_the_id(
    httpx_mock: HTTPXMock, am: AlertmanagerClient
) -> None:
    httpx_mock.add_response(method="POST", url=f"{BASE}/api/v2/silences", json={"silenceID": "5f2c-silence"})
    start = datetime(2026, 1, 2, 3, 0, tzinfo=timezone.utc)
    silence_id = am.create_silence(
        ['service="gateway"', 'alertname!~"Watchdog|Info.*"'], timedelta(hours=1), "alice", "INC-2026-004",
        starts_at=start,
    )  # fmt: skip
    assert silence_id == "5f2c-silence"
    body = json.loads(httpx_mock.get_request().content)  # type: ignore[union-attr]
    assert body == {
        "matchers": [
            {"name": "service", "value": "gateway", "isRegex": False, "isEqual": True},
            {"name": "alertname", "value": "Watchdog|Info.*", "isRegex": True, "isEqual": False},
        ],
        "startsAt": "2026-01-02T03:00:00Z",
        "endsAt": "2026-01-02T04:00:00Z",
        "createdBy": "alice",
        "comment": "INC-2026-004",
    }


def test_a_silence_without_matchers_is_refused_before_sending(httpx_mock: HTTPXMock, am: AlertmanagerClient) -> None:
    with pytest.raises(ConfigError, match=r"at least one matcher"):
        am.create_silence([], timedelta(hours=1), "alice", "x")
    assert httpx_mock.get_requests() == []


def test_expire_silence_deletes_it(httpx_mock: HTTPXMock, am: AlertmanagerClient) -> None:
    httpx_mock.add_response(method="DELETE", url=f"{BASE}/api/v2/silence/5f2c", status_code=200)
    am.expire_silence("5f2c")
    assert httpx_mock.get_request() is not None


def test_a_bad_filter_is_a_config_error_with_alertmanagers_words(httpx_mock: HTTPXMock, am: AlertmanagerClient) -> None:
    httpx_mock.add_response(status_code=400, json='bad matcher format: service="gateway')
    with pytest.raises(ConfigError, match=r'rejected the request: bad matcher format: service="gateway'):
        am.alerts()


def test_a_validation_error_object_is_read_too(httpx_mock: HTTPXMock, am: AlertmanagerClient) -> None:
    httpx_mock.add_response(status_code=422, json={"code": 602, "message": "endsAt in body is required"})
    with pytest.raises(ConfigError, match=r"endsAt in body is required"):
        am.post_alerts([NewAlert({"alertname": "x"})])


def test_unavailable_and_unreachable(httpx_mock: HTTPXMock, am: AlertmanagerClient) -> None:
    httpx_mock.add_response(status_code=503, text="")
    with pytest.raises(UnreachableError, match=r"answered 503 Service Unavailable"):
        am.alerts()
    httpx_mock.add_exception(httpx.ConnectError("[Errno -2] Name or service not known"))
    with pytest.raises(UnreachableError, match=r"DNS lookup failed for alertmanager.monitoring.svc"):
        am.alerts()


@pytest.mark.parametrize(
    ("text", "matcher"),
    [
        ('service="gateway"', Matcher("service", "gateway")),
        ("service = gateway", Matcher("service", "gateway")),
        ('code=~"5.."', Matcher("code", "5..", is_regex=True)),
        ('env!="dev"', Matcher("env", "dev", is_equal=False)),
        ('job!~"node.*"', Matcher("job", "node.*", is_regex=True, is_equal=False)),
        ('msg="say \\"hi\\""', Matcher("msg", 'say "hi"')),
    ],
)
def test_matchers_parse_and_print_back(text: str, matcher: Matcher) -> None:
    assert Matcher.parse(text) == matcher
    assert Matcher.parse(str(matcher)) == matcher


@pytest.mark.parametrize("text", ["", "=gateway", "service", 'service="gateway', 'service=gate"way'])
def test_bad_matchers_are_config_errors(text: str) -> None:
    with pytest.raises(ConfigError):
        Matcher.parse(text)


def test_parse_api_time_reads_nanoseconds_and_offsets() -> None:
    assert parse_api_time("2026-01-02T03:04:05.123456789Z") == datetime(2026, 1, 2, 3, 4, 5, 123456, timezone.utc)
    assert parse_api_time("2026-01-02T05:04:05+02:00") == datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert parse_api_time(None) is None


# --- the detect check ------------------------------------------------------------------------------------------


def test_firing_alerts_make_the_component_degraded_most_urgent_first(
    httpx_mock: HTTPXMock, am: AlertmanagerClient
) -> None:
    httpx_mock.add_response(
        json=[
            api_alert("GatewaySlow", "warning", "2026-01-02T03:00:00Z", service="gateway"),
            api_alert("GatewayErrors", "critical", "2026-01-02T03:04:05.5Z", service="gateway"),
        ]
    )
    result = check_alerts(am, "gateway")
    assert (result.check, result.kind, result.subject, result.health) == (
        "alerts:gateway", "alerts", "gateway", Health.DEGRADED
    )  # fmt: skip
    assert result.summary == "2 alerts firing: GatewayErrors, GatewaySlow"
    assert result.reasons == (
        "GatewayErrors [critical] since 2026-01-02T03:04:05Z: GatewayErrors on gateway (5m)",
        "GatewaySlow [warning] since 2026-01-02T03:00:00Z: GatewaySlow on gateway (5m)",
    )
    assert result.observed["count"] == 2
    assert result.observed["alerts"][0]["severity"] == "critical"
    assert result.target == f'{BASE} {{{NS_MATCHER}, service="gateway"}}'
    request = httpx_mock.get_request()
    assert request is not None
    assert request.url.params.get_list("filter") == [NS_MATCHER, 'service="gateway"']


def test_no_firing_alerts_is_ok(httpx_mock: HTTPXMock, am: AlertmanagerClient) -> None:
    httpx_mock.add_response(json=[])
    result = check_alerts(am, "retrieval")
    assert result.health is Health.OK
    assert result.summary == "no firing alerts"


def test_an_unreachable_alertmanager_is_unknown(httpx_mock: HTTPXMock, am: AlertmanagerClient) -> None:
    httpx_mock.add_exception(httpx.ConnectTimeout("timed out"))
    result = check_alerts(am, "gateway")
    assert result.health is Health.UNKNOWN
    assert result.summary == "alerts: Alertmanager at http://alertmanager.monitoring.svc:9093 did not answer within 10s"
