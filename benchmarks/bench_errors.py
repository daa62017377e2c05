"""`investigate errors --file` against the runbook's grep pipeline on one generated 1,000,000-line log.

Run with `nox -s bench` or `python benchmarks/bench_errors.py [LINES] [--runs 3]`. Generates a log of realistic
shape (plain and JSON lines, tracebacks, pod names, IPs, uuids, quoted free text) whose true error templates are
known, then runs, one after the other, RUNS times each:

- `grep -i error FILE | sort | uniq -c | sort -nr` (what the runbook does), and
- `incidentctl -o json investigate errors --file FILE`,

and prints both median wall times, their ratio (the session table's row), each one's peak memory (the largest
child's max RSS, measured from a fresh helper process so that one command's peak cannot hide the other's), the
number of groups each produced against the true templates, and whether any group holds two true templates. Aims:
at most 2x the pipeline's time, under 64 MB, at most 1.5x as many groups as true templates, no two true templates
merged. Printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from table import record

from incidentctl.core import logmine
from incidentctl.sandbox import loggen

#: Runs one command in a fresh process and reports its wall time and its largest child's peak RSS (KiB on Linux).
_MEASURE = """
import resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE)
wall = time.perf_counter() - start
sys.stderr.buffer.write(done.stdout)
print(wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, done.returncode)
"""


def measure(cmd: list[str]) -> tuple[float, float, bytes]:
    """Seconds, peak MB, and the command's stdout."""
    done = subprocess.run([sys.executable, "-c", _MEASURE, *cmd], capture_output=True, check=True)
    wall, rss, _code = done.stdout.split()
    return float(wall), int(rss) / 1024, done.stderr


def purity(path_lines: int, seed: int) -> tuple[int, list[set[str]]]:
    """How many groups the miner's grouping makes of the generated lines, and every group holding two labels."""
    labelled = [(label, text) for label, text in loggen.generate(path_lines, seed=seed) if logmine.is_error(text)]
    keys = logmine.mask([text for _, text in labelled])
    patterns = logmine.merge(set(keys))
    labels: dict[str, set[str]] = defaultdict(set)
    for (label, _), key in zip(labelled, keys, strict=True):
        labels[patterns[key]].add(label or "(no error)")
    return len(labels), [group for group in labels.values() if len(group) > 1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("lines", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    lines = args.lines
    seed = 20261201
    exe = shutil.which("incidentctl")
    incidentctl = [exe] if exe else [sys.executable, "-m", "incidentctl"]
    with tempfile.TemporaryDirectory(prefix="bench-errors-") as tmp:
        path = Path(tmp) / "app.log"
        with path.open("w", encoding="utf-8") as out:
            counts = loggen.write(out, lines, seed=seed)
        true = loggen.true_templates()
        size = path.stat().st_size / 1e6
        error_lines = sum(n for label, n in counts.items() if label in true)
        print(f"investigate errors --file vs the grep pipeline: {lines:,} lines, {size:.0f} MB, ", end="")
        print(f"{error_lines:,} error lines of {len(true)} true templates")
        locale = os.environ.get("LC_ALL") or os.environ.get("LANG") or "default"
        print(f"  (locale {locale}, medians of {args.runs} runs each, in turn)")

        pipeline = ["sh", "-c", f"grep -i error '{path}' | sort | uniq -c | sort -nr"]
        mine = [*incidentctl, "-o", "json", "investigate", "errors", "--file", str(path)]
        grep_runs, mined_runs = [], []
        for _ in range(args.runs):
            grep_runs.append(measure(pipeline))
            mined_runs.append(measure(mine))
        grep_time = statistics.median(run[0] for run in grep_runs)
        grep_mb = max(run[1] for run in grep_runs)
        grep_groups = len(grep_runs[0][2].splitlines())
        mined_time = statistics.median(run[0] for run in mined_runs)
        mined_mb = max(run[1] for run in mined_runs)
        data = json.loads(mined_runs[0][2])["data"]
        mined_groups = len(data["templates"])

    groups, impure = purity(lines, seed)
    aims = {
        "time": mined_time <= 2 * grep_time,
        "memory": mined_mb < 64,
        "groups": mined_groups <= 1.5 * len(true),
        "purity": not impure,
    }
    print(f"  grep | sort | uniq -c   {grep_time:6.2f} s  {grep_mb:6.1f} MB  {grep_groups:>8,} groups")
    print(f"  investigate errors      {mined_time:6.2f} s  {mined_mb:6.1f} MB  {mined_groups:>8,} groups", end="")
    print(f"  ({data['errorLines']:,} error lines)")
    print(f"  ratio                   {mined_time / grep_time:6.2f} x (aim <= 2x)")
    ratio = f"{mined_groups / len(true):6.2f} x"
    print(f"  groups / true templates {ratio} (aim <= 1.5x; grep: {grep_groups / len(true):,.0f} x)")
    merged = "none" if not impure else "; ".join(" + ".join(sorted(g)) for g in impure)
    print(f"  true templates merged   {merged} (grouping checked in-process: {groups} groups)")
    print("  aims: " + ", ".join(f"{name} {'met' if ok else 'MISSED'}" for name, ok in aims.items()))
    record(
        f"error mining, {lines:,} log lines",
        "`incidentctl investigate errors --file`",
        mined_time,
        "`grep -i error | sort | uniq -c | sort -nr`",
        grep_time,
        args.runs,
    )


if __name__ == "__main__":
    main()
