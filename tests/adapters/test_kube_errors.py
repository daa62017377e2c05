"""The Kubernetes adapter's errors and retries, against the sandbox API server and a loopback server that answers
with scripted ``Status`` bodies worded as kube-apiserver words them.

Every client here gets an injected sleep (it records the waits instead of waiting) and an injected clock, so
nothing waits on the wall clock and no assertion depends on timing.
"""

from __future__ import annotations

import json
import logging
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.conftest import Invoke
from tests.phases.conftest import write_site

from incidentctl.adapters.kube import (
    KubeApiError,
    KubeClient,
    KubeConflict,
    KubeError,
    KubeExecTimeout,
    KubeForbidden,
    KubeInvalid,
    KubeNotFound,
    KubeServerError,
    KubeTimeout,
    KubeTooManyRequests,
    KubeUnauthorized,
    KubeUnreachable,
    RetryPolicy,
    Transport,
)
from incidentctl.errors import NotFoundError, RefusedError, UnauthorizedError, UnreachableError
from incidentctl.exitcodes import ExitCode
from incidentctl.render.envelope import error_envelope
from incidentctl.sandbox import websocket
from incidentctl.sandbox.sandbox import Sandbox
from incidentctl.sandbox.testing import sandbox_factory  # noqa: F401 - re-exported fixture
from incidentctl.sandbox.world import NAMESPACE

NOW = datetime(2026, 12, 1, 13, 0, 0, tzinfo=timezone.utc)
TOKEN = "s3cret-token-never-shown"
WRONG_TOKEN = "wrong-token-7f3a9c"
#: The first wait when the server names none (or names one that cannot be read).
BACKOFF = 0.2
CAP = RetryPolicy().max_wait


@dataclass
class FakeTime:
    """The injected sleep and clock: a wait is recorded and moves the clock on, nothing waits."""

    now: float = NOW.timestamp()
    sleeps: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now

    def policy(self, **options: Any) -> RetryPolicy:
        return RetryPolicy(sleep=self.sleep, clock=self.clock, **options)


def status(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details is not None:
        body["details"] = details
    return body


@dataclass
class Reply:
    code: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    reset: bool = False  # hang up with a TCP reset once the request is read
    upgrade: bool = False  # accept a websocket (exec) and then say nothing until the client leaves


@dataclass
class Scripted:
    """A loopback HTTP server that answers each request with the next scripted reply (then 200 with an object)."""

    url: str
    replies: list[Reply]
    requests: list[tuple[str, str]]


@pytest.fixture
def scripted() -> Iterator[Scripted]:
    replies: list[Reply] = []
    requests: list[tuple[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _answer(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            requests.append((self.command, self.path))
            reply = replies.pop(0) if replies else Reply(body={"kind": "Deployment", "metadata": {"name": "web"}})
            if reply.reset:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True
                return
            if reply.upgrade:
                self.send_response(101)
                self.send_header("Upgrade", "websocket")
                self.send_header("Connection", "Upgrade")
                self.send_header("Sec-WebSocket-Accept", websocket.accept_key(self.headers["Sec-WebSocket-Key"]))
                offered = self.headers.get("Sec-WebSocket-Protocol", "")
                self.send_header("Sec-WebSocket-Protocol", websocket.choose_protocol(offered) or "")
                self.end_headers()
                self.close_connection = True
                self.rfile.read(1)  # until the client sends its close frame (or hangs up)
                return
            raw = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
            data = raw.encode()
            self.send_response(reply.code)
            ctype = "application/json" if not isinstance(reply.body, str) else "text/html"
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for key, value in reply.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_PATCH = do_POST = do_PUT = do_DELETE = _answer

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield Scripted(f"http://127.0.0.1:{server.server_address[1]}", replies, requests)
    finally:
        server.shutdown()
        server.server_close()


def kubeconfig_for(url: str, path: Path, token: str = TOKEN) -> Path:
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": url}}],
        "users": [{"name": "u", "user": {"token": token}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u", "namespace": "default"}}],
        "current-context": "c",
    }
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.fixture
def cluster(sandbox_factory: Callable[..., Sandbox]) -> Sandbox:  # noqa: F811
    """A healthy sandbox cluster for one test."""
    return sandbox_factory("healthy")


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


@pytest.fixture
def client_for(tmp_path: Path, fake: FakeTime) -> Iterator[Callable[..., KubeClient]]:
    made: list[KubeClient] = []

    def make(url_or_sandbox: str | Sandbox, *, timeout: float = 5.0, **options: Any) -> KubeClient:
        if isinstance(url_or_sandbox, Sandbox):
            path = url_or_sandbox.write_kubeconfig(tmp_path / f"kubeconfig-{len(made)}")
        else:
            path = kubeconfig_for(url_or_sandbox, tmp_path / f"kubeconfig-{len(made)}")
        client = KubeClient(kubeconfig=str(path), env={}, request_timeout=timeout, retry=fake.policy(**options))
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def raised(fn: Callable[[], Any]) -> KubeError:
    with pytest.raises(KubeError) as info:
        fn()
    return info.value


# -- one class per status ----------------------------------------------------------------------------------------

FORBIDDEN = 'deployments.apps "web" is forbidden: User "x" cannot get resource "deployments" in API group "apps"'
CASES = [
    (401, status(401, "Unauthorized", "Unauthorized"), KubeUnauthorized, ExitCode.UNREACHABLE),
    (403, status(403, "Forbidden", FORBIDDEN, {"name": "web", "kind": "deployments"}), KubeForbidden, 4),
    (404, status(404, "NotFound", 'deployments.apps "web" not found', {"name": "web"}), KubeNotFound, ExitCode.USAGE),
    (409, status(409, "Conflict", "Operation cannot be fulfilled", {"name": "web"}), KubeConflict, ExitCode.REFUSED),
    (409, status(409, "AlreadyExists", 'deployments.apps "web" already exists'), KubeConflict, ExitCode.REFUSED),
    (422, status(422, "Invalid", 'Deployment "web" is invalid'), KubeInvalid, ExitCode.REFUSED),
    (429, status(429, "TooManyRequests", "too many requests"), KubeTooManyRequests, ExitCode.UNREACHABLE),
    (500, status(500, "InternalError", "Internal error occurred: etcd"), KubeServerError, ExitCode.UNREACHABLE),
    (502, "<html><body>502 Bad Gateway</body></html>", KubeServerError, ExitCode.UNREACHABLE),
    (503, status(503, "ServiceUnavailable", "the server is currently unable"), KubeServerError, ExitCode.UNREACHABLE),
    (504, status(504, "Timeout", "the server was unable to return a response"), KubeServerError, 4),
    (400, status(400, "BadRequest", "the body is not valid"), KubeApiError, ExitCode.INTERNAL_ERROR),
]


@pytest.mark.parametrize(("code", "body", "cls", "exit_code"), CASES)
def test_every_status_has_its_own_class_status_body_and_exit_code(
    scripted: Scripted, client_for: Callable[..., KubeClient], code: int, body: Any, cls: type, exit_code: int
) -> None:
    scripted.replies.extend([Reply(code, body, {"X-Request-Id": "r-1"})] * 3)
    err = raised(lambda: client_for(scripted.url).get("deployments", "default", "web"))
    assert type(err) is cls
    assert isinstance(err, KubeError)
    assert err.status == code
    assert err.headers["x-request-id"] == "r-1"
    assert int(err.exit_code) == int(exit_code)
    if isinstance(body, dict):
        assert err.api_status is not None
        assert (err.api_status.code, err.api_status.reason, err.api_status.message) == (
            code,
            body["reason"],
            body["message"],
        )
        assert body["message"] in err.message
    else:
        assert err.api_status is None  # a proxy's page: the status line speaks
        assert "502" in err.message
    assert "\n" not in str(err)
    assert "Traceback" not in str(err)
    doc = error_envelope(err)["error"]
    assert doc["exitCode"] == int(exit_code)


def test_the_old_names_still_catch_what_they_caught() -> None:
    """Code written against the first five names keeps working: each new class is one of them."""
    assert issubclass(KubeUnauthorized, KubeForbidden)
    assert issubclass(KubeForbidden, UnauthorizedError)
    assert issubclass(KubeNotFound, NotFoundError)
    assert issubclass(KubeTooManyRequests, KubeUnreachable)
    assert issubclass(KubeServerError, KubeUnreachable)
    assert issubclass(KubeTimeout, KubeUnreachable)
    assert issubclass(KubeUnreachable, UnreachableError)
    assert issubclass(KubeConflict, KubeApiError)
    assert issubclass(KubeInvalid, KubeApiError)
    assert issubclass(KubeConflict, RefusedError)
    assert issubclass(KubeInvalid, RefusedError)


def test_exit_codes_come_only_from_the_generic_error_classes() -> None:
    """The adapter maps statuses to classes; which exit code a class ends in is decided in incidentctl.errors."""
    from incidentctl.adapters import kube, kube_errors

    found = {**vars(kube), **vars(kube_errors)}.values()
    classes = [c for c in found if isinstance(c, type) and issubclass(c, KubeError)]
    assert len(classes) >= 10
    assert [c.__name__ for c in classes if "exit_code" in vars(c)] == []


def test_a_status_body_of_another_shape_is_kept_out_without_a_crash(
    scripted: Scripted, client_for: Callable[..., KubeClient]
) -> None:
    odd = {"kind": "Status", "code": "four-oh-four", "message": 7, "details": "nope"}
    scripted.replies.append(Reply(404, odd))
    err = raised(lambda: client_for(scripted.url).get("deployments", "default", "web"))
    assert isinstance(err, KubeNotFound)
    assert err.api_status is None
    assert "Not Found" in err.message


# -- writes against the sandbox, and what the API refuses them with ------------------------------------------


def test_422_says_which_field_was_refused_and_why(
    cluster: Sandbox, client_for: Callable[..., KubeClient], fake: FakeTime
) -> None:
    client = client_for(cluster)
    err = raised(lambda: client.patch("deployments", NAMESPACE, "gateway", {"spec": {"replicas": -1}}))
    assert isinstance(err, KubeInvalid)
    assert err.status == 422
    assert err.api_status is not None
    assert err.api_status.details is not None
    [cause] = err.causes
    assert cause.field == "spec.replicas"
    assert cause.reason == "FieldValueInvalid"
    assert "must be greater than or equal to 0" in cause.message
    assert "spec.replicas" in err.message
    assert err.details() == ["spec.replicas: Invalid value: -1: must be greater than or equal to 0"]
    assert error_envelope(err)["error"]["details"] == err.details()
    assert fake.sleeps == []  # never retried: the same request is refused the same way
    assert client.get("deployments", NAMESPACE, "gateway")["spec"]["replicas"] != -1


def test_409_is_not_retried_but_lets_the_caller_reread_and_retry(
    cluster: Sandbox, client_for: Callable[..., KubeClient], fake: FakeTime
) -> None:
    client = client_for(cluster)
    stale = client.get("deployments", NAMESPACE, "gateway")["metadata"]["resourceVersion"]
    client.patch("deployments", NAMESPACE, "gateway", {"metadata": {"annotations": {"touched": "by-someone-else"}}})

    def scale_to_4(version: str) -> dict[str, Any]:
        return client.patch(
            "deployments", NAMESPACE, "gateway", {"metadata": {"resourceVersion": version}, "spec": {"replicas": 4}}
        )

    err = raised(lambda: scale_to_4(stale))
    assert isinstance(err, KubeConflict)
    assert err.api_status is not None
    assert err.api_status.reason == "Conflict"
    assert err.api_status.details is not None
    assert err.api_status.details.name == "gateway"
    assert fake.sleeps == []

    tries: list[str] = []

    def read_modify_write() -> dict[str, Any]:
        version = stale if not tries else client.get("deployments", NAMESPACE, "gateway")["metadata"]["resourceVersion"]
        tries.append(version)
        return scale_to_4(version)

    done = client.retry_on_conflict(read_modify_write)
    assert done["spec"]["replicas"] == 4
    assert len(tries) == 2
    assert tries[0] == stale != tries[1]


def test_409_retry_on_conflict_gives_up(cluster: Sandbox, client_for: Callable[..., KubeClient]) -> None:
    client = client_for(cluster)
    calls: list[int] = []

    def always_stale() -> dict[str, Any]:
        calls.append(1)
        return client.patch("deployments", NAMESPACE, "gateway", {"metadata": {"resourceVersion": "1"}})

    err = raised(lambda: client.retry_on_conflict(always_stale, attempts=3))
    assert isinstance(err, KubeConflict)
    assert len(calls) == 3


def test_create_of_an_existing_object_is_a_conflict(cluster: Sandbox, client_for: Callable[..., KubeClient]) -> None:
    client = client_for(cluster)
    existing = client.get("deployments", NAMESPACE, "gateway")
    err = raised(lambda: client.create("deployments", NAMESPACE, existing, dry_run=True))
    assert isinstance(err, KubeConflict)
    assert err.api_status is not None
    assert err.api_status.reason == "AlreadyExists"


def test_dry_run_patch_changes_nothing(cluster: Sandbox, client_for: Callable[..., KubeClient]) -> None:
    client = client_for(cluster)
    before = client.get("deployments", NAMESPACE, "gateway")["spec"]["replicas"]
    answer = client.patch(
        "deployments", NAMESPACE, "gateway", {"spec": {"replicas": before + 5}}, subresource="scale", dry_run=True
    )
    assert answer["kind"] == "Scale"
    assert answer["spec"]["replicas"] == before + 5
    assert client.get("deployments", NAMESPACE, "gateway")["spec"]["replicas"] == before


def test_sandbox_403_and_404(cluster: Sandbox, client_for: Callable[..., KubeClient]) -> None:
    client = client_for(cluster)
    cluster.faults.forbid("patch", "deployments")
    err = raised(lambda: client.patch("deployments", NAMESPACE, "gateway", {"spec": {"replicas": 2}}))
    assert isinstance(err, KubeForbidden)
    assert not isinstance(err, KubeUnauthorized)
    assert err.api_status is not None
    assert "cannot patch resource" in err.api_status.message
    assert "(HTTP 403)" in err.message
    err = raised(lambda: client.get("deployments", NAMESPACE, "nope"))
    assert isinstance(err, KubeNotFound)
    assert err.api_status is not None
    assert err.api_status.details is not None
    assert err.api_status.details.name == "nope"


def test_401_from_a_tls_sandbox_with_a_wrong_token(
    sandbox_factory: Callable[..., Sandbox],  # noqa: F811
    tmp_path: Path,
    fake: FakeTime,
) -> None:
    sb = sandbox_factory("healthy", tls_dir=tmp_path / "tls")
    doc = sb.kubeconfig()
    doc["users"][0]["user"]["token"] = WRONG_TOKEN
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(doc))
    client = KubeClient(kubeconfig=str(path), env={}, retry=fake.policy())
    try:
        err = raised(lambda: client.list("pods", NAMESPACE))
    finally:
        client.close()
    assert isinstance(err, KubeUnauthorized)
    assert err.exit_code == ExitCode.UNREACHABLE
    assert err.hint is not None
    assert "log in" in err.hint
    assert fake.sleeps == []


def test_exec_refused_by_rbac_is_forbidden_with_the_status_body(
    cluster: Sandbox, client_for: Callable[..., KubeClient], fake: FakeTime
) -> None:
    client = client_for(cluster)
    assert client.exec(NAMESPACE, "redis-0", ["redis-cli", "ping"]).stdout.strip() == "PONG"
    cluster.faults.forbid("create", "pods/exec")
    err = raised(lambda: client.exec(NAMESPACE, "redis-0", ["redis-cli", "ping"]))
    assert type(err) is KubeForbidden
    assert err.status == 403
    assert err.api_status is not None
    assert 'pods "redis-0" is forbidden' in err.message
    assert "(HTTP 403)" in err.message
    assert err.attempts == 1
    assert fake.sleeps == []


def test_an_exec_whose_command_hangs_is_an_exec_timeout_and_not_run_again(
    scripted: Scripted, client_for: Callable[..., KubeClient], fake: FakeTime
) -> None:
    scripted.replies.append(Reply(upgrade=True))
    err = raised(
        lambda: client_for(scripted.url).exec("default", "postgres-0", ["psql", "-c", "SELECT 1;"], timeout=0.3)
    )
    assert type(err) is KubeExecTimeout
    assert "no answer within 0.3s" in err.message
    assert err.attempts == 1
    assert fake.sleeps == []
    assert len(scripted.requests) == 1


def test_an_untrusted_certificate_is_unreachable_at_once(
    sandbox_factory: Callable[..., Sandbox],  # noqa: F811
    tmp_path: Path,
    fake: FakeTime,
) -> None:
    sb = sandbox_factory("healthy", tls_dir=tmp_path / "tls")
    doc = sb.kubeconfig()
    del doc["clusters"][0]["cluster"]["certificate-authority-data"]
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(doc))
    client = KubeClient(kubeconfig=str(path), env={}, retry=fake.policy())
    try:
        err = raised(lambda: client.list("pods", NAMESPACE))
    finally:
        client.close()
    assert type(err) is KubeUnreachable
    assert err.transport is Transport.TLS
    assert "TLS certificate rejected" in err.message
    assert err.attempts == 1
    assert fake.sleeps == []


# -- retries -----------------------------------------------------------------------------------------------------


def test_reads_retry_429_and_5xx_honouring_retry_after(
    cluster: Sandbox, client_for: Callable[..., KubeClient], fake: FakeTime
) -> None:
    client = client_for(cluster)
    cluster.faults.rate_limit(retry_after=2, count=1)
    cluster.faults.errors(503, count=1)
    assert client.get("deployments", NAMESPACE, "gateway")["metadata"]["name"] == "gateway"
    assert fake.sleeps == [2.0, 2 * BACKOFF]


def test_reads_give_up_after_the_attempts(cluster: Sandbox, client_for: Callable[..., KubeClient]) -> None:
    client = client_for(cluster)
    cluster.faults.errors(500)
    err = raised(lambda: client.list("pods", NAMESPACE))
    assert isinstance(err, KubeServerError)
    assert err.attempts == 3
    assert "answered 500" in err.message


@pytest.mark.parametrize("code", [500, 502, 503, 504])
def test_writes_are_not_retried_on_5xx(
    cluster: Sandbox, client_for: Callable[..., KubeClient], fake: FakeTime, code: int
) -> None:
    client = client_for(cluster)
    cluster.faults.errors(code, count=1)
    err = raised(lambda: client.patch("deployments", NAMESPACE, "gateway", {"spec": {"replicas": 2}}))
    assert isinstance(err, KubeServerError)
    assert err.status == code
    assert err.attempts == 1
    assert fake.sleeps == []


def test_writes_are_retried_on_429(cluster: Sandbox, client_for: Callable[..., KubeClient], fake: FakeTime) -> None:
    client = client_for(cluster)
    cluster.faults.rate_limit(retry_after=1, count=1)
    scale = client.patch("deployments", NAMESPACE, "gateway", {"spec": {"replicas": 2}}, subresource="scale")
    assert scale["spec"]["replicas"] == 2
    assert fake.sleeps == [1.0]


def test_a_refused_connection_is_not_retried(cluster: Sandbox, client_for: Callable[..., KubeClient]) -> None:
    client = client_for(cluster)
    cluster.stop()
    for call in (lambda: client.list("pods", NAMESPACE), lambda: client.patch("pods", NAMESPACE, "x", {})):
        err = raised(call)
        assert type(err) is KubeUnreachable
        assert "connection refused" in err.message
        assert err.attempts == 1
        assert err.exit_code == ExitCode.UNREACHABLE


def test_a_read_that_times_out_is_retried(
    cluster: Sandbox, client_for: Callable[..., KubeClient], fake: FakeTime
) -> None:
    client = client_for(cluster, timeout=0.3)
    cluster.faults.latency(30.0, count=1)
    assert client.get("deployments", NAMESPACE, "gateway")["metadata"]["name"] == "gateway"
    assert fake.sleeps == [BACKOFF]


def test_a_write_that_times_out_is_not_retried(
    cluster: Sandbox, client_for: Callable[..., KubeClient], fake: FakeTime
) -> None:
    client = client_for(cluster, timeout=0.3)
    cluster.faults.latency(30.0, count=1)
    err = raised(lambda: client.patch("deployments", NAMESPACE, "gateway", {"spec": {"replicas": 2}}))
    assert isinstance(err, KubeTimeout)
    assert err.attempts == 1
    assert fake.sleeps == []
    assert "no answer within 0.3s" in err.message


def test_a_reset_connection_is_retried_for_reads_only(
    scripted: Scripted, client_for: Callable[..., KubeClient], fake: FakeTime
) -> None:
    client = client_for(scripted.url)
    scripted.replies.append(Reply(reset=True))
    assert client.get("deployments", "default", "web")["metadata"]["name"] == "web"
    assert len(scripted.requests) == 2
    assert fake.sleeps == [BACKOFF]

    scripted.requests.clear()
    scripted.replies.append(Reply(reset=True))
    err = raised(lambda: client.patch("deployments", "default", "web", {"spec": {"replicas": 2}}))
    assert type(err) is KubeUnreachable
    assert len(scripted.requests) == 1


@pytest.fixture
def full_backlog() -> Iterator[str]:
    """A listening socket that never accepts, its queue filled: a new connection is never opened (the kernel drops
    the handshake), so a request sent there provably never reached a server."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers: list[socket.socket] = []
    try:
        for _ in range(16):
            filler = socket.socket()
            filler.settimeout(0.2)
            fillers.append(filler)
            try:
                filler.connect(("127.0.0.1", port))
            except TimeoutError:
                break
        else:
            pytest.fail("the listen queue never filled")
        yield f"http://127.0.0.1:{port}"
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


def test_a_write_is_retried_when_the_connection_could_not_be_opened(
    full_backlog: str, client_for: Callable[..., KubeClient], fake: FakeTime
) -> None:
    err = raised(lambda: client_for(full_backlog, timeout=0.2).patch("deployments", "default", "web", {}))
    assert type(err) is KubeTimeout
    assert err.transport is Transport.CONNECT_TIMEOUT
    assert "no connection within 0.2s" in err.message
    assert err.attempts == 3
    assert fake.sleeps == [BACKOFF, 2 * BACKOFF]
    assert err.exit_code == ExitCode.UNREACHABLE


def _http_date(at: datetime) -> str:
    return format_datetime(at.astimezone(timezone.utc), usegmt=True)


RETRY_AFTER = [
    ("2", 2.0),
    ("0", 0.0),
    (" 3 ", 3.0),
    ("99999999999999999999999999", CAP),
    (str(10**400), CAP),
    ("-1", BACKOFF),
    ("-0", BACKOFF),
    ("NaN", BACKOFF),
    ("nan", BACKOFF),
    ("inf", BACKOFF),
    ("-inf", BACKOFF),
    ("1e308", BACKOFF),
    ("1.5", BACKOFF),
    ("0x10", BACKOFF),
    ("", BACKOFF),
    ("soon", BACKOFF),
    ("3, 4", BACKOFF),
    ("\u0663", BACKOFF),  # an Arabic-Indic three: a digit to Python, not to HTTP
    (_http_date(NOW + timedelta(seconds=3)), 3.0),
    (_http_date(NOW - timedelta(minutes=1)), 0.0),
    (_http_date(NOW + timedelta(days=1)), CAP),
    ("Fri, 31 Dec 9999 23:59:59 GMT", CAP),
    ("Sat, 01 Jan 10000 00:00:00 GMT", BACKOFF),
    ("Mon, 32 Foo 2026 99:99:99 GMT", BACKOFF),
]


@pytest.mark.parametrize(("value", "wait"), RETRY_AFTER)
def test_retry_after_is_honoured_and_capped_whatever_it_says(
    scripted: Scripted, client_for: Callable[..., KubeClient], fake: FakeTime, value: str, wait: float
) -> None:
    scripted.replies.append(Reply(429, status(429, "TooManyRequests", "slow down"), {"Retry-After": value}))
    assert client_for(scripted.url).get("deployments", "default", "web")["metadata"]["name"] == "web"
    assert fake.sleeps == [pytest.approx(wait)]


@pytest.mark.parametrize(("seconds", "wait"), [(2, 2.0), (10**30, CAP), (-4, BACKOFF), (1e308, BACKOFF), ("3", 0.2)])
def test_retry_after_seconds_in_the_status_body(
    scripted: Scripted, client_for: Callable[..., KubeClient], fake: FakeTime, seconds: Any, wait: float
) -> None:
    body = status(429, "TooManyRequests", "slow down", {"retryAfterSeconds": seconds})
    scripted.replies.append(Reply(429, body))
    client_for(scripted.url).get("deployments", "default", "web")
    assert fake.sleeps == [pytest.approx(wait)]


def test_a_long_retry_after_stops_at_the_budget(
    scripted: Scripted, client_for: Callable[..., KubeClient], fake: FakeTime
) -> None:
    """Waits add up to at most the call's budget: the clock moves only as the fake sleep moves it."""
    scripted.replies.extend([Reply(429, status(429, "TooManyRequests", "slow down"), {"Retry-After": "4"})] * 3)
    err = raised(lambda: client_for(scripted.url, budget=6.0).get("deployments", "default", "web"))
    assert isinstance(err, KubeTooManyRequests)
    assert fake.sleeps == [4.0]
    assert err.attempts == 2
    assert err.retry_after == 4.0
    assert len(scripted.requests) == 2


# -- secrets -----------------------------------------------------------------------------------------------------


def test_credentials_never_appear_in_headers_messages_or_logs(
    scripted: Scripted, client_for: Callable[..., KubeClient], caplog: pytest.LogCaptureFixture
) -> None:
    echoed = {"Authorization": f"Bearer {TOKEN}", "Set-Cookie": f"session={TOKEN}", "X-Request-Id": "r-9"}
    scripted.replies.extend([Reply(503, status(503, "ServiceUnavailable", "busy"), echoed)] * 3)
    with caplog.at_level(logging.DEBUG):
        err = raised(lambda: client_for(scripted.url).get("deployments", "default", "web"))
    assert err.headers["authorization"] == "<redacted>"
    assert err.headers["set-cookie"] == "<redacted>"
    assert err.headers["x-request-id"] == "r-9"
    shown = " ".join([str(err), repr(err), json.dumps(error_envelope(err)), repr(err.headers), caplog.text])
    assert TOKEN not in shown
    assert "HTTP 503" in caplog.text or "503" in caplog.text


# -- through the CLI ---------------------------------------------------------------------------------------------


def _one_error_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, stderr
    return errors[0]


def test_cli_server_errors_end_in_one_line_and_exit_4(
    invoke: Invoke,
    sandbox_factory: Callable[..., Sandbox],  # noqa: F811
    tmp_path: Path,
) -> None:
    sb = sandbox_factory("healthy", dependency_hang=3.0, max_response_delay=3.0)
    site = write_site(sb, tmp_path / "site")
    sb.faults.errors(500, target="kube")
    result = invoke(site.args("detect"))
    assert result.exit_code == 4
    line = _one_error_line(result.stderr)
    assert "answered 500" in line
    assert "Internal error occurred: injected fault" in line
    result = invoke(site.args("detect", "-o", "json"))
    assert result.exit_code == 4
    assert json.loads(result.stdout)["error"]["exitCode"] == 4


def test_cli_unauthorized_ends_in_one_line_and_exit_4(
    invoke: Invoke,
    sandbox_factory: Callable[..., Sandbox],  # noqa: F811
    tmp_path: Path,
) -> None:
    sb = sandbox_factory("healthy", tls_dir=tmp_path / "tls", dependency_hang=3.0, max_response_delay=3.0)
    site = write_site(sb, tmp_path / "site")
    doc = yaml.safe_load(site.kubeconfig.read_text())
    doc["users"][0]["user"]["token"] = WRONG_TOKEN
    site.kubeconfig.write_text(yaml.safe_dump(doc))
    result = invoke(site.args("detect"))
    assert result.exit_code == 4
    line = _one_error_line(result.stderr)
    assert "Unauthorized (HTTP 401)" in line
    assert sb.token not in result.output
    debug = invoke(["--debug", *site.args("detect")])
    assert debug.exit_code == 4
    assert sb.token not in debug.output
    assert WRONG_TOKEN not in debug.output


def test_a_403_and_a_401_say_which_they_are() -> None:
    """Both are "credentials refused" (exit 4), but a responder fixes them differently: RBAC, or logging in."""
    from incidentctl.adapters.kube_errors import error_class

    assert error_class(403).reason == "Forbidden"
    assert error_class(401).reason == "Unauthorized"
    assert issubclass(error_class(401), error_class(403))
