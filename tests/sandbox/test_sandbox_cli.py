"""``incidentctl sandbox scenarios|up|inject``, end to end: a real process serving, kubectl and the runbook
pointed at it, an incident injected while it runs, a clean stop on SIGTERM."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from incidentctl.cli.app import app
from incidentctl.cli.state import AppState
from incidentctl.sandbox.sandbox import Sandbox
from incidentctl.sandbox.testing import require_kubectl


def test_scenarios_lists_every_scenario(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["sandbox", "scenarios", "-o", "json"], obj=AppState(cwd=tmp_path))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)["data"]
    assert [d["name"] for d in data][:3] == ["healthy", "bad-deploy", "db-outage"]
    assert all(d["mitigation"] for d in data)
    table = CliRunner().invoke(app, ["sandbox", "scenarios"], obj=AppState(cwd=tmp_path))
    assert "cache-corruption" in table.stdout
    assert "SCENARIO" in table.stdout
    assert "rollout undo" not in table.stdout  # no spoilers for responders by default
    answers = CliRunner().invoke(
        app, ["sandbox", "scenarios", "--mitigations"], obj=AppState(cwd=tmp_path), env={"COLUMNS": "250"}
    )
    assert "MITIGATION" in answers.stdout
    assert "rollout undo deployment/synthesis" in answers.stdout


def test_inject_switches_a_running_sandbox(sandbox_factory: Callable[..., Sandbox], tmp_path: Path) -> None:
    sb = sandbox_factory("healthy")
    sb.write_kubeconfig(tmp_path / "drill" / "kubeconfig")
    result = CliRunner().invoke(
        app, ["sandbox", "inject", "traffic-spike", "--dir", "drill", "-o", "json"], obj=AppState(cwd=tmp_path)
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)["data"]
    assert data["scenario"] == "traffic-spike"
    assert sb.scenario == "traffic-spike"
    assert data["signals"]["gateway"]["p95Seconds"] > 30


def test_inject_errors_are_one_line_with_exit_codes(sandbox_factory: Callable[..., Sandbox], tmp_path: Path) -> None:
    missing = CliRunner().invoke(
        app, ["sandbox", "inject", "db-outage", "--dir", "nowhere"], obj=AppState(cwd=tmp_path)
    )
    assert missing.exit_code == 2
    assert "no sandbox kubeconfig at" in missing.stderr
    assert "Traceback" not in missing.output
    unknown = CliRunner().invoke(app, ["sandbox", "inject", "meteor-strike"], obj=AppState(cwd=tmp_path))
    assert unknown.exit_code == 2
    assert "unknown scenario 'meteor-strike'" in unknown.stderr
    sb = sandbox_factory("healthy")
    sb.write_kubeconfig(tmp_path / "gone" / "kubeconfig")
    sb.stop()
    down = CliRunner().invoke(app, ["sandbox", "inject", "db-outage", "--dir", "gone"], obj=AppState(cwd=tmp_path))
    assert down.exit_code == 4
    assert "no sandbox answering at http://127.0.0.1:" in down.stderr


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_up_serves_until_sigterm(tmp_path: Path, tls: bool) -> None:
    binary = require_kubectl()
    if tls and shutil.which("openssl") is None:
        pytest.skip("openssl is not installed (the sandbox makes its TLS certificate with it)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBE", "INCIDENTCTL"))}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "incidentctl",
            "sandbox",
            "up",
            "--scenario",
            "bad-deploy",
            "--dir",
            str(tmp_path / "sb"),
            "--port",
            "0",
            *(["--tls"] if tls else []),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith(f"SarvanOM sandbox serving on {'https' if tls else 'http'}://127.0.0.1:"), first
        kubeconfig = tmp_path / "sb" / "kubeconfig"
        assert oct(kubeconfig.stat().st_mode & 0o777) == "0o600"
        pods = subprocess.run(
            [binary, "--kubeconfig", str(kubeconfig), "--cache-dir", str(tmp_path / "cache"), "get", "pods"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert pods.returncode == 0
        assert pods.stderr == ""
        assert "CrashLoopBackOff" in pods.stdout
        runbook = yaml.safe_load((tmp_path / "sb" / "runbook.yaml").read_text())
        url = first.split()[4]
        assert runbook["observability"]["prometheus"]["url"] == f"{url}/prometheus"
        assert runbook["components"][0]["health"]["url"] == f"{url}/components/gateway/health"
        injected = CliRunner().invoke(
            app, ["sandbox", "inject", "healthy", "--dir", str(tmp_path / "sb")], obj=AppState(cwd=tmp_path)
        )
        assert injected.exit_code == 0, injected.output
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        assert "sandbox stopped" in (proc.stderr.read() if proc.stderr else "")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_up_refuses_a_busy_port(sandbox_factory: Callable[..., Sandbox], tmp_path: Path) -> None:
    sb = sandbox_factory("healthy")
    result = CliRunner().invoke(
        app, ["sandbox", "up", "--port", str(sb.port), "--dir", "x"], obj=AppState(cwd=tmp_path)
    )
    assert result.exit_code == 2
    assert f"cannot serve on 127.0.0.1:{sb.port}" in result.stderr


def test_the_written_runbook_is_valid(tmp_path: Path) -> None:
    from incidentctl.runbook.loader import load_runbook
    from incidentctl.sandbox.sandbox_runbook import write_runbook

    path = write_runbook(tmp_path / "runbook.yaml", "http://127.0.0.1:6443")
    runbook = load_runbook(path)
    assert runbook.cluster.namespace == "sarvanom-production"
    assert all(
        str(c.health.url).startswith("http://127.0.0.1:6443/components/") for c in runbook.components if c.health
    )
    assert [str(d.check.url) for d in runbook.dependencies] == [
        "http://127.0.0.1:6443/deps/openai/v1/models",
        "http://127.0.0.1:6443/deps/anthropic/v1/models",
    ]
    assert runbook.journal.dir == "incidents"


def test_sandbox_is_not_imported_by_other_commands() -> None:
    code = (
        "import sys; from typer.testing import CliRunner; from incidentctl.cli.app import app; "
        "CliRunner().invoke(app, ['--help']); CliRunner().invoke(app, ['sandbox', '--help']); "
        "print(sorted(m for m in sys.modules if m.startswith('incidentctl.sandbox')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"


def test_tls_sandbox_checks_the_token(tmp_path: Path) -> None:
    import ssl
    import urllib.error
    import urllib.request

    from incidentctl.sandbox.testing import kubectl_for, running_sandbox

    if shutil.which("openssl") is None:
        if os.environ.get("INCIDENTCTL_REQUIRE_INTEGRATION") == "1":
            pytest.fail("openssl is needed for the sandbox's TLS certificate")
        pytest.skip("openssl is not installed (the sandbox makes its TLS certificate with it)")
    with running_sandbox("db-outage", tls_dir=tmp_path / "tls") as sb:
        assert sb.url.startswith("https://127.0.0.1:")
        k = kubectl_for(sb, tmp_path)
        pods = k("get", "pods")
        assert pods.returncode == 0
        assert pods.stderr == ""
        assert "postgres-0" in pods.stdout
        psql = k("exec", "postgres-0", "--", "psql", "-U", "sarvanom", "-d", "sarvanom_production", "-c", "SELECT 1;")
        assert psql.returncode == 2
        assert "remaining connection slots" in psql.stderr
        context = ssl.create_default_context(cafile=str(sb.ca_file))
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{sb.url}/api/v1/pods", context=context, timeout=5)
        assert refused.value.code == 401
        injected = CliRunner().invoke(
            app, ["sandbox", "inject", "healthy", "--dir", str(tmp_path)], obj=AppState(cwd=tmp_path)
        )
        assert injected.exit_code == 0, injected.output
        assert sb.scenario == "healthy"


def test_status_shows_the_scenario_and_its_signals(sandbox_factory: Callable[..., Sandbox], tmp_path: Path) -> None:
    sb = sandbox_factory("db-outage")
    sb.write_kubeconfig(tmp_path / ".sandbox" / "kubeconfig")
    table = CliRunner().invoke(app, ["sandbox", "status"], obj=AppState(cwd=tmp_path))
    assert table.exit_code == 0, table.output
    assert "plays db-outage" in table.stdout
    retrieval = next(line for line in table.stdout.splitlines() if line.startswith("retrieval"))
    assert retrieval.split()[1:3] == ["3/3", "58%"]
    assert retrieval.split()[-1] == "db-outage"
    data = json.loads(CliRunner().invoke(app, ["sandbox", "status", "-o", "json"], obj=AppState(cwd=tmp_path)).stdout)
    assert data["kind"] == "SandboxStatus"
    assert data["data"]["signals"]["retrieval"]["cause"] == "db-outage"


def _up(directory: Path, *extra: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBE", "INCIDENTCTL"))}
    return subprocess.Popen(
        [sys.executable, "-m", "incidentctl", "sandbox", "up", "--dir", str(directory), "--port", "0", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_up_refuses_a_folder_a_running_sandbox_holds_and_takes_over_a_killed_ones(tmp_path: Path) -> None:
    directory = tmp_path / "drill"
    first = _up(directory, "--scenario", "bad-deploy")
    try:
        assert first.stdout is not None
        url = first.stdout.readline().split()[4]
        written = {name: (directory / name).read_bytes() for name in ("kubeconfig", "runbook.yaml")}
        second = _up(directory)
        try:
            out, err = second.communicate(timeout=20)
        finally:
            _stop(second)
        assert second.returncode == 2
        assert out == ""
        assert err.splitlines()[0] == (
            f"error: --dir {directory} is in use by the sandbox serving on {url} (pid {first.pid})"
        )
        assert "Traceback" not in err
        assert {name: (directory / name).read_bytes() for name in written} == written
        still = CliRunner().invoke(
            app, ["sandbox", "status", "--dir", str(directory), "-o", "json"], obj=AppState(cwd=tmp_path)
        )
        assert still.exit_code == 0, still.output
        assert json.loads(still.stdout)["data"]["scenario"] == "bad-deploy"
        first.kill()  # no clean-up: the lock file and the holder's details stay behind
        first.wait()
        third = _up(directory)
        try:
            assert third.stdout is not None
            line = third.stdout.readline()
            assert line.startswith("SarvanOM sandbox serving on http://127.0.0.1:"), line
            assert (
                yaml.safe_load((directory / "kubeconfig").read_text())["clusters"][0]["cluster"]["server"]
                == (line.split()[4])
            )
            third.send_signal(signal.SIGTERM)
            assert third.wait(timeout=15) == 0
        finally:
            _stop(third)
    finally:
        _stop(first)


def test_inject_replaces_the_scenario_and_says_so(sandbox_factory: Callable[..., Sandbox], tmp_path: Path) -> None:
    from incidentctl.sandbox import resources, world
    from incidentctl.sandbox.tables import pod_status

    sb = sandbox_factory("bad-deploy")
    sb.write_kubeconfig(tmp_path / "drill" / "kubeconfig")
    helped = CliRunner().invoke(
        app, ["sandbox", "inject", "--help"], obj=AppState(cwd=tmp_path), env={"COLUMNS": "200"}
    )
    assert "It replaces, never stacks" in helped.stdout
    result = CliRunner().invoke(
        app,
        ["sandbox", "inject", "traffic-spike", "--dir", "drill"],
        obj=AppState(cwd=tmp_path),
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1] == (
        "bad-deploy's faults are cleared, a broken revision rolled back; what responders changed stays"
    )
    machine = CliRunner().invoke(
        app, ["sandbox", "inject", "traffic-spike", "--dir", "drill", "-o", "json"], obj=AppState(cwd=tmp_path)
    )
    assert json.loads(machine.stdout)["data"]["replaced"] == "traffic-spike"
    sb.advance(120)
    synthesis = [p for p in sb.store.list(resources.PODS, world.NAMESPACE) if world.component_of(p) == "synthesis"]
    assert synthesis
    assert all(p["spec"]["containers"][0]["image"] not in world.BROKEN_IMAGES for p in synthesis)
    assert all(pod_status(p)[0] == "Running" for p in synthesis)
    signals = sb.describe()["signals"]
    assert signals["synthesis"]["cause"] == ""
    assert signals["gateway"]["cause"] == "traffic-spike"


def test_status_shows_what_each_channel_stand_in_received(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    import httpx

    from incidentctl.sandbox.notify_standins import STATUSPAGE_PAGE, Credentials
    from incidentctl.sandbox.sandbox_runbook import write_runbook

    creds = Credentials()
    sb = sandbox_factory("healthy")
    folder = tmp_path / ".sandbox"
    sb.write_kubeconfig(folder / "kubeconfig")
    write_runbook(folder / "runbook.yaml", sb.url, credentials=creds)
    bearer = {"Authorization": f"Bearer {creds.slack_bot_token}"}
    with httpx.Client(base_url=sb.url, timeout=10) as web:
        room = web.post("/slack/api/conversations.create", headers=bearer, json={"name": "inc-2026-001-gw"}).json()
        cid = room["channel"]["id"]
        web.post("/slack/api/conversations.setTopic", headers=bearer, json={"channel": cid, "topic": "P1 | IC alice"})
        metadata = {"event_type": "incident_update", "event_payload": {"key": "INC-2026-001/status/slack"}}
        posted = web.post(
            "/slack/api/chat.postMessage",
            headers=bearer,
            json={"channel": cid, "text": "Status: investigating", "metadata": metadata},
        ).json()
        web.post(
            "/slack/api/chat.update",
            headers=bearer,
            json={"channel": cid, "ts": posted["ts"], "text": "Status: mitigated"},
        )
        web.post(
            f"/statuspage/v1/pages/{STATUSPAGE_PAGE}/incidents",
            headers={"Authorization": f"OAuth {creds.statuspage_api_key}"},
            json={"incident": {"name": "Gateway down", "status": "investigating", "body": "Looking."}},
        )
        web.post(
            "/pagerduty/v2/enqueue",
            json={
                "routing_key": creds.pagerduty_routing_key,
                "event_action": "trigger",
                "dedup_key": "INC-2026-001",
                "payload": {"summary": "[P1] gateway down", "source": "incidentctl", "severity": "critical"},
            },
        )
    outbox = folder / "outbox" / "email"
    outbox.mkdir(parents=True)
    (outbox / "INC-2026-001-initial-1-email.eml").write_text("Subject: INC-2026-001\n\nhello\n", encoding="utf-8")

    data = json.loads(CliRunner().invoke(app, ["sandbox", "status", "-o", "json"], obj=AppState(cwd=tmp_path)).stdout)
    channels = data["data"]["channels"]
    slack = next(c for c in channels["slack"]["channels"] if c["name"] == "inc-2026-001-gw")
    assert slack["topic"] == "P1 | IC alice"
    assert [(m["text"], m["edits"], m["key"]) for m in slack["messages"]] == [
        ("Status: mitigated", 1, "INC-2026-001/status/slack")
    ]
    incident = channels["statuspage"]["incidents"][0]
    assert (incident["name"], incident["status"], [u["body"] for u in incident["updates"]]) == (
        "Gateway down",
        "investigating",
        ["Looking."],
    )
    assert [(i["dedupKey"], i["status"], len(i["events"])) for i in channels["pagerduty"]["incidents"]] == [
        ("INC-2026-001", "triggered", 1)
    ]
    assert channels["files"] == [
        {"channel": "email", "path": "outbox/email/INC-2026-001-initial-1-email.eml", "bytes": 29}
    ]
    assert creds.slack_bot_token not in json.dumps(data)

    table = CliRunner().invoke(app, ["sandbox", "status"], obj=AppState(cwd=tmp_path), env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    assert "#inc-2026-001-gw" in table.stdout
    assert "Status: mitigated" in table.stdout
    assert "edited 1" in table.stdout
    assert "Gateway down" in table.stdout
    assert "INC-2026-001" in table.stdout
    assert "outbox/email/INC-2026-001-initial-1-email.eml" in table.stdout


def test_fault_makes_a_channel_stand_in_fail_for_a_while(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    import httpx

    from incidentctl.sandbox.notify_standins import Credentials

    sb = sandbox_factory("healthy")
    sb.write_kubeconfig(tmp_path / ".sandbox" / "kubeconfig")

    def run(*args: str) -> Any:
        return CliRunner().invoke(app, ["sandbox", "fault", *args], obj=AppState(cwd=tmp_path))

    added = run("slack", "--status", "429", "--retry-after", "30", "--count", "2", "-o", "json")
    assert added.exit_code == 0, added.output
    [fault] = json.loads(added.stdout)["data"]["faults"]
    assert (fault["target"], fault["status"], fault["retryAfter"], fault["remaining"]) == ("slack", 429, 30, 2)
    hook = Credentials().slack_webhook_path()
    with httpx.Client(base_url=sb.url, timeout=10) as web:
        answers = [web.post(hook, json={"text": "x"}) for _ in range(3)]
    assert [a.status_code for a in answers] == [429, 429, 200]
    assert answers[0].headers["Retry-After"] == "30"
    run("pagerduty", "--status", "500")
    listed = run()
    assert listed.exit_code == 0, listed.output
    assert "pagerduty: HTTP 500, until cleared" in listed.stdout
    cleared = run("--clear", "-o", "json")
    assert json.loads(cleared.stdout)["data"]["faults"] == []
    assert sb.faults.describe() == []
    for wrong, message in (
        (("smtp", "--status", "500"), "unknown fault target 'smtp'"),
        (("slack",), "give exactly one of --status CODE or --hang SECONDS"),
        (("slack", "--status", "500", "--hang", "3"), "give exactly one of --status CODE or --hang SECONDS"),
        (("--status", "500"), "name the TARGET"),
        (("slack", "--hang", "3", "--retry-after", "1"), "--retry-after goes with --status"),
    ):
        refused = run(*wrong)
        assert refused.exit_code == 2, (wrong, refused.output)
        assert message in refused.stderr
        assert "Traceback" not in refused.output
    assert sb.faults.describe() == []
