"""An alert labelled category=security in a real Alertmanager sets security_breach: detect records it in the open
incident's timeline and escalate check finds the security rule due (L3), as the runbook's mapping says."""

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


def test_a_security_alert_sets_security_breach_and_escalate_check_finds_l3_due(
    invoke: Invoke,
    site_for: Callable[..., Site],  # noqa: F811
    alertmanager_server: Any,
) -> None:
    run_id = uuid.uuid4().hex[:8]
    site = site_for("healthy")
    data: dict[str, Any] = yaml.safe_load(site.runbook.read_text())
    data["observability"]["alertmanager"]["url"] = alertmanager_server.url
    data["observability"]["alertmanager"]["matchers"] = ['namespace="sarvanom-production"', f'run="{run_id}"']
    site.runbook.write_text(yaml.safe_dump(data, sort_keys=False))
    incident = run(invoke, site, "incident", "declare", "--title", "Login flood", "--severity", "P4").stdout.strip()

    calm = run(invoke, site, "detect", "-o", "json")
    assert calm.exit_code == 0, calm.output
    assert json.loads(run(invoke, site, "escalate", "check", "-o", "json").stdout)["data"]["assessment"]["looks"] == 1

    with httpx.Client() as http:
        AlertmanagerClient(http, Alertmanager(url=alertmanager_server.url)).post_alerts(
            [
                NewAlert(
                    {
                        "alertname": "CredentialStuffing",
                        "service": "gateway",
                        "category": "security",
                        "severity": "critical",
                        "namespace": "sarvanom-production",
                        "run": run_id,
                    },
                    {"summary": "a flood of 401s on /login from 3 addresses"},
                )
            ]
        )
    detected = run(invoke, site, "detect", "-o", "json")
    assert detected.exit_code == 3, detected.output
    checked = run(invoke, site, "escalate", "check", "-o", "json")
    assert checked.exit_code == 3, checked.output
    rules = {r["rule"]: r for r in json.loads(checked.stdout)["data"]["assessment"]["rules"]}
    assert (rules["security-breach"]["state"], rules["security-breach"]["level"]) == ("due", "L3")
    timeline = json.loads(run(invoke, site, "incident", "timeline", incident, "-o", "json").stdout)["data"]
    looks = [e for e in timeline["events"] if e["kind"] == "detected"]
    assert "security_breach" in looks[-1]["data"]["signalsOn"]
