"""Mermaid text from user text: whatever a title or a note holds, :func:`label` leaves one line of words that can
neither end a gantt task's name, start a statement, comment or directive, nor close the fenced block; and the
gantt chart is built only of such labels and generated ids."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from incidentctl.core.mermaid import MAX_LABEL, Bar, Point, gantt, label

T0 = datetime(2026, 3, 14, 14, 30, tzinfo=timezone.utc)

#: Text made of what breaks charts, mixed with ordinary words.
NASTY = st.lists(
    st.one_of(
        st.sampled_from(list(':;#%"`<>{}[]\\\n\r\t\x00\x1b\x07\u202e\u2066\u200b\u2028 ')),
        st.sampled_from(["%%", "```", "-->", "<!--", "title ", "section ", "click ", "%%{init}%%", "#35;"]),
        st.characters(),
    ),
    max_size=60,
).map("".join)

_FORBIDDEN = re.compile(r"[:;#\"`<>{}\[\]\\\n\r]|%%")
_STATEMENTS = re.compile(r"^(gantt|title|section|dateformat|axisformat|click|excludes|todaymarker)\b", re.I)


def _safe(text: str) -> None:
    assert text
    assert len(text) <= MAX_LABEL
    assert not _FORBIDDEN.search(text), text
    assert text.isprintable(), repr(text)
    assert text == text.strip()
    assert not _STATEMENTS.match(text), text


@settings(max_examples=400, deadline=None)
@given(st.lists(st.text(max_size=80), min_size=1, max_size=6).map("".join) | NASTY)
def test_label_is_one_safe_line_for_any_text(value: str) -> None:
    _safe(label(value))


@settings(max_examples=100, deadline=None)
@given(NASTY, NASTY)
def test_a_gantt_chart_of_any_names_has_only_its_own_statements(title: str, name: str) -> None:
    chart = gantt(title, [Bar(name, name, T0, T0 + timedelta(minutes=5), critical=True)], [Point(name, T0)])
    lines = chart.splitlines()
    assert lines[0] == "gantt"
    assert len(lines) == 8  # title, dateFormat, axisFormat, section, bar, section, milestone
    assert lines[1].startswith("    title ")
    task = re.compile(r"^    ([^:]+) :(crit, )?(milestone, )?[tm]\d+, \d{4}-\d\d-\d\d \d\d:\d\d:\d\d, .+$")
    for line in (lines[5], lines[7]):
        found = task.match(line)
        assert found, line
        _safe(found.group(1))
    assert "```" not in chart
    assert "%%" not in chart


def test_label_keeps_the_words_readable() -> None:
    assert label("Gateway: 502s; see #ops") == "Gateway - 502s, see no. ops"
    assert label("line one\nline two") == "line one line two"
    assert label("title of the thing") == "- title of the thing"
    assert label("\x1b[2J\u202eevil") == "/u202eevil"  # shown, as everywhere: not obeyed
    assert label(" \n\t ") == "(unnamed)"
    long = label("x" * 500)
    assert len(long) == MAX_LABEL
    assert long.endswith("…")


def test_gantt_writes_utc_times_and_a_bar_never_ends_before_it_starts() -> None:
    start = datetime(2026, 3, 14, 16, 30, tzinfo=timezone(timedelta(hours=2)))
    chart = gantt("INC-2026-004", [Bar("Impact", "impact", start, start - timedelta(minutes=1))], [])
    assert "    impact :t1, 2026-03-14 14:30:00, 2026-03-14 14:30:00" in chart
