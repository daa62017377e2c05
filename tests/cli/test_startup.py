"""Start-up stays lean: `--help` of any command must not pay for the Kubernetes client, httpx or jinja2.

Run in a fresh interpreter (a subprocess) so that what other tests imported does not hide a regression.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_RUNBOOK = Path(__file__).resolve().parents[2] / "runbook.yaml"

HEAVY = ("kubernetes", "httpx", "jinja2")

PROBE = """
import json, sys
sys.argv = ["incidentctl", *json.loads(sys.argv[1])]
from incidentctl.cli import run
code = run()
sys.stderr.write("\\nMODULES=" + json.dumps(sorted(sys.modules)) + " CODE=" + str(code) + "\\n")
"""


def _all_modules_after(args: list[str]) -> tuple[set[str], str, str]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)], capture_output=True, text=True, timeout=60, check=False
    )
    marker = proc.stderr.rsplit("MODULES=", 1)
    assert len(marker) == 2, proc.stderr
    modules_json, code = marker[1].rsplit(" CODE=", 1)
    return set(json.loads(modules_json)), proc.stdout, code.strip()


def _modules_after(args: list[str]) -> tuple[set[str], str, str]:
    modules, stdout, code = _all_modules_after(args)
    return {m.split(".")[0] for m in modules}, stdout, code


def _command_paths() -> list[list[str]]:
    """Every command and group under the root, walked from the Click tree Typer builds, so a command added later
    is covered without editing this file (the root callback and each group's callback run on a subcommand's
    ``--help``, so each path is its own check)."""
    from typer.core import TyperGroup
    from typer.main import get_command

    from incidentctl.cli.app import app

    def walk(command: object, path: list[str]) -> Iterator[list[str]]:
        yield path
        if isinstance(command, TyperGroup):
            for name, sub in sorted(command.commands.items()):
                yield from walk(sub, [*path, name])

    return list(walk(get_command(app), []))


COMMANDS = _command_paths()


def test_the_walk_reaches_every_level_of_the_command_tree() -> None:
    assert [] in COMMANDS
    assert ["detect"] in COMMANDS
    assert ["incident"] in COMMANDS
    assert ["incident", "note"] in COMMANDS
    assert ["sandbox", "up"] in COMMANDS
    assert ["runbook", "validate"] in COMMANDS
    assert len(COMMANDS) > 15


@pytest.mark.parametrize(
    "args",
    [[*path, "--help"] for path in COMMANDS] + [["--version"]],
    ids=" ".join,
)
def test_help_does_not_import_heavy_clients(args: list[str]) -> None:
    modules, stdout, code = _modules_after(args)
    assert code == "0"
    assert "incidentctl" in stdout
    assert not modules & set(HEAVY), f"{args} imported {sorted(modules & set(HEAVY))}"


def test_python_dash_m_works_like_the_console_script() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "incidentctl", "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0
    assert proc.stdout.startswith("incidentctl ")


@pytest.mark.parametrize(
    "args",
    [
        ["runbook", "validate", "--runbook", str(REPO_RUNBOOK)],
        ["detect", "--help"],
        ["triage", "--help"],
        ["sandbox", "--help"],
    ],
)
def test_only_sandbox_and_demo_commands_load_the_sandbox(args: list[str]) -> None:
    modules, _, code = _all_modules_after(args)
    assert code == "0"
    assert not any(m == "incidentctl.sandbox" or m.startswith("incidentctl.sandbox.") for m in modules), args


def test_sandbox_scenarios_does_load_the_sandbox() -> None:
    """The other side of the check above: the probe does see the sandbox when a sandbox command runs."""
    modules, stdout, code = _all_modules_after(["sandbox", "scenarios"])
    assert code == "0"
    assert "bad-deploy" in stdout
    assert "incidentctl.sandbox.scenarios" in modules


def test_console_entry_point_flushes_everything_and_keeps_the_exit_code(tmp_path: Path) -> None:
    """The entry point skips the interpreter's teardown: output must still arrive whole, codes unchanged."""
    shown = subprocess.run(
        [sys.executable, "-m", "incidentctl", "--runbook", str(REPO_RUNBOOK), "runbook", "show", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    document = json.loads(shown.stdout)
    assert document["kind"] == "Runbook"
    assert len(shown.stdout) > 10_000  # far more than one pipe-buffer write

    missing = subprocess.run(
        [sys.executable, "-m", "incidentctl", "--runbook", str(tmp_path / "nope.yaml"), "runbook", "validate"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert missing.returncode == 2
    assert missing.stderr.startswith("error: ")
    assert "nope.yaml" in missing.stderr
    assert "Traceback" not in missing.stderr


@pytest.mark.parametrize(
    "words",
    [
        "incidentctl ",
        "incidentctl incident show ",
        "incidentctl investigate logs --incident ",
        "incidentctl investigate logs ",
        "incidentctl mitigate scale ",
        "incidentctl incident note INC-2026-001 --tag ",
        "incidentctl sandbox inject ",
        "incidentctl -o ",
    ],
)
def test_a_tab_press_is_as_light_as_help(words: str, tmp_path: Path) -> None:
    """Completion runs on every Tab: no heavy client, no sandbox, and not even pydantic (Typer converts values with
    it; completion keeps the words as typed)."""
    (tmp_path / "runbook.yaml").write_text(REPO_RUNBOOK.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "incidents" / "INC-2026-001").mkdir(parents=True)
    (tmp_path / "incidents" / "INC-2026-001" / "timeline.jsonl").write_text("{}\n", encoding="utf-8")
    cword = len(words.split()) if words.endswith(" ") else len(words.split()) - 1
    env = {k: v for k, v in os.environ.items() if not k.startswith("INCIDENTCTL_")}
    env.update(_INCIDENTCTL_COMPLETE="bash_complete", COMP_WORDS=words, COMP_CWORD=str(cword))
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, "[]"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
        cwd=tmp_path,
    )
    modules_json, code = proc.stderr.rsplit("MODULES=", 1)[1].rsplit(" CODE=", 1)
    modules = set(json.loads(modules_json))
    assert code.strip() == "0"
    assert proc.stdout.startswith("plain,"), proc.stdout
    assert not {m.split(".")[0] for m in modules} & {*HEAVY, "pydantic"}, words
    assert not any(m.startswith("incidentctl.sandbox") for m in modules), words
