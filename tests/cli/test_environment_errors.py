"""What a user's input or environment gets wrong is never "internal error, this is a bug" (exit 1).

A duration beyond the maximum (anywhere: an option or a runbook field), a file that cannot be read (runbook,
kubeconfig, a template) and a journal folder that cannot be written are each one line with exit 2.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from tests.conftest import RUNBOOK, Invoke

from incidentctl.core.times import MAX_DURATION, parse_duration

HUGE = ["99999999999999999999w", "1000000w", "3651d", "87601h"]


def _one_line_exit_2(result_exit: int, stderr: str, mentions: str) -> None:
    assert result_exit == 2, stderr
    first = stderr.splitlines()[0]
    assert first.startswith("error: ")
    assert mentions in first
    assert "internal error" not in stderr
    assert "Traceback" not in stderr


# --- durations ----------------------------------------------------------------------------------------------


def test_durations_up_to_ten_years_are_accepted() -> None:
    assert parse_duration("3650d") == MAX_DURATION == timedelta(days=3650)
    assert parse_duration("520w") == timedelta(weeks=520)


@pytest.mark.parametrize("value", HUGE)
def test_a_duration_beyond_ten_years_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="longest duration allowed, 10 years"):
        parse_duration(value)


@pytest.mark.parametrize("value", HUGE)
@pytest.mark.parametrize(
    "command",
    [
        ["detect", "--since"],
        ["triage", "--since"],
        ["incident", "list", "--since"],
        ["incident", "declare", "-t", "Gateway slow", "-s", "P2", "--started-at"],
    ],
    ids=" ".join,
)
def test_huge_durations_on_the_command_line_are_usage_errors(invoke: Invoke, command: list[str], value: str) -> None:
    result = invoke([*command, value])
    _one_line_exit_2(result.exit_code, result.stderr, "10 years")


@pytest.mark.parametrize(
    ("command", "mentions"),
    [
        (["detect", "--watch", "99999999999"], "--watch"),
        (["detect", "--watch=1e400"], "--watch"),
        (["incident", "list", "--since", "0001-01-01T00:00:00+01:00"], "--since"),
        (["incident", "declare", "-t", "x", "-s", "P2", "--started-at", "9999-12-31T23:59:59-05:00"], "--started-at"),
    ],
)
def test_times_beyond_the_calendar_are_usage_errors(invoke: Invoke, command: list[str], mentions: str) -> None:
    result = invoke(command)
    _one_line_exit_2(result.exit_code, result.stderr, mentions)


@pytest.mark.parametrize(
    ("original", "huge"),
    [
        ("response_time: 15m", "response_time: 99999999999w"),
        ("timeout: 5s", "timeout: 1000000w"),
        ("update_interval: 1h", "update_interval: 3651d"),
    ],
)
def test_huge_durations_in_the_runbook_are_located_problems(
    invoke: Invoke, tmp_path: Path, original: str, huge: str
) -> None:
    text = RUNBOOK.read_text(encoding="utf-8")
    assert original in text
    path = tmp_path / "runbook.yaml"
    path.write_text(text.replace(original, huge, 1), encoding="utf-8")
    result = invoke(["-o", "json", "--runbook", str(path), "incident", "list"])
    assert result.exit_code == 2, result.output
    error = json.loads(result.stdout)["error"]
    assert error["reason"] == "InvalidRunbook"
    assert "10 years" in error["message"]
    assert error["where"].startswith(f"{path}:")


# --- files that cannot be read: directories and bytes that are not UTF-8 (these apply to root too) ----------


def test_a_runbook_that_is_a_directory_without_one_inside(invoke: Invoke, tmp_path: Path) -> None:
    folder = tmp_path / "ops"
    folder.mkdir()
    result = invoke(["--runbook", str(folder), "runbook", "show"])
    _one_line_exit_2(result.exit_code, result.stderr, str(folder))


def test_a_runbook_that_is_not_utf8_says_so(invoke: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "runbook.yaml"
    path.write_bytes(RUNBOOK.read_bytes().replace(b"SarvanOM", b"Sarvan\xd6M", 1))
    result = invoke(["--runbook", str(path), "runbook", "show"])
    _one_line_exit_2(result.exit_code, result.stderr, "not UTF-8")


# --- permissions: run in a subprocess that the permissions apply to, even when the tests run as root --------


@pytest.fixture
def as_user() -> Iterator[list[str]]:
    """The prefix that runs a command without the power to ignore file permissions."""
    if os.geteuid() != 0:
        yield []
        return
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv(1): file permissions do not apply to this process")
    yield [setpriv, "--bounding-set", "-dac_override,-dac_read_search,-fowner"]


def _run(prefix: list[str], args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, sys.executable, "-m", "incidentctl", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
        env={**os.environ, "INCIDENTCTL_ACTOR": "tester", **env},
    )


@pytest.fixture
def locked_away(tmp_path: Path) -> Iterator[Path]:
    """A folder holding a runbook and a kubeconfig, made unreadable (and unsearchable) after the test sets it up."""
    folder = tmp_path / "private"
    folder.mkdir()
    (folder / "runbook.yaml").write_text(RUNBOOK.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "kubeconfig").write_text("apiVersion: v1\nkind: Config\n", encoding="utf-8")
    yield folder
    folder.chmod(0o755)
    for child in folder.iterdir():
        child.chmod(0o644)


def test_an_unreadable_runbook_reads_the_same_from_the_option_and_the_environment(
    as_user: list[str], locked_away: Path
) -> None:
    runbook = locked_away / "runbook.yaml"
    runbook.chmod(0)
    by_option = _run(as_user, ["-o", "json", "--runbook", str(runbook), "runbook", "show"], locked_away.parent)
    by_env = _run(as_user, ["-o", "json", "runbook", "show"], locked_away.parent, INCIDENTCTL_RUNBOOK=str(runbook))
    _one_line_exit_2(by_option.returncode, by_option.stderr, "Permission denied")
    assert json.loads(by_option.stdout)["error"] == json.loads(by_env.stdout)["error"]
    assert json.loads(by_option.stdout)["error"]["reason"] == "InvalidRunbook"


@pytest.mark.parametrize("origin", ["option", "env", "cwd"])
def test_a_runbook_in_an_unsearchable_directory(as_user: list[str], locked_away: Path, origin: str) -> None:
    runbook = locked_away / "runbook.yaml"
    locked_away.chmod(0)
    if origin == "option":
        proc = _run(as_user, ["--runbook", str(runbook), "runbook", "show"], locked_away.parent)
    elif origin == "env":
        proc = _run(as_user, ["runbook", "show"], locked_away.parent, INCIDENTCTL_RUNBOOK=str(runbook))
    else:
        proc = _run(as_user, ["runbook", "show", "--runbook", "private/runbook.yaml"], locked_away.parent)
    _one_line_exit_2(proc.returncode, proc.stderr, "Permission denied")


@pytest.mark.parametrize("lock", ["file", "directory"])
def test_an_unreadable_kubeconfig_is_a_kubeconfig_error(as_user: list[str], locked_away: Path, lock: str) -> None:
    runbook = locked_away.parent / "runbook.yaml"
    runbook.write_text(RUNBOOK.read_text(encoding="utf-8"), encoding="utf-8")
    kubeconfig = locked_away / "kubeconfig"
    (kubeconfig if lock == "file" else locked_away).chmod(0)
    proc = _run(as_user, ["-o", "json", "--kubeconfig", str(kubeconfig), "detect"], locked_away.parent)
    _one_line_exit_2(proc.returncode, proc.stderr, str(kubeconfig))
    assert json.loads(proc.stdout)["error"]["reason"] == "InvalidKubeconfig"


def test_a_read_only_journal_refuses_with_one_line_and_exit_2(as_user: list[str], tmp_path: Path) -> None:
    (tmp_path / "runbook.yaml").write_text(RUNBOOK.read_text(encoding="utf-8"), encoding="utf-8")
    journal = tmp_path / "incidents"
    declared = _run(as_user, ["incident", "declare", "-t", "Gateway slow", "-s", "P2"], tmp_path)
    assert declared.returncode == 0, declared.stderr
    incident_id = declared.stdout.strip()
    paths = [journal, *journal.rglob("*")]
    for path in paths:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        for args in (
            ["incident", "note", incident_id, "restarted the gateway"],
            ["incident", "declare", "-t", "Search slow", "-s", "P3"],
            ["incident", "ack", incident_id],
            ["incident", "severity", incident_id, "P1", "-m", "checkout down"],
        ):
            proc = _run(as_user, ["-o", "json", *args], tmp_path)
            _one_line_exit_2(proc.returncode, proc.stderr, str(journal))
            error = json.loads(proc.stdout)["error"]
            assert error["reason"] == "JournalError"
            assert error["exitCode"] == 2
            assert "INCIDENTCTL_JOURNAL" in error["hint"]
        # reading still works
        shown = _run(as_user, ["incident", "show", incident_id], tmp_path)
        assert shown.returncode == 0, shown.stderr
    finally:
        for path in paths:
            path.chmod(0o755 if path.is_dir() else 0o644)


@pytest.mark.parametrize("command", [["incident", "list"], ["incident", "show", "INC-2026-001"]])
def test_an_unsearchable_journal_is_one_line_and_exit_2(as_user: list[str], tmp_path: Path, command: list[str]) -> None:
    (tmp_path / "runbook.yaml").write_text(RUNBOOK.read_text(encoding="utf-8"), encoding="utf-8")
    journal = tmp_path / "incidents"
    assert _run(as_user, ["incident", "declare", "-t", "Gateway slow", "-s", "P2"], tmp_path).returncode == 0
    journal.chmod(0)
    try:
        proc = _run(as_user, command, tmp_path)
        _one_line_exit_2(proc.returncode, proc.stderr, str(journal))
    finally:
        journal.chmod(0o755)


@pytest.mark.parametrize("lock", ["file", "directory"])
def test_an_unreadable_template_is_a_runbook_problem_not_a_crash(as_user: list[str], tmp_path: Path, lock: str) -> None:
    """The team's own template that cannot be read is reported, never silently replaced by the bundled one."""
    (tmp_path / "runbook.yaml").write_text(RUNBOOK.read_text(encoding="utf-8"), encoding="utf-8")
    templates = tmp_path / "templates"
    templates.mkdir()
    template = templates / "status_update.md.j2"
    template.write_text("{{ incident.id }}\n", encoding="utf-8")
    (template if lock == "file" else templates).chmod(0)
    try:
        proc = _run(as_user, ["runbook", "validate"], tmp_path)
    finally:
        templates.chmod(0o755)
        template.chmod(0o644)
    assert proc.returncode == 2, proc.stderr
    assert "templates/status_update.md.j2" in proc.stdout
    assert "Traceback" not in proc.stderr
    assert "internal error" not in proc.stderr
