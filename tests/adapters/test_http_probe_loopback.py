"""The probe against real servers on loopback, for what a mock cannot show: a body that trickles past the deadline,
a closed port, a certificate nobody trusts, a connection reset by the peer."""

from __future__ import annotations

import socket
import ssl
import struct
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import trustme
from tests.core import results as R

from incidentctl.adapters.http_probe import probe_http
from incidentctl.core.checks import CheckResult, Failure, Health
from incidentctl.core.signals import builtin_signals
from incidentctl.runbook.model import HttpCheck

#: Requests seen per path, so a handler can misbehave only the first time.
SEEN: Counter[str] = Counter()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        SEEN[self.path] += 1
        if self.path == "/trickle":
            # 30 bytes, one every 50 ms: each read is quick, the whole body takes 1.5 s.
            self.send_response(200)
            self.send_header("Content-Length", "30")
            self.end_headers()
            try:
                for _ in range(30):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.05)
            except OSError:
                pass  # the probe gave up, as it should
        elif self.path.startswith("/reset-once/") and SEEN[self.path] == 1:
            # Abort with a TCP RST instead of an answer.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
        else:
            body = b'{"status":"ok"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)


def _serve(server: ThreadingHTTPServer) -> Iterator[str]:
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(scope="module")
def plain() -> Iterator[str]:
    yield from _serve(ThreadingHTTPServer(("127.0.0.1", 0), Handler))


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def tls(ca: trustme.CA) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    yield from _serve(server)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as c:
        yield c


def probe(client: httpx.Client, url: str, timeout: str = "2s") -> CheckResult:
    return probe_http(client, HttpCheck(url=url, timeout=timeout), check_id="http:test", subject="test")


def test_a_body_that_trickles_past_the_deadline_is_down(client: httpx.Client, plain: str) -> None:
    # Every byte arrives well within any per-read timeout; only a deadline for the whole answer stops this.
    result = probe(client, f"http://{plain}/trickle", timeout="400ms")
    assert result.health is Health.DOWN
    assert result.summary == "response not complete within 400ms"
    assert result.failure is Failure.TIMEOUT


def test_a_body_stalled_past_the_deadline_is_a_slow_service_not_an_outage(client: httpx.Client, plain: str) -> None:
    """The headers came, so requests are being served: like a timeout before the headers, this is not the
    service-down of an endpoint nobody can reach."""
    stalled = probe_http(
        client, HttpCheck(url=f"http://{plain}/trickle", timeout="400ms"), check_id="http:gateway", subject="gateway"
    )
    rb = R.runbook()
    [sv] = builtin_signals(rb, R.replace(R.healthy(), stalled))["service_down"]
    assert sv.value is False


def test_a_fast_answer_from_the_same_server_is_ok(client: httpx.Client, plain: str) -> None:
    result = probe(client, f"http://{plain}/health")
    assert result.health is Health.OK
    assert result.summary.startswith("200 OK in ")


def test_a_closed_port_is_connection_refused(client: httpx.Client) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = probe(client, f"http://127.0.0.1:{port}/health")
    assert result.health is Health.DOWN
    assert result.summary == f"connection refused by 127.0.0.1:{port}"


def test_an_untrusted_certificate_is_a_tls_failure(client: httpx.Client, tls: str) -> None:
    result = probe(client, f"https://{tls}/health")
    assert result.health is Health.DOWN
    assert result.summary == "TLS certificate of 127.0.0.1 not accepted: unable to get local issuer certificate"


def test_the_same_server_is_ok_for_a_client_that_trusts_its_ca(ca: trustme.CA, tls: str) -> None:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    with httpx.Client(verify=context) as trusting:
        assert probe(trusting, f"https://{tls}/health").health is Health.OK


def test_speaking_tls_to_a_plain_http_port_is_a_tls_failure(client: httpx.Client, plain: str) -> None:
    result = probe(client, f"https://{plain}/health")
    assert result.health is Health.DOWN
    assert result.summary.startswith(f"TLS handshake with {plain} failed: ")


def test_a_connection_reset_is_retried(client: httpx.Client, plain: str) -> None:
    path = f"/reset-once/{uuid.uuid4().hex}"
    result = probe(client, f"http://{plain}{path}")
    assert result.health is Health.OK
    assert result.observed["requests"] == 2
    assert SEEN[path] == 2
