"""The log fan-out of `investigate logs` against the slowest single log read, on the sandbox with 50 pods.

The sandbox's gateway is scaled so that the three components have 50 running pods, and every pod's log read gets
latency of its own (the kubelets of a real cluster answer at different speeds: here 100 to 500 ms, the slowest pod
500 ms). Timed, in this process (start-up is `bench_startup`'s business):

* each pod's log read alone, one after another, once (what `for pod in ...; do kubectl logs $pod; done` costs);
* the slowest pod's log read alone (the fan-out's floor: it cannot finish before its slowest read);
* `fetch_logs` over all 50 pods (two list calls, then every read in the bounded pool), at the default concurrency
  and at 16, in turn with the slowest read.

Printed: medians over the runs, the fan-out against the slowest single read, and the ratio (aim: at most 2x); the
default concurrency's pair is the session table's row.

    python benchmarks/bench_logs.py [--runs 3]

Prints; asserts nothing (speed belongs here, not in the test suite).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml
from table import record

PODS = 50
SLOWEST = 0.5
FASTEST = 0.1


def fifty_pods(sb: Any, client: Any, components: tuple[str, ...]) -> list[tuple[str, str]]:
    """Scale the gateway so the components have 50 running pods (small requests, so they fit the nodes)."""
    from incidentctl.sandbox import world

    ns = world.NAMESPACE
    others = sum(1 for p in client.list("pods", ns) if p["metadata"]["name"].startswith(("retrieval-", "synthesis-")))
    small = {"requests": {"cpu": "10m", "memory": "16Mi"}}
    template = {"spec": {"containers": [{"name": "gateway", "resources": small}]}}
    body = {"spec": {"replicas": PODS - others, "template": template}}
    client.patch("deployments", ns, "gateway", body, patch_type="strategic")
    for _ in range(20):
        sb.advance(30)
    return sorted(
        (p["metadata"]["name"], p["spec"]["containers"][0]["name"])
        for p in client.list("pods", ns)
        if p["metadata"]["name"].startswith(tuple(f"{c}-" for c in components))
        and p["status"].get("phase") == "Running"
        and p["metadata"].get("deletionTimestamp") is None
    )


def phase_context(runbook: Path, kubeconfig: Path) -> Any:
    from incidentctl.phases.context import Flags, resolve_settings
    from incidentctl.phases.wiring import build_context
    from incidentctl.runbook.loader import load_runbook

    rb = load_runbook(runbook)
    settings = resolve_settings(Flags(kubeconfig=str(kubeconfig)), {}, rb, runbook)
    return build_context(
        rb,
        settings,
        env={},
        clock=lambda: datetime.now(timezone.utc),
        journal=lambda: sys.exit("the fan-out does not use the journal"),
        runbook_dir=runbook.parent,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)

    from incidentctl.adapters.kube import KubeClient
    from incidentctl.phases.investigate.logs import DEFAULT_CONCURRENCY, LogsRequest, fetch_logs
    from incidentctl.sandbox import world
    from incidentctl.sandbox.sandbox import Sandbox
    from incidentctl.sandbox.sandbox_runbook import runbook_for

    ns = world.NAMESPACE
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        sb = Sandbox("healthy").start()
        try:
            kubeconfig = sb.write_kubeconfig(work / "kubeconfig")
            runbook = work / "runbook.yaml"
            runbook.write_text(yaml.safe_dump(runbook_for(sb.url, str(work / "incidents")), sort_keys=False))
            client = KubeClient(kubeconfig=str(kubeconfig))
            components = ("gateway", "retrieval", "synthesis")
            pods = fifty_pods(sb, client, components)
            if len(pods) != PODS:
                print(f"expected {PODS} running pods, the sandbox has {len(pods)}")
                return 1
            step = (SLOWEST - FASTEST) / (len(pods) - 1)
            for i, (pod, _container) in enumerate(pods):
                sb.faults.latency(FASTEST + i * step, path=f"/api/v1/namespaces/{ns}/pods/{pod}/log")

            ctx = phase_context(runbook, kubeconfig)

            def read(pod: str, container: str) -> float:
                start = time.perf_counter()
                client.read_log(ns, pod, container)
                return time.perf_counter() - start

            one_by_one = sum(read(pod, container) for pod, container in pods)
            singles: list[float] = []
            results = []
            for concurrency in (DEFAULT_CONCURRENCY, 16):
                times, lines = [], 0
                for _ in range(args.runs):
                    if concurrency == DEFAULT_CONCURRENCY:
                        singles.append(read(*pods[-1]))  # the pod with the most latency added
                    start = time.perf_counter()
                    fetch = fetch_logs(ctx, LogsRequest(components=components, concurrency=concurrency))
                    times.append(time.perf_counter() - start)
                    lines = len(fetch.lines)
                    if fetch.errors or len(fetch.sources) != PODS:
                        print(f"the fan-out missed logs: {[e.message for e in fetch.errors]}")
                        return 1
                results.append((concurrency, statistics.median(times), lines))
            client.close()
        finally:
            sb.stop()

    slowest = statistics.median(singles)
    print(f"{PODS} pods, each log read with {FASTEST * 1000:.0f}-{SLOWEST * 1000:.0f} ms added; medians of {args.runs}")
    print(f"  one read after another:   {one_by_one:7.2f}s (once)")
    print(f"  slowest single read:      {slowest:7.2f}s")
    for concurrency, fanout, lines in results:
        print(
            f"  fan-out, concurrency {concurrency:>3}: {fanout:7.2f}s  = {fanout / slowest:4.2f}x the slowest read"
            f"  ({lines} lines merged){'  (aim: at most 2x)' if concurrency == DEFAULT_CONCURRENCY else ''}"
        )
    record(
        f"log fan-out, {PODS} pods ({FASTEST * 1000:.0f}-{SLOWEST * 1000:.0f} ms each)",
        "the fan-out of `investigate logs` (in-process)",
        results[0][1],
        "the slowest single log read",
        slowest,
        args.runs,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
