"""A runbook cannot make the loader eat the machine: alias bombs, alias loops, deep nesting and huge files are
refused with one located line (exit 2), while the anchors and aliases people really write keep working.

The hostile files run in a child process with a memory cap, so that a loader that does expand them fails the test
with a MemoryError instead of taking the test machine down.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from incidentctl.runbook.limits import MAX_DEPTH, MAX_RUNBOOK_BYTES
from incidentctl.runbook.loader import load_runbook
from incidentctl.runbook.problems import RunbookInvalid

REPO = Path(__file__).resolve().parents[2]

#: The classic "billion laughs": nine levels of nine aliases, 383 bytes that expand to 9**9 strings.
BOMB = "\n".join(
    [
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
        *(f"{name}: &{name} [{','.join([f'*{prev}'] * 9)}]" for prev, name in zip("abcdefgh", "bcdefghi", strict=True)),
    ]
)

#: The same through merge keys: each level merges the one before nine times (the merged keys repeat, but building
#: them does not).
MERGE_BOMB = "x0: &x0 {a: lol, b: lol, c: lol}\n" + "".join(
    f"x{i}: &x{i} {{k{i}: lol, <<: [{', '.join([f'*x{i - 1}'] * 9)}]}}\n" for i in range(1, 10)
)


def _cli(tmp_path: Path, text: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `incidentctl --runbook FILE runbook show` in a child capped at 1 GiB of address space."""
    path = tmp_path / "runbook.yaml"
    path.write_text(text, encoding="utf-8")

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "INCIDENTCTL_ACTOR": "tester"}
    env.pop("INCIDENTCTL_RUNBOOK", None)
    return subprocess.run(
        [sys.executable, "-m", "incidentctl", "--runbook", str(path), "runbook", "show", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        preexec_fn=cap,
        timeout=120,  # a guard against a hang, not a measurement
        check=False,
    )


@pytest.mark.parametrize("text", [BOMB, MERGE_BOMB], ids=["nested-aliases", "nested-merge-keys"])
def test_an_alias_bomb_is_refused_with_a_located_line(tmp_path: Path, text: str) -> None:
    assert len(text) < 1000

    result = _cli(tmp_path, text)

    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"error: {tmp_path / 'runbook.yaml'}:")
    assert "aliases expand to more than" in first
    line = int(first.split(":")[2])
    assert 2 <= line <= 10  # at the alias that goes over the budget, not at the top of the file


def test_an_alias_that_contains_itself_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "runbook.yaml"
    path.write_text("apiVersion: incidentctl/v1\nloop: &loop\n  - x\n  - *loop\n", encoding="utf-8")

    with pytest.raises(RunbookInvalid) as info:
        load_runbook(path)

    (problem,) = info.value.problems
    assert "refers to a node that contains it" in problem.message
    assert (problem.line, problem.column) == (4, 5)


@pytest.mark.parametrize("style", ["flow", "block"])
def test_nesting_deeper_than_the_limit_is_refused(tmp_path: Path, style: str) -> None:
    depth = 20_000 if style == "flow" else MAX_DEPTH + 1
    if style == "flow":
        text = "x: " + "[" * depth + "]" * depth + "\n"
    else:
        text = "".join(f"{'  ' * i}k{i}:\n" for i in range(depth)) + f"{'  ' * depth}v\n"

    result = _cli(tmp_path, text)

    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert f"nested more than {MAX_DEPTH} levels deep" in result.stderr.splitlines()[0]


def test_a_file_over_the_size_limit_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "runbook.yaml"
    line = "# " + "x" * 1021 + "\n"
    path.write_text(line * (MAX_RUNBOOK_BYTES // len(line) + 1), encoding="utf-8")

    with pytest.raises(RunbookInvalid) as info:
        load_runbook(path)

    assert f"larger than the {MAX_RUNBOOK_BYTES // (1 << 20)} MiB a runbook may be" in str(info.value)


def test_anchors_aliases_and_merge_keys_people_write_still_work(runbook_text: str, tmp_path: Path) -> None:
    edits = [
        (
            "      url: https://api.openai.com/v1/models\n      timeout: 10s\n",
            "      <<: &llm-check\n        timeout: 10s\n        expect_status: [200, 401]\n"
            "      url: https://api.openai.com/v1/models\n",
        ),
        (
            "      url: https://api.anthropic.com/v1/models\n      timeout: 10s\n      expect_status: [200, 401]\n",
            "      <<: *llm-check\n      url: https://api.anthropic.com/v1/models\n",
        ),
        ("    uses: [postgres, redis]\n", "    uses: &stores [postgres, redis]\n"),
        ("    uses: [openai, anthropic, redis]\n", "    uses: *stores\n"),
    ]
    text = runbook_text
    for old, new in edits:
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / "runbook.yaml"
    path.write_text(text, encoding="utf-8")

    rb = load_runbook(path)

    openai, anthropic = rb.dependencies
    assert anthropic.check.url == "https://api.anthropic.com/v1/models"
    assert anthropic.check.timeout == openai.check.timeout
    assert anthropic.check.timeout.total_seconds() == 10
    assert list(anthropic.check.expect_status) == [200, 401]
    assert rb.component("synthesis").uses == ["postgres", "redis"]


def test_a_key_set_beside_a_merge_wins_over_the_merged_one(tmp_path: Path, runbook_text: str) -> None:
    old = "      url: https://api.anthropic.com/v1/models\n      timeout: 10s\n"
    new = (
        "      <<: [{timeout: 3s, method: HEAD}, {timeout: 9s, expect_body: ok}]\n"
        "      url: https://api.anthropic.com/v1/models\n      timeout: 10s\n"
    )
    assert old in runbook_text
    path = tmp_path / "runbook.yaml"
    path.write_text(runbook_text.replace(old, new, 1), encoding="utf-8")

    check = load_runbook(path).dependencies[1].check

    assert check.timeout.total_seconds() == 10  # set in the mapping itself
    assert check.method == "HEAD"
    assert check.expect_body == "ok"
