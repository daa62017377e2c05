"""`incidentctl demo` end to end, as a newcomer runs it, against its aim of 30 s.

Each run is the command as typed (a fresh process, its own sandbox and temporary folder, the whole runbook from
detect to the report), its output thrown away; a run that does not exit 0 ends the benchmark. The default is the
demo's own default scenario; ``--every-scenario`` gives one row per scenario (about ten times as long).

    python benchmarks/bench_demo.py [--runs 3] [--scenario NAME ...] [--every-scenario]

Prints medians; asserts nothing (speed belongs here, not in the test suite).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from table import record

#: the issue's aim for the demo, start to finish
AIM = 30.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scenario", action="append", default=[], metavar="NAME")
    parser.add_argument("--every-scenario", action="store_true")
    args = parser.parse_args(argv)

    from incidentctl.sandbox.scenarios import SCENARIOS

    exe = shutil.which("incidentctl")
    cli = [exe] if exe else [sys.executable, "-m", "incidentctl"]
    chosen = list(SCENARIOS) if args.every_scenario else args.scenario
    env = {k: v for k, v in os.environ.items() if not k.startswith("INCIDENTCTL_") and k != "KUBECONFIG"}
    env["NO_COLOR"] = "1"
    print(f"incidentctl demo end to end, medians of {args.runs} (aim: under {AIM:.0f} s)")
    for scenario in chosen or [None]:
        command = [*cli, "demo"] + (["--scenario", scenario] if scenario else [])
        times = []
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="bench-demo-") as tmp:
                start = time.perf_counter()
                # the demo leaves its folder under TMPDIR for the reader; here it goes with the run's own folder
                done = subprocess.run(
                    command,
                    cwd=tmp,
                    env={**env, "TMPDIR": tmp},
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    text=True,
                    check=False,
                )
                times.append(time.perf_counter() - start)
            if done.returncode != 0:
                print(f"{' '.join(command[1:])} exited {done.returncode}: {done.stderr.strip()[-2000:]}")
                return 1
        seconds = statistics.median(times)
        shown = f"incidentctl demo{f' --scenario {scenario}' if scenario else ''}"
        print(f"  {shown:<45} {seconds:6.2f}s  (min {min(times):.2f}, max {max(times):.2f})")
        record(
            f"the demo end to end ({scenario or 'its default scenario'})",
            f"`{shown}`",
            seconds,
            "the aim",
            AIM,
            args.runs,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
