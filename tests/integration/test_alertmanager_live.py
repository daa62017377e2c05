"""The Alertmanager client against a real Alertmanager: posted alerts come back filtered, silences silence.

The server lives for the whole session, so every test labels its alerts with its own ``run`` id and scopes its
client to it (as the runbook scopes to a namespace)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from incidentctl.adapters.alertmanager import AlertmanagerClient, NewAlert, check_alerts
from incidentctl.core.checks import Health
from incidentctl.errors import ConfigError
from incidentctl.runbook.model import Alertmanager

pytestmark = pytest.mark.integration

NS = "sarvanom-production"


@pytest.fixture
def run() -> str:
    return uuid.uuid4().hex[:12]


@pytest.fixture
def am(http: httpx.Client, alertmanager_server: Any, run: str) -> AlertmanagerClient:
    return AlertmanagerClient(http, Alertmanager(url=alertmanager_server.url, matchers=[f'run="{run}"']))


def alert(run: str, name: str, service: str, severity: str = "warning", **extra: Any) -> NewAlert:
    labels = {"alertname": name, "service": service, "severity": severity, "namespace": NS, "run": run}
    return NewAlert(labels, {"summary": f"{name} on {service}"}, **extra)


def eventually(condition: Callable[[], bool], seconds: float = 10) -> bool:
    """Alertmanager applies some changes asynchronously; poll for them rather than sleep."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_posted_alerts_come_back_filtered_by_matchers(am: AlertmanagerClient, run: str) -> None:
    am.post_alerts(
        [
            alert(run, "GatewayErrors", "gateway", "critical"),
            alert(run, "GatewaySlow", "gateway"),
            alert(run, "RetrievalDown", "retrieval", "critical"),
        ]
    )
    assert sorted(a.name for a in am.alerts()) == ["GatewayErrors", "GatewaySlow", "RetrievalDown"]
    assert sorted(a.name for a in am.alerts(['service="gateway"'])) == ["GatewayErrors", "GatewaySlow"]
    assert [a.name for a in am.alerts(['service=~"gate.*"', 'severity!="warning"'])] == ["GatewayErrors"]
    [retrieval] = am.alerts(['service="retrieval"'])
    assert retrieval.state == "active"
    assert retrieval.labels["namespace"] == NS
    assert retrieval.summary == "RetrievalDown on retrieval"
    assert retrieval.starts_at is not None
    assert retrieval.fingerprint


def test_the_runbooks_scope_hides_other_alerts(http: httpx.Client, alertmanager_server: Any, run: str) -> None:
    AlertmanagerClient(http, Alertmanager(url=alertmanager_server.url)).post_alerts(
        [alert(run, "Mine", "gateway"), alert(f"{run}-other", "Theirs", "gateway")]
    )
    scoped = AlertmanagerClient(http, Alertmanager(url=alertmanager_server.url, matchers=[f'run="{run}"']))
    assert [a.name for a in scoped.alerts()] == ["Mine"]


def test_a_resolved_alert_is_not_listed_as_active(am: AlertmanagerClient, run: str) -> None:
    past = datetime.now(timezone.utc) - timedelta(minutes=5)
    am.post_alerts(
        [
            alert(run, "StillFiring", "gateway"),
            alert(run, "AlreadyOver", "gateway", starts_at=past - timedelta(minutes=5), ends_at=past),
        ]
    )
    assert [a.name for a in am.alerts()] == ["StillFiring"]


def test_check_alerts_reports_a_components_firing_alerts(am: AlertmanagerClient, run: str) -> None:
    am.post_alerts([alert(run, "GatewaySlow", "gateway"), alert(run, "GatewayErrors", "gateway", "critical")])
    result = check_alerts(am, "gateway")
    assert result.health is Health.DEGRADED
    assert result.kind == "alerts"
    assert result.summary == "2 alerts firing: GatewayErrors, GatewaySlow"
    assert result.reasons[0].startswith("GatewayErrors [critical] since ")
    assert result.reasons[0].endswith(": GatewayErrors on gateway")
    quiet = check_alerts(am, "synthesis")
    assert quiet.health is Health.OK
    assert quiet.summary == "no firing alerts"


def test_a_silence_hides_the_alert_until_it_is_expired(am: AlertmanagerClient, run: str) -> None:
    am.post_alerts([alert(run, "GatewayErrors", "gateway", "critical"), alert(run, "GatewaySlow", "gateway")])
    silence_id = am.create_silence(
        [f'run="{run}"', 'alertname="GatewayErrors"'], timedelta(hours=1), "tester", "mitigating INC-2026-004"
    )
    assert silence_id
    assert eventually(lambda: [a.name for a in am.alerts()] == ["GatewaySlow"])
    [silenced] = am.alerts(active=False, silenced=True)
    assert silenced.name == "GatewayErrors"
    assert silenced.state == "suppressed"
    assert silenced.silenced_by == (silence_id,)
    assert check_alerts(am, "gateway").summary == "1 alert firing: GatewaySlow"

    am.expire_silence(silence_id)
    assert eventually(lambda: sorted(a.name for a in am.alerts()) == ["GatewayErrors", "GatewaySlow"])


def test_a_filter_the_server_cannot_parse_is_a_config_error(am: AlertmanagerClient) -> None:
    with pytest.raises(ConfigError, match=r"rejected the request"):
        am.alerts(['service=~"("'])
