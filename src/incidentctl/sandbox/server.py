"""The HTTP side: one loopback port for the Kubernetes API, the stand-in services and the admin endpoint.

``ThreadingHTTPServer`` with HTTP/1.1 keep-alive; watches and followed logs are chunked streams; exec upgrades
to a websocket. Faults are applied here, before a request reaches the API, so every client sees them as it
would see a struggling API server.
"""

from __future__ import annotations

import hmac
import json
import logging
import ssl
import sys
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from incidentctl.sandbox import apierrors, resources, websocket
from incidentctl.sandbox.apierrors import ApiError
from incidentctl.sandbox.http import Request, Response, json_response, text_response
from incidentctl.sandbox.kubeapi import KubeApi, parse_target
from incidentctl.sandbox.notify_standins import PREFIXES as NOTIFY_PREFIXES

if TYPE_CHECKING:
    from incidentctl.sandbox.sandbox import Sandbox

log = logging.getLogger(__name__)

ADMIN_PREFIX = "/_sandbox/"
_STAND_IN_PREFIXES = {
    "/components/": "health",
    "/deps/": "deps",
    "/prometheus/": "prometheus",
    "/alertmanager/": "alertmanager",
    **NOTIFY_PREFIXES,
}


class Router:
    def __init__(self, sandbox: Sandbox) -> None:
        from incidentctl.sandbox.stand_ins import StandIns

        self.sandbox = sandbox
        self.api = KubeApi(sandbox.store, sandbox.sim, sandbox.stopping, sandbox.faults.allows)
        self.api.served = lambda group: group != "metrics.k8s.io" or sandbox.metrics_server
        self.stand_ins = StandIns(sandbox)

    def _authorized(self, request: Request) -> bool:
        """The admin endpoint always checks the token; the API only over TLS (kubectl sends no bearer token over
        plain HTTP, so a plain-HTTP API is open, like an API server's old insecure port, loopback only)."""
        token = self.sandbox.token
        if not token:
            return True
        header = request.headers.get("authorization", "")
        return header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip(), token)

    def handle(self, request: Request) -> Response:
        path = request.path
        try:
            if path.startswith(ADMIN_PREFIX):
                if not self._authorized(request):
                    raise ApiError(401, "Unauthorized", reason="Unauthorized")
                return self.sandbox.admin(request, path[len(ADMIN_PREFIX) :])
            kind = next((k for prefix, k in _STAND_IN_PREFIXES.items() if path.startswith(prefix)), "kube")
            if kind == "kube":
                return self._kube(request)
            decision = self.sandbox.faults.decide(kind, request.method.lower(), None, path)
            if decision.delay:
                self.sandbox.stopping.wait(decision.delay)
            if decision.status:
                headers = {"Retry-After": str(decision.retry_after)} if decision.retry_after else {}
                body: dict[str, Any] = {"error": f"injected fault: HTTP {decision.status}"}
                if kind == "slack" and decision.status == 429:
                    body = {"ok": False, "error": "ratelimited"}  # the Web API's own 429 body
                return json_response(body, decision.status, headers)
            if kind in NOTIFY_PREFIXES.values():
                return self.sandbox.notify.handle(kind, request)
            response = self.stand_ins.handle(request)
            return response or json_response({"error": f"no such path {path}"}, 404)
        except ApiError as err:
            return json_response(err.status(), err.code, err.headers)
        except Exception as err:  # a bug in the sandbox must still answer like an API server would
            traceback.print_exc(file=sys.stderr)
            return json_response(ApiError(500, f"sandbox internal error: {type(err).__name__}: {err}").status(), 500)

    def _kube(self, request: Request) -> Response:
        path = request.path.rstrip("/") or "/"
        if path in ("/healthz", "/livez", "/readyz"):
            return text_response("ok")
        if self.sandbox.tls and not self._authorized(request):
            raise ApiError(401, "Unauthorized", reason="Unauthorized")
        target = parse_target(path)
        verb = self.api.verb(request, target) if target is not None else request.method.lower()
        resource = None
        if target is not None:
            resource = target.rt.plural if target.sub is None else f"{target.rt.plural}/{target.sub}"
        decision = self.sandbox.faults.decide("kube", verb, resource, path)
        if decision.delay:
            self.sandbox.stopping.wait(decision.delay)
        if decision.forbidden and target is not None:
            raise apierrors.forbidden(self.api.user, verb, target.rt, target.namespace, target.name or "")
        if decision.status:
            headers = {"Retry-After": str(decision.retry_after)} if decision.retry_after else {}
            message = {
                429: "the server has received too many requests and has asked us to try again later",
                500: "Internal error occurred: injected fault",
                503: "the server is currently unable to handle the request",
            }.get(decision.status, "injected fault")
            raise ApiError(decision.status, message, headers=headers)
        found = self.api.discovery(request)
        if found is not None:
            return found
        if target is None:
            raise ApiError(404, "the server could not find the requested resource", details={})
        return self.api.handle(request, target)

    # -- exec --------------------------------------------------------------------------------------------------

    def exec_websocket(self, handler: BaseHTTPRequestHandler, request: Request) -> None:  # noqa: PLR0915
        target = parse_target(request.path)
        try:
            if self.sandbox.tls and not self._authorized(request):
                raise ApiError(401, "Unauthorized", reason="Unauthorized")
            if target is None or target.rt is not resources.PODS or target.sub not in ("exec", "attach"):
                raise ApiError(404, "the server could not find the requested resource")
            decision = self.sandbox.faults.decide("kube", "create", "pods/exec", request.path)
            if decision.forbidden:
                raise apierrors.forbidden(self.api.user, "create", target.rt, target.namespace, target.name or "")
            if decision.status:
                raise ApiError(decision.status, "injected fault")
            sim = self.sandbox.sim
            with sim.lock:
                pod = self.sandbox.store.must_get(resources.PODS, target.namespace or "", target.name or "")
                names = [c["name"] for c in pod["spec"].get("containers", [])]
                container = request.arg("container") or (names[0] if len(names) == 1 else "")
                if container not in names:
                    raise apierrors.bad_request(f"container {container} is not valid for pod {target.name}")
                run = sim.pods.get(pod["metadata"]["uid"])
                crun = run.containers.get(container) if run else None
                if run is None or crun is None or not crun.running:
                    raise apierrors.bad_request(f'container not found ("{container}")')
                argv = request.query.get("command", [])
                result = sim.model.exec(sim, run, pod, container, argv)
            protocol = websocket.choose_protocol(request.headers.get("sec-websocket-protocol", ""))
            if protocol is None:
                raise apierrors.bad_request(
                    "unable to upgrade connection: none of the offered subprotocols is "
                    "supported (v5.channel.k8s.io, v4.channel.k8s.io)"
                )
        except ApiError as err:
            _write_response(handler, json_response(err.status(), err.code, err.headers))
            return
        key = request.headers.get("sec-websocket-key", "")
        handler.send_response(101, "Switching Protocols")
        handler.send_header("Upgrade", "websocket")
        handler.send_header("Connection", "Upgrade")
        handler.send_header("Sec-WebSocket-Accept", websocket.accept_key(key))
        handler.send_header("Sec-WebSocket-Protocol", protocol)
        handler.end_headers()
        out = handler.wfile
        if result.stdout:
            out.write(websocket.frame(websocket.OP_BINARY, b"\x01" + result.stdout.encode()))
        if result.stderr:
            out.write(websocket.frame(websocket.OP_BINARY, b"\x02" + result.stderr.encode()))
        if result.exit_code == 0:
            status: dict[str, Any] = {"metadata": {}, "status": "Success"}
        else:
            status = {
                "metadata": {},
                "status": "Failure",
                "message": f"command terminated with non-zero exit code: error executing command "
                f"[{' '.join(argv)}], exit code {result.exit_code}",
                "reason": "NonZeroExitCode",
                "details": {"causes": [{"reason": "ExitCode", "message": str(result.exit_code)}]},
            }
        out.write(websocket.frame(websocket.OP_BINARY, b"\x03" + json.dumps(status).encode()))
        out.write(websocket.close_frame())
        out.flush()
        handler.close_connection = True
        try:  # wait briefly for the client's close frame, so it sees a clean close
            handler.connection.settimeout(2.0)
            for _ in range(16):
                frame = websocket.read_frame(handler.rfile)  # type: ignore[arg-type]
                if frame is None or frame[0] == websocket.OP_CLOSE:
                    break
        except (OSError, ValueError):
            pass


def _write_response(handler: BaseHTTPRequestHandler, response: Response) -> None:
    handler.send_response(response.status)
    handler.send_header("Content-Type", response.content_type)
    handler.send_header("Cache-Control", "no-cache, private")
    for key, value in response.headers.items():
        handler.send_header(key, value)
    if response.stream is None:
        handler.send_header("Content-Length", str(len(response.body)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(response.body)
        return
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    handler.wfile.flush()
    stream = response.stream
    try:
        for chunk in stream:
            if chunk:
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                handler.wfile.flush()
        handler.wfile.write(b"0\r\n\r\n")
        handler.wfile.flush()
    except (TimeoutError, BrokenPipeError, ConnectionResetError, OSError):
        handler.close_connection = True
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "incidentctl-sandbox"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _handle(self) -> None:
        server: SandboxHTTPServer = self.server  # type: ignore[assignment]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(self.command, self.path, dict(self.headers.items()), body)
        router = server.router
        upgrade = request.headers.get("upgrade", "").lower()
        if upgrade == "websocket" or (upgrade and request.path.rstrip("/").endswith(("/exec", "/attach"))):
            router.exec_websocket(self, request)  # SPDY is refused there, after the pod and container checks
            return
        response = router.handle(request)
        try:
            _write_response(self, response)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], router: Router) -> None:
        self.router = router
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that does not trust the certificate (or speaks plain HTTP to the HTTPS port, or hangs up
        mid-handshake) is the client's problem: one log line, not socketserver's traceback on every attempt."""
        error = sys.exc_info()[1]
        if isinstance(error, (ssl.SSLError, ConnectionError)):
            host, port = client_address[:2]
            log.warning("sandbox: TLS handshake with %s:%s failed: %s", host, port, _tls_reason(error))
            return
        super().handle_error(request, client_address)


def _tls_reason(error: BaseException) -> str:
    reason = getattr(error, "reason", None)
    text = (
        reason.replace("_", " ").lower() if isinstance(reason, str) and reason else str(error) or type(error).__name__
    )
    if reason == "TLSV1_ALERT_UNKNOWN_CA":
        text += " (the client does not trust the sandbox's certificate)"
    elif reason == "HTTP_REQUEST":
        text += " (plain HTTP sent to the HTTPS port)"
    return text


def serve(server: SandboxHTTPServer) -> threading.Thread:
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="sandbox-http", daemon=True
    )
    thread.start()
    return thread
