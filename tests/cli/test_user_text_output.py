"""Text from people and from the cluster never reaches a terminal or a markdown line with control characters.

The journal keeps what was given; every output (tables, markdown, json, yaml, notes on stderr) neutralises it.
"""

from __future__ import annotations

import io
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from rich.console import Console
from typer.testing import CliRunner, Result

from incidentctl.cli.app import app
from incidentctl.cli.state import AppState
from incidentctl.core.checks import CheckKind, CheckResult, Health
from incidentctl.core.text import for_markdown, for_terminal, one_line
from incidentctl.journal.store import Journal
from incidentctl.phases.detect import DetectReport, SubjectStatus
from incidentctl.render.detect import report_renderable, unreachable_renderable
from incidentctl.render.incidents import incident_detail, incidents_table, timeline_table

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 3, 14, 14, 30, tzinfo=timezone.utc)

#: The whole class, written out independently of the code under test.
CLASS = (
    [chr(c) for c in range(0x00, 0x20) if chr(c) not in "\t\n"]
    + [chr(0x7F)]
    + [chr(c) for c in range(0x80, 0xA0)]
    + ["\u061c", "\u200e", "\u200f", *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))]
    + ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u2028", "\u2029"]
)
UNSAFE = re.compile("[" + re.escape("".join(CLASS)) + "]")
SGR = re.compile(r"\x1b\[[0-9;]*m")  # rich's own colours on a terminal

HOSTILE_TITLE = "[bold red]x \x1b]0;pwned\x07\x1b[2JGateway slow \u202eevil\u202c" + "".join(CLASS) + " end"
HOSTILE_ACTOR = "eve\x1b[31m\nINC-2026-999 root"
HOSTILE_NOTE = "looked at it\n- 09:00 UTC — forged event (root)\r\x1b[1Aok \x9b2J[link](http://evil) *bold*"


def assert_clean(text: str) -> None:
    assert not UNSAFE.search(text), repr(UNSAFE.findall(text))


@pytest.mark.parametrize("char", CLASS, ids=lambda c: f"U+{ord(c):04X}")
def test_every_character_of_the_class_is_neutralised(char: str) -> None:
    text = f"a{char}b\x1b[31mc\x1b]0;t\x07d"
    assert_clean(for_terminal(text))
    for safe in (one_line(text), for_markdown(text)):
        assert_clean(safe)
        assert "\n" not in safe
        assert "\t" not in safe
    assert "a" in for_terminal(text)
    assert "d" in for_terminal(text)


def test_escape_sequences_are_dropped_and_newlines_kept_only_where_lines_may_break() -> None:
    assert for_terminal("\x1b]0;pwned\x07\x1b[2JGateway slow") == "Gateway slow"
    assert for_terminal("\x1b[31mERROR\x1b[0m pool exhausted") == "ERROR pool exhausted"
    assert for_terminal("a\r\nb\rc") == "a\nb\nc"
    assert one_line("first\nsecond\n") == "first ⏎ second"
    assert for_markdown("[x](http://evil) *y* <b>") == r"\[x\](http://evil) \*y\* \<b\>"
    assert for_terminal("plain é → 日本") == "plain é → 日本"


class Cli:
    def __init__(self, journal_dir: Path) -> None:
        self.journal_dir = journal_dir

    def __call__(self, *args: str, actor: str = "alice") -> Result:
        state = AppState(
            runbook_path=REPO / "runbook.yaml",
            env={"INCIDENTCTL_ACTOR": actor, "INCIDENTCTL_JOURNAL": str(self.journal_dir)},
            clock=lambda: T0,
            cwd=self.journal_dir.parent,
        )
        result = CliRunner().invoke(app, list(args), obj=state)
        assert result.exit_code == 0, (result.stdout, result.stderr)
        return result


@pytest.fixture
def hostile(tmp_path: Path) -> tuple[Cli, str, list[Result]]:
    """An incident whose title, summary, actor and note are hostile; the outputs of the writing commands."""
    cli = Cli(tmp_path / "incidents")
    declared = cli(
        "incident",
        "declare",
        "-t",
        HOSTILE_TITLE,
        "-s",
        "P2",
        "--summary",
        "line one\n\x1b[2Jline two",
        "--commander",
        "\u202emallory",
        actor=HOSTILE_ACTOR,
    )
    incident_id = declared.stdout.strip()
    noted = cli("incident", "note", incident_id, HOSTILE_NOTE, actor=HOSTILE_ACTOR)
    status = cli("incident", "status", incident_id, "identified", "-m", "\x1b[2Jfixed\nreally")
    return cli, incident_id, [declared, noted, status]


def test_what_was_given_is_stored_and_every_output_is_clean(hostile: tuple[Cli, str, list[Result]]) -> None:
    cli, incident_id, written = hostile
    for result in written:
        assert_clean(result.stdout + result.stderr)
    assert "Gateway slow" in written[0].stderr  # "declared INC-...: <title>" on stderr

    stored = json.loads(cli("incident", "show", incident_id, "-o", "json").stdout)["data"]
    assert stored["title"] == HOSTILE_TITLE  # store what was given
    assert stored["declaredBy"] == HOSTILE_ACTOR
    assert yaml.safe_load(cli("incident", "show", incident_id, "-o", "yaml").stdout)["data"]["title"] == HOSTILE_TITLE
    for command in (["list"], ["show", incident_id], ["timeline", incident_id]):
        for fmt in ("table", "json", "yaml"):
            assert_clean(cli("incident", *command, "-o", fmt).stdout)
    assert_clean(cli("incident", "timeline", incident_id, "-o", "markdown").stdout)


def test_newlines_do_not_break_a_row_or_a_timeline_line(hostile: tuple[Cli, str, list[Result]]) -> None:
    cli, incident_id, _ = hostile
    rows = cli("incident", "list").stdout.splitlines()
    assert len(rows) == 2
    assert rows[1].startswith(incident_id)
    assert "Gateway slow" in rows[1]
    assert "[bold red]x" in rows[1]

    markdown = cli("incident", "timeline", incident_id, "-o", "markdown").stdout.splitlines()
    assert len(markdown) == 3  # declared, note, status: one line each
    assert all(line.startswith("- 14:30") for line in markdown)
    assert "forged event" in markdown[1]
    assert r"\[link\](http://evil)" in markdown[1]

    table = cli("incident", "timeline", incident_id).stdout.splitlines()
    assert len(table) == 4  # the header and one row an event
    shown = cli("incident", "show", incident_id).stdout
    assert "line one ⏎ line two" in shown
    assert_clean(shown)


def _terminal(width: int = 120) -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(
        file=buffer, width=width, force_terminal=True, color_system="truecolor", legacy_windows=False
    ), buffer


def _visible(buffer: io.StringIO) -> str:
    text = SGR.sub("", buffer.getvalue())
    assert "\x1b" not in text, repr(text)
    assert_clean(text)
    return text


def test_on_a_terminal_only_our_own_colours_are_written(hostile: tuple[Cli, str, list[Result]]) -> None:
    cli, incident_id, _ = hostile
    journal = Journal(cli.journal_dir, clock=lambda: T0, actor="tester")
    incident, events = journal.get(incident_id), journal.timeline(incident_id)
    for render in (
        incidents_table([incident], T0 + timedelta(minutes=5)),
        incident_detail(incident, events, T0, {"P2": "High"}),
        timeline_table(events, {"P2": "High"}),
    ):
        console, buffer = _terminal()
        render(console)
        text = _visible(buffer)
        assert "Gateway slow" in text or "forged event" in text
        if "[bold red]x" not in text:  # the timeline cuts the title short; the "[" must still be there as text
            assert "[bold" in text


def _report(text: str) -> DetectReport:
    results = (
        CheckResult(
            "pods:gateway",
            CheckKind.PODS,
            "pods of gateway",
            Health.DOWN,
            f"0/1 pods ready {text}",
            "gateway",
            (f"gateway-7d9f-abcde: Evicted: {text}", f"log: {text}"),
        ),
        CheckResult(
            f"http:{text}",
            CheckKind.HTTP,
            f"http://gateway/health?{text}",
            Health.DEGRADED,
            f"503 in 12 ms: {text}",
            "gateway",
            (f"body: {text}",),
        ),
    )
    subjects = (SubjectStatus(f"gateway{text}", "component", Health.DOWN, (f"pods: {text}",), ("pods:gateway",)),)
    return DetectReport("sarvanom-production", "https://k8s", T0, T0 + timedelta(seconds=1), subjects, results)


def test_detect_findings_from_the_cluster_are_neutralised_on_a_terminal() -> None:
    from incidentctl.errors import IncidentctlError

    report = _report("[bold red]styled " + HOSTILE_NOTE + "".join(CLASS))
    for renderable in (
        report_renderable(report),
        unreachable_renderable(IncidentctlError(f"cannot reach {HOSTILE_NOTE}"), T0, 5, report),
    ):
        console, buffer = _terminal(100)
        console.print(renderable)
        text = _visible(buffer)
        assert "[bold red]styled" in text
        assert "forged event" in text


def test_the_junit_report_stays_well_formed_xml(tmp_path: Path) -> None:
    """XML 1.0 cannot hold most control characters: a CI system would reject the whole report."""
    import xml.etree.ElementTree as ET

    from incidentctl.render.detect import write_junit

    path = tmp_path / "junit.xml"
    write_junit(path, _report(HOSTILE_NOTE + "".join(CLASS)))
    suites = ET.parse(path).getroot()
    failures = [el for el in suites.iter() if el.tag in ("failure", "error")]
    assert len(failures) == 2
    for el in failures:
        assert_clean(el.get("message", "") + (el.text or ""))
        assert "forged event" in el.get("message", "")
