"""`incidentctl sandbox history`: how long writing 200 and 2,000 past incidents takes.

Each run is the command as a user types it (a fresh process, the repository's runbook, a new journal folder), so the
time includes start-up and every fsynced append of the journal store. Printed per size: the median of the runs,
the events written, and the cost of one event, which shows whether the time grows with the journal (it should not:
each append reads only its own incident's timeline).

    python benchmarks/bench_history.py [--runs 1] [--sizes 200,2000]

One run of each size by default: writing 2,000 incidents takes a minute or more, and three of them were most of
`nox -s bench`'s time (this script gives no row to its table).

Prints medians; asserts nothing (speed belongs here, not in the test suite).
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
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--sizes", default="200,2000")
    args = parser.parse_args(argv)
    exe = shutil.which("incidentctl")
    cli = [exe] if exe else [sys.executable, "-m", "incidentctl"]
    env = {**os.environ, "INCIDENTCTL_ACTOR": "bench", "NO_COLOR": "1"}
    env.pop("INCIDENTCTL_JOURNAL", None)

    print(f"{'incidents':>9}  {'median':>8}  {'events':>7}  {'per event':>9}  runs")
    for size in (int(s) for s in args.sizes.split(",")):
        times: list[float] = []
        events = 0
        for run in range(args.runs):
            with tempfile.TemporaryDirectory() as tmp:
                work = Path(tmp)
                shutil.copy(REPO / "runbook.yaml", work / "runbook.yaml")
                cmd = [*cli, "sandbox", "history", "--incidents", str(size), "--days", "90", "--seed", str(run)]
                start = time.perf_counter()
                proc = subprocess.run(
                    [*cmd, "-o", "json"], cwd=work, env=env, capture_output=True, text=True, check=False
                )
                times.append(time.perf_counter() - start)
                if proc.returncode != 0:
                    print(f"sandbox history --incidents {size} failed: {proc.stderr.strip()}")
                    return 1
                events = json.loads(proc.stdout)["data"]["events"]
        median = statistics.median(times)
        print(f"{size:>9}  {median:>7.2f}s  {events:>7}  {median / events * 1000:>7.2f}ms  {args.runs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
