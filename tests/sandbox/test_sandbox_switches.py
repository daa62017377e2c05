"""The sandbox honours the runbook's switches when real kubectl flips them: maintenance mode (the gateway-config
ConfigMap the gateway reads) answers 503 with the maintenance page and says so in the logs and signals; the
standby redirect (the ingress backend switched to the gateway-standby ExternalName Service) takes the users'
traffic away from the cluster, and ``sandbox status`` shows both."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from typer.testing import CliRunner

from incidentctl.cli.app import app
from incidentctl.cli.state import AppState
from incidentctl.sandbox.sandbox import Sandbox
from incidentctl.sandbox.testing import Kubectl

REDIRECT = '[{"op":"replace","path":"/spec/rules/0/http/paths/0/backend/service/name","value":"gateway-standby"}]'


def _status(sb: Sandbox, tmp_path: Path) -> dict[str, Any]:
    sb.write_kubeconfig(tmp_path / ".sandbox" / "kubeconfig")
    result = CliRunner().invoke(app, ["sandbox", "status", "-o", "json"], obj=AppState(cwd=tmp_path))
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout)["data"])


def test_kubectl_reads_the_gateway_config_and_the_standby_service(kubectl: Kubectl) -> None:
    config = kubectl("get", "configmap", "gateway-config", "-o", "jsonpath={.data.MAINTENANCE_MODE}")
    assert config.returncode == 0, config.stderr
    assert config.stdout == "off"
    env_from = kubectl(
        "get",
        "deployment",
        "gateway",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].envFrom[0].configMapRef.name}",
    )
    assert env_from.stdout == "gateway-config"
    standby = kubectl("get", "service", "gateway-standby")
    assert standby.returncode == 0, standby.stderr
    row = standby.stdout.splitlines()[1].split()
    assert row[:2] == ["gateway-standby", "ExternalName"]
    assert row[3] == "api.standby.europe-west4.sarvanom.com"


def test_maintenance_mode_answers_every_route_with_the_maintenance_page(
    sandbox: Sandbox, kubectl: Kubectl, tmp_path: Path
) -> None:
    urls = sandbox.urls()
    assert httpx.get(urls["health/gateway"], timeout=10).status_code == 200
    patched = kubectl(
        "patch", "configmap", "gateway-config", "--type=merge", "-p", '{"data":{"MAINTENANCE_MODE":"on"}}'
    )
    assert patched.returncode == 0, patched.stderr
    sandbox.advance(90)

    for url in (urls["health/gateway"], urls["health/gateway"].replace("/health", "/v1/ask")):
        reply = httpx.get(url, timeout=10)
        assert reply.status_code == 503, url
        assert reply.json()["status"] == "maintenance"
    signals = sandbox.describe()["signals"]
    assert signals["gateway"]["cause"] == "maintenance"
    assert signals["gateway"]["error_rate"] == 1.0
    assert signals["synthesis"]["request_rate"] == 0.0  # nothing is passed on
    pod = kubectl("get", "pods", "-l", "app=gateway", "-o", "jsonpath={.items[0].metadata.name}").stdout
    logs = kubectl("logs", pod, "--since=60s")
    assert logs.returncode == 0, logs.stderr
    assert "served the maintenance page" in logs.stdout
    assert "maintenance mode on (gateway-config MAINTENANCE_MODE=on)" in _status(sandbox, tmp_path)["switched"]

    kubectl("patch", "configmap", "gateway-config", "--type=merge", "-p", '{"data":{"MAINTENANCE_MODE":"off"}}')
    sandbox.advance(5)
    assert httpx.get(urls["health/gateway"], timeout=10).status_code == 200
    assert httpx.get(urls["health/gateway"].replace("/health", "/v1/ask"), timeout=10).status_code == 404


def test_the_redirect_takes_the_users_traffic_to_the_standby_region(
    sandbox: Sandbox, kubectl: Kubectl, tmp_path: Path
) -> None:
    normal = sandbox.describe()["signals"]["gateway"]["request_rate"]
    patched = kubectl("patch", "ingress", "sarvanom", "--type=json", "-p", REDIRECT)
    assert patched.returncode == 0, patched.stderr
    sandbox.advance(5)

    signals = sandbox.describe()["signals"]
    assert signals["gateway"]["request_rate"] < normal * 0.1
    assert signals["gateway"]["cause"] == ""  # nothing is wrong with it: nobody is sent to it
    described = kubectl("get", "ingress", "sarvanom", "-o", "jsonpath={.spec.rules[0].http.paths[0].backend}")
    assert "gateway-standby" in described.stdout
    assert "traffic redirected to gateway-standby (ingress sarvanom)" in _status(sandbox, tmp_path)["switched"]
    table = CliRunner().invoke(app, ["sandbox", "status"], obj=AppState(cwd=tmp_path))
    assert "switched: traffic redirected to gateway-standby" in table.stdout


def test_detect_does_not_count_the_external_standby_as_a_backend_without_endpoints(
    sandbox: Sandbox, kubectl: Kubectl, tmp_path: Path
) -> None:
    from tests.phases.conftest import write_site

    site = write_site(sandbox, tmp_path / "site")
    kubectl("patch", "ingress", "sarvanom", "--type=json", "-p", REDIRECT)
    result = CliRunner().invoke(app, [*site.args("detect", "-o", "json")], obj=AppState(cwd=tmp_path))
    checks = [c for c in json.loads(result.stdout)["data"]["checks"] if c["kind"] == "ingress"]
    assert checks, result.stdout
    assert all(c["health"] == "ok" for c in checks), checks
