"""``escalate ID --to LEVEL --reason TEXT``: journalled once per level, never downwards, and told to the level's
channels through the outbox (queued before sent, delivered once); the reason is safe wherever it is shown."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from pytest_httpx import HTTPXMock
from tests.escalate.conftest import HOOK
from tests.escalate.harness import Escalations


@pytest.fixture
def told(escalations_factory: Callable[..., Escalations]) -> Escalations:
    return escalations_factory(notify={"L3": ["hook"], "L4": ["hook"]})


def test_a_manual_escalation_is_journalled_and_told_once(told: Escalations, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=HOOK, method="POST", status_code=200)
    incident = told.declare(severity="P2")
    done = told.json("escalate", incident, "--to", "L3", "--reason", "Checkout revenue is down 40%")["data"]
    assert (done["level"], done["role"], done["recorded"], done["automatic"]) == (
        "L3",
        "Engineering Manager",
        True,
        False,
    )
    assert [o["state"] for o in done["outcomes"]] == ["sent"]

    [request] = httpx_mock.get_requests()
    body = request.read().decode()
    assert request.headers["Idempotency-Key"] == f"{incident}/escalation-L3/hook"
    for words in ("Escalated to: L3 - Engineering Manager", "Reason: Checkout revenue is down 40%", incident):
        assert words in body
    kinds = [e["kind"] for e in told.timeline(incident)]
    assert kinds[-4:] == ["escalated", "messages_queued", "message_sending", "message_sent"]
    [escalated] = [e for e in told.timeline(incident) if e["kind"] == "escalated"]
    assert escalated["data"]["notified"] == ["hook"]
    assert escalated["data"]["batch"] == "escalation-L3"

    again = told.json("escalate", incident, "--to", "L3", "--reason", "Checkout revenue is down 40%")["data"]
    assert again["recorded"] is False
    assert len(httpx_mock.get_requests()) == 1  # nothing sent twice
    assert [e["kind"] for e in told.timeline(incident)].count("escalated") == 1


def test_an_escalation_whose_messages_were_not_queued_queues_them_on_the_next_run(
    told: Escalations, httpx_mock: HTTPXMock
) -> None:
    """As if the process stopped right after recording the escalation: the next run tells the level."""
    httpx_mock.add_response(url=HOOK, method="POST", status_code=200)
    incident = told.declare(severity="P2")
    told.state().journal().append(
        incident,
        "escalated",
        {
            "level": "L3",
            "role": "Engineering Manager",
            "reason": "pool",
            "notified": ["hook"],
            "batch": "escalation-L3",
        },
    )
    again = told.json("escalate", incident, "--to", "L3", "--reason", "pool")["data"]
    assert again["recorded"] is False
    assert [o["state"] for o in again["outcomes"]] == ["sent"]
    assert len(httpx_mock.get_requests()) == 1


def test_a_delivery_that_fails_stays_queued_and_the_exit_says_so(told: Escalations, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=HOOK, status_code=503, is_reusable=True)
    incident = told.declare(severity="P2")
    done = told.json("escalate", incident, "--to", "L4", "--reason", "CTO needed", code=4)["data"]
    assert (done["recorded"], done["outcomes"][0]["state"]) == (True, "queued")
    httpx_mock.reset()
    httpx_mock.add_response(url=HOOK, status_code=200)
    assert told.json("communicate", "flush")["data"]["outcomes"][0]["state"] == "sent"


def test_an_escalation_never_goes_down_silently(esc: Escalations) -> None:
    incident = esc.declare(severity="P2")
    esc.ok("escalate", incident, "--to", "L4", "--reason", "board meeting")
    lower = esc.run("escalate", incident, "--to", "L2", "--reason", "second opinion")
    assert lower.exit_code == 5, lower.stdout
    assert "already escalated to L4 (CTO), above L2: nothing recorded" in lower.stderr
    assert len(lower.stderr.strip().splitlines()) <= 2  # the line and its hint, no traceback
    levels = [e["data"]["level"] for e in esc.timeline(incident) if e["kind"] == "escalated"]
    assert levels == ["L4"]


@pytest.mark.parametrize(
    ("args", "level", "rule"),
    [
        (["--rule", "complex-issue"], "L2", "complex-issue"),
        (["--rule", "business-impact", "--reason", "Enterprise customers affected"], "L3", "business-impact"),
        (["--reason", "Security incident"], "L4", "security-incident"),
        (["--reason", "security-incident"], "L4", "security-incident"),
        (["--to", "L2", "--reason", "need a second pair of eyes"], "L2", None),
    ],
)
def test_the_manual_rules_pick_the_level(esc: Escalations, args: list[str], level: str, rule: str | None) -> None:
    esc.declare(severity="P3")
    done = esc.json("escalate", *args)["data"]  # the only open incident
    assert (done["level"], done["rule"]) == (level, rule)
    assert done["reason"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--to", "L7", "--reason", "x"], "--to L7: not an escalation level of the runbook"),
        (["--rule", "nope", "--reason", "x"], "--rule nope: not a manual escalation rule"),
        (["--rule", "complex-issue", "--to", "L4"], "--rule complex-issue escalates to L2, not L4"),
        (["--reason", "things are bad"], "say which level: --to LEVEL or --rule RULE"),
        (["--to", "L3"], "say why: --reason TEXT"),
        (["--to", "L3", "--reason", "   "], "say why: --reason TEXT"),
    ],
)
def test_a_bad_escalation_is_one_line_and_exit_2(esc: Escalations, args: list[str], says: str) -> None:
    incident = esc.declare(severity="P3")
    result = esc.run("escalate", incident, *args)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert says in result.stderr
    assert "Traceback" not in result.stderr
    assert not [e for e in esc.timeline(incident) if e["kind"] == "escalated"]


def test_an_unknown_incident_is_a_usage_error(esc: Escalations) -> None:
    result = esc.run("escalate", "INC-2026-999", "--to", "L3", "--reason", "x")
    assert result.exit_code == 2
    assert "INC-2026-999" in result.stderr


HOSTILE = "pool *exhausted*\n<!channel> \x1b[31mred\x1b[0m [bold]x[/bold]\r\nBcc: all@example.com"


def test_the_reason_is_safe_in_the_journal_the_output_and_the_message(told: Escalations, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=HOOK, method="POST", status_code=200)
    incident = told.declare(severity="P2")
    table = told.run("escalate", incident, "--to", "L3", "--reason", HOSTILE)
    assert table.exit_code == 0, table.stderr
    assert "\x1b" not in table.stdout
    assert "[bold]x[/bold]" in table.stdout  # shown as written, not taken as markup

    [escalated] = [e for e in told.timeline(incident) if e["kind"] == "escalated"]
    assert "\n" not in escalated["data"]["reason"]
    assert "\x1b" not in escalated["data"]["reason"]

    body = json.loads(httpx_mock.get_requests()[0].read())
    assert "\\u001b" not in json.dumps(body)
    lines = [line for line in body_text(body).splitlines() if line.startswith("Reason:")]
    assert len(lines) == 1
    assert not [line for line in body_text(body).splitlines() if line.startswith("Bcc:")]

    shown = told.json("escalate", "check", incident)["data"]["assessment"]["reached"][0]["reason"]
    assert "\n" not in shown


def body_text(body: object) -> str:
    """Every string of the webhook's JSON body, one after another."""
    if isinstance(body, str):
        return body + "\n"
    if isinstance(body, dict):
        return "".join(body_text(v) for v in body.values())
    if isinstance(body, list):
        return "".join(body_text(v) for v in body)
    return ""


def test_a_secret_pasted_into_the_reason_is_masked_in_the_journal_and_the_message(
    told: Escalations, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(url=HOOK, method="POST", status_code=200)
    incident = told.declare(severity="P2")
    secret = HOOK.rsplit("/", 1)[-1]
    result = told.run("escalate", incident, "--to", "L3", "--reason", f"webhook {HOOK} keeps failing")
    assert result.exit_code == 0, result.stderr
    assert secret not in result.stdout
    [escalated] = [e for e in told.timeline(incident) if e["kind"] == "escalated"]
    assert secret not in escalated["data"]["reason"]
    assert secret not in httpx_mock.get_requests()[0].read().decode()
