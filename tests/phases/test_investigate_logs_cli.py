"""``incidentctl investigate logs`` against the sandbox: every pod in time order, the same lines real kubectl reads,
``--grep``, ``--previous``, ``-o json`` one document a line, ``--follow`` with pods joining and leaving, Ctrl-C and
a closed pipe."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from tests.conftest import Invoke
from tests.phases.conftest import Site, run
from tests.phases.test_closed_pipe import _assert_quiet_141, _into_finished_head
from tests.phases.test_investigate_logs_fetch import NS, pods_of
from tests.phases.test_output_schemas import valid

from incidentctl.adapters.kube import KubeClient
from incidentctl.core.times import parse_rfc3339
from incidentctl.sandbox.testing import advance_in_background, kubectl_for


def _prefixed(stdout: str) -> list[tuple[datetime, str, str, str]]:
    """``--timestamps`` output: (time, pod, container, text) per line."""
    out = []
    for raw in stdout.splitlines():
        stamp, pod, container, text = raw.split(" ", 3)
        out.append((parse_rfc3339(stamp), pod, container, text))
    return out


def test_every_pod_in_time_order_with_a_pod_prefix(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    site.sandbox.advance(120)
    result = run(invoke, site, "investigate", "logs", "gateway", "retrieval", "--timestamps")
    assert result.exit_code == 0, result.output
    lines = _prefixed(result.stdout)
    assert {pod for _t, pod, _c, _x in lines} == set(pods_of(site, "gateway-") + pods_of(site, "retrieval-"))
    times = [t for t, *_ in lines]
    assert times == sorted(times)
    assert "\x1b[" not in result.stdout  # not a terminal: no colour


def test_the_lines_are_the_ones_kubectl_reads(invoke: Invoke, site_for: Callable[..., Site], tmp_path: Path) -> None:
    site = site_for("healthy")
    site.sandbox.advance(60)
    kubectl = kubectl_for(site.sandbox, tmp_path)
    result = run(invoke, site, "investigate", "logs", "synthesis", "--tail", "7")
    assert result.exit_code == 0, result.output
    ours = [raw.split(" ", 2) for raw in result.stdout.splitlines()]
    for pod in pods_of(site, "synthesis-"):
        theirs = kubectl("logs", "-n", NS, pod, "-c", "synthesis", "--tail", "7")
        assert theirs.returncode == 0, theirs.stderr
        assert [text for p, _c, text in ours if p == pod] == theirs.stdout.splitlines()


def test_json_is_one_document_a_line(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    site.sandbox.advance(60)
    result = run(invoke, site, "investigate", "logs", "gateway", "--tail", "3", "-o", "json")
    assert result.exit_code == 0, result.output
    docs = [valid(json.loads(raw), "LogLine") for raw in result.stdout.splitlines()]
    assert len(docs) == 3 * len(pods_of(site, "gateway-"))
    assert set(docs[0]["data"]) == {"time", "component", "pod", "container", "previous", "text"}
    times = [parse_rfc3339(d["data"]["time"]) for d in docs]
    assert times == sorted(times)


def test_grep_selects_lines(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("bad-deploy")
    site.sandbox.advance(120)
    everything = run(invoke, site, "investigate", "logs", "gateway")
    errors = run(invoke, site, "investigate", "logs", "gateway", "--grep", r"status=5\d\d")
    shouting = run(invoke, site, "investigate", "logs", "gateway", "--grep", "ERROR", "-i")
    assert errors.exit_code == 0, errors.output
    assert 0 < len(errors.stdout.splitlines()) < len(everything.stdout.splitlines())
    assert all("status=5" in raw for raw in errors.stdout.splitlines())
    assert len(shouting.stdout.splitlines()) >= len(errors.stdout.splitlines())


@pytest.mark.parametrize(
    ("pattern", "needle"),
    [
        ("(unclosed", "not a valid regular expression"),
        ("[z-a]", "not a valid regular expression"),
        ("*", "not a valid regular expression"),
        ("x" * 1001, "at most 1000"),
        # catastrophic backtracking on an ordinary log line: stopped, not waited for
        ("(.*)*NEVER", "backtracks catastrophically"),
        (r"^(\S+\s?)*NEVER$", "backtracks catastrophically"),
    ],
)
def test_a_bad_grep_is_a_usage_error_on_one_line(
    invoke: Invoke, site_for: Callable[..., Site], pattern: str, needle: str
) -> None:
    site = site_for("healthy")
    site.sandbox.advance(30)
    result = run(invoke, site, "investigate", "logs", "gateway", "--grep", pattern)
    assert result.exit_code == 2
    assert needle in result.stderr
    assert result.stderr.count("error:") == 1
    assert "Traceback" not in result.output


def test_previous_shows_crash_loops_and_says_which_pods_have_none(
    invoke: Invoke, site_for: Callable[..., Site]
) -> None:
    site = site_for("bad-deploy")
    site.sandbox.advance(300)
    result = run(invoke, site, "investigate", "logs", "synthesis", "--previous")
    assert result.exit_code == 0, result.output
    shown = {raw.split(" ", 3)[0] for raw in result.stdout.splitlines()}
    assert shown
    assert all(raw.split(" ", 3)[2] == "(previous)" for raw in result.stdout.splitlines())
    client = KubeClient(kubeconfig=str(site.kubeconfig))
    try:
        pods = [p for p in client.list("pods", NS) if p["metadata"]["name"].startswith("synthesis-")]
    finally:
        client.close()
    restarted = {p["metadata"]["name"] for p in pods if p["status"]["containerStatuses"][0]["restartCount"]}
    assert shown == restarted
    for pod in {p["metadata"]["name"] for p in pods} - restarted:
        assert f"{pod}/synthesis has not restarted" in result.stderr


def test_previous_on_a_healthy_component_says_so(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    result = run(invoke, site, "investigate", "logs", "gateway", "-p")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr.count("has not restarted") == len(pods_of(site, "gateway-"))
    assert "no log was read" in result.stderr


def test_an_unreadable_pod_is_named_and_the_rest_are_shown(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    site.sandbox.advance(30)
    victim, *others = pods_of(site, "gateway-")
    site.sandbox.faults.errors(403, path=f"/api/v1/namespaces/{NS}/pods/{victim}/log")
    result = run(invoke, site, "investigate", "logs", "gateway")
    assert result.exit_code == 3
    assert victim in result.stderr
    assert "warning:" in result.stderr
    assert {raw.split(" ", 1)[0] for raw in result.stdout.splitlines()} == set(others)
    as_json = run(invoke, site, "investigate", "logs", "gateway", "-o", "json")
    problems = [d for d in map(json.loads, as_json.stdout.splitlines()) if d["kind"] == "LogProblem"]
    assert [valid(d, "LogProblem")["data"]["pod"] for d in problems] == [victim]
    assert problems[0]["data"]["problem"] == "failed"


def test_a_component_without_pods_says_so(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    client = KubeClient(kubeconfig=str(site.kubeconfig))
    try:
        client.patch("deployments", NS, "retrieval", {"spec": {"replicas": 0}})
    finally:
        client.close()
    site.sandbox.advance(60)
    result = run(invoke, site, "investigate", "logs", "retrieval")
    assert result.exit_code == 3
    assert "retrieval: no pods match" in result.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["nosuch"], "no component named nosuch"),
        (["--since", "yesterday-ish"], "--since"),
        (["--tail", "-5"], "--tail"),
        (["--previous", "--follow"], "exclude each other"),
    ],
)
def test_usage_errors(invoke: Invoke, site_for: Callable[..., Site], args: list[str], needle: str) -> None:
    site = site_for("healthy")
    result = run(invoke, site, "investigate", "logs", *args)
    assert result.exit_code == 2, result.output
    assert needle in result.stderr
    assert "Traceback" not in result.output


def test_since_takes_a_time_too(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    site.sandbox.advance(600)
    full = _prefixed(run(invoke, site, "investigate", "logs", "gateway", "--timestamps").stdout)
    cut = full[len(full) // 2][0].replace(microsecond=0)
    later = run(invoke, site, "investigate", "logs", "gateway", "--timestamps", "--since", cut.isoformat())
    assert later.exit_code == 0, later.output
    lines = _prefixed(later.stdout)
    assert 0 < len(lines) < len(full)
    assert all(t >= cut for t, *_ in lines)


def test_a_closed_pipe_is_141(site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    site.sandbox.advance(60)
    for args in (["investigate", "logs"], ["investigate", "logs", "-o", "json"]):
        _assert_quiet_141(_into_finished_head(site.args(*args), site.runbook.parent))


# --- --follow, in a real process: lines as they are written, pods joining and leaving, Ctrl-C -------------------


class _Reader:
    """Collects a subprocess's stream on a thread, so the test can wait for a line without blocking on it."""

    def __init__(self, stream: object) -> None:
        self.lines: list[str] = []
        self._stream = stream
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for raw in self._stream:  # type: ignore[attr-defined]
            self.lines.append(raw.rstrip("\n"))

    def wait_for(self, predicate: Callable[[str], bool], timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = next((line for line in list(self.lines) if predicate(line)), None)
            if found is not None:
                return found
            time.sleep(0.05)
        raise AssertionError(f"no such line within {timeout}s; got: {self.lines[-20:]}")


def test_follow_streams_new_pods_join_gone_pods_leave_and_ctrl_c_is_130(site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    sb = site.sandbox
    before = set(pods_of(site, "gateway-"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "incidentctl", *site.args("investigate", "logs", "gateway", "-f", "--tail", "1")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "INCIDENTCTL_ACTOR": "tester"},
    )
    out, err = _Reader(proc.stdout), _Reader(proc.stderr)
    try:
        for pod in before:
            joined = f"+ {pod} › gateway"
            err.wait_for(joined.__eq__)
        first = len(out.lines)
        mover = advance_in_background(sb, 60, step=2.0, pause=0.1)
        out.wait_for(lambda line: len(out.lines) > first + len(before))  # lines keep coming as they are written
        mover.join()
        client = KubeClient(kubeconfig=str(site.kubeconfig))
        try:
            client.patch("deployments", NS, "gateway", {"spec": {"replicas": len(before) + 1}})
            sb.advance(10)
            (new,) = set(pods_of(site, "gateway-")) - before
            err.wait_for(lambda line: line == f"+ {new} › gateway")
            mover = advance_in_background(sb, 20, step=2.0, pause=0.1)
            out.wait_for(lambda line: line.startswith(f"{new} gateway "))  # its log from its start
            mover.join()
            client.patch("deployments", NS, "gateway", {"spec": {"replicas": len(before)}})
            mover = advance_in_background(sb, 60, step=2.0, pause=0.2)
            left = err.wait_for(lambda line: line.startswith("- gateway-"))
            mover.join()
        finally:
            client.close()
        assert left.removeprefix("- ").removesuffix(" › gateway") not in set(pods_of(site, "gateway-"))
        assert proc.poll() is None  # a pod going away does not end the follow
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "Traceback" not in "\n".join(err.lines)
    assert "Aborted" not in "\n".join(err.lines)


def test_follow_into_a_closed_pipe_is_141(site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    site.sandbox.advance(30)
    proc = _into_finished_head(site.args("investigate", "logs", "gateway", "-f", "--tail", "1"), site.runbook.parent)
    _assert_quiet_141(proc)
