"""The loopback stand-ins for what the runbook's HTTP checks reach: health endpoints, the LLM providers,
Prometheus' query API (answering the runbook's own signal queries) and Alertmanager's alerts."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from incidentctl.sandbox.sandbox import Sandbox
from incidentctl.sandbox.sandbox_runbook import bundled_runbook_data


def _get(url: str, timeout: float = 5.0) -> tuple[int, Any, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read()), dict(err.headers)


def _query(sb: Sandbox, query: str) -> list[dict[str, Any]]:
    status, body, _ = _get(f"{sb.url}/prometheus/api/v1/query?" + urllib.parse.urlencode({"query": query}))
    assert status == 200
    assert body["status"] == "success"
    assert body["data"]["resultType"] == "vector"
    return body["data"]["result"]  # type: ignore[no-any-return]


def _runbook_query(signal: str, component: str) -> str:
    runbook = bundled_runbook_data()
    query: str = runbook["signals"][signal]["query"]
    return query.replace("$namespace", "sarvanom-production").replace("$component", component)


def test_health_endpoints_follow_the_scenario(sandbox_factory: Callable[..., Sandbox]) -> None:
    sb = sandbox_factory("healthy")
    for component in ("gateway", "retrieval", "synthesis"):
        status, body, headers = _get(f"{sb.url}/components/{component}/health")
        assert status == 200
        assert body["status"] == "ok"
        assert headers["Content-Type"] == "application/json"
    sb.inject("db-outage")
    status, body, _ = _get(f"{sb.url}/components/retrieval/health")
    assert status == 503
    assert body["status"] == "unhealthy"
    assert body["checks"]["postgres"].startswith("error")
    assert _get(f"{sb.url}/components/nope/health")[0] == 404


def test_runbook_signal_queries_answer_per_service(sandbox_factory: Callable[..., Sandbox]) -> None:
    sb = sandbox_factory("bad-deploy")
    errors = _query(sb, _runbook_query("error_rate", "gateway"))
    assert len(errors) == 1
    assert errors[0]["metric"]["service"] == "gateway"
    assert float(errors[0]["value"][1]) > 0.1
    assert errors[0]["value"][0] == pytest.approx(sb.now().timestamp())
    latency = _query(sb, _runbook_query("response_time", "synthesis"))
    assert float(latency[0]["value"][1]) == pytest.approx(1.9)
    every = _query(sb, 'sum by (service) (rate(http_requests_total{code=~"5.."}[5m]))')
    assert {r["metric"]["service"] for r in every} == {"gateway", "retrieval", "synthesis"}
    assert _query(sb, "some_metric_nobody_exports") == []
    status, body, _ = _get(f"{sb.url}/prometheus/api/v1/query?query=")
    assert status == 400
    assert body["errorType"] == "bad_data"


def test_query_range_shows_the_incident_starting(sandbox_factory: Callable[..., Sandbox]) -> None:
    sb = sandbox_factory("db-outage")
    end = sb.now().timestamp()
    params = urllib.parse.urlencode(
        {"query": _runbook_query("error_rate", "retrieval"), "start": end - 1200, "end": end, "step": "60s"}
    )
    status, body, _ = _get(f"{sb.url}/prometheus/api/v1/query_range?{params}")
    assert status == 200
    assert body["data"]["resultType"] == "matrix"
    values = [float(v) for _, v in body["data"]["result"][0]["values"]]
    assert len(values) == 21
    assert values[0] < 0.01, "healthy twenty minutes ago"
    assert values[-1] > 0.5, "failing now"


def test_dependencies(sandbox_factory: Callable[..., Sandbox]) -> None:
    sb = sandbox_factory("healthy", dependency_hang=0.5)
    status, body, _ = _get(f"{sb.url}/deps/openai/v1/models")
    assert status == 200
    assert body["object"] == "list"
    assert body["data"][0]["id"]
    status, body, _ = _get(f"{sb.url}/deps/anthropic/v1/models")
    assert status == 200
    assert body["data"][0]["type"] == "model"
    sb.inject("dependency-outage")
    status, body, _ = _get(f"{sb.url}/deps/openai/v1/models", timeout=5)
    assert status == 504  # after hanging (0.5 s here) it gives up, as a gateway in front of it would


def test_alertmanager_alerts_and_filters(sandbox_factory: Callable[..., Sandbox]) -> None:
    sb = sandbox_factory("db-outage")
    status, alerts, _ = _get(f"{sb.url}/alertmanager/api/v2/alerts?active=true&silenced=false&inhibited=false")
    assert status == 200
    names = {(a["labels"]["alertname"], a["labels"]["service"]) for a in alerts}
    assert ("PostgresDown", "postgres") in names
    assert ("HighErrorRate", "retrieval") in names
    for alert in alerts:
        assert set(alert) >= {
            "labels",
            "annotations",
            "startsAt",
            "endsAt",
            "updatedAt",
            "fingerprint",
            "receivers",
            "status",
            "generatorURL",
        }
        assert alert["status"]["state"] == "active"
        assert alert["status"]["silencedBy"] == []
    filtered = _get(
        f"{sb.url}/alertmanager/api/v2/alerts?" + urllib.parse.urlencode({"filter": 'service="retrieval"'})
    )[1]
    assert filtered
    assert {a["labels"]["service"] for a in filtered} == {"retrieval"}
    high = next(a for a in filtered if a["labels"]["alertname"] == "HighErrorRate")
    assert high["startsAt"] < high["updatedAt"], "the alert started when the errors did, not at the query"
    request = urllib.request.Request(
        f"{sb.url}/alertmanager/api/v2/alerts",
        method="POST",
        data=json.dumps(
            [{"labels": {"alertname": "DrillAlert", "service": "gateway"}, "annotations": {"summary": "drill"}}]
        ).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200
    posted = _get(f"{sb.url}/alertmanager/api/v2/alerts?filter=alertname%3D%22DrillAlert%22")[1]
    assert [a["labels"]["alertname"] for a in posted] == ["DrillAlert"]


def test_faults_on_stand_ins(sandbox_factory: Callable[..., Sandbox]) -> None:
    sb = sandbox_factory("healthy")
    sb.faults.errors(503, count=1, target="health")
    assert _get(f"{sb.url}/components/gateway/health")[0] == 503
    assert _get(f"{sb.url}/components/gateway/health")[0] == 200
    sb.faults.latency(0.3, target="deps", count=1)
    with pytest.raises(TimeoutError):
        urllib.request.urlopen(f"{sb.url}/deps/openai/v1/models", timeout=0.1)


def test_admin_endpoint_needs_the_token(sandbox_factory: Callable[..., Sandbox]) -> None:
    sb = sandbox_factory("healthy")
    status, _body, _ = _get(f"{sb.url}/_sandbox/scenario")
    assert status == 401
    request = urllib.request.Request(
        f"{sb.url}/_sandbox/scenario",
        method="POST",
        data=json.dumps({"scenario": "traffic-spike"}).encode(),
        headers={"Authorization": f"Bearer {sb.token}"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        described = json.loads(response.read())
    assert described["scenario"] == "traffic-spike"
    assert sb.scenario == "traffic-spike"
    assert yaml.safe_dump(described)


def _error_alerts(sb: Sandbox) -> list[str]:
    _status, alerts, _ = _get(f"{sb.url}/alertmanager/api/v2/alerts")
    return sorted(a["labels"]["service"] for a in alerts if a["labels"]["alertname"] == "HighErrorRate")


def test_error_rate_decays_over_the_rate_window_after_a_rollback(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Any
) -> None:
    """rate(...[5m]) still counts the errors of the last five minutes after a fix, as real Prometheus does."""
    from incidentctl.sandbox.testing import kubectl_for

    sb = sandbox_factory("bad-deploy")
    query = _runbook_query("error_rate", "gateway")
    before = float(_query(sb, query)[0]["value"][1])
    assert before > 0.3
    undo = kubectl_for(sb, tmp_path)("rollout", "undo", "deployment/synthesis")
    assert undo.returncode == 0, undo.stderr
    sb.advance(30)
    assert sb.describe()["signals"]["gateway"]["error_rate"] < 0.01  # fixed at once...
    assert _error_alerts(sb) == ["gateway", "synthesis"]  # the alert rules see the same window
    seen = []
    for _ in range(5):
        seen.append(float(_query(sb, query)[0]["value"][1]))
        sb.advance(60)
    assert seen[0] > 0.25, seen  # ...but the window still holds the errors of the minutes before
    assert seen == sorted(seen, reverse=True), seen
    assert len(set(seen)) == len(seen), seen
    assert seen[-1] > 0.01, seen
    assert float(_query(sb, query)[0]["value"][1]) < 0.01  # five minutes on, only today's 0.6 % is left
    assert _error_alerts(sb) == []
