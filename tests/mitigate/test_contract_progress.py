"""What a verification shows while it waits: a live view on a terminal, plain lines off it, and with ``-o json``
nothing but the document on stdout."""

from __future__ import annotations

import io
import json
from collections.abc import Callable

from rich.console import Console
from tests.mitigate.conftest import Drill, advancing

from incidentctl.render.printer import Printer


def test_on_a_terminal_the_rollout_and_the_checks_are_one_live_view(drill: Callable[..., Drill]) -> None:
    d = drill("memory-leak")
    d.declare()
    buffer = io.StringIO()
    terminal = Console(file=buffer, width=160, force_terminal=True, color_system=None, legacy_windows=False)
    state = advancing(d.sandbox, printer=Printer(err=terminal))
    result = d.run("--yes", "mitigate", "restart", "retrieval", state=state)
    assert result.exit_code == 0, result.output
    shown = buffer.getvalue()
    assert "\x1b[" in shown  # redrawn in place (cursor movement), not appended
    assert "✓ deployment/retrieval" in shown
    assert 'deployment "retrieval" successfully rolled out' in shown
    assert "✓ checks" in shown
    assert "rollout: Waiting" not in shown  # no plain lines on a terminal
    assert "rollout" not in result.stdout.split("verified")[0].split("applied")[0]


def test_off_a_terminal_each_change_is_one_plain_line(drill: Callable[..., Drill]) -> None:
    d = drill("memory-leak")
    d.declare()
    result = d.run("--yes", "mitigate", "restart", "retrieval")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("[")]
    assert lines, result.stderr
    assert all("\x1b" not in line for line in lines)
    assert any(line.endswith('rollout: deployment "retrieval" successfully rolled out') for line in lines), lines
    assert lines[-1].endswith("checks: healthy")
    assert len(lines) == len(set(lines))  # a line per change, not one per look


def test_with_json_stdout_is_the_document_alone_and_no_progress_is_printed(drill: Callable[..., Drill]) -> None:
    d = drill("memory-leak")
    d.declare()
    result = d.run("--yes", "mitigate", "restart", "retrieval", "-o", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["kind"] == "Mitigation"
    assert "rollout:" not in result.stderr
    verified = d.run("mitigate", "verify", "retrieval", "-o", "json")
    assert json.loads(verified.stdout)["kind"] == "Verification"
    assert verified.stderr == ""
