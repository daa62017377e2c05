"""What the runbook's HTTP checks reach in the sandbox, on the same loopback port as the API:

* ``/components/<name>/health``: each service's health endpoint (status, body checks and latency per scenario);
* ``/deps/openai/v1/models``, ``/deps/anthropic/v1/models``: the two LLM providers (openai hangs during
  dependency-outage, as a provider that stopped answering does);
* ``/prometheus/api/v1/query`` and ``/query_range``: the services' signals in Prometheus' response shape;
* ``/alertmanager/api/v2/alerts`` (and ``/silences``): the alerts those signals fire, in Alertmanager's shape.

Prometheus queries are not evaluated as PromQL: the query is read as an opaque string and answered from the
simulated signals. ``service="<name>"`` (or ``job``/``app``/``component``) selects the service (none: all
three); the query's words pick the signal: ``histogram_quantile``/``duration``/``latency`` is p95 latency in
seconds, a ``5..`` status/code matcher or ``error`` is the 5xx ratio, ``cpu`` the CPU utilisation (0-1),
``memory`` the working set in bytes, ``up`` 1/0, and ``requests_total`` alone the request rate per second.
A range (``[5m]``) makes the ratio, the request rate and the CPU what ``rate()`` over that window gives, so they
lag behind a change as real ones do. Anything else returns an empty vector, as Prometheus does for a metric it
has no series for.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from incidentctl.sandbox import resources, world
from incidentctl.sandbox.clock import parse_time, rfc3339_micro
from incidentctl.sandbox.http import Request, Response, json_response
from incidentctl.sandbox.tables import pod_status

if TYPE_CHECKING:
    from incidentctl.sandbox.behaviour import Signals
    from incidentctl.sandbox.sandbox import Sandbox

_SERVICE_RE = re.compile(r'\b(?:service|job|app|component)\s*(=~|=)\s*"([^"]*)"')


def _time(value: str | None, now: datetime) -> datetime:
    if not value:
        return now
    try:
        return datetime.fromtimestamp(float(value), tz=timezone.utc)
    except ValueError:
        return parse_time(value)


#: the range of the alert rules' rate() expressions
ALERT_WINDOW = timedelta(minutes=5)
_RANGE_RE = re.compile(r"\[(\d+)([smhd])\]")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _range(query: str) -> timedelta | None:
    """The range of the query's ``rate(...[5m])`` (the longest, if several), or None for an instant query."""
    ranges = [int(n) * _UNIT_SECONDS[unit] for n, unit in _RANGE_RE.findall(query)]
    return timedelta(seconds=max(ranges)) if ranges and max(ranges) > 0 else None


def _format(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    return repr(float(round(value, 6)))


class StandIns:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self._posted_alerts: list[dict[str, Any]] = []
        self._silences: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def handle(self, request: Request) -> Response | None:
        path = request.path
        if path.startswith("/components/"):
            parts = [p for p in path.split("/") if p]
            if len(parts) >= 3 and parts[2] in ("health", "healthz", "ready"):
                return self.health(parts[1])
            if len(parts) >= 3 and parts[1] == world.GATEWAY.name:
                return self.gateway_route()
            return None
        if path.startswith("/deps/"):
            parts = [p for p in path.split("/") if p]
            if len(parts) >= 4 and parts[2:4] == ["v1", "models"]:
                return self.models(parts[1])
            return None
        if path.startswith("/prometheus/"):
            return self.prometheus(request, path[len("/prometheus") :])
        if path.startswith("/alertmanager/"):
            return self.alertmanager(request, path[len("/alertmanager") :])
        return None

    # -- health and dependencies ----------------------------------------------------------------------------

    def health(self, component: str) -> Response:
        sim = self.sandbox.sim
        with sim.lock:
            reply = sim.model.health(sim, component)
        if reply is None:
            return json_response({"status": "unknown", "error": f"no component {component!r}"}, 404)
        delay = min(reply.delay, self.sandbox.max_response_delay)
        if delay:
            self.sandbox.stopping.wait(delay)
        return json_response(reply.body, reply.status)

    def gateway_route(self) -> Response | None:
        """Any other gateway route: only maintenance mode answers them (the maintenance page, 503)."""
        from incidentctl.sandbox.behaviour import maintenance_page

        sim = self.sandbox.sim
        with sim.lock:
            if not sim.model.maintenance_on(sim):
                return None
            release = world.GATEWAY.current.version
        return json_response(maintenance_page(release), 503)

    def models(self, provider: str) -> Response:
        sim = self.sandbox.sim
        if provider == "openai":
            if sim.model.openai_down:
                # a provider that stopped answering: the connection stays open until the client gives up
                self.sandbox.stopping.wait(self.sandbox.dependency_hang)
                return json_response({"error": {"message": "upstream request timeout", "type": "timeout"}}, 504)
            return json_response(
                {
                    "object": "list",
                    "data": [
                        {"id": m, "object": "model", "created": 1715367049, "owned_by": "system"}
                        for m in ("gpt-4o", "gpt-4o-mini", "text-embedding-3-large")
                    ],
                }
            )
        if provider == "anthropic":
            return json_response(
                {
                    "data": [
                        {
                            "type": "model",
                            "id": "claude-sonnet-4-5",
                            "display_name": "Claude Sonnet 4.5",
                            "created_at": "2025-09-29T00:00:00Z",
                        },
                        {
                            "type": "model",
                            "id": "claude-haiku-4-5",
                            "display_name": "Claude Haiku 4.5",
                            "created_at": "2025-10-15T00:00:00Z",
                        },
                    ],
                    "has_more": False,
                    "first_id": "claude-sonnet-4-5",
                    "last_id": "claude-haiku-4-5",
                }
            )
        return json_response({"error": {"message": f"unknown provider {provider}"}}, 404)

    # -- Prometheus -------------------------------------------------------------------------------------------

    def _params(self, request: Request) -> dict[str, str]:
        params = {k: v[-1] for k, v in request.query.items()}
        if request.method == "POST" and request.body:
            params.update({k: v[-1] for k, v in parse_qs(request.body.decode(), keep_blank_values=True).items()})
        return params

    @staticmethod
    def _services(query: str) -> list[str]:
        names = [c.name for c in world.SERVICES]
        chosen = []
        for op, value in _SERVICE_RE.findall(query):
            if op == "=":
                chosen += [n for n in names if n == value]
            else:
                chosen += [n for n in names if re.fullmatch(value, n)]
        unique = list(dict.fromkeys(chosen))
        return unique or ([] if _SERVICE_RE.search(query) else names)

    @staticmethod
    def _kind(query: str) -> str | None:
        q = query.lower()
        if "histogram_quantile" in q or "duration" in q or "latency" in q:
            return "p95"
        if re.search(r'(code|status)\s*=~?\s*"5', q) or "error" in q or "5xx" in q:
            return "errors"
        if "cpu" in q:
            return "cpu"
        if "memory" in q:
            return "memory"
        if re.search(r"\bup\b", q):
            return "up"
        if "requests_total" in q or "request_rate" in q:
            return "requests"
        return None

    @staticmethod
    def _value(kind: str, service: str, sig: Signals) -> float:
        if kind == "p95":
            return sig.p95
        if kind == "errors":
            return sig.error_rate
        if kind == "cpu":
            return sig.cpu_utilisation
        if kind == "memory":
            return world.BY_NAME[service].memory_mi * 1024 * 1024 * max(1, sig.ready)
        if kind == "up":
            return 1.0 if sig.ready else 0.0
        return sig.request_rate

    def _windowed(self, kind: str, service: str, when: datetime, window: timedelta) -> float | None:
        """What ``rate(...[window])`` gives: the counters' increase over the window, not the rate of this second.

        The 5xx ratio is the errors of the window over its requests; the request rate and CPU are their means.
        After a fix the ratio falls off over the window as the bad minutes leave it, as real Prometheus shows.
        (p95 stays the latest value: the mixture's quantile is not worth simulating.)
        """
        changes = self.sandbox.sim.history.window(service, when - window, when)
        requests = errors = level = 0.0
        for index, (start, sig) in enumerate(changes):
            end = changes[index + 1][0] if index + 1 < len(changes) else when
            seconds = max(0.0, (end - start).total_seconds())
            requests += sig.request_rate * seconds
            errors += sig.request_rate * sig.error_rate * seconds
            level += (sig.cpu_utilisation if kind == "cpu" else sig.request_rate) * seconds
        total = window.total_seconds()
        if kind == "errors":
            return errors / requests if requests > 0 else None
        return level / total

    def _sample(self, query: str, when: datetime) -> list[dict[str, Any]]:
        history = self.sandbox.sim.history
        kind = self._kind(query)
        if kind is None:
            return []
        window = _range(query) if kind in ("errors", "requests", "cpu") else None
        result = []
        for service in self._services(query):
            sig = history.at(service, when)
            if sig is None:
                continue
            value = self._windowed(kind, service, when, window) if window else None
            if value is None:
                value = self._value(kind, service, sig)
            result.append(
                {
                    "metric": {"namespace": world.NAMESPACE, "service": service},
                    "value": [round(when.timestamp(), 3), _format(value)],
                }
            )
        return result

    def prometheus(self, request: Request, path: str) -> Response:
        now = self.sandbox.clock.now()
        if path in ("/-/ready", "/-/healthy"):
            return Response(200, b"Prometheus Server is Ready.\n", "text/plain; charset=utf-8")
        if path == "/api/v1/status/buildinfo":
            return json_response(
                {
                    "status": "success",
                    "data": {"version": "2.42.0", "revision": "sandbox", "branch": "HEAD", "goVersion": "go1.19.6"},
                }
            )
        params = self._params(request)
        query = params.get("query", "")
        if path in ("/api/v1/query", "/api/v1/query_range") and not query.strip():
            return json_response(
                {"status": "error", "errorType": "bad_data", "error": 'invalid parameter "query": unknown expression'},
                400,
            )
        with self.sandbox.sim.lock:
            if path == "/api/v1/query":
                when = _time(params.get("time"), now)
                return json_response(
                    {"status": "success", "data": {"resultType": "vector", "result": self._sample(query, when)}}
                )
            if path == "/api/v1/query_range":
                try:
                    start = _time(params.get("start"), now - timedelta(hours=1))
                    end = _time(params.get("end"), now)
                    step = float(re.sub(r"[a-z]+$", "", params.get("step", "60")) or 60)
                except ValueError:
                    return json_response(
                        {"status": "error", "errorType": "bad_data", "error": 'invalid parameter "start"'}, 400
                    )
                series: dict[str, dict[str, Any]] = {}
                t = start
                count = 0
                while t <= end and count < 11000:
                    for sample in self._sample(query, t):
                        entry = series.setdefault(
                            sample["metric"]["service"], {"metric": sample["metric"], "values": []}
                        )
                        entry["values"].append(sample["value"])
                    t += timedelta(seconds=max(step, 1.0))
                    count += 1
                return json_response(
                    {"status": "success", "data": {"resultType": "matrix", "result": list(series.values())}}
                )
        return json_response({"status": "error", "errorType": "not_found", "error": f"unknown path {path}"}, 404)

    # -- Alertmanager ----------------------------------------------------------------------------------------

    def _since(self, service: str, test: Any, now: datetime) -> datetime:
        """When the condition last became true, from the signal history."""
        window = self.sandbox.sim.history.window(service, now - timedelta(hours=6), now)
        start = now
        for when, sig in reversed(window):
            if test(sig):
                start = when
            else:
                break
        return start

    def _alert(
        self, labels: dict[str, str], annotations: dict[str, str], starts: datetime, now: datetime
    ) -> dict[str, Any]:
        fingerprint = hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()[:16]
        expr = labels.get("alertname", "")
        return {
            "labels": labels,
            "annotations": annotations,
            "startsAt": rfc3339_micro(starts),
            "endsAt": rfc3339_micro(now + timedelta(minutes=4)),
            "updatedAt": rfc3339_micro(now),
            "fingerprint": fingerprint,
            "receivers": [{"name": "sarvanom-oncall"}],
            "status": {"state": "active", "silencedBy": [], "inhibitedBy": [], "mutedBy": []},
            "generatorURL": f"http://prometheus.monitoring.svc:9090/graph?g0.expr={expr}&g0.tab=1",
        }

    def alerts(self) -> list[dict[str, Any]]:
        sim = self.sandbox.sim
        now = self.sandbox.clock.now()
        out = []
        ns = world.NAMESPACE
        with sim.lock:
            for service, sig in sim.model.signals(sim).items():
                base = {"namespace": ns, "service": service, "team": "sarvanom"}
                # the alert rule's expression is the same rate(...[5m]) ratio Prometheus answers with
                windowed = self._windowed("errors", service, now, ALERT_WINDOW)
                error_rate = windowed if windowed is not None else sig.error_rate
                if error_rate > 0.05:
                    severity = "critical" if error_rate > 0.1 else "warning"
                    starts = self._since(service, lambda s: s.error_rate > 0.05, now)
                    out.append(
                        self._alert(
                            base | {"alertname": "HighErrorRate", "severity": severity},
                            {
                                "summary": f"{service}: {error_rate:.0%} of requests fail with 5xx",
                                "description": f"5xx ratio over 5m is {error_rate:.3f} (threshold 0.05)",
                                "runbook_url": "https://runbooks.sarvanom.com/incident-response",
                            },
                            starts,
                            now,
                        )
                    )
                if sig.p95 > 5:
                    severity = "critical" if sig.p95 > 30 else "warning"
                    starts = self._since(service, lambda s: s.p95 > 5, now)
                    out.append(
                        self._alert(
                            base | {"alertname": "HighLatency", "severity": severity},
                            {
                                "summary": f"{service}: p95 latency {sig.p95:.1f}s",
                                "description": "95th percentile response time over 5m is above 5s",
                            },
                            starts,
                            now,
                        )
                    )
            for pod in sim.store.list(resources.PODS, ns):
                reason, _, _, restarts, _ = pod_status(pod)
                service = world.component_of(pod)
                labels = {"namespace": ns, "service": service, "pod": pod["metadata"]["name"], "team": "sarvanom"}
                if reason in ("CrashLoopBackOff", "OOMKilled") or (
                    reason == "Running"
                    and restarts >= 3
                    and any(
                        (cs.get("lastState") or {}).get("terminated")
                        for cs in pod["status"].get("containerStatuses", [])
                    )
                ):
                    out.append(
                        self._alert(
                            labels | {"alertname": "KubePodCrashLooping", "severity": "warning"},
                            {
                                "summary": f"Pod {ns}/{pod['metadata']['name']} is crash looping",
                                "description": f"{restarts} restarts; last state {reason}",
                            },
                            now - timedelta(minutes=2),
                            now,
                        )
                    )
                if service == "postgres" and not sim.model.postgres_ok(sim):
                    out.append(
                        self._alert(
                            labels | {"alertname": "PostgresDown", "severity": "critical"},
                            {
                                "summary": "postgres is not accepting connections",
                                "description": "pg readiness probe failing on postgres-0",
                            },
                            now - timedelta(minutes=1),
                            now,
                        )
                    )
            # the rule watches synthesis' own calls to the provider: an open breaker stops them, so it resolves
            # while the provider's own check (/deps/openai) keeps failing
            if sim.model.openai_down and not sim.model.breaker_open(sim):
                out.append(
                    self._alert(
                        {
                            "namespace": ns,
                            "service": "synthesis",
                            "dependency": "openai",
                            "alertname": "LLMProviderDown",
                            "severity": "critical",
                            "team": "sarvanom",
                        },
                        {
                            "summary": "openai API requests time out",
                            "description": "synthesis calls to api.openai.com time out after 30s",
                        },
                        self._since("synthesis", lambda s: s.cause.startswith("dependency"), now),
                        now,
                    )
                )
            if sim.model.redis_corrupt(sim):
                out.append(
                    self._alert(
                        {
                            "namespace": ns,
                            "service": "retrieval",
                            "alertname": "CacheValidationFailures",
                            "severity": "warning",
                            "team": "sarvanom",
                        },
                        {
                            "summary": "cache entries fail validation",
                            "description": "retrieval rejects cached embeddings of the wrong shape",
                        },
                        self._since("retrieval", lambda s: s.cause == "cache-corruption", now),
                        now,
                    )
                )
            gateway = sim.model.signals(sim).get("gateway")
            if gateway is not None and gateway.attack == "credential-stuffing":
                # the security team's rule: failed logins on one route from few addresses; its labels say what
                # kind of incident it is, so triage can file it under the runbook's security/attack
                out.append(
                    self._alert(
                        {
                            "namespace": ns,
                            "service": "gateway",
                            "route": world.LOGIN_PATH,
                            "alertname": "CredentialStuffing",
                            "severity": "critical",
                            "category": "security",
                            "kind": "attack",
                            "team": "security",
                        },
                        {
                            "summary": f"gateway: a flood of failed logins on {world.LOGIN_PATH} from "
                            f"{len(world.ATTACKERS)} addresses",
                            "description": "401s on the login route from "
                            f"{', '.join(world.ATTACKERS)}: leaked username/password pairs being tried",
                        },
                        self._since("gateway", lambda s: s.attack == "credential-stuffing", now),
                        now,
                    )
                )
        with self._lock:
            for alert in self._posted_alerts:
                if parse_time(alert["endsAt"]) > now:
                    out.append(alert)
        return out

    @staticmethod
    def _matches(alert: dict[str, Any], matcher: str) -> bool:
        m = re.match(r'^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"?(.*?)"?\s*$', matcher)
        if m is None:
            return True
        key, op, value = m.groups()
        actual = alert["labels"].get(key, "")
        if op == "=":
            return bool(actual == value)
        if op == "!=":
            return bool(actual != value)
        if op == "=~":
            return re.fullmatch(value, actual) is not None
        return re.fullmatch(value, actual) is None

    def alertmanager(self, request: Request, path: str) -> Response:
        now = self.sandbox.clock.now()
        if path in ("/-/ready", "/-/healthy"):
            return Response(200, b"OK", "text/plain; charset=utf-8")
        if path == "/api/v2/status":
            return json_response(
                {
                    "cluster": {"status": "disabled", "peers": []},
                    "versionInfo": {"version": "0.25.0"},
                    "config": {"original": "route:\n  receiver: sarvanom-oncall\n"},
                    "uptime": rfc3339_micro(now - timedelta(days=12)),
                }
            )
        if path == "/api/v2/alerts":
            if request.method == "POST":
                posted = request.json()
                if not isinstance(posted, list):
                    return json_response({"code": 400, "message": "alerts must be a list"}, 400)
                with self._lock:
                    for alert in posted:
                        starts = parse_time(alert.get("startsAt")) if alert.get("startsAt") else now
                        ends = parse_time(alert.get("endsAt")) if alert.get("endsAt") else now + timedelta(minutes=5)
                        entry = self._alert(
                            dict(alert.get("labels") or {}), dict(alert.get("annotations") or {}), starts, now
                        )
                        entry["endsAt"] = rfc3339_micro(ends)
                        entry["generatorURL"] = alert.get("generatorURL", "")
                        self._posted_alerts.append(entry)
                return Response(200, b"", "application/json")
            alerts = self.alerts()
            for matcher in request.query.get("filter", []):
                alerts = [a for a in alerts if self._matches(a, matcher)]
            if request.arg("active", "true") == "false":
                alerts = []
            return json_response(alerts)
        if path == "/api/v2/silences":
            if request.method == "POST":
                silence = request.json() or {}
                with self._lock:
                    silence_id = hashlib.sha256(json.dumps(silence, sort_keys=True).encode()).hexdigest()[:32]
                    self._silences.append(silence | {"id": silence_id, "status": {"state": "active"}})
                return json_response({"silenceID": silence_id})
            with self._lock:
                return json_response(list(self._silences))
        return json_response({"code": 404, "message": f"unknown path {path}"}, 404)
