"""How the SarvanOM services behave, given the state of the cluster: the single model behind pod lifecycles,
resource use, the services' signals (traffic, errors, latency), health answers, exec output and log lines.

Faults are state, not scripts: a broken image, a database pod wedged with leaked connections, a retrieval pod
whose in-memory index cache has filled up, corrupt entries in redis, an LLM provider that stopped answering, a
traffic surge. A scenario only puts the world into such a state; whatever kubectl does to the world (roll back,
delete the pod, restart, scale, flush) changes what the model computes next, so a real mitigation really fixes
the incident and anything else leaves it broken.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from incidentctl.sandbox import resources, world
from incidentctl.sandbox.runtime import ContainerRun, Instance, PodRun
from incidentctl.sandbox.store import Obj

if TYPE_CHECKING:
    from incidentctl.sandbox.controller_base import ControllerBase

MI = 1024 * 1024
#: the share of requests a pod of a broken revision fails (its workers segfault mid-request)
BROKEN_ERROR_RATE = 0.85
#: the share of the users' traffic still reaching the cluster while the ingress sends them to the standby region
#: (clients holding a connection open, monitors that call the cluster's own address)
REDIRECTED_SHARE = 0.02


@dataclass(frozen=True)
class Signals:
    """One service's golden signals at a moment, and what (if anything) is behind them."""

    request_rate: float
    error_rate: float
    p95: float
    cpu_utilisation: float = 0.3
    ready: int = 0
    desired: int = 0
    cause: str = ""
    #: what responders switched that changes who this service serves: "maintenance", "redirected"
    mode: str = ""
    #: an attack on the service: "credential-stuffing" (a flood of failed logins), "credential-stuffing-contained"
    #: (the same flood, answered 429 by the login throttle)
    attack: str = ""


@dataclass
class ExecResult:
    stdout: str = ""
    stderr: str = ""
    exit_code: int = 0


@dataclass
class HealthReply:
    status: int
    body: dict[str, Any]
    delay: float = 0.0


@dataclass
class Model:
    #: scenario-level state that lives outside the cluster (an LLM provider's outage, user traffic)
    openai_down: bool = False
    traffic_multiplier: float = 1.0
    #: a few addresses try leaked username/password pairs on the gateway's login route
    credential_stuffing: bool = False
    #: a short description of what is going on, for the admin endpoint
    scenario: str = "healthy"
    extra: dict[str, Any] = field(default_factory=dict)
    _signals: dict[str, Signals] = field(default_factory=dict)

    # -- pods ------------------------------------------------------------------------------------------------

    def pod_created(self, sim: ControllerBase, run: PodRun, pod: Obj) -> None:
        if world.component_of(pod) == "retrieval":
            run.attrs.setdefault("cache_mi_at_start", 40.0)

    def image_pullable(self, image: str) -> bool:
        return world.image_pullable(image)

    def ready_delay(self, run: PodRun, crun: ContainerRun) -> float:
        return {"postgres": 6.0, "redis": 2.0}.get(crun.name, 4.0)

    def container_started(self, sim: ControllerBase, run: PodRun, pod: Obj, crun: ContainerRun, inst: Instance) -> None:
        if inst.image in world.BROKEN_IMAGES:
            rng = random.Random(inst.seed)
            inst.fate = (inst.started + timedelta(seconds=rng.uniform(14, 26)), 139, "Error")
            inst.cause = "segfault"

    def fate(
        self, sim: ControllerBase, run: PodRun, pod: Obj, crun: ContainerRun, inst: Instance
    ) -> tuple[datetime, int, str] | None:
        if inst.fate is not None:
            return inst.fate
        if crun.name == "retrieval":
            oom = self._retrieval_oom_at(run, inst)
            if oom is not None:
                inst.cause = "oom"
                return (oom, 137, "OOMKilled")
        return None

    def readiness(
        self, sim: ControllerBase, run: PodRun, pod: Obj, crun: ContainerRun, inst: Instance, now: datetime
    ) -> tuple[bool, str]:
        if crun.name == "postgres" and run.attrs.get("connections_exhausted"):
            return False, (
                'psql: error: connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: '
                "FATAL:  remaining connection slots are reserved for roles with the SUPERUSER attribute"
            )
        return True, ""

    def process_name(self, run: PodRun, crun: ContainerRun) -> str:
        return {"retrieval": "python3", "synthesis": "python3", "gateway": "python3"}.get(crun.name, crun.name)

    def memory_limit_kb(self, pod: Obj, container: str) -> int:
        for spec in pod.get("spec", {}).get("containers", []):
            if spec["name"] == container:
                from incidentctl.sandbox.objects import quantity

                return int(quantity((spec.get("resources") or {}).get("limits", {}).get("memory", "1Gi")) // 1024)
        return 1048576

    # memory of a retrieval pod: the tmpfs index cache (grows for the pod's life) plus the process working set
    CACHE_GROWTH_MI_PER_S = 0.01
    WORKING_SET = (200.0, 2.0, 400.0)  # start MiB, MiB per second while warming up, plateau MiB

    def _retrieval_cache_mi(self, run: PodRun, now: datetime) -> float:
        start = float(run.attrs.get("cache_mi_at_start", 40.0))
        since = run.attrs.get("cache_since") or run.scheduled_at or run.created
        return start + max(0.0, (now - since).total_seconds()) * self.CACHE_GROWTH_MI_PER_S

    def _retrieval_ws_mi(self, inst: Instance, now: datetime) -> float:
        base, rate, plateau = self.WORKING_SET
        return min(plateau, base + rate * max(0.0, (now - inst.started).total_seconds()))

    def _retrieval_oom_at(self, run: PodRun, inst: Instance) -> datetime | None:
        """When cache + working set reach the 1 GiB limit (piecewise linear, so solved exactly)."""
        limit = 1024.0
        base, rate, plateau = self.WORKING_SET
        growth = self.CACHE_GROWTH_MI_PER_S
        since = run.attrs.get("cache_since") or run.scheduled_at or run.created
        t0 = max(inst.started, since)
        c0, w0 = self._retrieval_cache_mi(run, t0), self._retrieval_ws_mi(inst, t0)
        if c0 + w0 >= limit:
            return t0
        warm_left = max(0.0, (plateau - base) / rate - (t0 - inst.started).total_seconds())
        x = (limit - c0 - w0) / (growth + rate)
        if x <= warm_left:
            return t0 + timedelta(seconds=x)
        c1 = c0 + growth * warm_left
        return t0 + timedelta(seconds=warm_left + (limit - c1 - plateau) / growth)

    #: an OOM kill weighs on retrieval's answers for this long (its caches are cold, its requests were lost)
    OOM_PRESSURE = timedelta(minutes=5)

    def _oom_killed_lately(self, crun: ContainerRun, now: datetime) -> bool:
        """Recently, not ever: ``lastState: OOMKilled`` stays on a pod until its next exit, long after a cleared
        leak stopped hurting anyone."""
        last = crun.last_terminated()
        return (
            last is not None
            and last.reason == "OOMKilled"
            and last.finished is not None
            and now - last.finished < self.OOM_PRESSURE
        )

    def memory_bytes(self, sim: ControllerBase, run: PodRun, pod: Obj, crun: ContainerRun, now: datetime) -> int:
        component = world.BY_NAME.get(crun.name)
        inst = crun.current
        if crun.name == "retrieval" and inst is not None:
            return int((self._retrieval_cache_mi(run, now) + self._retrieval_ws_mi(inst, now)) * MI)
        base = component.memory_mi if component else 20.0
        jitter = (inst.seed % 37) if inst else 0
        return int((base + jitter) * MI)

    def cpu_millicores(self, sim: ControllerBase, run: PodRun, pod: Obj, crun: ContainerRun, now: datetime) -> float:
        component = world.BY_NAME.get(crun.name)
        inst = crun.current
        jitter = (inst.seed % 23) if inst else 0
        if component is None:
            return 3.0 + jitter % 5
        signals = self._signals.get(crun.name)
        if signals is not None and component.kind == "Deployment":
            limit = 1000.0
            return min(limit, max(component.cpu_m * 0.3, signals.cpu_utilisation * limit) + jitter)
        return component.cpu_m + jitter

    # -- services --------------------------------------------------------------------------------------------

    def tick(self, sim: ControllerBase, now: datetime) -> None:
        self._signals = self.compute(sim, now)

    def signals(self, sim: ControllerBase) -> dict[str, Signals]:
        return dict(self._signals)

    def _pods(self, sim: ControllerBase, component: str) -> list[tuple[Obj, PodRun | None]]:
        out = []
        for pod in sim.store.list(resources.PODS, world.NAMESPACE):
            if world.component_of(pod) == component:
                out.append((pod, sim.pods.get(pod["metadata"]["uid"])))
        return out

    def flag(self, sim: ControllerBase, key: str, configmap: str = "synthesis-config") -> str:
        cm = sim.store.get(resources.CONFIGMAPS, world.NAMESPACE, configmap)
        return str(((cm or {}).get("data") or {}).get(key, ""))

    def maintenance_on(self, sim: ControllerBase) -> bool:
        """The gateway reloads its ConfigMap: MAINTENANCE_MODE "on" answers every route with the maintenance page."""
        return self.flag(sim, world.MAINTENANCE_KEY, world.GATEWAY_CONFIG).strip().lower() in ("on", "true", "1")

    def login_throttled(self, sim: ControllerBase) -> bool:
        """The gateway reloads its ConfigMap: a positive LOGIN_THROTTLE_PER_MINUTE turns the login throttle on."""
        try:
            return int(self.flag(sim, world.LOGIN_THROTTLE_KEY, world.GATEWAY_CONFIG) or "0") > 0
        except ValueError:
            return False

    def redirected_to(self, sim: ControllerBase) -> str | None:
        """The Service the ``sarvanom`` ingress sends users to, when it is not the cluster's gateway."""
        ingress = sim.store.get(resources.INGRESSES, world.NAMESPACE, "sarvanom")
        backends = [
            str(((path.get("backend") or {}).get("service") or {}).get("name"))
            for rule in ((ingress or {}).get("spec") or {}).get("rules") or []
            for path in (rule.get("http") or {}).get("paths") or []
        ]
        if ingress is None or not backends or world.GATEWAY.name in backends:
            return None
        return backends[0]

    def switched(self, sim: ControllerBase) -> list[str]:
        """What responders switched that changes what users get, one line each (for ``sandbox status``)."""
        out = []
        if self.maintenance_on(sim):
            out.append(f"maintenance mode on ({world.GATEWAY_CONFIG} {world.MAINTENANCE_KEY}=on)")
        if self.flag(sim, "CIRCUIT_BREAKER").lower() == "open":
            out.append("openai circuit breaker open (synthesis-config CIRCUIT_BREAKER=open)")
        target = self.redirected_to(sim)
        if target is not None:
            out.append(f"traffic redirected to {target} (ingress sarvanom)")
        if self.login_throttled(sim):
            limit = self.flag(sim, world.LOGIN_THROTTLE_KEY, world.GATEWAY_CONFIG)
            out.append(f"login throttled ({world.GATEWAY_CONFIG} {world.LOGIN_THROTTLE_KEY}={limit})")
        return out

    def breaker_open(self, sim: ControllerBase) -> bool:
        return self.flag(sim, "CIRCUIT_BREAKER").lower() == "open" or self.flag(sim, "LLM_PROVIDER") == "anthropic"

    def timeout_too_short(self, sim: ControllerBase) -> bool:
        """A provider timeout below synthesis' usual p95 cuts off the slow answers (only the number is read)."""
        try:
            return float(self.flag(sim, world.TIMEOUT_KEY) or "30") < world.SYNTHESIS.p95 * 1.5
        except ValueError:
            return False

    def postgres_ok(self, sim: ControllerBase) -> bool:
        pods = self._pods(sim, "postgres")
        return any(run is not None and run.ready() and not run.attrs.get("connections_exhausted") for _, run in pods)

    def redis_corrupt(self, sim: ControllerBase) -> bool:
        return any(run is not None and run.attrs.get("corrupt_keys") for _, run in self._pods(sim, "redis"))

    def redis_ok(self, sim: ControllerBase) -> bool:
        return any(run is not None and run.ready() for _, run in self._pods(sim, "redis"))

    def compute(self, sim: ControllerBase, now: datetime) -> dict[str, Signals]:
        out: dict[str, Signals] = {}
        # users sent to the standby region: the whole cluster serves almost no one
        share = REDIRECTED_SHARE if self.redirected_to(sim) is not None else 1.0
        for component in world.SERVICES:
            pods = self._pods(sim, component.name)
            ready = sum(1 for _, run in pods if run is not None and run.ready())
            deploy = sim.store.get(resources.DEPLOYMENTS, world.NAMESPACE, component.name)
            desired = int((deploy or {}).get("spec", {}).get("replicas", 0))
            rate = component.request_rate * (self.traffic_multiplier if component.name == "gateway" else 1.0) * share
            out[component.name] = Signals(rate, component.error_rate, component.p95, 0.3, ready, desired)
        gw, rt, sy = out["gateway"], out["retrieval"], out["synthesis"]

        # synthesis: a broken revision takes requests while ready, then segfaults mid-request
        synth_pods = self._pods(sim, "synthesis")
        broken = sum(
            1
            for pod, _ in synth_pods
            if any(c.get("image") in world.BROKEN_IMAGES for c in pod["spec"].get("containers", []))
        )
        if broken and synth_pods:
            share = broken / len(synth_pods)
            sy = replace(sy, error_rate=min(1.0, sy.error_rate + BROKEN_ERROR_RATE * share), cause="bad-deploy")
        if self.openai_down:
            if self.breaker_open(sim):
                sy = replace(sy, p95=sy.p95 + 0.7, cause="dependency-outage-contained")
            else:
                sy = replace(sy, error_rate=max(sy.error_rate, 0.62), p95=30.4, cause="dependency-outage")
        if self.timeout_too_short(sim):  # bad-config: the slower third of provider calls is cut off
            sy = replace(sy, error_rate=max(sy.error_rate, 0.38), cause=sy.cause or "bad-config")
        # retrieval: the database, the cache and its own memory
        if not self.postgres_ok(sim):
            rt = replace(rt, error_rate=max(rt.error_rate, 0.58), p95=5.2, cause="db-outage")
        if self.redis_corrupt(sim):
            rt = replace(rt, error_rate=max(rt.error_rate, 0.07), cause="cache-corruption")
            sy = replace(sy, error_rate=max(sy.error_rate, 0.05), cause=sy.cause or "cache-corruption")
        retrieval_pods = self._pods(sim, "retrieval")
        pressure = 0
        for _pod, run in retrieval_pods:
            if run is None:
                continue
            crun = run.containers.get("retrieval")
            if crun is None:
                continue
            if self._oom_killed_lately(crun, now) or self._retrieval_cache_mi(run, now) > 600:
                pressure += 1
        if pressure and retrieval_pods:
            share = pressure / len(retrieval_pods)
            rt = replace(
                rt,
                error_rate=max(rt.error_rate, 0.3 * share),
                p95=max(rt.p95, 4.5 * share),
                cause=rt.cause or "memory-leak",
            )
        result = {}
        for name, raw in (("gateway", gw), ("retrieval", rt), ("synthesis", sy)):
            result[name] = _with_capacity(name, raw)
        gw, rt, sy = result["gateway"], result["retrieval"], result["synthesis"]
        # the gateway answers with whatever its upstreams give it
        upstream_err = 1 - (1 - rt.error_rate) * (1 - sy.error_rate)
        gw_err = 1 - (1 - gw.error_rate) * (1 - upstream_err * 0.95)
        cause = (
            gw.cause or (sy.cause if sy.error_rate >= rt.error_rate else rt.cause) if upstream_err > 0.02 else gw.cause
        )
        result["gateway"] = replace(gw, error_rate=min(1.0, gw_err), p95=gw.p95 + rt.p95 + sy.p95, cause=cause)
        if self.credential_stuffing and result["gateway"].ready:
            # failed logins are 401s, not 5xx: the error rate and latency do not move, the logs and an alert do
            attack = "credential-stuffing-contained" if self.login_throttled(sim) else "credential-stuffing"
            result["gateway"] = replace(result["gateway"], attack=attack)
        return self._switched_signals(sim, result, redirected=share < 1.0)

    def _switched_signals(
        self, sim: ControllerBase, result: dict[str, Signals], *, redirected: bool
    ) -> dict[str, Signals]:
        """What maintenance mode and a redirect make of the services' signals."""
        if redirected:
            result = {name: replace(sig, mode="redirected") for name, sig in result.items()}
        if self.maintenance_on(sim) and result["gateway"].ready:
            # every route answers the maintenance page at once; nothing is passed on to retrieval and synthesis
            result["gateway"] = replace(
                result["gateway"], error_rate=1.0, p95=0.004, cause="maintenance", mode="maintenance"
            )
            for name in ("retrieval", "synthesis"):
                result[name] = replace(result[name], request_rate=0.0, cpu_utilisation=0.0)
        return result

    # -- HTTP stand-ins --------------------------------------------------------------------------------------

    def health(self, sim: ControllerBase, component: str) -> HealthReply | None:
        sig = self._signals.get(component)
        if sig is None:
            return None
        release = world.BY_NAME[component].current.version
        deploy = sim.store.get(resources.DEPLOYMENTS, world.NAMESPACE, component)
        if deploy is not None:
            image = deploy["spec"]["template"]["spec"]["containers"][0].get("image", "")
            release = image.rsplit(":", 1)[-1]
        if sig.mode == "maintenance":
            return HealthReply(503, maintenance_page(release))
        checks: dict[str, str] = {}
        if component == "gateway":
            checks = {"retrieval": _check(self._signals["retrieval"]), "synthesis": _check(self._signals["synthesis"])}
        elif component == "retrieval":
            checks = {
                "postgres": "ok" if self.postgres_ok(sim) else "error: connection slots exhausted",
                "redis": (
                    "degraded: cache entries failed validation"
                    if self.redis_corrupt(sim)
                    else "ok"
                    if self.redis_ok(sim)
                    else "error: connection refused"
                ),
            }
        elif component == "synthesis":
            provider = self.flag(sim, "LLM_PROVIDER") or "openai"
            if self.openai_down and provider == "openai" and not self.breaker_open(sim):
                checks = {"llm_provider": "error: openai timed out after 30s"}
            elif self.openai_down:
                checks = {"llm_provider": "degraded: circuit open, answering with anthropic"}
            else:
                checks = {"llm_provider": "ok"}
            if self.redis_corrupt(sim):
                checks["canary_answer"] = "mismatch: cached sources do not match the question"
        body: dict[str, Any] = {
            "service": component,
            "version": release,
            "checks": checks,
            "ready_replicas": sig.ready,
            "error_rate": round(sig.error_rate, 4),
            "p95_seconds": round(sig.p95, 3),
        }
        if sig.ready == 0 or sig.error_rate > 0.25:
            body["status"] = "unhealthy"
            status = 503
        elif sig.error_rate > 0.05 or sig.p95 > 10 or any(v != "ok" for v in checks.values()):
            body["status"] = "degraded"
            status = 200
        else:
            body["status"] = "ok"
            status = 200
        delay = sig.p95 if sig.p95 > 10 else 0.0  # a saturated service answers its health check late too
        return HealthReply(status, body, delay)

    # -- exec ------------------------------------------------------------------------------------------------

    def exec(self, sim: ControllerBase, run: PodRun, pod: Obj, container: str, argv: list[str]) -> ExecResult:
        if not argv:
            return ExecResult(stderr="error: you must specify at least one command for the container\n", exit_code=1)
        program = argv[0].rsplit("/", 1)[-1]
        if program in ("sh", "bash") and len(argv) >= 3 and argv[1] == "-c":
            import shlex

            try:
                return self.exec(sim, run, pod, container, shlex.split(argv[2]))
            except ValueError:
                pass
        if program == "psql" and container == "postgres":
            return self._psql(run, argv)
        if program == "pg_isready" and container == "postgres":
            return ExecResult("/var/run/postgresql:5432 - accepting connections\n")
        if program == "redis-cli" and container == "redis":
            return self._redis(sim, run, argv)
        if program in ("true",):
            return ExecResult()
        if program == "date":
            return ExecResult(sim.clock.now().strftime("%a %b %d %H:%M:%S UTC %Y\n"))
        if program == "hostname":
            return ExecResult(run.name + "\n")
        return ExecResult(
            stderr=f"OCI runtime exec failed: exec failed: unable to start container process: exec: "
            f'"{argv[0]}": executable file not found in $PATH: unknown\n',
            exit_code=127,
        )

    def _psql(self, run: PodRun, argv: list[str]) -> ExecResult:
        if run.attrs.get("connections_exhausted") and "postgres" not in _option(argv, "-U", "postgres"):
            return ExecResult(
                stderr='psql: error: connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" '
                "failed: FATAL:  remaining connection slots are reserved for roles with the SUPERUSER "
                "attribute\n",
                exit_code=2,
            )
        database = _option(argv, "-d", "sarvanom")
        if database not in ("sarvanom_production", "postgres", "sarvanom"):
            return ExecResult(
                stderr=f'psql: error: connection to server on socket "/var/run/postgresql/.s.PGSQL.5432"'
                f' failed: FATAL:  database "{database}" does not exist\n',
                exit_code=2,
            )
        query = _option(argv, "-c", "")
        if not query:
            return ExecResult(stderr="psql: error: no query given (the sandbox runs -c queries only)\n", exit_code=1)
        normalised = " ".join(query.strip().rstrip(";").split()).lower()
        if normalised == "select 1":
            return ExecResult(" ?column? \n----------\n        1\n(1 row)\n\n")
        if normalised.startswith("select count(*) from pg_stat_activity"):
            count = 97 if run.attrs.get("connections_exhausted") else 23
            return ExecResult(f" count \n-------\n    {count}\n(1 row)\n\n")
        if normalised == "select version()":
            return ExecResult(
                "                                   version\n" + "-" * 75 + "\n PostgreSQL 16.4 "
                "(Debian 16.4-1.pgdg120+2) on x86_64-pc-linux-gnu, compiled by gcc (Debian 12.2.0-14) "
                "12.2.0, 64-bit\n(1 row)\n\n"
            )
        return ExecResult(stderr=f'ERROR:  the sandbox database only answers "SELECT 1;" (got: {query})\n', exit_code=1)

    def _redis(self, sim: ControllerBase, run: PodRun, argv: list[str]) -> ExecResult:
        words = [a for a in argv[1:] if not a.startswith("-")]
        command = (words[0] if words else "").lower()
        if command == "ping":
            return ExecResult("PONG\n")
        if command == "flushall":
            if run.attrs.pop("corrupt_keys", None) is not None:
                sim.touch_all()
            run.attrs["flushed_at"] = sim.clock.now()
            return ExecResult("OK\n")
        if command == "dbsize":
            return ExecResult(f"(integer) {0 if run.attrs.get('flushed_at') else 48213}\n")
        if command == "info":
            return ExecResult(
                "# Server\r\nredis_version:7.4.1\r\nredis_mode:standalone\r\nos:Linux 6.6.56+ x86_64\r\n"
                "uptime_in_seconds:7776000\r\n"
            )
        return ExecResult(f"(error) ERR unknown command '{command}', with args beginning with: \n")


def maintenance_page(release: str) -> dict[str, Any]:
    """What the gateway answers on every route (its health endpoint too) in maintenance mode."""
    return {
        "status": "maintenance",
        "service": "gateway",
        "version": release,
        "message": "SarvanOM is down for scheduled maintenance; please try again shortly.",
        "retry_after_seconds": 300,
    }


def _with_capacity(name: str, sig: Signals) -> Signals:
    """Requests queue when a service runs out of ready pods: latency first, then timeouts."""
    if sig.ready == 0:
        return replace(
            sig,
            error_rate=1.0,
            p95=sig.p95 if sig.desired else 0.0,
            cpu_utilisation=0.0,
            cause=sig.cause or "no-ready-pods",
        )
    util = sig.request_rate / (sig.ready * (30.0 if name == "gateway" else 25.0))
    sig = replace(sig, cpu_utilisation=min(1.0, util))
    if util > 1.0:
        return replace(
            sig,
            p95=max(sig.p95, 34.0 + 10 * (util - 1)),
            error_rate=max(sig.error_rate, min(0.5, 0.12 * util)),
            cause=sig.cause or "traffic-spike",
        )
    if util > 0.85:
        return replace(sig, p95=sig.p95 + (util - 0.85) * 20)
    return sig


def _check(sig: Signals) -> str:
    if sig.ready == 0:
        return "error: no ready replicas"
    if sig.error_rate > 0.05:
        return f"degraded: {sig.error_rate:.0%} errors"
    if sig.p95 > 10:
        return f"degraded: p95 {sig.p95:.1f}s"
    return "ok"


def _option(argv: list[str], flag: str, default: str) -> str:
    for i, arg in enumerate(argv):
        if arg == flag and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(flag) and len(arg) > len(flag) and flag != "-c":
            return arg[len(flag) :]
    return default
