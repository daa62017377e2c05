"""The help reads like kubectl's (``ID``, ``TEXT``, flags without a value), and the options the README names work."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from tests.conftest import REPO, Invoke
from typer.core import TyperGroup
from typer.main import get_command

from incidentctl.cli.app import app


def _command_paths() -> Iterator[list[str]]:
    def walk(command: object, path: list[str]) -> Iterator[list[str]]:
        yield path
        if isinstance(command, TyperGroup):
            for name, sub in command.commands.items():
                yield from walk(sub, [*path, name])

    yield from walk(get_command(app), [])


COMMANDS = list(_command_paths())


def test_every_command_is_checked() -> None:
    assert ["incident", "note"] in COMMANDS
    assert ["detect"] in COMMANDS
    assert ["sandbox", "up"] in COMMANDS
    assert len(COMMANDS) > 15


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "incidentctl")
def test_help_has_no_python_types_or_braces(invoke: Invoke, path: list[str]) -> None:
    result = invoke([*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    text = result.stdout
    python_types = re.findall(r"<(?:bool|str|int|float|path|list\[[a-z]+\]|[a-z|]+)>", text)
    assert python_types == [], python_types
    usage = next(line for line in text.splitlines() if "Usage:" in line)
    assert "{" not in usage, usage
    assert not re.search(r"\b[a-z_]+\.\.\.", usage.split("[OPTIONS]", 1)[-1].replace("[ARGS]...", "")), usage
    assert "[[" not in usage, usage
    assert "...]..." not in usage, usage


def test_the_usage_line_names_arguments_in_capitals(invoke: Invoke) -> None:
    usage = next(line for line in invoke(["incident", "note", "--help"]).stdout.splitlines() if "Usage:" in line)
    assert usage.split()[-3:] == ["[OPTIONS]", "ID", "TEXT..."]
    status = next(line for line in invoke(["incident", "status", "-h"]).stdout.splitlines() if "Usage:" in line)
    assert status.split()[-2:] == ["ID", "STATUS"]


def test_flags_show_no_value_and_options_say_what_they_take(invoke: Invoke) -> None:
    lines = invoke(["--help"], env={"COLUMNS": "200"}).stdout.splitlines()
    yes = next(line for line in lines if "--yes" in line)
    assert re.search(r"--yes\s+-y\s+Answer yes", yes), yes
    context = next(line for line in lines if "--context" in line)
    assert re.search(r"--context\s+NAME\s", context), context


@pytest.mark.parametrize("spelling", ["--reason", "--message", "-m"])
@pytest.mark.parametrize("command", [["severity", "P2"], ["status", "identified"]])
def test_reason_and_message_are_the_same_option(invoke: Invoke, spelling: str, command: list[str]) -> None:
    declared = invoke(["incident", "declare", "--title", "Checkout broken", "--severity", "P1"])
    assert declared.exit_code == 0, declared.output
    incident_id = declared.stdout.strip()
    verb, value = command
    changed = invoke(["incident", verb, incident_id, value, spelling, "customers report checkout broken"])
    assert changed.exit_code == 0, changed.output
    timeline = json.loads(invoke(["incident", "timeline", incident_id, "-o", "json"]).stdout)
    last = timeline["data"]["events"][-1]
    assert last["data"]["message"] == "customers report checkout broken"


def test_the_command_reference_documents_the_option_the_code_has() -> None:
    reference = (REPO / "docs" / "commands.md").read_text(encoding="utf-8")
    severity = reference.split("#### incidentctl incident severity\n", 1)[1].split("\n#", 1)[0]
    assert "`-m, --message, --reason TEXT`" in severity
