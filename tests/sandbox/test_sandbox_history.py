"""The sandbox's rollout history and write records read as a real cluster's: ``kubectl rollout history`` shows
every revision with its change-cause (the bad one in bad-deploy too), the ReplicaSets carry the author the
pipeline recorded, and every write by real kubectl lands in ``metadata.managedFields`` under kubectl's field
manager at the sandbox's time."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from incidentctl.sandbox.clock import rfc3339
from incidentctl.sandbox.sandbox import Sandbox
from incidentctl.sandbox.testing import Kubectl, kubectl_for

pytestmark = pytest.mark.integration


def _history(k: Kubectl, deployment: str) -> list[tuple[str, str]]:
    shown = k("rollout", "history", f"deployment/{deployment}")
    assert shown.returncode == 0, shown.stderr
    rows = [re.split(r"\s{2,}", line.strip(), maxsplit=1) for line in shown.stdout.splitlines()[2:] if line.strip()]
    return [(row[0], row[1]) for row in rows]


def _managed(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["manager"]: entry for entry in obj["metadata"].get("managedFields") or []}


def test_bad_deploy_history_shows_the_bad_revision_with_cause_and_author(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    sb = sandbox_factory("bad-deploy")
    k = kubectl_for(sb, tmp_path)
    assert _history(k, "synthesis") == [
        ("1", "deploy synthesis 2.3.0: citations in answers"),
        ("2", "deploy synthesis 2.4.0: anthropic fallback provider"),
        ("3", "deploy synthesis 2.4.3: shorter provider timeouts"),
        ("4", "deploy synthesis 2.5.0: faster tokenizer (tokenizers 0.22)"),
    ]
    rss = json.loads(k("get", "replicasets", "-l", "app=synthesis", "-o", "json", "--show-managed-fields").stdout)[
        "items"
    ]
    newest = max(rss, key=lambda rs: int(rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]))
    assert newest["metadata"]["annotations"]["sarvanom.com/deployed-by"] == "jonas.weber"
    assert newest["spec"]["template"]["spec"]["containers"][0]["image"].endswith("synthesis:2.5.0")
    assert _managed(newest)["kube-controller-manager"]["time"] == newest["metadata"]["creationTimestamp"]
    deploy = json.loads(k("get", "deployment", "synthesis", "-o", "json", "--show-managed-fields").stdout)
    set_image = _managed(deploy)["kubectl-set"]
    assert set_image["time"] == newest["metadata"]["creationTimestamp"]
    assert "f:template" in set_image["fieldsV1"]["f:spec"]


def test_kubectl_writes_are_recorded_with_their_field_manager_and_time(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    sb = sandbox_factory("healthy")
    k = kubectl_for(sb, tmp_path)
    sb.advance(90)
    now = rfc3339(sb.now())
    done = k("set", "image", "deployment/gateway", "gateway=registry.sarvanom.com/sarvanom/gateway:1.14.0")
    assert done.returncode == 0, done.stderr
    patched = k("patch", "configmap", "synthesis-config", "--type=merge", "-p", '{"data":{"CIRCUIT_BREAKER":"open"}}')
    assert patched.returncode == 0, patched.stderr
    deploy = json.loads(k("get", "deployment", "gateway", "-o", "json", "--show-managed-fields").stdout)
    entry = _managed(deploy)["kubectl-set"]
    assert (entry["operation"], entry["time"], entry["fieldsType"]) == ("Update", now, "FieldsV1")
    cm = json.loads(k("get", "configmap", "synthesis-config", "-o", "json", "--show-managed-fields").stdout)
    entry = _managed(cm)["kubectl-patch"]
    assert entry["time"] == now
    assert entry["fieldsV1"] == {"f:data": {"f:CIRCUIT_BREAKER": {}}}
    assert _managed(cm)["kubectl-client-side-apply"]["time"] < now, "the first write keeps its own time"
    sb.advance(30)
    undone = k("rollout", "undo", "deployment/gateway")
    assert undone.returncode == 0, undone.stderr
    deploy = json.loads(k("get", "deployment", "gateway", "-o", "json", "--show-managed-fields").stdout)
    # `rollout undo` sends no field manager: the API server names it after the User-Agent, "kubectl/v1.37..."
    assert _managed(deploy)["kubectl"]["time"] == rfc3339(sb.now())
