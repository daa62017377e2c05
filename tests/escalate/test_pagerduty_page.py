"""An escalation to a level whose notify list has PagerDuty pages through the Events API v2 (shapes from
EXTERNAL-APIS.md): one trigger, through the outbox, recorded as sent; the routing key never in output or journal.
Runs where the PagerDuty channel is part of incidentctl."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from pytest_httpx import HTTPXMock
from tests.escalate.harness import Escalations

pytest.importorskip("incidentctl.adapters.notify.pagerduty")

ENQUEUE = "https://events.pagerduty.com/v2/enqueue"
ROUTING_KEY = "R0UT1NGKEY-s3cr3t-0123456789abcdef"


def test_an_escalation_to_the_cto_pages_once(
    escalations_factory: Callable[..., Escalations], httpx_mock: HTTPXMock
) -> None:
    esc = escalations_factory(
        {"pagerduty": {"kind": "pagerduty", "routing_key": {"env": "PD_KEY"}}},
        {"PD_KEY": ROUTING_KEY},
        notify={"L4": ["pagerduty"]},
    )
    httpx_mock.add_response(
        url=ENQUEUE,
        method="POST",
        status_code=202,
        json={"status": "success", "message": "Event processed", "dedup_key": "INC-2026-001"},
    )
    incident = esc.declare(severity="P1")
    result = esc.run("escalate", incident, "--to", "L4", "--reason", "Complete outage for 20 minutes", "-o", "json")
    assert result.exit_code == 0, (result.stdout, result.stderr)
    done = json.loads(result.stdout)["data"]
    assert [(o["channel"], o["state"]) for o in done["outcomes"]] == [("pagerduty", "sent")]

    [request] = httpx_mock.get_requests()
    body = json.loads(request.read())
    assert body["routing_key"] == ROUTING_KEY
    assert body["event_action"] == "trigger"
    assert body["payload"]["source"]
    assert body["payload"]["severity"] == "critical"
    assert "L4" in body["payload"]["summary"] or "CTO" in body["payload"]["summary"]
    assert ROUTING_KEY not in result.stdout + result.stderr
    assert ROUTING_KEY not in (esc.root / "incidents" / incident / "timeline.jsonl").read_text(encoding="utf-8")
