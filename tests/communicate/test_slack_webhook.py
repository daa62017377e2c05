"""Slack through an incoming webhook (no bot token): the message's Block Kit posted as ``{"text", "blocks"}``,
Slack's webhook errors (400/403/404/410 refused for good, 500 retried), and a webhook that cannot tell whether it
already has a message, so a stopped sender's message waits for a person instead of going out twice."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from pytest_httpx import HTTPXMock
from tests.communicate.harness import Comms, Killed

HOOK = "https://hooks.slack.com/services/T000/B000/XXXXwebhookS3cr3t"
SLACK = {"slack": {"kind": "slack", "webhook_url": {"env": "SLACK_WEBHOOK"}, "bot_token": {"env": "SLACK_BOT"}}}


@pytest.fixture
def comms(comms_factory: Callable[..., Comms]) -> Comms:
    return comms_factory(SLACK, {"SLACK_WEBHOOK": HOOK})  # the bot token's variable is not set: webhook mode


def test_the_message_is_posted_as_text_and_block_kit_and_recorded(comms: Comms, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=HOOK, method="POST", status_code=200, text="ok")
    incident = comms.declare("Gateway returns 502 <!channel>")
    sent = comms.json("communicate", "send", "initial", "--impact", "Search fails & retries")["data"]["outcomes"]
    assert [o["state"] for o in sent] == ["sent"]

    [request] = httpx_mock.get_requests()
    body = json.loads(request.read())
    assert set(body) == {"text", "blocks"}
    assert body["text"].startswith("[P2] High Incident - Gateway returns 502")
    assert incident in json.dumps(body["blocks"])
    assert "<!channel>" not in request.read().decode()  # user text cannot mention anyone
    assert body["blocks"][0]["type"] == "header"
    assert "Search fails &amp; retries" in json.dumps(body["blocks"])


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, "invalid_payload"), (403, "action_prohibited"), (404, "channel_not_found"), (410, "channel_is_archived")],
)
def test_a_webhook_error_is_refused_for_good_with_slack_s_words(
    comms: Comms, httpx_mock: HTTPXMock, status: int, error: str
) -> None:
    httpx_mock.add_response(url=HOOK, status_code=status, text=error)
    incident = comms.declare()
    failed = comms.json("communicate", "send", "initial", code=4)["data"]["outcomes"][0]
    assert (failed["state"], failed["reason"], failed["attempts"]) == ("failed", "client", 1)
    assert error in failed["error"]
    assert f"HTTP {status}" in failed["error"]
    assert "S3cr3t" not in failed["error"]
    [entry] = comms.json("communicate", "status", incident)["data"]["entries"]
    assert (entry["state"], entry["error"]) == ("failed", failed["error"])


def test_a_rollup_error_is_retried(comms: Comms, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=HOOK, status_code=500, text="rollup_error")
    httpx_mock.add_response(url=HOOK, status_code=200, text="ok")
    comms.declare()
    sent = comms.json("communicate", "send", "initial")["data"]["outcomes"][0]
    assert (sent["state"], sent["attempts"]) == ("sent", 2)
    assert comms.sleeps == [1.0]


def test_a_webhook_cannot_tell_so_a_stopped_sender_leaves_the_message_in_doubt(
    comms: Comms, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(url=HOOK, status_code=200, text="ok", is_reusable=True)
    comms.declare()
    comms.stop_after_send("slack")
    with pytest.raises(Killed):
        comms.run("communicate", "send", "initial")
    comms.clock.advance(minutes=3)
    assert comms.json("communicate", "flush", code=4)["data"]["outcomes"][0]["state"] == "in-doubt"
    assert len(httpx_mock.get_requests()) == 1


def test_the_webhook_url_never_appears_in_output_the_journal_or_debug_logs(comms: Comms, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=HOOK, status_code=404, text=f"no_service {HOOK}")
    httpx_mock.add_response(url=HOOK, status_code=200, text="ok")
    comms.declare()
    results = [
        comms.run("--debug", "communicate", "send", "initial"),
        comms.run("--debug", "communicate", "status", "-o", "json"),
        comms.run("--debug", "communicate", "flush", "--retry-failed"),
    ]
    for result in results:
        assert "XXXXwebhookS3cr3t" not in result.stdout + result.stderr
    for path in (comms.root / "incidents").rglob("*"):
        if path.is_file():
            assert "XXXXwebhookS3cr3t" not in path.read_text(encoding="utf-8", errors="replace"), path


def test_a_slack_channel_with_neither_a_token_nor_a_webhook_set_says_which_variable_is_missing(
    comms_factory: Callable[..., Comms],
) -> None:
    comms = comms_factory(SLACK, {})
    comms.declare()
    queued = comms.json("communicate", "send", "initial", code=4)["data"]["outcomes"][0]
    assert (queued["state"], queued["reason"]) == ("queued", "config")
    assert "SLACK_WEBHOOK" in queued["error"]


def test_a_slack_channel_naming_neither_a_token_nor_a_webhook_is_a_runbook_error(
    comms_factory: Callable[..., Comms],
) -> None:
    comms = comms_factory({"slack": {"kind": "slack", "channel": "#incidents"}}, {})
    result = comms.run("runbook", "validate")
    assert result.exit_code == 2
    said = result.stdout + result.stderr
    assert "runbook.yaml:" in said
    assert "communication.channels.slack: a Slack channel needs webhook_url or bot_token" in said
    assert "Traceback" not in said
