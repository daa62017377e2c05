"""The Block Kit templates render, strictly, from a real journal into the blocks Slack takes: the message's
subject as a header over its text, the status message with where the incident stands; long values are cut to
Slack's limits with an ellipsis instead of having the whole message refused."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from incidentctl.adapters.templates import names_used, render_json_template
from incidentctl.bundled import bundled_templates_dir
from incidentctl.core.incident import Event, EventKind, fold
from incidentctl.runbook.loader import load_runbook
from incidentctl.runbook.model import Runbook
from incidentctl.runbook.templates import template_context

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 3, 14, 14, 30, tzinfo=timezone.utc)
MESSAGE = bundled_templates_dir() / "slack_message.json.j2"
STATUS = bundled_templates_dir() / "slack_status.json.j2"


@pytest.fixture(scope="module")
def rb() -> Runbook:
    return load_runbook(REPO / "runbook.yaml")


def at(minutes: float, kind: str, **data: Any) -> Event:
    return Event(T0 + timedelta(minutes=minutes), "alice", kind, data)


def journal(title: str = "Gateway returns 502", commander: str = "carol", resolved: bool = False) -> list[Event]:
    events = [
        at(0, EventKind.DECLARED, id="INC-2026-004", title=title, severity="P2", status="investigating"),
        at(3, EventKind.ROLES_ASSIGNED, commander=commander, tech_lead="dave"),
    ]
    if resolved:
        events.append(at(40, EventKind.STATUS_CHANGED, **{"from": "investigating", "to": "resolved"}))
    return events


def render(rb: Runbook, path: Path, events: list[Event], subject: str = "Update", text: str = "Rolled back\n") -> Any:
    context = template_context(rb, fold(events), events, now=T0 + timedelta(minutes=45))
    return render_json_template(path, {**context, "message": {"kind": "update", "subject": subject, "text": text}})


def test_the_runbook_names_both_block_kit_templates(rb: Runbook) -> None:
    templates = rb.communication.templates
    assert templates["slack_message"] == "templates/slack_message.json.j2"
    assert templates["slack_status"] == "templates/slack_status.json.j2"


@pytest.mark.parametrize("path", [MESSAGE, STATUS], ids=lambda p: p.name)
def test_a_block_kit_template_uses_only_the_context_and_the_message(rb: Runbook, path: Path) -> None:
    events = journal()
    context = template_context(rb, fold(events), events, now=T0)
    assert names_used(path) <= {*context, "message"}


def test_the_message_shows_its_subject_as_a_header_and_its_text(rb: Runbook) -> None:
    blocks = render(rb, MESSAGE, journal(), "[P2] Incident Update - Gateway returns 502", "Update:\nRolled back\n")
    assert [b["type"] for b in blocks] == ["header", "section", "context"]
    assert blocks[0]["text"] == {
        "type": "plain_text",
        "text": "[P2] Incident Update - Gateway returns 502",
        "emoji": True,
    }
    assert blocks[1]["text"] == {"type": "mrkdwn", "text": "Update:\nRolled back\n"}
    assert "INC-2026-004" in blocks[2]["elements"][0]["text"]


def test_the_status_message_shows_where_the_incident_stands(rb: Runbook) -> None:
    blocks = render(rb, STATUS, journal())
    assert blocks[0]["text"]["text"] == "INC-2026-004: Gateway returns 502"
    fields = {f["text"].split("\n")[0]: f["text"].split("\n", 1)[1] for f in blocks[1]["fields"]}
    assert fields == {
        "*Severity*": "P2 - High",
        "*Status*": "Investigating",
        "*Started*": "2026-03-14 14:30 UTC",
        "*Last update*": "2026-03-14 15:15 UTC",
        "*Incident commander*": "carol",
        "*Technical lead*": "dave",
    }
    resolved = render(rb, STATUS, journal(resolved=True))
    assert "*Status*\nResolved" in [f["text"] for f in resolved[1]["fields"]]
    assert "Resolved at 2026-03-14 15:10 UTC" in resolved[2]["elements"][0]["text"]


def test_values_longer_than_slack_allows_are_cut_with_an_ellipsis_never_inside_an_escape(rb: Runbook) -> None:
    long_title = "Checkout & payments " * 20
    blocks = render(rb, MESSAGE, journal(long_title), subject="&" * 200, text="x" * 2998 + "&&")
    header = blocks[0]["text"]["text"]
    assert len(header) <= 150
    assert header.endswith("…")
    assert header[:-1].replace("&amp;", "") == ""  # whole escapes only
    section = blocks[1]["text"]["text"]
    assert len(section) <= 3000
    assert section.endswith("…")
    assert not section[:-1].endswith(("&", "&a", "&am", "&amp"))

    status = render(rb, STATUS, journal(long_title, commander="c" * 2500))
    assert len(status[0]["text"]["text"]) <= 150
    assert all(len(f["text"]) <= 2000 for f in status[1]["fields"])


def test_a_block_kit_template_that_is_not_json_says_where(tmp_path: Path, rb: Runbook) -> None:
    from incidentctl.errors import RunbookError

    broken = tmp_path / "slack_message.json.j2"
    broken.write_text('[{"type": "header",\n "text": {{ message.subject }}}]\n', encoding="utf-8")
    with pytest.raises(RunbookError) as caught:
        render(rb, broken, journal())
    assert caught.value.where == f"{broken}:2"
    json.dumps(caught.value.message)
