"""Slack through the Web API (a bot token): the incident channel opened by the first message, one status message
edited in place by every later one with the history in its thread, Slack's HTTP-200 errors, rate limits, and a
sender stopped between sending and recording found again through the messages' metadata instead of posting twice."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock
from tests.communicate.harness import Comms, Killed
from tests.communicate.slack_fake import API, TOKEN, FakeSlack, Message

SLACK = {
    "slack": {
        "kind": "slack",
        "bot_token": {"env": "SLACK_BOT_TOKEN"},
        "channel": "#incidents",
        "incident_channel_prefix": "inc-",
        "api_url": API,
        "invite": ["U01COMMANDER", "U02LEAD"],
    }
}


@pytest.fixture
def comms(comms_factory: Callable[..., Comms]) -> Comms:
    return comms_factory(SLACK, {"SLACK_BOT_TOKEN": TOKEN})


@pytest.fixture
def slack(httpx_mock: HTTPXMock) -> FakeSlack:
    fake = FakeSlack()
    fake.install(httpx_mock)
    return fake


def outcome(document: dict[str, Any]) -> dict[str, Any]:
    [only] = document["data"]["outcomes"]
    assert isinstance(only, dict)
    return only


def announcements(slack: FakeSlack) -> list[Message]:
    return [m for m in slack.messages if m.channel == "C0INCIDENTS"]


def test_the_first_message_opens_the_incident_channel_and_later_ones_edit_one_status_message(
    comms: Comms, slack: FakeSlack
) -> None:
    incident = comms.declare("Gateway returns 502 (EU)")
    comms.ok("incident", "assign", incident, "--commander", "Carol", "--tech-lead", "Dave")
    first = outcome(comms.json("communicate", "send", "initial", "--impact", "Search fails for 40% of users"))

    name = f"{incident.lower()}-gateway-returns-502-eu"
    assert [a["name"] for a in slack.called("conversations.create")] == [name]
    channel_id = slack.channels[name]
    assert slack.called("conversations.invite") == [{"channel": channel_id, "users": "U01COMMANDER,U02LEAD"}]
    [topic] = slack.called("conversations.setTopic")
    assert all(word in topic["topic"] for word in ("P2", "Investigating", "Carol"))
    [announcement] = announcements(slack)
    assert f"<#{channel_id}>" in announcement.text
    assert incident in announcement.text
    [status] = slack.in_channel(channel_id)
    [reply] = slack.thread(channel_id, status.ts)
    assert first["receipt"] == {"channel_id": channel_id, "status_ts": status.ts, "ts": reply.ts}
    assert "Search fails for 40% of users" in str(reply.blocks)
    assert "Investigating" in str(status.blocks)

    comms.clock.advance(minutes=20)
    comms.ok("incident", "status", incident, "identified")
    comms.json("communicate", "send", "update", "--update", "Rolled back the bad deploy")
    comms.clock.advance(minutes=20)
    comms.ok("incident", "status", incident, "resolved")
    comms.json("communicate", "send", "resolution", incident, "--resolution", "The previous release is serving")

    assert slack.in_channel(channel_id) == [status]  # still ONE status message at the top of the channel
    updates = slack.called("chat.update")
    assert [(u["channel"], u["ts"]) for u in updates] == [(channel_id, status.ts)] * 2
    assert status.edits == 2
    assert "Resolved" in str(status.blocks)
    history = slack.thread(channel_id, status.ts)
    assert len(history) == 3
    assert "Rolled back the bad deploy" in str(history[1].blocks)
    assert "The previous release is serving" in str(history[2].blocks)
    assert "Resolved" in slack.topics[channel_id]
    assert len(slack.called("conversations.create")) == 1
    assert len(announcements(slack)) == 1

    keys = [f"{incident}/initial-1/slack", f"{incident}/update-1/slack", f"{incident}/resolution-1/slack"]
    for args in slack.called("chat.postMessage") + updates:
        metadata = args["metadata"]
        assert metadata["event_type"] == "incident_update"
        assert metadata["event_payload"]["key"] in keys
        assert metadata["event_payload"]["incident"] == incident
    assert [m.metadata["event_payload"]["key"] for m in history if m.metadata] == keys
    states = [e["state"] for e in comms.json("communicate", "status", incident)["data"]["entries"]]
    assert states == ["sent", "sent", "sent"]


def test_a_channel_name_already_taken_is_found_through_every_page_of_conversations_list(
    comms: Comms, slack: FakeSlack
) -> None:
    incident = comms.declare("Checkout is slow")
    name = f"{incident.lower()}-checkout-is-slow"
    slack.channels.update({"alerts": "C0ALERTS", "general": "C0GENERAL", "random": "C0RANDOM", name: "C0EXISTING"})

    assert outcome(comms.json("communicate", "send", "initial"))["state"] == "sent"
    assert len(slack.called("conversations.list")) >= 3  # the channel is on the last page of two-channel pages
    assert len(slack.in_channel("C0EXISTING")) == 1
    assert slack.channels[name] == "C0EXISTING"
    assert len(slack.channels) == 5  # no second channel


def test_slack_errors_in_an_http_200_are_not_retried_and_the_message_is_kept_with_the_slack_error_code(
    comms: Comms, slack: FakeSlack
) -> None:
    incident = comms.declare()
    slack.fail("conversations.create", {"ok": False, "error": "restricted_action"})
    failed = outcome(comms.json("communicate", "send", "initial", code=4))
    assert (failed["state"], failed["reason"], failed["attempts"]) == ("failed", "client", 1)
    assert "restricted_action" in failed["error"]
    assert comms.sleeps == []

    [entry] = comms.json("communicate", "status", incident)["data"]["entries"]
    assert entry["state"] == "failed"
    assert "restricted_action" in entry["error"]

    # the cause fixed, the kept message goes out once
    assert outcome(comms.json("communicate", "flush", "--retry-failed"))["state"] == "sent"
    assert len(slack.called("conversations.create")) == 2
    assert len(announcements(slack)) == 1


def test_a_missing_scope_names_the_scope_slack_says_is_needed(comms: Comms, slack: FakeSlack) -> None:
    comms.declare()
    slack.fail("conversations.create", {"ok": False, "error": "missing_scope", "needed": "channels:manage"})
    failed = outcome(comms.json("communicate", "send", "initial", code=4))
    assert "missing_scope" in failed["error"]
    assert "channels:manage" in failed["error"]


def test_ratelimited_and_429_are_retried_after_the_wait_slack_asks_for(comms: Comms, slack: FakeSlack) -> None:
    comms.declare()
    slack.fail("conversations.create", httpx.Response(429, headers={"Retry-After": "7"}, text=""))
    slack.fail("chat.postMessage", {"ok": False, "error": "ratelimited"})
    sent = outcome(comms.json("communicate", "send", "initial"))
    assert (sent["state"], sent["attempts"]) == ("sent", 3)
    assert comms.sleeps[0] == 7.0  # Retry-After honoured
    assert len(comms.sleeps) == 2
    assert len(slack.channels) == 2  # the third attempt found the channel the second one made
    assert len(announcements(slack)) == 1


def test_a_retry_after_longer_than_the_runbook_allows_leaves_the_message_queued(comms: Comms, slack: FakeSlack) -> None:
    comms.declare()
    slack.fail("conversations.create", httpx.Response(429, headers={"Retry-After": "3600"}))
    queued = outcome(comms.json("communicate", "send", "initial", code=4))
    assert (queued["state"], queued["reason"]) == ("queued", "rate_limited")
    assert comms.sleeps == []


def test_a_timeout_is_retried_with_back_off_and_nothing_is_posted_twice(comms: Comms, slack: FakeSlack) -> None:
    incident = comms.declare()
    comms.json("communicate", "send", "initial")
    [status] = slack.in_channel(slack.channels[f"{incident.lower()}-gateway-returns-502"])

    slack.fail("chat.update", httpx.ReadTimeout("no answer"))
    sent = outcome(comms.json("communicate", "send", "update", "--update", "Still looking"))
    assert (sent["state"], sent["attempts"]) == ("sent", 2)
    assert comms.sleeps == [1.0]
    assert len(slack.thread(status.channel, status.ts)) == 2  # the initial message and this update, once each


def test_a_reply_that_timed_out_after_slack_took_it_is_looked_for_before_it_is_posted_again(
    comms: Comms, slack: FakeSlack, httpx_mock: HTTPXMock
) -> None:
    incident = comms.declare()
    comms.json("communicate", "send", "initial")
    channel_id = slack.channels[f"{incident.lower()}-gateway-returns-502"]

    real = slack._chat_postMessage

    def took_it_then_timed_out(args: dict[str, Any]) -> dict[str, Any]:
        slack._chat_postMessage = real  # type: ignore[method-assign]
        real(args)
        raise httpx.ReadTimeout("the answer was lost")

    slack._chat_postMessage = took_it_then_timed_out  # type: ignore[method-assign]
    assert outcome(comms.json("communicate", "send", "update", "--update", "Still looking"))["state"] == "sent"
    [status] = slack.in_channel(channel_id)
    assert len(slack.thread(channel_id, status.ts)) == 2


def test_a_sender_stopped_after_posting_is_recovered_from_the_metadata_without_a_second_post(
    comms: Comms, slack: FakeSlack
) -> None:
    incident = comms.declare()
    comms.stop_after_send("slack")
    with pytest.raises(Killed):
        comms.run("communicate", "send", "initial")
    comms.clock.advance(minutes=3)  # past the claim's lease: the sender is gone
    assert comms.json("communicate", "status")["data"]["entries"][0]["state"] == "in-doubt"
    posts = len(slack.called("chat.postMessage"))

    recovered = outcome(comms.json("communicate", "flush"))
    assert (recovered["state"], recovered["recovered"]) == ("sent", True)
    assert len(slack.called("chat.postMessage")) == posts  # nothing posted again
    assert len(slack.called("conversations.create")) == 1
    history = [a for a in slack.called("conversations.history") if a.get("include_all_metadata") in ("true", True)]
    assert history, "looked for the message's metadata"
    channel_id = slack.channels[f"{incident.lower()}-gateway-returns-502"]
    [status] = slack.in_channel(channel_id)
    [reply] = slack.thread(channel_id, status.ts)
    assert recovered["receipt"] == {"channel_id": channel_id, "status_ts": status.ts, "ts": reply.ts}

    # a later message killed the same way is found in the status message's thread
    comms.stop_after_send("slack")
    with pytest.raises(Killed):
        comms.run("communicate", "send", "update", "--update", "Rolled back")
    comms.clock.advance(minutes=3)
    posts = len(slack.called("chat.postMessage"))
    [again] = [o for o in comms.json("communicate", "flush")["data"]["outcomes"] if o["kind"] == "update"]
    assert (again["state"], again["recovered"]) == ("sent", True)
    assert len(slack.called("chat.postMessage")) == posts
    assert len(slack.thread(channel_id, status.ts)) == 2


def test_a_first_message_sent_again_after_failing_half_way_makes_no_second_channel_or_announcement(
    comms: Comms, slack: FakeSlack
) -> None:
    incident = comms.declare()
    slack.fail("chat.postMessage", None)  # the announcement goes out
    slack.fail("chat.postMessage", {"ok": False, "error": "is_archived"})  # the status message is refused
    failed = outcome(comms.json("communicate", "send", "initial", code=4))
    assert failed["state"] == "failed"
    assert "is_archived" in failed["error"]
    assert len(announcements(slack)) == 1

    assert outcome(comms.json("communicate", "flush", "--retry-failed"))["state"] == "sent"
    assert len(slack.channels) == 2  # #incidents and the one incident channel
    assert len(announcements(slack)) == 1  # announced once
    channel_id = slack.channels[f"{incident.lower()}-gateway-returns-502"]
    [status] = slack.in_channel(channel_id)
    assert len(slack.thread(channel_id, status.ts)) == 1


def test_the_bot_token_never_appears_in_output_the_journal_or_debug_logs(comms: Comms, slack: FakeSlack) -> None:
    comms.declare()
    slack.fail("chat.postMessage", {"ok": False, "error": f"invalid_auth for {TOKEN}"})
    results = [
        comms.run("--debug", "communicate", "send", "initial"),
        comms.run("--debug", "communicate", "flush", "--retry-failed", "-o", "json"),
        comms.run("--debug", "communicate", "status"),
        comms.run("--debug", "communicate", "preview", "update"),
    ]
    for result in results:
        assert TOKEN not in result.stdout + result.stderr
        assert "S3cr3tB0tT0ken" not in result.stdout + result.stderr
    assert any("Slack" in r.stderr for r in results)  # the debug log did say something
    for path in (comms.root / "incidents").rglob("*"):
        if path.is_file():
            assert "S3cr3tB0tT0ken" not in path.read_text(encoding="utf-8", errors="replace"), path


def test_a_status_message_someone_deleted_is_posted_again_and_the_next_update_edits_the_new_one(
    comms: Comms, slack: FakeSlack
) -> None:
    incident = comms.declare()
    comms.json("communicate", "send", "initial")
    channel_id = slack.channels[f"{incident.lower()}-gateway-returns-502"]
    slack.messages = [m for m in slack.messages if m.thread_ts is not None]  # the status message deleted
    sent = outcome(comms.json("communicate", "send", "update", "--update", "Rolled back"))
    assert sent["state"] == "sent"
    [status] = slack.in_channel(channel_id)
    assert sent["receipt"]["status_ts"] == status.ts
    assert len(slack.thread(channel_id, status.ts)) == 1

    comms.json("communicate", "send", "update", "--update", "Recovering")
    assert slack.called("chat.update")[-1]["ts"] == status.ts
    assert slack.in_channel(channel_id) == [status]


def test_the_incident_channel_keeps_the_titles_first_words_so_people_can_type_it() -> None:
    from incidentctl.adapters.notify.slack import incident_channel_name

    long_title = "synthesis: 2/4 pods ready (CrashLoopBackOff); error_rate 42.8% > 10% on synthesis"
    assert incident_channel_name("inc-", "INC-2026-001", long_title) == "inc-2026-001-synthesis-2-4-pods-ready"
    assert incident_channel_name("inc-", "INC-2026-004", "API outage") == "inc-2026-004-api-outage"
    assert len(incident_channel_name("inc-", "INC-2026-004", "x" * 300)) <= 80
