"""Real Prometheus and Alertmanager (the Debian packages) on loopback, started once per test session.

An exporter made with ``prometheus-client`` serves request counters and a latency histogram shaped like what the
runbook's ``signals:`` query (``http_requests_total{namespace,service,code}``,
``http_request_duration_seconds_bucket{namespace,service,le}``). Every counter grows at a fixed rate from the
moment the exporter starts, so ``rate()`` over any window gives exact ratios as soon as Prometheus holds two
scrapes, whatever the window's length:

- sarvanom-production/gateway: 100 req/s, 8/s answered 500 and 4/s answered 503: an error rate of 12 %;
  half the requests take up to 100 ms, 90 % up to 250 ms, all up to 500 ms: a p95 of 375 ms.
- sarvanom-production/retrieval: 50 req/s, all 200, all within 100 ms: no errors, a p95 of 95 ms. Its 500
  counter exists and stays at 0, as in an application that initialises its label sets.
- sarvanom-production/synthesis: no requests at all (its 200 and 500 counters stay at 0): both signals are NaN.
- sarvanom-production/notifier: 10 req/s, all 200, and no 500 series ever: a plain ratio of sums would have no
  series to divide and return nothing; the runbook's error_rate query (``... or vector(0)``) gives 0.
- staging/gateway: 10 req/s, all 500: an error rate of 100 % that must not leak into production's numbers.

Without the binaries these tests skip and say why; with ``INCIDENTCTL_REQUIRE_INTEGRATION=1`` (CI) they fail.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

PRODUCTION = "sarvanom-production"
STAGING = "staging"

#: Requests per second by (namespace, service, code).
RATES: dict[tuple[str, str, str], float] = {
    (PRODUCTION, "gateway", "200"): 88.0,
    (PRODUCTION, "gateway", "500"): 8.0,
    (PRODUCTION, "gateway", "503"): 4.0,
    (PRODUCTION, "retrieval", "200"): 50.0,
    (PRODUCTION, "retrieval", "500"): 0.0,
    (PRODUCTION, "synthesis", "200"): 0.0,
    (PRODUCTION, "synthesis", "500"): 0.0,
    (PRODUCTION, "notifier", "200"): 10.0,
    (STAGING, "gateway", "500"): 10.0,
}
BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
#: Share of a service's requests answered within each bucket's bound (cumulative, like the histogram).
LATENCY_SHARES: dict[str, tuple[float, ...]] = {
    "gateway": (0.5, 0.9, 1.0, 1.0, 1.0, 1.0),
    "retrieval": (1.0, 1.0, 1.0, 1.0, 1.0, 1.0),
    "synthesis": (1.0, 1.0, 1.0, 1.0, 1.0, 1.0),
}

#: Long enough for a loaded CI machine; the servers are normally ready in a few seconds.
READY_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class LiveServer:
    url: str
    #: Seconds from starting the process until it was ready (for Prometheus: until a rate() had data).
    ready_after_s: float
    log: Path


def need_binary(*names: str, package: str) -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    reason = f"{names[0]} is not installed (Debian: apt-get install {package})"
    if os.environ.get("INCIDENTCTL_REQUIRE_INTEGRATION") == "1":
        pytest.fail(f"{reason}; INCIDENTCTL_REQUIRE_INTEGRATION=1 makes this a failure", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait_until(proc: subprocess.Popen[bytes], log: Path, what: str, ready: Callable[[], bool]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited with {proc.returncode} before it was ready:\n{_tail(log)}", pytrace=False)
        if ready():
            return
        time.sleep(0.1)
    pytest.fail(f"{what} was not ready after {READY_TIMEOUT_S:.0f}s:\n{_tail(log)}", pytrace=False)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _start(argv: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# --- the exporter ----------------------------------------------------------------------------------------------


class _Traffic:
    """Counters computed from the time since start, so every scrape sees the same steady traffic."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def collect(self) -> Iterator[object]:
        from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily

        elapsed = time.monotonic() - self.started
        requests = CounterMetricFamily(
            "http_requests", "HTTP requests answered", labels=["namespace", "service", "code"]
        )
        for (namespace, service, code), per_second in RATES.items():
            requests.add_metric([namespace, service, code], per_second * elapsed)
        yield requests

        durations = HistogramMetricFamily(
            "http_request_duration_seconds", "Time to answer", labels=["namespace", "service"]
        )
        for namespace, service in sorted({(ns, svc) for ns, svc, _ in RATES}):
            total = sum(r for (ns, svc, _), r in RATES.items() if (ns, svc) == (namespace, service)) * elapsed
            shares = LATENCY_SHARES.get(service, (1.0,) * len(BUCKETS))
            buckets = [(f"{bound:g}", share * total) for bound, share in zip(BUCKETS, shares, strict=True)]
            durations.add_metric([namespace, service], [*buckets, ("+Inf", total)], sum_value=0.1 * total)
        yield durations


def _start_exporter() -> tuple[str, Callable[[], None]]:
    """``host:port`` of a metrics endpoint with the traffic described above, and how to stop it."""
    from prometheus_client import CollectorRegistry, start_http_server

    registry = CollectorRegistry()
    registry.register(_Traffic())  # type: ignore[arg-type]  # a collector only needs collect()
    server, thread = start_http_server(0, addr="127.0.0.1", registry=registry)

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(5)

    return f"127.0.0.1:{server.server_port}", stop


# --- the servers -----------------------------------------------------------------------------------------------


@dataclass
class _Launched:
    """A server process started ahead of the tests that use it, and everything to clean up after it."""

    name: str
    proc: subprocess.Popen[bytes]
    url: str
    log: Path
    started: float
    cleanups: list[Callable[[], None]] = field(default_factory=list)

    def stop(self) -> None:
        _stop(self.proc)
        for cleanup in reversed(self.cleanups):
            cleanup()
        self.cleanups.clear()


#: Servers started in this process, by fixture name; stopped at the end of the session.
_LAUNCHED: dict[str, _Launched] = {}


def _home(name: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"incidentctl-{name}-"))


def _launch_prometheus(binary: str) -> _Launched:
    home = _home("prometheus")
    exporter, stop_exporter = _start_exporter()
    config = home / "prometheus.yml"
    config.write_text(
        "global:\n"
        "  scrape_interval: 1s\n"
        "  scrape_timeout: 1s\n"
        "  evaluation_interval: 1s\n"
        "scrape_configs:\n"
        "  - job_name: sarvanom\n"
        "    static_configs:\n"
        f"      - targets: ['{exporter}']\n",
        encoding="utf-8",
    )
    port = free_port()
    log = home / "prometheus.log"
    argv = [
        binary,
        f"--config.file={config}",
        f"--storage.tsdb.path={home / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--storage.tsdb.retention.time=1h",
        "--log.level=warn",
    ]
    launched = _Launched("prometheus", _start(argv, log), f"http://127.0.0.1:{port}", log, time.monotonic())
    launched.cleanups += [lambda: shutil.rmtree(home, ignore_errors=True), stop_exporter]
    return launched


def _launch_alertmanager(binary: str) -> _Launched:
    home = _home("alertmanager")
    config = home / "alertmanager.yml"
    config.write_text(
        "route:\n"
        "  receiver: blackhole\n"
        "  group_wait: 1s\n"
        "  group_interval: 1s\n"
        "  repeat_interval: 1h\n"
        "receivers:\n"
        "  - name: blackhole\n",
        encoding="utf-8",
    )
    port = free_port()
    log = home / "alertmanager.log"
    argv = [
        binary,
        f"--config.file={config}",
        f"--storage.path={home / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
        "--log.level=warn",
    ]
    launched = _Launched("alertmanager", _start(argv, log), f"http://127.0.0.1:{port}", log, time.monotonic())
    launched.cleanups.append(lambda: shutil.rmtree(home, ignore_errors=True))
    return launched


#: fixture -> (binary names to look for, Debian package, how to start it)
_SERVERS: dict[str, tuple[tuple[str, ...], str, Callable[[str], _Launched]]] = {
    "prometheus_server": (("prometheus",), "prometheus", _launch_prometheus),
    "alertmanager_server": (
        ("prometheus-alertmanager", "alertmanager"),
        "prometheus-alertmanager",
        _launch_alertmanager,
    ),
}


def _launch(fixture: str, binary: str) -> _Launched:
    if fixture not in _LAUNCHED:
        _LAUNCHED[fixture] = _SERVERS[fixture][2](binary)
    return _LAUNCHED[fixture]


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the servers the selected tests need right away, so that Prometheus's first scrapes (about 6 s after
    start: its scrape manager applies new targets every 5 s) happen while other tests run, not while these wait.

    Not under pytest-xdist: every worker collects every test, so each would start servers it may never use;
    there the fixtures start them when first asked."""
    if os.environ.get("PYTEST_XDIST_WORKER") is not None:
        return
    wanted = {name for item in session.items for name in getattr(item, "fixturenames", ())}
    for fixture, (names, _, _) in _SERVERS.items():
        binary = next((found for n in names if (found := shutil.which(n))), None)
        if fixture in wanted and binary:
            _launch(fixture, binary)


def pytest_sessionfinish(session: pytest.Session) -> None:
    while _LAUNCHED:
        _LAUNCHED.popitem()[1].stop()


def _ready(fixture: str, check: Callable[[str], bool] | None = None) -> LiveServer:
    names, package, _ = _SERVERS[fixture]
    binary = need_binary(*names, package=package)
    launched = _launch(fixture, binary)
    _wait_until(launched.proc, launched.log, launched.name, lambda: _answers(f"{launched.url}/-/ready"))
    if check is not None:
        _wait_until(launched.proc, launched.log, f"{launched.name}'s first data", lambda: check(launched.url))
    return LiveServer(url=launched.url, ready_after_s=time.monotonic() - launched.started, log=launched.log)


@pytest.fixture(scope="session")
def prometheus_server() -> LiveServer:
    """A real Prometheus scraping the exporter every second, with data for a rate() over the exporter's counters."""
    # A rate() needs two scrapes of the target; poll for the first value instead of sleeping a guess.
    probe = f'rate(http_requests_total{{namespace="{PRODUCTION}",service="gateway",code="200"}}[5m])'
    return _ready("prometheus_server", lambda url: _has_value(url, probe))


def _has_value(url: str, promql: str) -> bool:
    try:
        body = httpx.get(f"{url}/api/v1/query", params={"query": promql}, timeout=2).json()
    except (httpx.HTTPError, ValueError):
        return False
    result = body.get("data", {}).get("result", [])
    return bool(result) and float(result[0]["value"][1]) > 0


@pytest.fixture(scope="session")
def alertmanager_server() -> LiveServer:
    """A real Alertmanager with one receiver that sends nowhere and no clustering."""
    return _ready("alertmanager_server")


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client() as client:
        yield client
