"""Pod logs that read like the real services': normal traffic, then the errors the fault causes.

A container instance's log is a pure function of the instance (its seed, start and end) and of the signal history
of its service, generated in one-minute chunks and cached once a chunk lies wholly in the past. So ``--previous``,
``--since``, ``--tail`` and ``--follow`` all see the same lines, and logs of an hour-long crash loop cost nothing
until someone reads them.
"""

from __future__ import annotations

import json
import random
import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from incidentctl.core.times import format_rfc3339
from incidentctl.sandbox import world
from incidentctl.sandbox.behaviour import BROKEN_ERROR_RATE
from incidentctl.sandbox.loggen import AGENTS, WORDS
from incidentctl.sandbox.runtime import ContainerRun, Instance, PodRun
from incidentctl.sandbox.store import Obj

if TYPE_CHECKING:
    from incidentctl.sandbox.behaviour import Signals
    from incidentctl.sandbox.simulation import Simulation

Line = tuple[datetime, str]
CHUNK = 60.0

#: how many request lines a second one pod of each service writes (the rest of the traffic is not logged)
LINE_RATE = {"gateway": 0.5, "retrieval": 0.4, "synthesis": 0.35}
#: failed logins a second one gateway pod logs during the credential-stuffing drill
LOGIN_FLOOD_RATE = 2.0
MAIL = ("gmail.com", "yahoo.com", "outlook.com", "proton.me")


def select_lines(lines: list[Line], *, since: datetime | None = None, tail: int | None = None) -> list[Line]:
    if since is not None:
        lines = [entry for entry in lines if entry[0] >= since]
    if tail is not None and tail >= 0:
        lines = lines[-tail:] if tail else []
    return lines


def _ts(when: datetime) -> str:
    return format_rfc3339(when, "milliseconds")


def _rid(rng: random.Random) -> str:
    return f"{rng.getrandbits(48):012x}"


class LogInstance:
    def __init__(self, sim: Simulation, run: PodRun, pod: Obj, crun: ContainerRun, inst: Instance) -> None:
        self.sim = sim
        self.run = run
        self.inst = inst
        self.crun = crun
        self.component = world.component_of(pod)
        self.version = inst.image.rsplit(":", 1)[-1]
        self._chunks: dict[int, list[Line]] = {}

    def running(self, now: datetime) -> bool:
        return self.inst.finished is None and self.run.uid in self.sim.pods

    def end(self, now: datetime) -> datetime:
        return min(self.inst.finished, now) if self.inst.finished is not None else now

    def lines(self, now: datetime) -> list[Line]:
        end = self.end(now)
        start = self.inst.started
        out: list[Line] = list(self._startup())
        total = int((end - start).total_seconds() // CHUNK) + 1
        first = max(0, total - 6 * 60)  # at most six hours of history per container
        for index in range(first, total):
            chunk_start = start + timedelta(seconds=index * CHUNK)
            chunk_end = chunk_start + timedelta(seconds=CHUNK)
            cached = self._chunks.get(index)
            if cached is None:
                cached = self._chunk(index, chunk_start, chunk_end)
                if chunk_end <= end:
                    self._chunks[index] = cached
            out.extend(entry for entry in cached if entry[0] <= end)
        if self.inst.finished is not None and self.inst.finished <= now:
            out.extend(self._ending())
        out.sort(key=lambda entry: entry[0])  # stable: lines written at the same moment keep their order
        return out

    # -- the services' own words -----------------------------------------------------------------------------

    def _startup(self) -> list[Line]:
        t = self.inst.started
        name, v = self.component, self.version

        def at(seconds: float, text: str) -> Line:
            when = t + timedelta(seconds=seconds)
            return when, text.replace("{ts}", _ts(when))

        if name in ("gateway", "retrieval", "synthesis"):
            lines = [
                at(0.1, "{ts} INFO  uvicorn.error Started server process [1]"),
                at(0.1, "{ts} INFO  uvicorn.error Waiting for application startup."),
                at(0.6, f"{{ts}} INFO  {name}.app {name} {v} starting (python 3.12.7)"),
            ]
            if name == "retrieval":
                lines += [
                    at(1.2, "{ts} INFO  retrieval.db connected to postgres:5432/sarvanom_production pool_size=20"),
                    at(
                        1.4,
                        "{ts} INFO  retrieval.cache redis connected redis:6379/0; index cache at /var/cache/retrieval",
                    ),
                ]
            if name == "synthesis":
                lines += [at(1.2, "{ts} INFO  synthesis.providers primary=openai fallback=anthropic timeout=30s")]
            lines += [
                at(1.9, "{ts} INFO  uvicorn.error Application startup complete."),
                at(1.9, "{ts} INFO  uvicorn.error Uvicorn running on http://0.0.0.0:8080 (Press CTRL+C to quit)"),
            ]
            return lines
        if name == "postgres":
            stamp = t.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"
            return [
                (
                    t + timedelta(seconds=0.2),
                    f"{stamp} [1] LOG:  starting PostgreSQL 16.4 "
                    "(Debian 16.4-1.pgdg120+2) "
                    "on x86_64-pc-linux-gnu, compiled by gcc (Debian 12.2.0-14) 12.2.0, 64-bit",
                ),
                (t + timedelta(seconds=0.2), f'{stamp} [1] LOG:  listening on IPv4 address "0.0.0.0", port 5432'),
                (t + timedelta(seconds=0.3), f"{stamp} [1] LOG:  database system is ready to accept connections"),
            ]
        if name == "redis":
            stamp = t.strftime("%d %b %Y %H:%M:%S.%f")[:-3]
            return [
                (t + timedelta(seconds=0.1), f"1:C {stamp} # oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo"),
                (t + timedelta(seconds=0.1), f"1:M {stamp} * Server initialized"),
                (t + timedelta(seconds=0.2), f"1:M {stamp} * Ready to accept connections tcp"),
            ]
        return [(t + timedelta(seconds=0.5), f"I{t.strftime('%m%d %H:%M:%S.%f')}       1 main.go:42] {name} starting")]

    def _chunk(self, index: int, start: datetime, end: datetime) -> list[Line]:
        rng = random.Random(self.inst.seed * 100003 + index)
        name = self.component
        history = self.sim.history
        out: list[Line] = []
        if name in LINE_RATE:
            ready_at = self.inst.started + timedelta(seconds=4)
            rate = LINE_RATE[name]
            t = start + timedelta(seconds=rng.expovariate(rate))
            while t < end:
                if t >= ready_at:
                    sig = history.at(name, t) if history is not None else None
                    out.append((t, self._request_line(rng, t, sig)))
                t += timedelta(seconds=rng.expovariate(rate))
            if name == "gateway" and history is not None:
                out = sorted(out + self._login_flood(index, start, end, ready_at), key=lambda line: line[0])
            return out
        if name == "postgres":
            return self._postgres_chunk(rng, index, start, end)
        if name == "redis":
            if index % 5 == 4:
                stamp = (start + timedelta(seconds=5)).strftime("%d %b %Y %H:%M:%S.%f")[:-3]
                out = [
                    (start + timedelta(seconds=5), f"1:M {stamp} * 100 changes in 300 seconds. Saving..."),
                    (start + timedelta(seconds=5.1), f"{rng.randint(100, 999)}:C {stamp} * DB saved on disk"),
                    (start + timedelta(seconds=5.2), f"1:M {stamp} * Background saving terminated with success"),
                ]
            return out
        if index % 10 == 9:
            out.append(
                (
                    start + timedelta(seconds=30),
                    f"I{start.strftime('%m%d %H:%M:%S')}.000000       1 {name}.go:118] periodic sync complete",
                )
            )
        return out

    def _postgres_chunk(self, rng: random.Random, index: int, start: datetime, end: datetime) -> list[Line]:
        out: list[Line] = []
        pid = 70 + index
        wedged = self.run.attrs.get("connections_exhausted")
        since = self.run.attrs.get("exhausted_since")
        if index % 5 == 4:
            when = start + timedelta(seconds=12)
            stamp = when.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"
            out.append((when, f"{stamp} [27] LOG:  checkpoint starting: time"))
            later = when + timedelta(seconds=4.6)
            out.append(
                (
                    later,
                    f"{later.strftime('%Y-%m-%d %H:%M:%S.%f')[:-3]} UTC [27] LOG:  checkpoint complete: "
                    f"wrote {rng.randint(80, 900)} buffers ({rng.uniform(0.4, 5):.1f}%); 0 WAL file(s) added, 0 "
                    f"removed, 1 recycled; write={rng.uniform(3, 4.5):.3f} s, sync=0.004 s, "
                    f"total={rng.uniform(4.5, 4.7):.3f} s",
                )
            )
        if wedged and since is not None:
            t = max(start, since)
            while t < end:
                t += timedelta(seconds=rng.expovariate(3.0))
                if t >= end:
                    break
                stamp = t.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"
                out.append(
                    (
                        t,
                        f"{stamp} [{pid + rng.randint(1000, 9000)}] FATAL:  remaining connection slots are "
                        "reserved for roles with the SUPERUSER attribute",
                    )
                )
        out.sort(key=lambda entry: entry[0])
        return out

    def _request_line(self, rng: random.Random, t: datetime, sig: Signals | None) -> str:
        name = self.component
        err = sig.error_rate if sig is not None else 0.0
        p95 = sig.p95 if sig is not None else 0.5
        cause = sig.cause if sig is not None else ""
        if cause == "bad-deploy" and name == "synthesis":
            err, cause = self._own_share_of_a_bad_deploy()
        ts = _ts(t)
        rid = _rid(rng)
        duration = max(3, int(rng.lognormvariate(0, 0.45) * p95 * 1000 / 2.1))
        # what varies besides (the client, the user's question) comes from its own generator, so that the lines
        # and errors each pod writes stay the ones they always were
        extra = random.Random(rid)
        client = f"10.{extra.randint(0, 255)}.{extra.randint(0, 255)}.{extra.randint(1, 254)}"
        if cause == "maintenance" and name == "gateway":
            path = rng.choice(("/v1/ask", "/v1/ask", "/v1/search", "/v1/sources"))
            return (
                f"{ts} INFO  gateway.maintenance request_id={rid} method=POST path={path} status=503 duration_ms=2 "
                f"client={client} served the maintenance page ({world.MAINTENANCE_KEY}=on)"
            )
        if rng.random() < err:
            logger = f"{name}.{_ERROR_LOGGER.get(name, 'app')}"
            text = _error_text(name, cause, rng, duration)
            if name == "retrieval":
                return _json_line(ts, "error", logger, rid, _fields(text))
            where = f"client={client} " if name == "gateway" else ""
            return f"{ts} ERROR {logger} request_id={rid} {where}{text}"
        if name == "gateway":
            path = rng.choice(("/v1/ask", "/v1/ask", "/v1/ask", "/v1/search", "/v1/sources"))
            tenant = rng.choice(("acme", "globex", "initech", "umbrella", "hooli"))
            return (
                f"{ts} INFO  gateway.access request_id={rid} tenant={tenant} method=POST path={path} status=200 "
                f'duration_ms={duration} client={client} ua="{extra.choice(AGENTS)}"'
            )
        if name == "retrieval":
            fields: dict[str, object] = {
                "query": " ".join(extra.choice(WORDS) for _ in range(extra.randint(3, 9))),
                "query_tokens": rng.randint(6, 90),
                "sources": rng.randint(4, 20),
                "cache": "hit" if rng.random() < 0.7 else "miss",
                "duration_ms": duration,
            }
            return _json_line(ts, "info", "retrieval.search", rid, fields)
        provider = "anthropic" if cause == "dependency-outage-contained" else "openai"
        model = "claude-sonnet-4-5" if provider == "anthropic" else "gpt-4o"
        return (
            f"{ts} INFO  synthesis.answer request_id={rid} provider={provider} model={model} "
            f"tokens_in={rng.randint(600, 3200)} tokens_out={rng.randint(80, 700)} duration_ms={duration}"
        )

    def _login_flood(self, index: int, start: datetime, end: datetime, ready_at: datetime) -> list[Line]:
        """The credential-stuffing drill's failed logins, from a generator of their own (the users' own lines stay
        the ones they always were): 401 per leaked pair tried, or 429 once the login throttle is on."""
        rng = random.Random(self.inst.seed * 100003 + index + 7_777_777)
        out: list[Line] = []
        t = start + timedelta(seconds=rng.expovariate(LOGIN_FLOOD_RATE))
        while t < end:
            sig = self.sim.history.at("gateway", t) if self.sim.history is not None else None
            attack = sig.attack if sig is not None else ""
            if t >= ready_at and attack.startswith("credential-stuffing"):
                client = rng.choice(world.ATTACKERS)
                rid = _rid(rng)
                head = (
                    f"{_ts(t)} WARNING gateway.auth request_id={rid} client={client} method=POST "
                    f"path={world.LOGIN_PATH}"
                )
                if attack == "credential-stuffing":
                    user = f"{''.join(rng.choice('abcdefghijklmnopqrstuvwxyz') for _ in range(7))}@{rng.choice(MAIL)}"
                    text = (
                        f'{head} status=401 duration_ms={rng.randint(30, 90)} user={user} reason="invalid credentials" '
                        'ua="python-requests/2.31.0"'
                    )
                else:
                    text = (
                        f"{head} status=429 duration_ms=1 "
                        f'reason="login throttled: over the failed-login limit for this address"'
                    )
                out.append((t, text))
            t += timedelta(seconds=rng.expovariate(LOGIN_FLOOD_RATE))
        return out

    def _own_share_of_a_bad_deploy(self) -> tuple[float, str]:
        """The service's error rate averages its revisions; a pod logs its own: the broken revision's workers
        crash on most requests, the good revision's answer as on any day."""
        base = world.BY_NAME[self.component].error_rate
        if self.inst.image in world.BROKEN_IMAGES:
            return min(1.0, base + BROKEN_ERROR_RATE), "bad-deploy"
        return base, ""

    def _ending(self) -> list[Line]:
        inst = self.inst
        assert inst.finished is not None
        end = inst.finished
        if inst.cause == "segfault":
            t = end - timedelta(milliseconds=40)
            return [
                (t, "Fatal Python error: Segmentation fault"),
                (t, ""),
                (t, "Thread 0x00007f3a2c9ff6c0 (most recent call first):"),
                (
                    t,
                    '  File "/app/.venv/lib/python3.12/site-packages/tokenizers/implementations/base_tokenizer.py",'
                    " line 297 in encode_batch",
                ),
                (t, '  File "/app/synthesis/prompting/budget.py", line 64 in count_tokens'),
                (t, '  File "/app/synthesis/answer.py", line 211 in build_prompt'),
                (t, '  File "/app/synthesis/answer.py", line 148 in answer'),
                (t, ""),
                (
                    t,
                    "Extension modules: pydantic_core._pydantic_core, tokenizers.tokenizers, "
                    "uvloop.loop, httptools.parser.parser (total: 4)",
                ),
            ]
        if inst.cause == "oom":
            t = end - timedelta(seconds=3)
            return [
                (
                    t,
                    f"{_ts(t)} WARNING retrieval.cache index cache at /var/cache/retrieval is "
                    f"{int(self.sim.model._retrieval_cache_mi(self.run, t))}Mi (tmpfs counts against the "
                    "memory limit); eviction is behind",
                ),
                (
                    t + timedelta(seconds=2),
                    f"{_ts(t + timedelta(seconds=2))} WARNING retrieval.app gc pause 1840ms (rss 1003Mi of 1024Mi)",
                ),
            ]
        return [
            (end, f"{_ts(end)} INFO  uvicorn.error Shutting down"),
            (end, f"{_ts(end)} INFO  uvicorn.error Finished server process [1]"),
        ]


_ERROR_LOGGER = {"gateway": "access", "retrieval": "search", "synthesis": "answer"}

_FIELD = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)')


def _fields(text: str) -> dict[str, object]:
    """``status=503 error="..."`` as JSON fields (numbers as numbers, quoted values unquoted)."""
    out: dict[str, object] = {}
    for key, value in _FIELD.findall(text):
        if value.startswith('"'):
            out[key] = value[1:-1].replace('\\"', '"')
        else:
            out[key] = int(value) if value.isdigit() else value
    return out


def _json_line(ts: str, level: str, logger: str, rid: str, fields: dict[str, object]) -> str:
    """retrieval logs JSON, one object a line (structlog's shape), as many Python services do."""
    return json.dumps({"ts": ts, "level": level, "logger": logger, "request_id": rid, **fields})


def _error_text(name: str, cause: str, rng: random.Random, duration: int) -> str:
    if name == "gateway":
        if cause in ("bad-deploy",):
            return (
                f'method=POST path=/v1/ask status=502 duration_ms={duration} error="upstream synthesis reset the '
                'connection (peer closed connection without sending complete message body)"'
            )
        if cause == "dependency-outage":
            return (
                f"method=POST path=/v1/ask status=504 duration_ms={30000 + rng.randint(5, 400)} "
                'error="upstream synthesis timed out after 30s"'
            )
        if cause == "db-outage":
            return f'method=POST path=/v1/ask status=503 duration_ms={duration} error="upstream retrieval: 503"'
        if cause == "traffic-spike":
            return (
                f"method=POST path=/v1/ask status=504 duration_ms={30000 + rng.randint(5, 4000)} "
                'error="request queue full (1024 waiting); shed after 30s"'
            )
        if cause == "memory-leak":
            return f'method=POST path=/v1/search status=502 duration_ms={duration} error="upstream retrieval reset"'
        if cause == "cache-corruption":
            return f'method=POST path=/v1/ask status=500 duration_ms={duration} error="upstream retrieval: 500"'
        if cause == "bad-config":
            return (
                f"method=POST path=/v1/ask status=504 duration_ms={2000 + rng.randint(5, 60)} "
                'error="upstream synthesis: 504 deadline exceeded"'
            )
        return rng.choice(
            (
                f'method=POST path=/v1/ask status=502 duration_ms={duration} error="upstream synthesis: '
                'connection reset by peer"',
                f'method=POST path=/v1/search status=504 duration_ms={duration + 10000} error="upstream '
                'retrieval timed out after 10s"',
                f'method=POST path=/v1/ask status=500 duration_ms={duration} error="ValidationError: answer exceeded '
                'max_tokens"',
            )
        )
    if name == "retrieval":
        if cause == "db-outage":
            return (
                'status=503 error="psycopg.OperationalError: connection failed: connection to server at '
                '\\"postgres.sarvanom-production.svc\\" (10.244.2.14), port 5432 failed: FATAL:  remaining '
                'connection slots are reserved for roles with the SUPERUSER attribute"'
            )
        if cause == "cache-corruption":
            key = f"emb:{rng.getrandbits(40):010x}"
            return f'status=500 error="ValueError: cached embedding for {key} has 768 dimensions, expected 1536"'
        if cause == "memory-leak":
            return f'status=503 error="MemoryError: cannot allocate {rng.randint(8, 64)}MiB for search buffer"'
        return 'status=500 error="asyncio.CancelledError"'
    if cause == "dependency-outage":
        return (
            'status=504 provider=openai model=gpt-4o error="httpx.ReadTimeout: timed out after 30s calling '
            'https://api.openai.com/v1/chat/completions"'
        )
    if cause == "bad-deploy":
        return 'status=500 error="worker crashed while handling the request (signal 11)"'
    if cause == "cache-corruption":
        return 'status=500 error="AnswerValidationError: cited source ids not in retrieved set (stale cache)"'
    if cause == "bad-config":
        return (
            'status=504 provider=openai model=gpt-4o error="asyncio.TimeoutError: provider call cancelled at the '
            'configured deadline (LLM_TIMEOUT_SECONDS)"'
        )
    return 'status=500 error="openai.APIConnectionError: Connection error."'
