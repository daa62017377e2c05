"""``investigate errors --file PATH [--baseline-file PATH]``: saved logs mined as the cluster's are, with the JSON
shape later phases and CI read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from tests.conftest import Invoke

from incidentctl.sandbox import loggen

SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "output" / "ErrorTemplates.schema.json"
OLD = ("synthesis-timeout", "pg-pool", "jwt", "unhandled")
NEW = ("tls", "go-panic")


def _log(path: Path, templates: tuple[str, ...], *, seed: int, lines: int = 4_000) -> Path:
    with path.open("w", encoding="utf-8") as out:
        loggen.write(out, lines, seed=seed, templates=templates, prefix=True)
    return path


def _data(invoke: Invoke, *args: str, input: str | None = None, code: int = 0) -> dict[str, Any]:
    result = invoke(["-o", "json", "investigate", "errors", *args], input=input)
    assert result.exit_code == code, result.output
    doc = json.loads(result.stdout)
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(doc)
    data: dict[str, Any] = doc["data"]
    return data


def test_new_templates_against_a_baseline_file(invoke: Invoke, tmp_path: Path) -> None:
    before = _log(tmp_path / "before.log", OLD, seed=1)
    now = _log(tmp_path / "now.log", OLD + NEW, seed=2)
    data = _data(invoke, "--file", str(now), "--baseline-file", str(before), code=3)
    assert data["lines"] == 4_000
    assert data["errorLines"] == sum(t["count"] for t in data["templates"])
    assert set(data["templates"][0]) == {
        "pattern", "count", "baselineCount", "status", "firstSeen", "lastSeen", "pods", "example",
    }  # fmt: skip
    new = [t for t in data["templates"] if t["status"] == "new"]
    assert sorted("certificate has expired" in t["pattern"] or "panic:" in t["pattern"] for t in new) == [True] * 2
    assert all(t["baselineCount"] == 0 for t in new)
    assert {t["status"] for t in data["templates"]} - {"new"} <= {"steady", "grew"}
    assert all(t["pods"] for t in data["templates"])
    timed = [t for t in data["templates"] if t["firstSeen"] is not None]
    assert len(timed) == len(data["templates"]) - 1  # the last line of a traceback has no time of its own
    assert all(t["firstSeen"] <= t["lastSeen"] for t in timed)
    for t in data["templates"]:
        assert "<*>" in t["pattern"]
        assert t["example"] in now.read_text()


def test_stdin_and_no_baseline_calls_nothing_new(invoke: Invoke, tmp_path: Path) -> None:
    text = _log(tmp_path / "now.log", OLD + NEW, seed=2).read_text()
    data = _data(invoke, "--file", "-", input=text)
    assert data["source"] == "-"
    assert data["baselineSource"] is None
    assert data["templates"]
    assert all(t["status"] is None and t["baselineCount"] is None for t in data["templates"])


def test_the_baseline_may_come_from_stdin(invoke: Invoke, tmp_path: Path) -> None:
    before = _log(tmp_path / "before.log", OLD, seed=1).read_text()
    now = _log(tmp_path / "now.log", OLD, seed=2)
    data = _data(invoke, "--file", str(now), "--baseline-file", "-", input=before)
    assert [t for t in data["templates"] if t["status"] == "new"] == []


def test_the_table_marks_new_templates(invoke: Invoke, tmp_path: Path) -> None:
    before = _log(tmp_path / "before.log", OLD, seed=1)
    now = _log(tmp_path / "now.log", OLD + NEW, seed=2)
    result = invoke(["investigate", "errors", "--file", str(now), "--baseline-file", str(before)])
    assert result.exit_code == 3
    assert "certificate has expired" in result.stdout
    assert result.stdout.count("NEW") >= 2
    assert "2 new" in result.stdout


def test_control_characters_in_a_log_never_reach_the_terminal(invoke: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "evil.log"
    path.write_bytes(b"2026-12-01T14:00:00Z ERROR boom \x1b]0;pwned\x07\x1b[2J id=1\n\xff\xfe ERROR bad bytes 7\n")
    result = invoke(["investigate", "errors", "--file", str(path)])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout
    assert "\x07" not in result.stdout
    data = _data(invoke, "--file", str(path))
    assert data["errorLines"] == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--file", "{missing}"], "--file: cannot read {missing}: No such file or directory"),
        (["--file", "{dir}"], "--file: cannot read {dir}: Is a directory"),
        (["--file", "{log}", "--baseline-file", "{missing}"], "--baseline-file: cannot read {missing}: No such file"),
        (["--file", "-", "--baseline-file", "-"], "--file and --baseline-file cannot both be stdin"),
        (["--baseline-file", "{log}"], "--baseline-file only applies with --file"),
        (["gateway", "--file", "{log}"], "COMPONENT only applies to the cluster's logs"),
    ],
)
def test_bad_files_and_options_are_one_usage_line(
    invoke: Invoke, tmp_path: Path, args: list[str], message: str
) -> None:
    log = _log(tmp_path / "now.log", OLD, seed=2, lines=100)
    names = {"missing": str(tmp_path / "nope.log"), "dir": str(tmp_path), "log": str(log)}
    result = invoke(["investigate", "errors", *(a.format(**names) for a in args)])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: {message.format(**names)}")
    assert "Traceback" not in result.output


def test_a_large_file_mined_in_two_halves_gives_what_one_pass_gives(tmp_path: Path) -> None:
    from incidentctl.phases.investigate.errors import run_errors_file

    path = _log(tmp_path / "now.log", OLD + NEW, seed=4, lines=20_000)
    with path.open("rb") as one, path.open("rb") as two:
        whole = run_errors_file(one, str(path))
        halves = run_errors_file(two, str(path), split_from=1)
    assert (halves.lines, halves.error_lines) == (whole.lines, whole.error_lines) == (20_000, whole.error_lines)
    assert halves.templates == whole.templates
