"""The sandbox as one object: a simulated SarvanOM cluster behind a loopback port.

    with Sandbox(scenario="bad-deploy") as sb:      # frozen clock: tests move it with sb.advance(seconds)
        sb.write_kubeconfig(path)                   # then: kubectl --kubeconfig path get pods
        sb.advance(60)

``Sandbox(realtime=True)`` follows the wall clock (``incidentctl sandbox up``); ``speed=N`` makes its time run N
times as fast (``sandbox up --speed``, the demo: a rollout of a simulated minute takes seconds). Either way the
scenario's recent past is simulated first, so the incident is already some minutes old, with logs, events and
restarts behind it.
"""

from __future__ import annotations

import copy
import json
import secrets
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from incidentctl.sandbox import names, scenarios, world
from incidentctl.sandbox.apierrors import ApiError, bad_request
from incidentctl.sandbox.behaviour import Model
from incidentctl.sandbox.clock import SimClock, rfc3339
from incidentctl.sandbox.faults import Fault, Faults
from incidentctl.sandbox.history import SignalHistory
from incidentctl.sandbox.http import Request, Response, json_response
from incidentctl.sandbox.notify_standins import Credentials, NotifyStandIns
from incidentctl.sandbox.server import Router, SandboxHTTPServer, serve
from incidentctl.sandbox.simulation import Simulation
from incidentctl.sandbox.store import Store

CONTEXT = "sarvanom-sandbox"


class Sandbox:
    def __init__(
        self,
        scenario: str = "healthy",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        realtime: bool = False,
        speed: float = 1.0,
        start: datetime | None = None,
        history: timedelta = timedelta(hours=3),
        incident_age: timedelta = timedelta(minutes=8),
        token: str | None = None,
        seed: int = 20250909,
        max_response_delay: float = 40.0,
        dependency_hang: float = 60.0,
        bulk: tuple[int, int] | None = None,
        tls_dir: Path | None = None,
        metrics_server: bool = True,
        credentials: Credentials | None = None,
    ) -> None:
        scenarios.get(scenario)
        names.seed(seed)
        self.host = host
        self.requested_port = port
        self.realtime = realtime
        self.token = token if token is not None else secrets.token_urlsafe(24)
        self.max_response_delay = max_response_delay
        self.dependency_hang = dependency_hang
        #: whether metrics.k8s.io is served (False: a cluster without metrics-server; may be switched at any time)
        self.metrics_server = metrics_server
        self.stopping = threading.Event()
        # "now" is the wall clock even for a frozen sandbox: kubectl describe and other clients compute ages with
        # their own clock; names, uids and logs are reproducible anyway (seeded)
        now = start or datetime.now(timezone.utc).replace(microsecond=0)
        self.clock = SimClock(now - history, frozen=True, speed=speed)
        self.store = Store(self.clock)
        self.model = Model()
        self.sim = Simulation(self.store, self.clock, self.model)
        history_log = SignalHistory()
        self.faults = Faults()
        #: the Slack, Statuspage and PagerDuty stand-ins, and the secrets they accept (the runbook's files)
        self.notify = NotifyStandIns(credentials or Credentials(), self.clock.now)
        self.scenario = "healthy"
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._router: Router | None = None
        self._server_port = 0
        #: serve HTTPS with a self-signed certificate written there (and check the kubeconfig's token)
        self.tls_dir = tls_dir
        self._tls: tuple[Path, Path] | None = None
        with self.store.lock:
            extra_nodes = 0
            if bulk is not None:
                extra_nodes = max(0, (bulk[0] * bulk[1]) // 100)
            world.build(self.sim, self.clock.now(), extra_nodes=extra_nodes)
            # the cluster was running long before the history we keep: skip the seconds its pods take to start
            self.sim.run_until(self.clock.now() + timedelta(minutes=1))
            self.sim.history = history_log
            if bulk is not None:
                world.add_bulk(self.sim, bulk[0], bulk[1])
            self.sim.run_until(now - incident_age if scenario != "healthy" else now)
            if scenario != "healthy":
                self.inject(scenario)
                self.sim.run_until(now)
        if realtime:
            self.clock.unfreeze()

    # -- lifecycle -------------------------------------------------------------------------------------------

    def start(self) -> Sandbox:
        """Serve on the loopback port (the same port again after :meth:`stop`)."""
        if self._server is not None:
            return self
        self.stopping.clear()
        if self._router is None:
            self._router = Router(self)
        port = self._server_port or self.requested_port
        if self.tls_dir is not None and self._tls is None:
            from incidentctl.sandbox.tls import make_certificate

            self._tls = make_certificate(self.tls_dir, self.host)
        self._server = SandboxHTTPServer((self.host, port), self._router)
        if self._tls is not None:
            from incidentctl.sandbox.tls import server_context

            context = server_context(*self._tls)
            self._server.socket = context.wrap_socket(
                self._server.socket, server_side=True, do_handshake_on_connect=False
            )
        self._server_port = int(self._server.server_address[1])
        self._thread = serve(self._server)
        if self.realtime:
            self.sim.start_ticker(self.stopping)
        return self

    def stop(self) -> None:
        """Stop serving (clients get connection refused); the cluster's state is kept for :meth:`start`."""
        self.stopping.set()
        self.store.close_watchers()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    close = stop

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if not self._server_port:
            raise RuntimeError("the sandbox is not serving yet; call start()")
        return self._server_port

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    @property
    def tls(self) -> bool:
        return self.tls_dir is not None

    @property
    def ca_file(self) -> Path | None:
        """The certificate a client must trust (TLS only)."""
        return self._tls[0] if self._tls is not None else None

    @property
    def running(self) -> bool:
        return self._server is not None

    # -- time and scenarios ----------------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock.now()

    def advance(self, seconds: float) -> None:
        """Move a frozen clock forward, letting every controller and container act on the way."""
        if not self.clock.frozen:
            raise RuntimeError("this sandbox follows the wall clock; it cannot be advanced")
        self.sim.advance(seconds)

    def inject(self, scenario: str) -> str:
        """Replace the scenario playing with ``scenario`` now (a drill leader starting the incident while
        responders work): the previous one's faults are cleared first (see :mod:`scenarios`); returns its name."""
        chosen = scenarios.get(scenario)
        with self.store.lock:
            previous = self.scenario
            scenarios.SCENARIOS["healthy"].start(self.sim)
            if chosen.name != "healthy":
                chosen.start(self.sim)
            self.scenario = chosen.name
            self.model.scenario = chosen.name
            self.sim.reconcile()
        return previous

    def evict(self, pod: str, namespace: str = world.NAMESPACE, message: str | None = None) -> None:
        """Have the kubelet evict a pod for node memory pressure (it stays Failed/Evicted; its owner replaces it)."""
        from incidentctl.sandbox import resources

        with self.store.lock:
            obj = self.store.must_get(resources.PODS, namespace, pod)
            self.sim.evict(
                obj,
                message
                or "The node was low on resource: memory. Threshold quantity: 100Mi, "
                "available: 71284Ki. Container was using more than its request of memory. ",
            )
            self.sim.reconcile()

    def node_condition(
        self, node: str, condition: str = "MemoryPressure", status: str = "True", message: str | None = None
    ) -> None:
        """Set one of a node's conditions as its kubelet would report it: ``MemoryPressure``/``DiskPressure``/
        ``PIDPressure`` True when the node runs short, ``Ready`` False (or Unknown: the kubelet stopped posting)."""
        from incidentctl.sandbox import resources

        words = {
            ("MemoryPressure", "True"): ("KubeletHasInsufficientMemory", "kubelet has insufficient memory available"),
            ("DiskPressure", "True"): ("KubeletHasDiskPressure", "kubelet has disk pressure"),
            ("PIDPressure", "True"): ("KubeletHasInsufficientPID", "kubelet has insufficient PID available"),
            ("MemoryPressure", "False"): ("KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            ("DiskPressure", "False"): ("KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            ("PIDPressure", "False"): ("KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            ("Ready", "True"): ("KubeletReady", "kubelet is posting ready status"),
            ("Ready", "False"): ("KubeletNotReady", "container runtime network not ready: NetworkReady=false"),
            ("Ready", "Unknown"): ("NodeStatusUnknown", "Kubelet stopped posting node status."),
        }
        if (condition, status) not in words:
            raise ValueError(f"unknown node condition {condition}={status}")
        reason, default = words[(condition, status)]
        with self.store.lock:
            obj = copy.deepcopy(self.store.must_get(resources.NODES, "", node))
            now = rfc3339(self.clock.now())
            for cond in obj["status"]["conditions"]:
                if cond["type"] == condition:
                    if cond["status"] != status:
                        cond["lastTransitionTime"] = now
                    cond.update(status=status, reason=reason, message=message or default, lastHeartbeatTime=now)
            self.store.replace(resources.NODES, obj)
            word = {"MemoryPressure": "NodeHasInsufficientMemory", "DiskPressure": "NodeHasDiskPressure"}.get(
                condition, "NodeHasInsufficientPID"
            )
            if status == "True" and condition != "Ready":  # the kubelet's own event, in the default namespace
                message = f"Node {node} status is now: {word}"
                self.sim.events.record(obj, "Normal", word, message, component="kubelet", host=node)
            self.sim.reconcile()

    # -- files -----------------------------------------------------------------------------------------------

    def kubeconfig(self, namespace: str = world.NAMESPACE) -> dict[str, Any]:
        cluster: dict[str, Any] = {"server": self.url}
        if self._tls is not None:
            import base64

            cluster["certificate-authority-data"] = base64.b64encode(self._tls[0].read_bytes()).decode()
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "preferences": {},
            "clusters": [{"name": CONTEXT, "cluster": cluster}],
            "users": [{"name": "sandbox-admin", "user": {"token": self.token}}],
            "contexts": [
                {"name": CONTEXT, "context": {"cluster": CONTEXT, "user": "sandbox-admin", "namespace": namespace}}
            ],
            "current-context": CONTEXT,
        }

    def write_kubeconfig(self, path: Path, namespace: str = world.NAMESPACE) -> Path:
        import yaml

        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(self.kubeconfig(namespace), sort_keys=False))
        path.chmod(0o600)
        return path

    def urls(self) -> dict[str, str]:
        """Where the stand-in services answer (for a runbook pointed at the sandbox)."""
        base = self.url
        out = {f"health/{c.name}": f"{base}/components/{c.name}/health" for c in world.SERVICES}
        out.update(
            {
                "deps/openai": f"{base}/deps/openai/v1/models",
                "deps/anthropic": f"{base}/deps/anthropic/v1/models",
                "prometheus": f"{base}/prometheus",
                "alertmanager": f"{base}/alertmanager",
            }
        )
        return out

    # -- the admin endpoint (for `incidentctl sandbox inject`) ----------------------------------------------

    def admin(self, request: Request, path: str) -> Response:
        if path == "scenario":
            if request.method == "GET":
                return json_response(self.describe())
            if request.method in ("POST", "PUT"):
                body = request.json() or {}
                name = str(body.get("scenario", ""))
                try:
                    replaced = self.inject(name)
                except KeyError as e:
                    raise bad_request(str(e.args[0])) from None
                return json_response({**self.describe(), "replaced": replaced})
        if path == "advance" and request.method == "POST":
            body = request.json() or {}
            try:
                self.advance(float(body.get("seconds", 0)))
            except RuntimeError as e:
                raise ApiError(409, str(e)) from None
            return json_response(self.describe())
        if path == "faults":
            if request.method == "DELETE":
                self.faults.clear()
            if request.method == "POST":
                self._add_fault(request.json() or {})
            return json_response(self.faults.describe())
        if path == "channels" and request.method == "GET":
            return json_response(self.notify.snapshot())
        raise ApiError(404, f"no admin endpoint {path!r}")

    def _add_fault(self, body: dict[str, Any]) -> None:
        """A drill leader's fault (``incidentctl sandbox fault``): a burst of errors, a rate limit or a hang."""
        try:
            target = str(body.get("target", "any"))
            count = int(body["count"]) if body.get("count") is not None else None
            if body.get("hang") is not None:
                self.faults.latency(float(body["hang"]), target=target, count=count)
            else:
                status = int(body.get("status", 503))
                retry_after = int(body["retryAfter"]) if body.get("retryAfter") is not None else None
                self.faults.add(Fault("status", target, status=status, retry_after=retry_after, remaining=count))
        except (KeyError, TypeError, ValueError) as e:
            raise bad_request(f"invalid fault: {e}") from None

    def describe(self) -> dict[str, Any]:
        with self.store.lock:
            signals = self.model.signals(self.sim)
            return {
                "scenario": self.scenario,
                "time": rfc3339(self.clock.now()),
                "realtime": not self.clock.frozen,
                "scenarios": list(scenarios.SCENARIOS),
                "switched": self.model.switched(self.sim),
                "signals": {
                    k: {
                        "request_rate": round(v.request_rate, 2),
                        "error_rate": round(v.error_rate, 4),
                        "p95_seconds": round(v.p95, 3),
                        "ready": v.ready,
                        "desired": v.desired,
                        "cause": v.cause,
                        "attack": v.attack,
                    }
                    for k, v in signals.items()
                },
            }


def admin_request(
    url: str,
    token: str,
    path: str,
    body: dict[str, Any] | None = None,
    timeout: float = 10.0,
    ca_data: str | None = None,
    method: str | None = None,
) -> Any:
    """Talk to a running sandbox's admin endpoint (used by ``incidentctl sandbox inject``)."""
    import base64
    import ssl
    import urllib.request

    context = None
    if ca_data:
        context = ssl.create_default_context(cadata=base64.b64decode(ca_data).decode())

    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{url.rstrip('/')}/_sandbox/{path}",
        data=data,
        method=method or ("POST" if body is not None else "GET"),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
        return json.loads(response.read())
