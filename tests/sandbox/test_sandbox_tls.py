"""``sandbox up --tls``: the runbook it writes trusts the sandbox's certificate, and clients that do not trust it
cost the server one log line each, never a traceback."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from incidentctl.cli.app import app
from incidentctl.cli.state import AppState
from incidentctl.sandbox.sandbox_runbook import write_runbook


def _require_openssl() -> None:
    if shutil.which("openssl") is None:
        if os.environ.get("INCIDENTCTL_REQUIRE_INTEGRATION") == "1":
            pytest.fail("openssl is needed for the sandbox's TLS certificate")
        pytest.skip("openssl is not installed (the sandbox makes its TLS certificate with it)")


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("KUBE", "INCIDENTCTL"))}


def test_detect_on_a_tls_sandbox_trusts_its_certificate(tmp_path: Path) -> None:
    _require_openssl()
    directory = tmp_path / "drill"
    proc = subprocess.Popen(
        [sys.executable, "-m", "incidentctl", "sandbox", "up", "--tls", "--dir", str(directory), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_clean_env(),
    )
    try:
        assert proc.stdout is not None
        banner = [proc.stdout.readline() for _ in range(6)]
        url = banner[0].split()[4]
        assert url.startswith("https://127.0.0.1:")
        assert any("tls: {ca_file: tls/sandbox.crt}" in line for line in banner), banner
        runbook = yaml.safe_load((directory / "runbook.yaml").read_text())
        assert runbook["tls"] == {"ca_file": "tls/sandbox.crt"}

        # from another folder: the runbook's relative ca_file resolves against the runbook's own folder
        result = CliRunner().invoke(
            app,
            [
                "detect",
                "-o",
                "json",
                "--runbook",
                str(directory / "runbook.yaml"),
                "--kubeconfig",
                str(directory / "kubeconfig"),
            ],
            obj=AppState(cwd=tmp_path, env={"INCIDENTCTL_ACTOR": "tester"}),
        )
        assert result.exit_code == 0, result.output
        checks = json.loads(result.stdout)["data"]["checks"]
        https = [c for c in checks if str(c["target"]).startswith("https://")]
        assert {c["kind"] for c in https} >= {"http", "dependency", "alerts"}
        assert any(c["kind"] == "signal" for c in checks)  # Prometheus' queries, over the same HTTPS
        assert [c for c in checks if c["health"] != "ok"] == []

        # clients that do not trust the certificate, or do not speak TLS at all
        port = int(url.rsplit(":", 1)[1])
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(f"{url}/components/gateway/health", timeout=5)
        plain = urllib.request.Request(f"http://127.0.0.1:{port}/components/gateway/health")
        with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
            urllib.request.urlopen(plain, timeout=5)
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass  # connects and hangs up before any handshake
        insecure = ssl.create_default_context()
        insecure.check_hostname = False
        insecure.verify_mode = ssl.CERT_NONE
        with urllib.request.urlopen(f"{url}/components/gateway/health", timeout=5, context=insecure) as answer:
            assert answer.status == 200  # the server still serves after all of that

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        err = proc.stderr.read() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "Traceback" not in err
    handshakes = [line for line in err.splitlines() if "TLS handshake" in line]
    assert 2 <= len(handshakes) <= 3, err
    assert any("unknown ca" in line for line in handshakes), err
    assert all(line.startswith("sandbox: TLS handshake with 127.0.0.1:") for line in handshakes), err
    assert [line for line in err.splitlines() if line not in handshakes] == ["sandbox stopped"], err


@pytest.mark.parametrize(
    ("content", "problem"),
    [(None, "No such file or directory"), ("not a certificate\n", "no certificate in it")],
    ids=["missing", "not-pem"],
)
def test_a_runbook_ca_file_that_cannot_be_used_is_one_line(tmp_path: Path, content: str | None, problem: str) -> None:
    path = write_runbook(tmp_path / "runbook.yaml", "https://127.0.0.1:9", ca_file="ca.pem")
    if content is not None:
        (tmp_path / "ca.pem").write_text(content)
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "c",
                "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:9"}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
            }
        )
    )
    result = CliRunner().invoke(
        app,
        ["detect", "--runbook", str(path), "--kubeconfig", str(kubeconfig)],
        obj=AppState(cwd=tmp_path, env={"INCIDENTCTL_ACTOR": "tester"}),
    )
    assert result.exit_code == 2, result.output
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"error: runbook tls.ca_file {tmp_path / 'ca.pem'}: "), first
    assert problem in first
    assert "Traceback" not in result.output
