"""``incidentctl ... | head -1``: when the reader goes away, every command ends quietly with 141 (128 + SIGPIPE).

Each command runs in a real subprocess whose stdout is a pipe into ``head -1``. ``head`` is given its one line and
has exited before incidentctl starts, so incidentctl's first write meets the closed pipe every time, however much
or little it prints.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.conftest import RUNBOOK
from tests.phases.conftest import Site

from incidentctl.exitcodes import ExitCode


def _into_finished_head(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    read_end, write_end = os.pipe()
    head = subprocess.Popen(["head", "-1"], stdin=read_end, stdout=subprocess.DEVNULL)
    os.close(read_end)
    os.write(write_end, b"a line for head\n")
    assert head.wait(timeout=30) == 0
    try:
        return subprocess.run(
            [sys.executable, "-m", "incidentctl", *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd,
            timeout=120,
            check=False,
            env={**os.environ, "INCIDENTCTL_ACTOR": "tester"},
        )
    finally:
        os.close(write_end)


def _assert_quiet_141(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 141, proc.stderr
    assert proc.returncode == ExitCode.BROKEN_PIPE
    assert "Traceback" not in proc.stderr
    assert "Exception ignored" not in proc.stderr
    assert "internal error" not in proc.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["runbook", "show"],
        ["runbook", "show", "-o", "json"],
        ["runbook", "schema"],
        ["runbook", "validate", "-o", "yaml"],
        ["incident", "list", "-A", "-o", "json"],
        ["--version"],
        ["--help"],
        ["incident", "status", "--help"],
        ["incident"],  # a bare group prints its help
    ],
)
def test_a_closed_pipe_ends_every_command_with_141(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "runbook.yaml").write_text(RUNBOOK.read_text(encoding="utf-8"), encoding="utf-8")
    proc = _into_finished_head(args, tmp_path)
    _assert_quiet_141(proc)
    assert proc.stderr == ""


def test_what_a_command_records_is_kept_when_its_output_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "runbook.yaml").write_text(RUNBOOK.read_text(encoding="utf-8"), encoding="utf-8")
    proc = _into_finished_head(["incident", "declare", "-t", "Gateway slow", "-s", "P2"], tmp_path)
    _assert_quiet_141(proc)
    listed = subprocess.run(
        [sys.executable, "-m", "incidentctl", "incident", "list", "-A"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert listed.returncode == 0
    assert "Gateway slow" in listed.stdout


def test_an_error_into_a_closed_pipe_is_141_too(tmp_path: Path) -> None:
    proc = _into_finished_head(["-o", "json", "--runbook", str(tmp_path / "missing.yaml"), "runbook", "show"], tmp_path)
    _assert_quiet_141(proc)
    assert proc.stderr.startswith("error: runbook not found")  # stderr still has a reader


@pytest.mark.parametrize("command", [["detect"], ["detect", "-o", "json"], ["triage"], ["triage", "-o", "yaml"]])
def test_detect_and_triage_into_a_closed_pipe_exit_141(site_for: Callable[..., Site], command: list[str]) -> None:
    site = site_for("bad-deploy")  # problems found: without the pipe these exit 3
    proc = _into_finished_head(site.args(*command), site.runbook.parent)
    _assert_quiet_141(proc)
