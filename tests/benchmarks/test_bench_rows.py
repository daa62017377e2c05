"""The bench scripts still run and still hand `nox -s bench` its one table: two of them, one run each on a tiny
input, append their rows to the file $BENCH_ROWS names, and benchmarks/table.py prints those rows as one markdown
table (read back with a real markdown parser). Only the shape is checked: how fast anything is belongs to the
benchmarks, never to the test suite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.docs_check import markdown_structure

from incidentctl.sandbox.testing import require_kubectl

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
ROW_KEYS = {"what", "command", "seconds", "comparedWith", "comparisonSeconds", "runs", "load"}


def bench(script: str, *args: str, rows: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BENCH_ROWS": str(rows), "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        env=env,
        cwd=rows.parent,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.fixture
def rows(tmp_path: Path) -> Path:
    if not BENCHMARKS.is_dir():
        pytest.skip("the benchmarks/ folder is not here (an sdist ships without it)")
    require_kubectl()
    return tmp_path / "rows.jsonl"


def test_each_script_appends_its_rows_and_the_table_prints_them(rows: Path) -> None:
    for script, args in (("bench_startup.py", ["1"]), ("bench_errors.py", ["2000", "--runs", "1"])):
        done = bench(script, *args, rows=rows)
        assert done.returncode == 0, done.stdout + done.stderr

    recorded = [json.loads(line) for line in rows.read_text(encoding="utf-8").splitlines()]
    assert [row["what"] for row in recorded] == ["start-up", "error mining, 2,000 log lines"]
    for row in recorded:
        assert set(row) == ROW_KEYS
        assert row["runs"] == 1
        assert all(isinstance(row[key], float) for key in ("seconds", "comparisonSeconds", "load"))

    table = bench("table.py", str(rows), rows=rows)
    assert table.returncode == 0, table.stderr
    machine, *_ = table.stdout.splitlines()
    assert " cores (" in machine
    assert "Python " in machine
    assert "kubectl v1." in machine
    (printed,) = markdown_structure(table.stdout).tables
    assert printed.header == ["what", "incidentctl", "comparison", "ratio", "runs"]
    assert [row[0] for row in printed.rows] == ["start-up", "error mining, 2,000 log lines"]
    startup, mining = printed.rows
    assert startup[1].startswith("`incidentctl --help`: ")
    assert startup[2].startswith("`kubectl version --client`: ")
    # the pipeline's own pipes stay inside its cell, and read as pipes
    assert mining[2].startswith("`grep -i error | sort | uniq -c | sort -nr`: ")
    assert all(row[3].endswith("x") and row[4] == "1" for row in printed.rows)
    assert "Load average (1 min) while measuring: " in table.stdout


def test_a_script_run_alone_writes_no_rows(tmp_path: Path) -> None:
    if not BENCHMARKS.is_dir():
        pytest.skip("the benchmarks/ folder is not here (an sdist ships without it)")
    env = {k: v for k, v in os.environ.items() if k != "BENCH_ROWS"}
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "bench_errors.py"), "2000", "--runs", "1"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "investigate errors" in done.stdout
    assert list(tmp_path.iterdir()) == []
