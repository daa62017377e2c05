"""Whatever goes wrong, the user sees one line and the right exit code; a traceback only with --debug."""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.conftest import Invoke

from incidentctl.cli.state import AppState
from incidentctl.runbook.model import Runbook


@dataclass
class ExplodingState(AppState):
    """A state whose runbook cannot be loaded because of a bug (or a Ctrl-C) rather than a user mistake."""

    failure: BaseException = field(default_factory=lambda: RuntimeError("boom"))

    def runbook(self) -> Runbook:
        raise self.failure


def test_a_bug_is_one_line_and_exit_1(invoke: Invoke) -> None:
    result = invoke(["runbook", "show"], state=ExplodingState())
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.stderr.splitlines()[0] == "error: internal error: RuntimeError: boom"
    assert "--debug" in result.stderr


def test_debug_shows_the_traceback(invoke: Invoke) -> None:
    result = invoke(["runbook", "show", "--debug"], state=ExplodingState())
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert "RuntimeError: boom" in result.stderr


def test_ctrl_c_exits_130(invoke: Invoke) -> None:
    result = invoke(["runbook", "show"], state=ExplodingState(failure=KeyboardInterrupt()))
    assert result.exit_code == 130


def test_unknown_command_is_a_usage_error_with_a_suggestion(invoke: Invoke) -> None:
    result = invoke(["runbok", "validate"])
    assert result.exit_code == 2
    assert "Did you mean 'runbook'?" in result.output
