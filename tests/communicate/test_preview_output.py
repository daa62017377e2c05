"""``communicate preview`` shows exactly what would go where, per channel: the subject and the text, Slack's
blocks read as text, the status page's public text (never the internal update), a manual channel's to-do; and
it records and sends nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import yaml
from pytest_httpx import HTTPXMock
from tests.communicate.harness import Comms

HOOK = "https://hooks.example.com/incidents/T0KEN-s3cr3t"
CHANNELS = {
    "hook": {"kind": "webhook", "url": {"env": "HOOK_URL"}},
    "chat": {"kind": "slack", "webhook_url": {"env": "SLACK_URL"}, "channel": "#incidents"},
    "status-page": {"kind": "statuspage", "page_id": "sarvanom", "api_key": {"env": "STATUSPAGE_KEY"}},
    "war-room": {"kind": "manual", "description": "Video conference - incident war room"},
}
SLACK_TEMPLATE = """[
  {"type": "header", "text": {"type": "plain_text", "text": "{{ message.subject }}"}},
  {"type": "section", "text": {"type": "mrkdwn", "text": "*Status:* {{ incident.status }}"},
   "fields": [{"type": "mrkdwn", "text": "*Severity:* {{ incident.severity }}"}]},
  {"type": "divider"},
  {"type": "context",
   "elements": [{"type": "mrkdwn", "text": "{{ incident.id }} <by> {{ incident.commander or 'nobody' }}"}]}
]
"""


@pytest.fixture
def comms(comms_factory: Callable[..., Comms]) -> Comms:
    comms = comms_factory(
        CHANNELS,
        {
            "HOOK_URL": HOOK,
            "SLACK_URL": "https://hooks.slack.com/services/T0/B0/xyz",
            "STATUSPAGE_KEY": "sp-key-4f3e2d1c",
        },
    )
    (comms.root / "slack_message.json.j2").write_text(SLACK_TEMPLATE, encoding="utf-8")
    data = yaml.safe_load(comms.runbook_path.read_text(encoding="utf-8"))
    data["communication"]["templates"]["slack_message"] = "slack_message.json.j2"
    comms.runbook_path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return comms


def test_the_preview_shows_each_channels_message_as_it_will_go(comms: Comms, httpx_mock: HTTPXMock) -> None:
    incident = comms.declare("Gateway returns 502 on gateway-7d9f8", severity="P2")
    args = ("communicate", "preview", "update", "--update", "Rolled back v42.")
    to = ("--to", "hook", "--to", "chat", "--to", "status-page", "--to", "war-room")
    shown = comms.run(*args, *to)
    assert shown.exit_code == 0, shown.stderr
    out = shown.stdout
    sections = {part.split("\n", 1)[0].split()[0]: part for part in out.split("── ")[1:]}
    assert set(sections) == {"hook", "chat", "status-page", "war-room"}

    assert "Subject: [P2] Incident Update - Gateway returns 502 on gateway-7d9f8" in sections["hook"]
    assert "Update:\nRolled back v42." in sections["hook"]

    slack = sections["chat"]
    assert "Slack message:" in slack
    assert "  # [P2] Incident Update - Gateway returns 502 on gateway-7d9f8" in slack
    assert "  *Status:* investigating" in slack
    assert "  • *Severity:* P2" in slack
    assert "  ───" in slack
    assert f"  {incident} <by> nobody" in slack  # Slack's escapes read back for a person

    public = sections["status-page"]
    assert "public text (impact" in public
    assert "Rolled back v42." in public
    for internal in ("gateway-7d9f8", incident, "Incident Commander", "Technical Lead"):
        assert internal not in public

    assert "to do by hand: Video conference - incident war room" in sections["war-room"]

    assert [e["kind"] for e in comms.timeline(incident)] == ["declared"]  # nothing recorded
    assert httpx_mock.get_requests() == []  # nothing sent


def test_the_json_preview_carries_the_same_drafts(comms: Comms) -> None:
    comms.declare("Gateway returns 502 on gateway-7d9f8", severity="P2")
    drafts = comms.json("communicate", "preview", "update", "--to", "chat", "--to", "status-page", "--to", "war-room")
    by_channel = {d["channel"]: d for d in drafts["data"]["drafts"]}
    assert by_channel["chat"]["payload"]["blocks"][0]["type"] == "header"
    page = by_channel["status-page"]
    assert page["subject"] == "Service disruption"  # the public name, not the internal title
    assert "gateway-7d9f8" not in page["text"] + page["payload"]["body"]
    assert page["payload"]["impact"] == "major"
    assert by_channel["war-room"]["description"] == "Video conference - incident war room"
