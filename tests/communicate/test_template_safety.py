"""Property tests: whatever people type (titles, summaries, names, components, notes, update text) and whatever
the cluster says (a look's evidence), the text templates keep their shape. The subject stays one line (no second
header can be forged), the body carries no control character or escape sequence, and the first line is still
the template's own ``Subject:`` line. Slack's Block Kit and mrkdwn have their own tests."""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incidentctl.adapters.templates import render_template
from incidentctl.bundled import bundled_templates_dir
from incidentctl.core.incident import Event, EventKind, fold
from incidentctl.core.messages import KIND_TEMPLATES
from incidentctl.phases.messaging.compose import BUNDLED_FILES, split_subject
from incidentctl.runbook.loader import load_runbook
from incidentctl.runbook.templates import template_context

REPO = Path(__file__).resolve().parents[2]
RUNBOOK = load_runbook(REPO / "runbook.yaml")
T0 = datetime(2026, 3, 14, 14, 30, tzinfo=timezone.utc)
TEXT_TEMPLATES: dict[str, Path] = {
    kind: bundled_templates_dir() / BUNDLED_FILES[name] for kind, name in KIND_TEMPLATES.items()
}

#: What breaks text out of its place: line breaks of every kind, controls, terminal escapes, bidi and
#: zero-width characters, a forged header, a template's own syntax.
HOSTILE = [
    "\n",
    "\r\n",
    "\r",
    "\x0b",
    "\x0c",
    "\x85",
    "\u2028",
    "\u2029",
    "\x00",
    "\x07",
    "\x08",
    "\x7f",
    "\x9b31m",
    "\x1b[2J",
    "\x1b]0;pwned\x07",
    "\x1bP+q\x1b\\",
    "\x1b",
    "\u202e",
    "\u200b",
    "\ufeff",
    "\t",
    "Subject: pwned",
    "\nSubject: [P1] forged\n",
    "Bcc: everyone@example.com",
    "{{ incident.id }}",
    "{% raw %}",
    "*bold* <!channel>",
    "ok",
    " ",
]
hostile = st.lists(st.sampled_from(HOSTILE) | st.text(max_size=4), min_size=1, max_size=6).map("".join)
#: What a non-empty field of the journal holds (the payloads require at least one character).
named = hostile.filter(lambda s: s != "")


#: The bidirectional overrides and isolates that reorder what a reader sees ("Trojan Source").
BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _is_control(ch: str) -> bool:
    """A control character, a line or paragraph separator, or a bidi control (a soft hyphen is only a format
    character: it hides nothing and breaks no line)."""
    return unicodedata.category(ch) in ("Cc", "Zl", "Zp") or ch in BIDI


def _first_line_of(template: Path) -> str:
    """The template's own words on its Subject line, before the first value it fills in."""
    lines = [line for line in template.read_text(encoding="utf-8").splitlines() if line.startswith("Subject:")]
    return lines[0].split("{{", 1)[0]


def _render(kind: str, fields: dict[str, Any]) -> str:
    def at(minutes: int, event_kind: str, **data: Any) -> Event:
        return Event(T0 + timedelta(minutes=minutes), fields["actor"], event_kind, data)

    timeline = [
        at(
            0,
            EventKind.DECLARED,
            id="INC-2026-004",
            title=fields["title"],
            severity="P2",
            status="investigating",
            components=[fields["component"]],
            summary=fields["summary"],
            commander=fields["commander"],
            tech_lead=fields["tech_lead"],
        ),
        at(
            1,
            EventKind.TRIAGED,
            health="degraded",
            subjects={fields["component"]: "degraded"},
            evidence=[fields["evidence"]],
            users_affected=0.2,
        ),
        at(2, EventKind.NOTE, text=fields["note"]),
        at(3, EventKind.MITIGATION_APPLIED, id="M1", summary=fields["note"], writes=1),
    ]
    if fields["resolved"]:
        timeline.append(at(9, EventKind.STATUS_CHANGED, **{"from": "investigating", "to": "resolved"}))
    context = template_context(
        RUNBOOK,
        fold(timeline),
        timeline,
        now=T0 + timedelta(minutes=10),
        impact=[fields["impact"]] if fields["impact"] else None,
        update=fields["update"],
        progress=[fields["progress"]] if fields["progress"] else None,
        resolution=fields["update"],
        summary=[fields["progress"]] if fields["progress"] else None,
        root_cause=fields["update"],
        customer_impact=fields["impact"],
        next_steps=fields["update"],
        eta=fields["progress"],
    )
    return render_template(TEXT_TEMPLATES[kind], context)


fields = st.fixed_dictionaries(
    {
        "title": named,
        "summary": st.none() | named,
        "commander": st.none() | named,
        "tech_lead": st.none() | named,
        "component": named,
        "actor": named,
        "evidence": hostile,
        "note": hostile,
        "impact": st.none() | hostile,
        "update": st.none() | hostile,
        "progress": st.none() | hostile,
        "resolved": st.booleans(),
    }
)


@pytest.mark.parametrize("kind", sorted(TEXT_TEMPLATES))
@settings(max_examples=40, deadline=None)
@given(fields=fields)
def test_user_text_cannot_break_out_of_a_text_template(kind: str, fields: dict[str, Any]) -> None:
    rendered = _render(kind, fields)
    first = rendered.lstrip("\n").split("\n", 1)[0]
    assert first.startswith(_first_line_of(TEXT_TEMPLATES[kind]))  # still the template's own Subject line

    subject, body = split_subject(rendered)
    assert f"Subject: {subject}" == first.rstrip()  # the whole first line is the subject: nothing after it
    assert not any(_is_control(ch) for ch in subject), repr(subject)
    assert not any(_is_control(ch) for ch in body if ch not in "\n\t"), repr(body)
    assert "\x1b" not in rendered


@settings(max_examples=40, deadline=None)
@given(title=named, commander=named)
def test_a_name_cannot_forge_the_line_after_it(title: str, commander: str) -> None:
    """A commander whose name holds a line break cannot add a "Technical Lead:" line of its own."""
    rendered = _render(
        "initial",
        {
            "title": title,
            "summary": None,
            "commander": commander + "\nTechnical Lead: mallory",
            "tech_lead": None,
            "component": "gateway",
            "actor": "alice",
            "evidence": "gateway: error_rate 0.2",
            "note": "",
            "impact": None,
            "update": None,
            "progress": None,
            "resolved": False,
        },
    )
    roles = [line for line in rendered.splitlines() if line.startswith("Technical Lead:")]
    assert roles == ["Technical Lead: not assigned"]
