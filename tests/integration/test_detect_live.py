"""detect and triage end to end with the real monitoring stack: the sandbox is the cluster, while the signals come
from a real Prometheus scraping an exporter (12 % of gateway requests fail) and the alerts from a real
Alertmanager."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import yaml
from tests.conftest import Invoke
from tests.phases.conftest import Site, run, site_for  # noqa: F401 - fixture

from incidentctl.adapters.alertmanager import AlertmanagerClient, NewAlert
from incidentctl.runbook.model import Alertmanager
from incidentctl.sandbox.testing import sandbox_factory  # noqa: F401 - fixture

pytestmark = pytest.mark.integration


def _point_at(site: Site, prometheus: str, alertmanager: str, run_id: str) -> None:
    data: dict[str, Any] = yaml.safe_load(site.runbook.read_text())
    data["observability"]["prometheus"]["url"] = prometheus
    data["observability"]["alertmanager"]["url"] = alertmanager
    data["observability"]["alertmanager"]["matchers"] = ['namespace="sarvanom-production"', f'run="{run_id}"']
    site.runbook.write_text(yaml.safe_dump(data, sort_keys=False))


def test_detect_and_triage_read_real_prometheus_and_alertmanager(
    invoke: Invoke,
    site_for: Callable[..., Site],  # noqa: F811
    prometheus_server: Any,
    alertmanager_server: Any,
) -> None:
    run_id = uuid.uuid4().hex[:8]
    site = site_for("healthy")
    _point_at(site, prometheus_server.url, alertmanager_server.url, run_id)
    with httpx.Client() as http:
        am = AlertmanagerClient(http, Alertmanager(url=alertmanager_server.url))
        am.post_alerts(
            [
                NewAlert(
                    {
                        "alertname": "RetrievalSlow",
                        "service": "retrieval",
                        "severity": "warning",
                        "namespace": "sarvanom-production",
                        "run": run_id,
                    },
                    {"summary": "retrieval p95 above 2s"},
                )
            ]
        )

    detected = run(invoke, site, "detect", "-o", "json")
    assert detected.exit_code == 3, detected.output
    checks = {c["check"]: c for c in json.loads(detected.stdout)["data"]["checks"]}
    error_rate = checks["signal:error_rate:gateway"]
    assert error_rate["health"] == "degraded"
    assert error_rate["observed"]["value"] == pytest.approx(0.12, abs=0.005)
    assert any("rule p2-error-rate" in r for r in error_rate["reasons"])
    assert checks["signal:error_rate:retrieval"]["health"] == "ok"
    alerts = checks["alerts:retrieval"]
    assert alerts["health"] == "degraded"
    assert "RetrievalSlow" in alerts["summary"]
    assert checks["alerts:gateway"]["health"] == "ok"

    triaged = json.loads(run(invoke, site, "triage", "-o", "json").stdout)["data"]
    assert triaged["severity"] == "P2"
    assert triaged["decidedBy"] == "p2-error-rate"
    assert triaged["reason"].startswith("P2: error_rate 12% > 10% on gateway (rule p2-error-rate)")
    assert triaged["usersAffected"] == pytest.approx(0.12, abs=0.005)
    assert triaged["sla"]["burnRate"] == pytest.approx(120, rel=0.05)
