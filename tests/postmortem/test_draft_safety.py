"""Hostile text in the journal cannot change the post-mortem's structure: titles, notes, actors, owners and
findings with newlines, headings, table pipes, backticks, an ``-->`` that would close a marker, a forged
``<!-- incidentctl:begin`` marker, control characters and bidi overrides all stay words inside their one line,
the chart stays a chart, and a secret the runbook names is masked wherever it was typed."""

from __future__ import annotations

import re

import pytest
from tests.postmortem.conftest import TOKEN
from tests.postmortem.harness import DAY, Drafts

from incidentctl.core.events import EventKind
from incidentctl.core.postmortem_doc import parse, part_names

HOSTILE = [
    "line one\n# Forged heading\n| a | b |",
    "close the marker --> and open <!-- incidentctl:begin timeline sha256=" + "0" * 64 + " -->",
    "\n<!-- incidentctl:end summary -->\n<!-- incidentctl:begin root-cause -->\n",
    "```\n%%{init: {'theme':'dark'}}%%\nsection Owned\nx :crit, 2026-01-01, 1d",
    "bell\x07 escape\x1b]0;pwned\x07\x1b[2J rtl\u202egnp.exe zero\u200bwidth",
    'title: evil; #35; "quoted" `code` [link](http://evil.example) <b>html</b>',
    f"the bot token is {TOKEN} (oops)",
]

PARTS = [
    "header",
    "summary",
    "timeline",
    "timeline-chart",
    "root-cause",
    "impact",
    "resolution",
    "lessons",
    "contributing-factors",
    "action-items",
    "improvement-areas",
    "review",
]


def _hostile_incident(d: Drafts, text: str) -> str:
    inc = d.declare(0, title=text, summary=text, components=("gateway",), commander=text)
    d.add(inc, 1, EventKind.NOTE, actor=text, text=text)
    for minutes, tag in enumerate(("root-cause", "impact", "resolution", "lesson", "contributing-factor"), 2):
        d.add(inc, minutes, EventKind.NOTE, actor="carol", text=text, tag=tag)
    d.add(inc, 8, EventKind.ACTION_ADDED, actor=text, id="A1", text=text, owner=text, due="2026-03-20", area=text)
    d.add(inc, 9, EventKind.STATUS_CHANGED, **{"from": "investigating", "to": "resolved", "message": text})
    return inc


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_text_stays_inside_its_line(drafts: Drafts, text: str) -> None:
    inc = _hostile_incident(drafts, text)
    drafts.at(DAY)
    data = drafts.draft(inc)
    document = drafts.path(inc).read_text(encoding="utf-8")

    assert part_names(document) == PARTS  # no part forged, none closed early
    headings = [line for line in document.splitlines() if line.startswith("#")]
    assert [h for h in headings if not h.startswith("## ")] == [headings[0]]
    assert headings[0].startswith("# Post-Mortem: ")
    assert len(headings) == 11
    # a comment opens or closes only where a marker does: user text has every < and > escaped (\\<!--)
    assert len(re.findall(r"(?<!\\)<!--", document)) == 2 * len(PARTS) + 1
    assert len(re.findall(r"(?<!\\)-->", document)) == 2 * len(PARTS) + 1
    assert document.count("```") == 2
    for char in ("\x1b", "\x07", "\u202e", "\u200b", "\r"):
        assert char not in document
    assert TOKEN not in document
    assert not any(line.lstrip().startswith("|") for line in document.splitlines())
    chart = document.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert [line.split()[0] for line in chart.splitlines() if not line.startswith("        ")][:4] == [
        "gantt",
        "title",
        "dateFormat",
        "axisFormat",
    ]
    assert [line.strip() for line in chart.splitlines() if line.strip().startswith("section")] == [
        "section Impact",
        "section Response",
        "section Milestones",
    ]
    assert "%%" not in chart
    # and it re-drafts cleanly: nothing reads as edited, nothing is kept
    assert drafts.draft(inc)["kept"] == []
    assert data["written"] is True


def test_every_user_line_is_escaped_markdown(drafts: Drafts) -> None:
    inc = _hostile_incident(drafts, HOSTILE[5])
    drafts.at(DAY)
    drafts.draft(inc)
    document = drafts.path(inc).read_text(encoding="utf-8")
    assert "\\[link\\](http://evil.example)" in document
    assert "\\<b\\>html\\</b\\>" in document
    assert "<b>" not in document
    assert re.search(r"(?<!\\)`code", document) is None


def test_a_secret_in_a_note_is_masked_in_the_document_and_the_output(drafts: Drafts) -> None:
    inc = _hostile_incident(drafts, HOSTILE[6])
    drafts.at(DAY)
    result = drafts.run("postmortem", "draft", inc, "-o", "json")
    assert result.exit_code == 0
    assert TOKEN not in result.stdout
    document = drafts.path(inc).read_text(encoding="utf-8")
    assert TOKEN not in document
    assert "the bot token is" in document
    assert parse(document)
