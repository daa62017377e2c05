"""The total-outage and credential-stuffing scenarios: what detect and triage make of them through the CLI, what
real kubectl sees, and the scenario's own fix (``Scenario.fix``) through the CLI making the service healthy."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from tests.conftest import Invoke
from tests.phases.conftest import Site

from incidentctl.cli.state import AppState
from incidentctl.sandbox import world
from incidentctl.sandbox.sandbox import Sandbox
from incidentctl.sandbox.sandbox_runbook import write_runbook
from incidentctl.sandbox.scenarios import SCENARIOS
from incidentctl.sandbox.testing import kubectl_for
from incidentctl.sandbox.world import ATTACKERS

NS = world.NAMESPACE


def _site(sandbox_factory: Callable[..., Sandbox], tmp_path: Path, scenario: str) -> Site:
    """The sandbox's own runbook (its hotfix folder, its channels) and a kubeconfig, as `sandbox up` writes them."""
    sb = sandbox_factory(scenario, dependency_hang=3.0, max_response_delay=3.0)
    folder = tmp_path / scenario
    kubeconfig = sb.write_kubeconfig(folder / "kubeconfig")
    runbook = write_runbook(folder / "runbook.yaml", sb.url, check_timeout="2s")
    return Site(sb, runbook, kubeconfig, folder / "incidents")


def _advancing(sb: Sandbox) -> AppState:
    return AppState(sleep=lambda seconds: sb.advance(max(seconds, 1.0)))


def _json(invoke: Invoke, site: Site, *args: str) -> tuple[int, dict[str, Any]]:
    result = invoke(site.args(*args, "-o", "json"), state=_advancing(site.sandbox))
    return result.exit_code, json.loads(result.stdout)


def _fix(invoke: Invoke, site: Site, scenario: str) -> dict[str, Any]:
    code, doc = _json(invoke, site, *SCENARIOS[scenario].fix, "--yes")
    assert code == 0, doc
    assert doc["data"]["outcome"] == "applied"
    assert doc["data"]["verification"]["healthy"] is True, doc["data"]["verification"]
    return dict(doc["data"])


def test_total_outage_is_a_p1_and_scaling_the_gateway_back_ends_it(
    invoke: Invoke, sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    site = _site(sandbox_factory, tmp_path, "total-outage")
    code, detect = _json(invoke, site, "detect")
    assert code == 3
    gateway = [c for c in detect["data"]["checks"] if c.get("subject") == "gateway" and c["health"] != "ok"]
    assert {c["kind"] for c in gateway} >= {"http", "deployment"}
    assert any(c["health"] == "down" for c in gateway)

    code, triage = _json(invoke, site, "triage", "--declare")
    assert code == 3
    assert triage["data"]["severity"] == "P1"
    assert triage["data"]["decidedBy"] == "p1-service-down"
    assert triage["data"]["usersAffected"] == 1.0

    real = kubectl_for(site.sandbox, site.runbook.parent)
    deploy = json.loads(real.run("get", "deployment", "gateway", "-n", NS, "-o", "json", check=True).stdout)
    assert deploy["spec"]["replicas"] == 0
    assert deploy["status"].get("readyReplicas", 0) == 0
    pods = real.run("get", "pods", "-n", NS, "-l", "app=gateway", "-o", "name", check=True).stdout
    assert pods.strip() == ""
    endpoints = json.loads(real.run("get", "endpoints", "gateway", "-n", NS, "-o", "json", check=True).stdout)
    assert not endpoints.get("subsets")
    ingress = json.loads(real.run("get", "ingress", "sarvanom", "-n", NS, "-o", "json", check=True).stdout)
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"]
    assert backend == "gateway"  # the ingress still points at the gateway: it has nothing behind it

    _fix(invoke, site, "total-outage")
    deploy = json.loads(real.run("get", "deployment", "gateway", "-n", NS, "-o", "json", check=True).stdout)
    assert deploy["spec"]["replicas"] == world.GATEWAY.replicas
    assert deploy["status"]["readyReplicas"] == world.GATEWAY.replicas
    endpoints = json.loads(real.run("get", "endpoints", "gateway", "-n", NS, "-o", "json", check=True).stdout)
    assert len(endpoints["subsets"][0]["addresses"]) == world.GATEWAY.replicas
    site.sandbox.advance(360)  # the 5xx of the outage leave the 5-minute windows
    code, after = _json(invoke, site, "detect")
    assert code == 0, [c for c in after["data"]["checks"] if c["health"] != "ok"]


def test_credential_stuffing_is_a_security_attack_and_the_login_throttle_stops_it(
    invoke: Invoke, sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    site = _site(sandbox_factory, tmp_path, "credential-stuffing")
    sb = site.sandbox
    with httpx.Client(base_url=sb.url, timeout=10) as web:
        alerts = web.get("/alertmanager/api/v2/alerts", params={"filter": 'category="security"'}).json()
    assert [a["labels"]["alertname"] for a in alerts] == ["CredentialStuffing"]
    assert alerts[0]["labels"]["service"] == "gateway"
    assert alerts[0]["labels"]["kind"] == "attack"

    code, detect = _json(invoke, site, "detect")
    assert code == 3
    problems = [c for c in detect["data"]["checks"] if c["health"] != "ok"]
    assert [(c["kind"], c["subject"]) for c in problems] == [("alerts", "gateway")]
    assert "CredentialStuffing" in problems[0]["summary"]

    code, triage = _json(invoke, site, "triage", "--declare")
    assert code == 3
    assert triage["data"]["category"] == "security/attack"

    real = kubectl_for(sb, site.runbook.parent)
    logs = real.run("logs", "-n", NS, "-l", "app=gateway", "--tail", "400", check=True).stdout.splitlines()
    refused = [line for line in logs if "path=/v1/auth/login" in line and "status=401" in line]
    assert len(refused) > len(logs) / 2  # the flood outnumbers the users' own requests
    clients = {field.split("=", 1)[1] for line in refused for field in line.split() if field.startswith("client=")}
    assert clients == set(ATTACKERS)

    data = _fix(invoke, site, "credential-stuffing")
    assert any(w["describe"] == "patch configmap/gateway-config" for w in data["plan"]["writes"])
    config = json.loads(real.run("get", "configmap", "gateway-config", "-n", NS, "-o", "json", check=True).stdout)
    assert config["data"]["LOGIN_THROTTLE_PER_MINUTE"] == "5"
    sb.advance(120)
    code, after = _json(invoke, site, "detect")
    assert code == 0, [c for c in after["data"]["checks"] if c["health"] != "ok"]
    recent = real.run("logs", "-n", NS, "-l", "app=gateway", "--since", "1m", check=True).stdout.splitlines()
    login = [line for line in recent if "path=/v1/auth/login" in line]
    assert login
    assert all("status=429" in line for line in login)  # the addresses are throttled before any password check


def test_inject_healthy_ends_both(sandbox_factory: Callable[..., Sandbox]) -> None:
    sb = sandbox_factory("total-outage")
    assert sb.describe()["signals"]["gateway"]["ready"] == 0
    sb.inject("credential-stuffing")  # replaces the outage: the gateway is back, the attack starts
    sb.advance(60)
    assert sb.describe()["signals"]["gateway"]["ready"] == world.GATEWAY.replicas
    with httpx.Client(base_url=sb.url, timeout=10) as web:
        assert any(
            a["labels"]["alertname"] == "CredentialStuffing" for a in web.get("/alertmanager/api/v2/alerts").json()
        )
        sb.inject("healthy")
        assert not any(
            a["labels"]["alertname"] == "CredentialStuffing" for a in web.get("/alertmanager/api/v2/alerts").json()
        )


def _escalation_due(invoke: Invoke, site: Site) -> tuple[int, dict[str, Any]]:
    return _json(invoke, site, "escalate", "check")


def test_total_outage_escalates_to_the_cto_at_once(
    invoke: Invoke, sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    site = _site(sandbox_factory, tmp_path, "total-outage")
    code, triage = _json(invoke, site, "triage", "--declare")
    assert code == 3
    assert triage["data"]["severity"] == "P1"

    code, check = _escalation_due(invoke, site)
    assert code == 3, check
    due = [r for r in check["data"]["assessment"]["rules"] if r["state"] == "due"]
    assert ("severity:P1", "L4") in {(r["rule"], r["level"]) for r in due}

    code, applied = _json(invoke, site, "escalate", "check", "--apply")
    assert applied["data"]["applied"]["level"] == "L4"
    assert code == 0, applied  # recorded, and its notice delivered
    # L4's notify list pages: the sandbox's PagerDuty holds one triggered incident under the incident's id
    paged = site.sandbox.notify.pagerduty.snapshot()["incidents"]
    assert [(p["dedup_key"], p["status"]) for p in paged] == [(triage["data"]["incident"], "triggered")]
    code, again = _escalation_due(invoke, site)
    assert code == 0, again  # L4 is reached: nothing is due twice
    assert [r["level"] for r in again["data"]["assessment"]["reached"]] == ["L4"]


def test_credential_stuffing_escalates_to_l3_on_the_security_alert(
    invoke: Invoke, sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    site = _site(sandbox_factory, tmp_path, "credential-stuffing")
    code, triage = _json(invoke, site, "triage", "--declare")
    assert code == 3
    assert triage["data"]["category"] == "security/attack"
    assert (triage["data"]["severity"], triage["data"]["decidedBy"]) == ("P2", "p2-security-attack")

    code, check = _escalation_due(invoke, site)
    assert code == 3, check
    due = {(r["rule"], r["level"]) for r in check["data"]["assessment"]["rules"] if r["state"] == "due"}
    assert ("security-breach", "L3") in due
