"""What `runbook validate` and `runbook show` print for people: markup rendered on a terminal, plain text in a pipe,
the runbook's own text never taken for markup, URLs whole and without their secrets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tests.conftest import Invoke

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _break_severity(workdir: Path, severity: str) -> None:
    path = workdir / "runbook.yaml"
    old = "severity: P3\n      description: Single"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, f"severity: {severity!r}\n      description: Single", 1))


def test_validate_in_a_pipe_prints_plain_text(invoke: Invoke, workdir: Path) -> None:
    _break_severity(workdir, "P9")

    result = invoke(["runbook", "validate"])

    assert result.exit_code == 2
    assert "[red]" not in result.stdout
    assert "[/]" not in result.stdout
    assert not ANSI.search(result.stdout)
    line = next(ln for ln in result.stdout.splitlines() if "unknown severity" in ln)
    assert line.startswith(f"✗ {workdir / 'runbook.yaml'}:")
    assert "triage.rules[4].severity: unknown severity 'P9'" in line


def test_validate_on_a_terminal_renders_the_mark_in_colour(
    invoke: Invoke, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    _break_severity(workdir, "P9")

    result = invoke(["runbook", "validate"])

    assert result.exit_code == 2
    assert "[red]" not in result.stdout
    assert ANSI.search(result.stdout)
    plain = ANSI.sub("", result.stdout)
    assert f"✗ {workdir / 'runbook.yaml'}:" in plain


@pytest.mark.parametrize("written", ["[bold]P9[/bold]", "[red]P9", "P9[/]", "[link=http://x]P9"])
def test_runbook_text_in_a_problem_is_never_markup(
    invoke: Invoke, workdir: Path, monkeypatch: pytest.MonkeyPatch, written: str
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    _break_severity(workdir, written)

    result = invoke(["runbook", "validate"])

    assert result.exit_code == 2, result.output
    plain = ANSI.sub("", result.stdout)
    assert f"unknown severity {written!r}" in plain


LONG = "https://status.internal.sarvanom.example.com/api/v2/components/gateway/health/deep?probe=full&region=eu-west-1"
SECRET = "tok-9f8e7d6c"


def _column(table_text: str, header: str) -> list[str]:
    """The cells of one column of a rich table, each cell's wrapped lines joined (rows are split at '│')."""
    lines = table_text.splitlines()
    head = next(i for i, ln in enumerate(lines) if header in ln and "┃" in ln)
    index = [c.strip() for c in lines[head].split("┃")].index(header)
    cells: list[str] = []
    for line in lines[head + 2 :]:
        if "│" not in line:
            break
        parts = line.split("│")
        name, value = parts[1].strip(), parts[index].strip()
        if name:
            cells.append(value)
        elif cells:
            cells[-1] += value
    return cells


def _with_urls(workdir: Path) -> None:
    path = workdir / "runbook.yaml"
    text = path.read_text()
    text = text.replace("url: https://api.sarvanom.com/health", f"url: {LONG}&token={SECRET}", 1)
    text = text.replace(
        "url: https://api.openai.com/v1/models", f"url: https://api.openai.com/v1/models?api_key={SECRET}"
    )
    path.write_text(text)


def test_show_prints_every_url_whole_even_in_80_columns(invoke: Invoke, workdir: Path) -> None:
    _with_urls(workdir)

    result = invoke(["runbook", "show"])

    assert result.exit_code == 0, result.output
    assert "…" not in result.stdout
    assert _column(result.stdout, "HEALTH")[0] == f"{LONG}&token=***"
    assert _column(result.stdout, "CHECK")[0] == "https://api.openai.com/v1/models?api_key=***"


@pytest.mark.parametrize("fmt", ["table", "json", "yaml"])
def test_show_never_prints_a_credential_from_a_url(invoke: Invoke, workdir: Path, fmt: str) -> None:
    _with_urls(workdir)

    result = invoke(["runbook", "show", "-o", fmt])

    assert result.exit_code == 0, result.output
    assert SECRET not in result.output
    assert "***" in result.stdout
