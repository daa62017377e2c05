"""User text cannot break out of Slack's mrkdwn or the Block Kit JSON: whatever a title, a note, an update or a
commander's name holds (``&``, ``<!channel>``, ``<@U123>``, ``<https://evil|click>``, quotes, backslashes, line
breaks, control characters), the rendered blocks are valid JSON of the template's own shape, and no ``<``, ``>``
or ``&`` reaches Slack unescaped: no mention, no link, no broken string. Checked for arbitrary text (hypothesis) on
the templates, and end to end on everything ``communicate send`` hands the Web API."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pytest_httpx import HTTPXMock
from tests.communicate.harness import Comms
from tests.communicate.slack_fake import API, TOKEN, FakeSlack

from incidentctl.adapters.notify.slack import incident_channel_name, incident_topic
from incidentctl.adapters.templates import render_json_template, render_template
from incidentctl.bundled import bundled_templates_dir
from incidentctl.core.incident import Event, EventKind, fold
from incidentctl.core.text import has_unsafe
from incidentctl.phases.messaging.compose import split_subject
from incidentctl.runbook.loader import load_runbook
from incidentctl.runbook.model import Runbook
from incidentctl.runbook.templates import template_context

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 3, 14, 14, 30, tzinfo=timezone.utc)
TEMPLATES = bundled_templates_dir()

HOSTILE = [
    "&",
    "<",
    ">",
    "&amp;",
    "&lt;!channel&gt;",
    "<!channel>",
    "<!here|here>",
    "<@U123>",
    "<#C0INCIDENTS>",
    "<https://evil.example|click>",
    '"},{"type":"section","text":{"type":"mrkdwn","text":"<!channel>"}}',
    "\\",
    '\\"',
    "\n",
    "\r\n",
    "\x00",
    "\x1b[2J",
    "\x1b]0;pwned\x07",
    "\u202e",
    "\u2028",
    "{{ 7 * 7 }}",
    "*bold* _it_ `code`",
]

#: Arbitrary text, with the pieces that matter to mrkdwn and JSON made common.
user_text = st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=12)), max_size=6).map("".join)
#: Names and titles are needed: an empty one is a different (valid) journal.
some_text = user_text.filter(lambda t: t.strip() != "")

_ENTITY = re.compile(r"&(?:amp|lt|gt);")


@cache
def runbook() -> Runbook:
    return load_runbook(REPO / "runbook.yaml")


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def shape(value: Any) -> Any:
    """The blocks' structure: every key, every list's length and every ``type``, without the text."""
    if isinstance(value, dict):
        return {k: (v if k == "type" else shape(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value]
    return type(value).__name__


def assert_escaped(text: str) -> None:
    bare = _ENTITY.sub("", text)
    assert not {"<", ">", "&"} & set(bare), text
    assert not has_unsafe(text), text


def blocks(title: str, commander: str, note: str, update: str, resolved: bool) -> tuple[Any, Any]:
    """Both Block Kit templates for an update, from a journal holding the text, rendered as compose does."""
    events = [
        Event(T0, "alice", EventKind.DECLARED, {"id": "INC-2026-004", "title": title, "severity": "P2"}),
        Event(T0 + timedelta(minutes=1), "alice", EventKind.ROLES_ASSIGNED, {"commander": commander}),
        Event(T0 + timedelta(minutes=2), commander, EventKind.NOTE, {"text": note}),
    ]
    if resolved:
        events.append(
            Event(
                T0 + timedelta(minutes=9),
                "alice",
                EventKind.STATUS_CHANGED,
                {"from": "investigating", "to": "resolved"},
            )
        )
    rb = runbook()
    context = template_context(rb, fold(events), events, now=T0 + timedelta(minutes=10), update=update, summary=[note])
    subject, text = split_subject(render_template(TEMPLATES / "status_update.md.j2", context))
    message = {"kind": "update", "subject": subject, "text": text}
    rendered = tuple(
        render_json_template(TEMPLATES / name, {**context, "message": message})
        for name in ("slack_message.json.j2", "slack_status.json.j2")
    )
    return rendered[0], rendered[1]


@settings(max_examples=60, deadline=None)
@given(title=some_text, commander=some_text, note=user_text, update=user_text, resolved=st.booleans())
def test_user_text_keeps_the_blocks_valid_of_the_same_shape_and_escaped(
    title: str, commander: str, note: str, update: str, resolved: bool
) -> None:
    message, status = blocks(title, commander, note, update, resolved)
    plain_message, plain_status = blocks("Gateway slow", "carol", "pool raised", "Rolled back", resolved)
    assert shape(message) == shape(plain_message)
    assert shape(status) == shape(plain_status)
    for text in strings(message) + strings(status):
        assert_escaped(text)
    json.loads(json.dumps(message))  # plain JSON values only


@settings(max_examples=60, deadline=None)
@given(
    title=user_text, commander=st.one_of(st.none(), user_text), status=st.sampled_from(["investigating", "resolved"])
)
def test_the_channel_name_and_topic_hold_no_user_markup(title: str, commander: str | None, status: str) -> None:
    name = incident_channel_name("inc-", "INC-2026-004", title)
    assert re.fullmatch(r"inc-2026-004(-[a-z0-9_][a-z0-9_-]*)?", name), name
    assert len(name) <= 80
    topic = incident_topic("P2", "High", status, commander)
    assert len(topic) <= 250
    assert_escaped(topic)


@pytest.fixture
def comms(comms_factory: Callable[..., Comms]) -> Comms:
    channels = {
        "slack": {"kind": "slack", "bot_token": {"env": "SLACK_BOT_TOKEN"}, "channel": "#incidents", "api_url": API}
    }
    return comms_factory(channels, {"SLACK_BOT_TOKEN": TOKEN})


def test_nothing_communicate_hands_slack_carries_user_markup(comms: Comms, httpx_mock: HTTPXMock) -> None:
    slack = FakeSlack()
    slack.install(httpx_mock)
    hostile = 'Login <!channel> & <https://evil.example|click> "x" \\ \x1b[2J'
    incident = comms.declare(hostile)
    comms.ok("incident", "assign", incident, "--commander", "<@U123> & co")
    comms.ok("incident", "note", incident, "<!here> look")
    comms.ok("communicate", "send", "initial", "--impact", "<!subteam^S1> & all")
    comms.ok("communicate", "send", "update", "--update", "<https://evil.example|fixed> >_<")

    written = [
        s for method, args in slack.calls if method.startswith(("chat.", "conversations.set")) for s in strings(args)
    ]
    assert any("Login" in s for s in written)
    for text in written:
        own_link = re.sub(r"<#C[A-Z0-9]+>", "", text)  # the announcement's link to the incident channel
        assert_escaped(own_link)
