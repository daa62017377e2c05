"""Every scenario shows its fault, stays broken while nobody acts, and is fixed (or, for an outside dependency,
contained) by its mitigation done with real kubectl."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from incidentctl.sandbox.sandbox import Sandbox
from incidentctl.sandbox.scenarios import SCENARIOS
from incidentctl.sandbox.testing import Kubectl, kubectl_for

pytestmark = pytest.mark.integration


def _get(url: str, timeout: float = 5.0) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def _signals(sb: Sandbox) -> dict[str, dict[str, Any]]:
    return sb.describe()["signals"]  # type: ignore[no-any-return]


def _healthy(sb: Sandbox) -> bool:
    signals = _signals(sb)
    return all(
        s["error_rate"] < 0.02 and s["p95_seconds"] < 5 and s["attack"] in ("", "credential-stuffing-contained")
        for s in signals.values()
    )


def _pods(k: Kubectl, selector: str) -> list[dict[str, Any]]:
    return json.loads(k("get", "pods", "-l", selector, "-o", "json").stdout)["items"]  # type: ignore[no-any-return]


def test_every_scenario_is_listed_with_its_mitigation() -> None:
    assert list(SCENARIOS) == [
        "healthy",
        "bad-deploy",
        "db-outage",
        "dependency-outage",
        "memory-leak",
        "traffic-spike",
        "bad-config",
        "cache-corruption",
        "total-outage",
        "credential-stuffing",
    ]
    assert all(s.summary and s.mitigation and s.symptoms for s in SCENARIOS.values())


def test_healthy_is_healthy(sandbox: Sandbox) -> None:
    assert _healthy(sandbox)
    status, body = _get(f"{sandbox.url}/components/gateway/health")
    assert status == 200
    assert body["status"] == "ok"
    sandbox.advance(3600)
    assert _healthy(sandbox), "an hour of a healthy cluster stays healthy (no slow leak surfaces)"


def _bad_deploy(sb: Sandbox, k: Kubectl) -> None:
    pods = _pods(k, "app=synthesis")
    assert any(
        p["status"]["containerStatuses"][0].get("state", {}).get("waiting", {}).get("reason") == "CrashLoopBackOff"
        for p in pods
    )
    assert _signals(sb)["gateway"]["error_rate"] > 0.1


def _db_outage(sb: Sandbox, k: Kubectl) -> None:
    pod = _pods(k, "app=postgres")[0]
    assert pod["status"]["containerStatuses"][0]["ready"] is False
    psql = k("exec", "postgres-0", "--", "psql", "-U", "sarvanom", "-d", "sarvanom_production", "-c", "SELECT 1;")
    assert psql.returncode == 2
    assert "remaining connection slots are reserved" in psql.stderr
    assert _signals(sb)["retrieval"]["error_rate"] > 0.5


def _dependency_outage(sb: Sandbox, k: Kubectl) -> None:
    with pytest.raises(TimeoutError):
        urllib.request.urlopen(f"{sb.url}/deps/openai/v1/models", timeout=0.5)
    assert _get(f"{sb.url}/deps/anthropic/v1/models")[0] == 200
    assert _signals(sb)["synthesis"]["p95_seconds"] > 30


def _memory_leak(sb: Sandbox, k: Kubectl) -> None:
    statuses = [p["status"]["containerStatuses"][0] for p in _pods(k, "app=retrieval")]
    killed = [s for s in statuses if s["restartCount"] > 0 and s["lastState"]["terminated"]["reason"] == "OOMKilled"]
    assert len(killed) >= 3, "every pod that was running when the cache filled up"
    assert all(s["lastState"]["terminated"]["exitCode"] == 137 for s in killed)
    assert _signals(sb)["retrieval"]["error_rate"] > 0.05


def _traffic_spike(sb: Sandbox, k: Kubectl) -> None:
    assert _signals(sb)["gateway"]["p95_seconds"] > 30
    top = k("top", "pods", "-l", "app=gateway", "--no-headers").stdout.split()
    assert all(int(cpu.rstrip("m")) >= 950 for cpu in top[1::3]), top


def _bad_config(sb: Sandbox, k: Kubectl) -> None:
    cm = json.loads(k("get", "configmap", "synthesis-config", "-o", "json").stdout)
    assert cm["data"]["LLM_TIMEOUT_SECONDS"] == "2"
    assert [r["image"] for p in _pods(k, "app=synthesis") for r in p["spec"]["containers"]] == [
        "registry.sarvanom.com/sarvanom/synthesis:2.4.3"
    ] * 3, "no new revision: the config is the change"
    assert _signals(sb)["synthesis"]["error_rate"] > 0.3


def _cache_corruption(sb: Sandbox, k: Kubectl) -> None:
    assert k("exec", "redis-0", "--", "redis-cli", "ping").stdout == "PONG\n"
    _status, body = _get(f"{sb.url}/components/synthesis/health")
    assert body["checks"]["canary_answer"].startswith("mismatch")
    assert _signals(sb)["retrieval"]["error_rate"] > 0.05


def _total_outage(sb: Sandbox, k: Kubectl) -> None:
    assert _pods(k, "app=gateway") == []
    endpoints = json.loads(k("get", "endpoints", "gateway", "-o", "json").stdout)
    assert not endpoints.get("subsets")
    status, body = _get(f"{sb.url}/components/gateway/health")
    assert status == 503
    assert body["ready_replicas"] == 0
    assert _signals(sb)["gateway"]["error_rate"] == 1.0


def _credential_stuffing(sb: Sandbox, k: Kubectl) -> None:
    logs = k("logs", "-l", "app=gateway", "--since", "1m").stdout
    assert "path=/v1/auth/login status=401" in logs
    assert _signals(sb)["gateway"]["attack"] == "credential-stuffing"
    assert _signals(sb)["gateway"]["error_rate"] < 0.02  # failed logins are no 5xx


CASES: list[tuple[str, Callable[[Sandbox, Kubectl], None], list[str], list[str], float]] = [
    (
        "bad-deploy",
        _bad_deploy,
        ["rollout", "undo", "deployment/synthesis"],
        ["scale", "deployment/synthesis", "--replicas=4"],
        300,
    ),
    ("db-outage", _db_outage, ["delete", "pod", "postgres-0"], ["rollout", "restart", "deployment/retrieval"], 120),
    (
        "dependency-outage",
        _dependency_outage,
        ["patch", "configmap", "synthesis-config", "--type=merge", "-p", '{"data":{"CIRCUIT_BREAKER":"open"}}'],
        ["rollout", "restart", "deployment/synthesis"],
        120,
    ),
    (
        "memory-leak",
        _memory_leak,
        ["rollout", "restart", "deployment/retrieval"],
        ["scale", "deployment/retrieval", "--replicas=4"],
        300,
    ),
    (
        "traffic-spike",
        _traffic_spike,
        ["scale", "deployment", "gateway", "--replicas=5"],
        ["rollout", "restart", "deployment/gateway"],
        120,
    ),
    (
        "bad-config",
        _bad_config,
        ["patch", "configmap", "synthesis-config", "--type=merge", "-p", '{"data":{"LLM_TIMEOUT_SECONDS":"30"}}'],
        ["rollout", "restart", "deployment/synthesis"],
        120,
    ),
    (
        "cache-corruption",
        _cache_corruption,
        ["exec", "redis-0", "--", "redis-cli", "flushall"],
        ["rollout", "restart", "deployment/retrieval"],
        120,
    ),
    (
        "total-outage",
        _total_outage,
        ["scale", "deployment", "gateway", "--replicas=3"],
        ["rollout", "restart", "deployment/gateway"],
        420,
    ),
    (
        "credential-stuffing",
        _credential_stuffing,
        ["patch", "configmap", "gateway-config", "--type=merge", "-p", '{"data":{"LOGIN_THROTTLE_PER_MINUTE":"5"}}'],
        ["rollout", "restart", "deployment/gateway"],
        120,
    ),
]


@pytest.mark.parametrize(("scenario", "symptoms", "fix", "wrong_fix", "settle"), CASES, ids=[c[0] for c in CASES])
def test_scenario_is_fixed_by_its_mitigation_only(
    scenario: str,
    symptoms: Callable[[Sandbox, Kubectl], None],
    fix: list[str],
    wrong_fix: list[str],
    settle: float,
    sandbox_factory: Callable[..., Sandbox],
    tmp_path: Path,
) -> None:
    sb = sandbox_factory(scenario, dependency_hang=1.0)
    k = kubectl_for(sb, tmp_path)
    symptoms(sb, k)
    assert not _healthy(sb)
    # nobody acts, or somebody does the wrong thing: still broken
    sb.advance(600)
    wrong = k(*wrong_fix)
    assert wrong.returncode == 0, wrong.stderr
    sb.advance(settle)
    symptoms(sb, k)
    assert not _healthy(sb)
    # the mitigation, with kubectl
    done = k(*fix)
    assert done.returncode == 0, done.stderr
    sb.advance(settle)
    assert _healthy(sb), _signals(sb)
    sb.advance(1800)
    assert _healthy(sb), f"{scenario} came back within 30 minutes of the fix: {_signals(sb)}"
    status, body = _get(f"{sb.url}/components/gateway/health")
    assert status == 200
    assert body["status"] in ("ok", "degraded")
    if scenario == "dependency-outage":  # contained, not fixed: the provider itself is still down
        assert body["checks"]["synthesis"] == "ok"
        with pytest.raises(TimeoutError):
            urllib.request.urlopen(f"{sb.url}/deps/openai/v1/models", timeout=0.5)
    else:
        assert body["status"] == "ok"


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s != "healthy"])
def test_inject_replaces_a_scenario_clearing_its_faults(scenario: str, sandbox_factory: Callable[..., Sandbox]) -> None:
    """Whatever was playing, ``inject healthy`` ends it: nothing of the old scenario keeps the services broken."""
    sb = sandbox_factory(scenario, dependency_hang=1.0)
    assert not _healthy(sb)
    sb.inject("healthy")
    sb.advance(600)
    assert _healthy(sb), _signals(sb)
    assert all(s["cause"] == "" for s in _signals(sb).values()), _signals(sb)


def test_bad_deploy_crashes_are_logged_by_the_bad_revision_only(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    sb = sandbox_factory("bad-deploy")
    k = kubectl_for(sb, tmp_path)
    sb.advance(300)  # minutes of requests on both revisions
    good, bad = [], []
    for pod in _pods(k, "app=synthesis"):
        name, image = pod["metadata"]["name"], pod["spec"]["containers"][0]["image"]
        logs = k("logs", name).stdout
        if image.endswith(":2.5.0"):
            bad.append(logs + k("logs", name, "--previous").stdout)
        else:
            good.append(logs)
    assert good
    assert bad
    for logs in good:
        assert "synthesis.answer" in logs  # it serves requests...
        assert "signal 11" not in logs  # ...and none of them crashes a worker
        assert "Segmentation fault" not in logs
    assert all("Segmentation fault" in logs for logs in bad)
    assert any("worker crashed while handling the request (signal 11)" in logs for logs in bad)
