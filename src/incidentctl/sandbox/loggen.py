"""Logs of realistic shape with known error templates: what the miner is measured and tested against.

Plain and JSON lines from several services and pods, with timestamps, request ids, uuids, IPs, ports, durations,
pod names, quoted free text (users' queries, user agents), Python tracebacks and Go panics. Every line carries the
label of the template it was written from, so a grouping can be checked: no group may hold two labels (purity),
and there should be about one group per label.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import IO

R = random.Random
Body = Callable[[R], str]

SERVICES = ("gateway", "retrieval", "synthesis", "worker")
#: A service logs in one format, as its logging configuration says: these write JSON, the others plain text.
JSON_SERVICES = ("retrieval", "worker")
TENANTS = ("acme", "globex", "initech", "umbrella", "hooli", "stark")
PATHS = ("/v1/ask", "/v1/search", "/v1/sources", "/v1/feedback")
#: what users ask, in quoted free text (no word of it is an error word)
_ASKED = (
    "how do i reset my password where is the invoice for last month summarise this contract compare the two "
    "quarterly reports what changed in the pricing page list open tickets for the new onboarding flow why is the "
    "dashboard slow today translate this paragraph into german"
)
WORDS = tuple(_ASKED.split(" "))
AGENTS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "python-httpx/0.28.1",
    "sarvanom-ios/4.2.0 (iPhone; iOS 18.1)",
    "curl/8.5.0",
)
_HASH = "bcdfghjklmnpqrstvwxz2456789"


def _ip(r: R) -> str:
    return f"10.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"


def _hex(r: R, n: int = 12) -> str:
    return f"{r.getrandbits(4 * n):0{n}x}"


def _uuid(r: R) -> str:
    h = _hex(r, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def _query(r: R) -> str:
    return " ".join(r.choice(WORDS) for _ in range(r.randint(3, 9)))


def _user(r: R) -> str:
    return r.choice(("alice", "bob", "carol", "dmitri", "eve", "farah", "gustav")) + r.choice(("", ".ops", "-admin"))


#: name -> body of the line (what follows the timestamp, level, logger and request id). Each is its own template.
ERROR_BODIES: dict[str, Body] = {
    "synthesis-timeout": lambda r: f'status=504 error="upstream synthesis timed out after {r.randint(10, 60)}s"',
    "retrieval-timeout": lambda r: f'status=504 error="upstream retrieval timed out after {r.randint(10, 60)}s"',
    "synthesis-reset": lambda r: (
        'status=502 error="upstream synthesis reset the connection (peer closed '
        'connection without sending complete message body)"'
    ),
    "pg-refused": lambda r: f'error="connection to postgres at {_ip(r)}:5432 refused" pool=primary',
    "pg-pool": lambda r: (
        f'error="psycopg.OperationalError: connection pool exhausted (size={r.randint(10, 40)}, '
        f'waiting={r.randint(1, 300)})"'
    ),
    "redis-refused": lambda r: (
        f'error="redis.exceptions.ConnectionError: Error 111 connecting to {_ip(r)}:6379. Connection refused."'
    ),
    "embedding-dims": lambda r: (
        f'error="ValueError: cached embedding for key {_hex(r, 10)} has '
        f'{r.choice((384, 768))} dimensions, expected 1536" query="{_query(r)}"'
    ),
    "memory": lambda r: f'error="MemoryError: cannot allocate {r.randint(8, 64)}MiB for search buffer"',
    "openai-timeout": lambda r: (
        f'error="httpx.ReadTimeout: timed out after {r.randint(20, 40)}s calling '
        'https://api.openai.com/v1/chat/completions" provider=openai'
    ),
    "rate-limit": lambda r: (
        f'error="openai.RateLimitError: rate limit reached for model gpt-4o on tokens per '
        f'min; retry in {r.randint(100, 9000)}ms"'
    ),
    "citations": lambda r: f'error="AnswerValidationError: cited source ids not in retrieved set (request {_uuid(r)})"',
    "jwt": lambda r: f'error="failed to decode token: signature has expired" user={_user(r)} ua="{r.choice(AGENTS)}"',
    "queue-full": lambda r: f'error="request queue full ({r.randint(900, 1100)} waiting); shed after 30s"',
    "worker-crash": lambda r: f'error="worker {r.randint(2, 64)} crashed while handling the request (signal 11)"',
    "tls": lambda r: f'error="TLS handshake with {_ip(r)}:443 failed: certificate has expired"',
    "dns": lambda r: (
        f'error="DNS lookup failed: no such host" host={r.choice(("api.anthropic.com", "vault.internal"))}'
    ),
    "kafka": lambda r: (
        f'error="kafka producer: message of {r.randint(10**6, 9 * 10**6)} bytes exceeds '
        'max.message.bytes" topic=answers'
    ),
    "s3": lambda r: f'error="S3 upload of s3://sarvanom-exports/{_uuid(r)}.json failed: AccessDenied"',
    "grpc": lambda r: 'error="grpc: code=Unavailable" desc="connection closed before server preface received"',
    "breaker": lambda r: f'error="circuit breaker open for synthesis after {r.randint(5, 50)} consecutive failures"',
    "shard": lambda r: f'error="index shard {r.randint(0, 31)} unavailable: replica {_ip(r)} not responding"',
    "deadline": lambda r: (
        f'error="deadline exceeded waiting for vector search ({r.randint(800, 5000)}ms > 800ms budget)"'
    ),
    "embed-status": lambda r: f'error="unexpected status {r.choice((500, 502, 503))} from {_ip(r)}:8080/v1/embed"',
    "json-decode": lambda r: (
        f'error="json decode error in provider response: Expecting value: line 1 column '
        f'{r.randint(1, 900)} (char {r.randint(0, 899)})"'
    ),
    "permission": lambda r: f'error="permission denied writing /var/cache/retrieval/{_hex(r, 16)}.idx"',
    "quota": lambda r: f'error="disk quota exceeded on /var/lib/worker ({r.randint(95, 100)}% used)"',
    "task-retries": lambda r: f'error="task {_uuid(r)} failed after {r.randint(3, 9)} retries: upstream returned 503"',
}

#: Multi-line events: (header body, lines that follow; the labelled ones are error lines of their own).
Block = list[tuple[str | None, str]]


def _python_traceback(r: R) -> tuple[str, Block]:
    return (
        'error="Unhandled exception while serving the request" path=' + r.choice(PATHS),
        [
            (None, "Traceback (most recent call last):"),
            (None, '  File "/app/gateway/routes.py", line 88, in ask'),
            (None, "    answer = await synthesis.ask(payload)"),
            (None, '  File "/app/gateway/clients.py", line 142, in ask'),
            (None, '    return body["answer"]'),
            ("keyerror", "KeyError: 'answer'"),
        ],
    )


def _refresh_traceback(r: R) -> tuple[str, Block]:
    return (
        'error="Exception in background task refresh_index"',
        [
            (None, "Traceback (most recent call last):"),
            (None, '  File "/app/retrieval/index.py", line 301, in refresh_index'),
            (None, "    await asyncio.wait_for(self._load(), timeout=60)"),
            ("timeouterror", f"TimeoutError: index refresh took longer than {r.randint(60, 90)}s"),
        ],
    )


def _go_panic(r: R) -> tuple[str, Block]:
    n = r.randint(3, 40)
    return (
        f'error="panic: runtime error: index out of range [{n}] with length {n}"',
        [
            (None, ""),
            (None, f"goroutine {r.randint(10, 9999)} [running]:"),
            (None, "main.(*Batcher).flush(0xc000123450)"),
            (None, "\t/src/worker/batch.go:77 +0x1d4"),
        ],
    )


BLOCKS: dict[str, Callable[[R], tuple[str, Block]]] = {
    "unhandled": _python_traceback,
    "refresh": _refresh_traceback,
    "go-panic": _go_panic,
}


def true_templates(names: tuple[str, ...] | None = None) -> set[str]:
    """The labels of error lines the generator writes with these templates (all when None). A traceback's
    header and frames are not error lines: the line that ends it (``KeyError: 'answer'``) is."""
    chosen = set(names) if names is not None else set(ERROR_BODIES) | set(BLOCKS)
    labels = set(chosen)
    if "unhandled" in chosen:
        labels.add("keyerror")
    if "refresh" in chosen:
        labels.add("timeouterror")
    return labels


@dataclass(frozen=True)
class Pod:
    name: str
    service: str


def _pods(r: R) -> list[Pod]:
    out = []
    for service in SERVICES:
        rs = "".join(r.choice(_HASH) for _ in range(r.choice((9, 10))))
        for _ in range(3):
            out.append(Pod(f"{service}-{rs}-{''.join(r.choice(_HASH) for _ in range(5))}", service))
    return out


def _info(r: R, pod: Pod) -> str:
    duration = int(r.lognormvariate(4.5, 0.6))
    kind = r.random()
    if kind < 0.4:
        return (
            f"INFO  {pod.service}.access request_id={_hex(r)} tenant={r.choice(TENANTS)} client={_ip(r)} "
            f"method=POST path={r.choice(PATHS)} status=200 duration_ms={duration}"
        )
    if kind < 0.6:
        return (
            f'INFO  {pod.service}.search request_id={_hex(r)} query="{_query(r)}" sources={r.randint(4, 20)} '
            f"cache={'hit' if r.random() < 0.7 else 'miss'} duration_ms={duration}"
        )
    if kind < 0.75:
        return (
            f"INFO  {pod.service}.answer request_id={_hex(r)} provider=openai model=gpt-4o "
            f"tokens_in={r.randint(600, 3200)} tokens_out={r.randint(80, 700)} duration_ms={duration}"
        )
    if kind < 0.78:  # uvicorn's own logger is called uvicorn.error: an error word in a line that is no error
        return f"INFO  uvicorn.error {pod.service} worker {r.randint(1, 64)} ready in {duration}ms"
    if kind < 0.85:
        return (
            f'DEBUG {pod.service}.http client={_ip(r)}:{r.randint(30000, 60000)} ua="{r.choice(AGENTS)}" keepalive=true'
        )
    return f"WARNING {pod.service}.pool slow acquire {duration}ms (in use {r.randint(10, 20)} of 20)"


def generate(
    lines: int,
    *,
    seed: int = 0,
    templates: tuple[str, ...] | None = None,
    error_share: float = 0.1,
    start: datetime | None = None,
    prefix: bool = False,
) -> Iterator[tuple[str | None, str]]:
    """``lines`` lines (label, text) of a log, in time order; the label is None on lines that are no error."""
    r = random.Random(seed)
    pods = _pods(r)
    bodies = [n for n in ERROR_BODIES if templates is None or n in templates]
    blocks = [n for n in BLOCKS if templates is None or n in templates]
    names = bodies + blocks
    #: a template is written by one service (its code), from any of the service's pods
    owner = {name: SERVICES[i % len(SERVICES)] for i, name in enumerate([*ERROR_BODIES, *BLOCKS])}
    by_service = {s: [p for p in pods if p.service == s] for s in SERVICES}
    weights = [1.0 / (i + 1) ** 0.7 for i in range(len(names))]  # some templates are frequent, some rare
    r.shuffle(weights)
    t = start or datetime(2026, 12, 1, 14, 0, tzinfo=timezone.utc)
    written = 0
    while written < lines:
        t += timedelta(microseconds=r.randint(100, 7000))
        ts = t.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        out: list[tuple[str | None, str]]
        if names and r.random() < error_share:
            name = r.choices(names, weights)[0]
            pod = r.choice(by_service[owner[name]])
            block: Block = []
            if name in BLOCKS:
                body, block = BLOCKS[name](r)
            else:
                body = ERROR_BODIES[name](r)
            if pod.service in JSON_SERVICES:
                record = {"ts": ts, "level": "error", "logger": f"{pod.service}.app", "pod": pod.name}
                record["request_id"] = _uuid(r)
                for part in _split_fields(body):
                    record[part[0]] = part[1]
                text = json.dumps(record)
            else:
                text = f"{ts} ERROR {pod.service}.app request_id={_hex(r)} tenant={r.choice(TENANTS)} {body}"
            out = [(name, text), *block]
        else:
            pod = r.choice(pods)
            if pod.service in JSON_SERVICES:
                text = json.dumps(
                    {
                        "ts": ts,
                        "level": "info",
                        "logger": f"{pod.service}.app",
                        "msg": "request served",
                        "request_id": _uuid(r),
                        "duration_ms": int(r.lognormvariate(4.5, 0.6)),
                        "query": _query(r),
                    }
                )
            else:
                text = f"{ts} {_info(r, pod)}"
            out = [(None, text)]
        pre = f"[pod/{pod.name}/app] " if prefix else ""
        for label, line in out:
            yield label, pre + line
            written += 1
            if written >= lines:
                return


def _split_fields(body: str) -> list[tuple[str, str]]:
    """``k="v" k2=v2`` as pairs, for the JSON form of a body."""
    out: list[tuple[str, str]] = []
    rest = body
    while rest:
        key, _, rest = rest.partition("=")
        if rest.startswith('"'):
            end = rest.index('"', 1)
            out.append((key.strip(), rest[1:end]))
            rest = rest[end + 1 :].lstrip()
        else:
            value, _, rest = rest.partition(" ")
            out.append((key.strip(), value))
    return out


def write(
    stream: IO[str],
    lines: int,
    *,
    seed: int = 0,
    templates: tuple[str, ...] | None = None,
    start: datetime | None = None,
    prefix: bool = False,
) -> dict[str, int]:
    """Write a generated log; returns how many lines of each label it holds (unlabelled lines as "")."""
    counts: dict[str, int] = {}
    batch: list[str] = []
    for label, text in generate(lines, seed=seed, templates=templates, start=start, prefix=prefix):
        batch.append(text)
        counts[label or ""] = counts.get(label or "", 0) + 1
        if len(batch) >= 10000:
            stream.write("\n".join(batch) + "\n")
            batch.clear()
    if batch:
        stream.write("\n".join(batch) + "\n")
    return counts
