"""A kubeconfig that is missing, a directory, not YAML or not UTF-8 is the user's to fix: one line, exit 2, and the
reason ``InvalidKubeconfig`` (not the runbook's)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.conftest import Invoke


def _kubeconfig(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / "kubeconfig"
    if kind == "missing":
        return path
    if kind == "directory":
        path.mkdir()
    elif kind == "not-yaml":
        path.write_text("apiVersion: v1\nclusters: [\n  - name: x\n    cluster: {server: ", encoding="utf-8")
    elif kind == "control-characters":
        path.write_bytes(b"apiVersion: v1\n\x00\x01\x02")
    elif kind == "not-utf8":
        path.write_bytes(b"apiVersion: v1\nkind: \xff\xfe\n")
    return path


@pytest.mark.parametrize("kind", ["missing", "directory", "not-yaml", "control-characters", "not-utf8"])
def test_a_bad_kubeconfig_is_one_line_with_its_own_reason(invoke: Invoke, tmp_path: Path, kind: str) -> None:
    path = _kubeconfig(tmp_path, kind)
    result = invoke(["-o", "json", "--kubeconfig", str(path), "detect"])
    assert result.exit_code == 2, result.output
    error = json.loads(result.stdout)["error"]
    assert error["reason"] == "InvalidKubeconfig"
    assert str(path) in f"{error['where']}: {error['message']}"
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) <= 2
    if kind == "not-yaml":  # a syntax error says where
        assert error["where"].startswith(f"{path}:")
        assert result.stderr.startswith(f"error: {path}:")
