"""A sandbox whose clock runs faster than the wall clock (``Sandbox(realtime=True, speed=N)``, ``sandbox up
--speed N``): a rollout of a simulated minute takes seconds, and what kubectl shows stays consistent with the
cluster's own time. Only lower bounds on simulated time: a slow machine may move it further, never less."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from incidentctl.cli.app import app
from incidentctl.cli.state import AppState
from incidentctl.sandbox.clock import SimClock, parse_time
from incidentctl.sandbox.sandbox import Sandbox
from incidentctl.sandbox.testing import kubectl_for

SPEED = 30


def _seconds(age: str) -> int:
    """kubectl's AGE column back into seconds (only the shapes a few simulated minutes produce)."""
    match = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", age)
    assert age, "an empty age"
    assert match, f"not an age: {age!r}"
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def test_simulated_time_runs_n_times_the_wall_clock_and_a_rollout_takes_seconds(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    sb = sandbox_factory("memory-leak", realtime=True, speed=SPEED)
    kubectl = kubectl_for(sb, tmp_path)
    before = sb.now()
    time.sleep(1.0)
    assert (sb.now() - before).total_seconds() >= SPEED * 1.0

    restarted_at = sb.now()
    kubectl.run("rollout", "restart", "deployment/retrieval", check=True)
    # three pods replaced one at a time: about a simulated minute, a few seconds here (kubectl's own timeout is
    # the safety net, in simulated terms far beyond what the rollout needs)
    status = kubectl.run("rollout", "status", "deployment/retrieval", "--timeout=120s", timeout=150)
    assert status.returncode == 0, status.stderr
    assert "successfully rolled out" in status.stdout

    pods = kubectl.run("get", "pods", "--no-headers", check=True).stdout
    assert "<invalid>" not in pods
    ages = {line.split()[0]: line.split()[-1] for line in pods.splitlines()}
    elapsed = (sb.now() - restarted_at).total_seconds()
    fresh = {name: _seconds(age) for name, age in ages.items() if name.startswith("retrieval-")}
    assert len(fresh) == 3, pods
    for name, age in fresh.items():
        # the new pods were made after the restart, on the cluster's clock
        assert 0 <= age <= elapsed + 1, (name, age, elapsed)
    # the pods nobody touched are as old as the simulated history behind them, and older than the new ones
    assert all(_seconds(age) >= 3 * 3600 for name, age in ages.items() if name.startswith("gateway-")), pods

    events = kubectl.run("get", "events", "--no-headers", check=True).stdout
    assert "<invalid>" not in events


def test_a_running_clock_goes_on_from_its_frozen_time_and_never_back() -> None:
    ahead = datetime.now(timezone.utc) + timedelta(hours=1)
    clock = SimClock(ahead, frozen=True, speed=SPEED)
    clock.unfreeze()
    first = clock.now()
    assert first >= ahead
    time.sleep(0.2)
    assert (clock.now() - first).total_seconds() >= SPEED * 0.2
    with pytest.raises(RuntimeError):
        clock.advance(1)
    assert clock.wall_seconds(60) == 60 / SPEED


@pytest.mark.parametrize("speed", [0, -2])
def test_a_clock_refuses_a_speed_that_does_not_move_forward(speed: float) -> None:
    with pytest.raises(ValueError, match="speed"):
        SimClock(speed=speed)


def test_frozen_sandboxes_keep_their_clock_still(sandbox_factory: Callable[..., Sandbox]) -> None:
    sb = sandbox_factory("healthy", speed=SPEED)
    before = sb.now()
    time.sleep(0.2)
    assert sb.now() == before
    sb.advance(10)
    assert sb.now() - before == timedelta(seconds=10)


def test_sandbox_up_speed_runs_the_served_cluster_faster(tmp_path: Path) -> None:
    directory = tmp_path / "drill"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBE", "INCIDENTCTL"))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "incidentctl", "sandbox", "up", "--dir", str(directory), "--speed", str(SPEED)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("SarvanOM sandbox serving on http://127.0.0.1:"), line
        assert f"{SPEED}x" in line

        def cluster_time() -> datetime:
            status = CliRunner().invoke(
                app, ["sandbox", "status", "--dir", str(directory), "-o", "json"], obj=AppState(cwd=tmp_path)
            )
            assert status.exit_code == 0, status.output
            return parse_time(json.loads(status.stdout)["data"]["time"])

        first = cluster_time()
        time.sleep(1.0)
        # the status shows whole seconds: one of them may be lost to rounding
        assert (cluster_time() - first).total_seconds() >= SPEED * 1.0 - 1
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("speed", ["0", "-1", "fast"])
def test_sandbox_up_refuses_a_speed_that_is_not_a_positive_number(tmp_path: Path, speed: str) -> None:
    result = CliRunner().invoke(
        app, ["sandbox", "up", "--dir", str(tmp_path / "sb"), "--speed", speed], obj=AppState(cwd=tmp_path)
    )
    assert result.exit_code == 2, result.output
    assert "--speed" in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "sb" / "kubeconfig").exists()
