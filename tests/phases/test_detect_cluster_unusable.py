"""When the Kubernetes side cannot be used, detect says why once and still reports everything else it saw: a
namespace that does not exist, and an API that cannot be reached while the health endpoints, dependencies and
monitoring still answer."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from tests.conftest import Invoke
from tests.phases.conftest import Site, run

KUBE_KINDS = {"deployment", "pods", "service", "ingress", "datastore"}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def _unreachable_api(site: Site, tmp_path: Path) -> tuple[Path, str]:
    """A kubeconfig whose API server is a closed port, while the sandbox's other services keep answering."""
    doc: dict[str, Any] = yaml.safe_load(site.kubeconfig.read_text())
    server = f"http://127.0.0.1:{_closed_port()}"
    for cluster in doc["clusters"]:
        cluster["cluster"]["server"] = server
    path = tmp_path / "dead-api-kubeconfig"
    path.write_text(yaml.safe_dump(doc))
    return path, server


def test_a_namespace_that_does_not_exist_is_said_once(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    result = run(invoke, site, "-n", "nosuch-ns", "detect")
    assert result.exit_code == 2, result.output
    first = result.stderr.splitlines()[0]
    assert first.startswith("error: namespace 'nosuch-ns' does not exist on http://127.0.0.1:"), first
    assert "not found" not in result.stdout  # no "deployment gateway not found" and the like
    assert "healthy" not in result.stdout
    assert "kubernetes" in result.stdout
    assert "gateway" in result.stdout

    doc = json.loads(run(invoke, site, "-n", "nosuch-ns", "detect", "-o", "json").stdout)
    assert doc["kind"] == "Error"
    assert doc["error"]["reason"] == "NotFound"
    assert doc["error"]["exitCode"] == 2
    checks = {c["check"]: c for c in doc["data"]["checks"]}
    assert not {c["kind"] for c in checks.values()} & KUBE_KINDS
    assert checks["kubernetes"]["health"] == "unknown"
    assert [c["check"] for c in checks.values() if "does not exist" in c["summary"]] == ["kubernetes"]
    assert checks["http:gateway"]["health"] == "ok"  # what could still be seen is there
    assert doc["data"]["health"] != "ok"


def test_triage_in_a_namespace_that_does_not_exist_declares_nothing(
    invoke: Invoke, site_for: Callable[..., Site]
) -> None:
    site = site_for("db-outage")
    result = run(invoke, site, "-n", "nosuch-ns", "triage", "--declare")
    assert result.exit_code == 2, result.output
    assert "namespace 'nosuch-ns' does not exist" in result.stderr.splitlines()[0]
    listed = run(invoke, site, "incident", "list", "-A", "-o", "json")
    assert json.loads(listed.stdout)["data"]["items"] == []


def test_an_empty_namespace_that_exists_is_not_called_missing(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    result = run(invoke, site, "-n", "kube-public", "detect", "-o", "json")
    assert result.exit_code == 3, result.output
    doc = json.loads(result.stdout)
    assert doc["kind"] == "DetectReport"
    assert "deployment gateway not found" in {c["summary"] for c in doc["data"]["checks"]}


def test_an_unreachable_api_keeps_the_other_results(
    invoke: Invoke, site_for: Callable[..., Site], tmp_path: Path
) -> None:
    site = site_for("dependency-outage")
    kubeconfig, server = _unreachable_api(site, tmp_path)
    args = ["--runbook", str(site.runbook), "--kubeconfig", str(kubeconfig), "detect"]

    table = invoke(args)
    assert table.exit_code == 4, table.output
    assert table.stderr.splitlines()[0].startswith(f"error: cannot reach the Kubernetes API at {server}")
    rows = {line.split()[0]: line for line in table.stdout.splitlines() if line.strip()}
    assert "DOWN" in rows["openai"]  # the dependency outage is still reported
    assert "OK" in rows["gateway"] or "DEGRADED" in rows["gateway"] or "DOWN" in rows["gateway"]
    assert "kubernetes" in rows
    assert "healthy" not in table.stdout

    result = invoke([*args, "-o", "json"])
    assert result.exit_code == 4
    doc = json.loads(result.stdout)
    assert doc["kind"] == "Error"
    assert doc["error"]["reason"] == "Unreachable"
    assert doc["error"]["exitCode"] == 4
    checks = {c["check"]: c for c in doc["data"]["checks"]}
    kinds = {c["kind"] for c in checks.values()}
    assert {"http", "dependency", "signal", "alerts"} <= kinds
    assert not kinds & KUBE_KINDS
    assert checks["dependency:openai"]["health"] == "down"
    assert checks["kubernetes"]["health"] == "unknown"
    assert server in checks["kubernetes"]["summary"]
