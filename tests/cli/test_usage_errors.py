"""Usage errors (a bad option, value, argument or command) look like every other error: the envelope under
``-o json|yaml``, one ``error:`` line and a usage hint on stderr otherwise, and exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from tests.conftest import Invoke

BAD_COMMAND_LINES = [
    pytest.param(["detect", "--bogus"], "--bogus", id="unknown-option"),
    pytest.param(["incident", "status", "INC-2026-001", "mitigating"], "mitigating", id="bad-choice"),
    pytest.param(["nosuchcmd"], "nosuchcmd", id="unknown-command"),
    pytest.param(["incident", "nosuchcmd"], "nosuchcmd", id="unknown-subcommand"),
    pytest.param(["incident", "show"], "ID", id="missing-argument"),
    pytest.param(["incident", "declare", "--title", "x"], "--severity", id="missing-option"),
    pytest.param(["detect", "--watch=abc"], "--watch", id="bad-type"),
    pytest.param(["incident", "list", "--since"], "--since", id="option-without-value"),
    pytest.param(["--bogus", "incident", "list"], "--bogus", id="unknown-global-option"),
]


@pytest.mark.parametrize(("args", "mentions"), BAD_COMMAND_LINES)
@pytest.mark.parametrize("where", ["before", "after"])
def test_usage_errors_come_in_the_json_envelope(invoke: Invoke, args: list[str], mentions: str, where: str) -> None:
    result = invoke(["-o", "json", *args] if where == "before" else [*args, "-o", "json"])
    assert result.exit_code == 2, result.output
    doc = json.loads(result.stdout)
    assert doc["apiVersion"] == "incidentctl/v1"
    assert doc["kind"] == "Error"
    assert doc["error"]["reason"] == "Usage"
    assert doc["error"]["exitCode"] == 2
    assert mentions in doc["error"]["message"]
    assert "\n" not in doc["error"]["message"]
    assert "-h" in doc["error"]["hint"]


@pytest.mark.parametrize(("args", "mentions"), BAD_COMMAND_LINES)
def test_usage_errors_are_one_line_on_stderr_in_table_mode(invoke: Invoke, args: list[str], mentions: str) -> None:
    result = invoke(args)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: ")
    assert mentions in lines[0]
    assert lines[1:] == [lines[1]]
    assert lines[1].startswith("hint: ")
    assert " -h" in lines[1]
    assert "╭" not in result.stderr
    assert "Traceback" not in result.stderr


def test_yaml_output_gets_the_envelope_too(invoke: Invoke) -> None:
    result = invoke(["detect", "--bogus", "-oyaml"])
    assert result.exit_code == 2
    doc = yaml.safe_load(result.stdout)
    assert doc["kind"] == "Error"
    assert doc["error"]["reason"] == "Usage"


@pytest.mark.parametrize("args", [["-o", "xml", "nosuchcmd"], ["nosuchcmd", "-o"], ["-o", "markdown", "nosuchcmd"]])
def test_an_invalid_or_missing_output_format_falls_back_to_one_line(invoke: Invoke, args: list[str]) -> None:
    result = invoke(args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert "╭" not in result.stderr


def test_an_invalid_output_format_alone_is_a_usage_error(invoke: Invoke) -> None:
    result = invoke(["-o", "xml", "incident", "list"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0].startswith("error: unsupported output format 'xml'")


def test_unknown_command_keeps_its_suggestion(invoke: Invoke) -> None:
    result = invoke(["runbok", "validate"])
    assert result.exit_code == 2
    assert "Did you mean 'runbook'?" in result.stderr.splitlines()[0]


def test_a_usage_error_from_the_console_script(workdir: Path) -> None:
    """The real entry point (not only the test runner) prints the envelope."""
    proc = subprocess.run(
        [sys.executable, "-m", "incidentctl", "-o", "json", "detect", "--bogus"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=workdir,
        check=False,
    )
    assert proc.returncode == 2
    assert json.loads(proc.stdout)["error"]["reason"] == "Usage"
    assert proc.stderr.startswith("error: no such option: --bogus")


def test_runbook_read_problems_read_the_same_from_the_option_and_the_environment(
    invoke: Invoke, tmp_path: Path
) -> None:
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"\xff\xfe not utf-8")
    by_option = invoke(["-o", "json", "--runbook", str(bad), "runbook", "show"])
    by_env = invoke(["-o", "json", "runbook", "show"], env={"INCIDENTCTL_RUNBOOK": str(bad)})
    assert by_option.exit_code == by_env.exit_code == 2
    assert json.loads(by_option.stdout)["error"] == json.loads(by_env.stdout)["error"]
    assert json.loads(by_option.stdout)["error"]["reason"] == "InvalidRunbook"


def test_the_envelope_locates_runbook_problems_and_lists_them_all(invoke: Invoke, tmp_path: Path) -> None:
    broken = tmp_path / "runbook.yaml"
    text = (Path(__file__).resolve().parents[2] / "runbook.yaml").read_text(encoding="utf-8")
    broken.write_text(text.replace("timeout:", "timout:", 3), encoding="utf-8")
    result = invoke(["-o", "json", "--runbook", str(broken), "runbook", "show"])
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["reason"] == "InvalidRunbook"
    assert error["where"] is not None
    assert error["where"].startswith(f"{broken}:")
    _file, line, column = error["where"].rsplit(":", 2)
    assert int(line) > 0
    assert int(column) > 0
    assert "2 more problems" in error["hint"]
    assert len(error["details"]) == 2
    assert all(d.startswith(f"{broken}:") and "timout" in d for d in error["details"])
    assert "timout" in error["message"]
    # a person sees the first problem and the hint, as before
    assert result.stderr.splitlines()[0].startswith(f"error: {broken}:")
    assert len(result.stderr.splitlines()) == 2
