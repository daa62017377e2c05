"""The journal's two backends side by side: the folder journal (a temporary folder) and the team journal on a real
PostgreSQL server (Debian's, started as tests/pgserver.py starts it, on loopback in a temporary folder).

Each backend is opened as a command opens it (``journal/open.py`` from a runbook ``journal:`` section, so the team
journal is the spooling wrapper around the PostgreSQL store), and timed on the same work, in turn:

* one writer appending notes to one incident: median and p99 of each append, and appends a second;
* 8 writer processes appending ``--per-writer`` notes each to one incident at once (they start together on a
  barrier): the wall time from the first append to the last, appends a second, and the p99 of one append;
* ``incident declare``'s store call (an id allocated and the declaration recorded): median and p99;
* a note recorded by one process until a follower process has read it (the store's ``wait_for_change`` doorbell,
  then a re-read of the timeline, which is what ``incident timeline --follow`` is built on): median and p99.

Both are durable when an append returns: the folder journal fsyncs every line, and the server here runs with
``fsync`` and ``synchronous_commit`` on (the test fixtures turn fsync off for speed; a benchmark must not).

    python benchmarks/bench_journal.py [--appends 200] [--per-writer 50] [--declares 30] [--follows 12]

Without PostgreSQL's server programs it says so and gives no rows (exit 0), unless INCIDENTCTL_REQUIRE_INTEGRATION=1
makes that a failure, as in the tests. Prints medians and p99s; asserts nothing.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from table import record

REPO = Path(__file__).resolve().parents[1]
WRITERS = 8
BACKENDS = ("folder", "postgres")
DSN_ENV = "INCIDENTCTL_JOURNAL_DSN"
#: The server settings that decide whether a commit is on disk when it returns, printed with the results.
DURABILITY = ("fsync", "synchronous_commit", "full_page_writes")


# --- the two journals, opened as a command opens them ---------------------------------------------------------


@dataclass(frozen=True)
class Backend:
    """What a process needs to open one backend: picklable, so spawned writer processes get it too."""

    name: str
    folder: str
    dsn: str | None = None

    def open(self, actor: str) -> Any:
        from incidentctl.adapters.secrets import Secrets
        from incidentctl.journal.open import open_journal
        from incidentctl.runbook.model import Journal as JournalConfig

        section: dict[str, Any] = {"backend": self.name, "dir": self.folder}
        env = {"HOME": self.folder}
        if self.dsn is not None:
            section.update(dsn={"env": DSN_ENV}, spool=str(Path(self.folder) / f"spool-{actor}"))
            env[DSN_ENV] = self.dsn
        config = JournalConfig.model_validate(section)
        return open_journal(
            config,
            Path(self.folder),
            env=env,
            secrets=Secrets(env),
            clock=lambda: datetime.now(timezone.utc),
            actor=actor,
            runbook_dir=Path(self.folder),
        )


def declare(journal: Any, title: str) -> str:
    from incidentctl.core.incident import Declaration

    return str(journal.declare(Declaration(title=title, severity="P2")).id)


# --- PostgreSQL, durable ---------------------------------------------------------------------------------------


def pgserver() -> Any:
    """tests/pgserver.py, the same server the tests start (imported late: the writer processes do not need it)."""
    sys.path.insert(0, str(REPO))
    from tests import pgserver

    return pgserver


def durable(server: Any) -> None:
    """Start tests/pgserver.py's server with PostgreSQL's default durability (fsync and full-page writes on)."""
    options = f"-c listen_addresses=127.0.0.1 -p {server.port} -k {server.datadir} -c max_connections=50"
    log = str(server.datadir / "server.log")
    command = [str(server.bindir / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(server.datadir), "-l", log]
    subprocess.run([*pgserver()._run_as(), *command, "-o", options], check=True, capture_output=True)


@contextmanager
def postgres(base: Path) -> Iterator[str | None]:
    """A durable server in ``base``; yields the DSN of a migrated database, or None (saying why) when the server's
    programs are not installed."""
    try:
        bindir, datadir = pgserver().initialise(base)
    except BaseException as e:  # pgserver.missing(): pytest's skip (or fail, when integration is required)
        if type(e).__name__ not in ("Skipped", "Failed"):
            raise
        print(f"postgres: not measured: {e}")
        if os.environ.get("INCIDENTCTL_REQUIRE_INTEGRATION") == "1":
            raise SystemExit(1) from None
        yield None
        return
    server = pgserver().PostgresServer(bindir, datadir)
    durable(server)
    try:
        from incidentctl.journal.postgres.connect import connect, parse_dsn
        from incidentctl.journal.postgres.schema import migrate

        dsn = server.create_database()
        with connect(parse_dsn(dsn), timeout=10) as conn:
            migrate(conn, applied_by="bench")
            settings = [f"{name}={conn.execute(f'SHOW {name}').fetchone()[0]}" for name in DURABILITY]
            version = conn.execute("SHOW server_version").fetchone()[0]
        print(f"PostgreSQL {version} on loopback, {', '.join(settings)}")
        yield dsn
    finally:
        server.stop("immediate")


# --- the measurements ------------------------------------------------------------------------------------------


def p99(values: list[float]) -> float:
    """The nearest-rank 99th percentile (with a few hundred samples: the few slowest)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.99 * len(ordered)) - 1))]


def timed_appends(journal: Any, incident: str, count: int, who: str) -> list[float]:
    latencies = []
    for n in range(count):
        start = time.perf_counter()
        journal.append(incident, "note", {"text": f"note {n} from {who}"})
        latencies.append(time.perf_counter() - start)
    return latencies


def one_writer(backend: Backend, appends: int) -> list[float]:
    journal = backend.open("bench")
    try:
        incident = declare(journal, "one writer")
        timed_appends(journal, incident, 10, "warm-up")  # connection, imports and caches, as any command's first
        return timed_appends(journal, incident, appends, "bench")
    finally:
        journal.close()


def processes_context() -> Any:
    """Writer processes forked from a clean server process that has the journal's modules loaded: none inherits
    a database connection (as a fork of this process would), and none pays the imports on a busy machine."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(
        [
            "incidentctl.journal.open",
            "incidentctl.journal.spooled",
            "incidentctl.journal.store",
            "incidentctl.runbook.model",
        ]
    )
    return context


def _writer(backend: Backend, incident: str, writer: int, count: int, barrier: Any, results: Any) -> None:
    journal = backend.open(f"writer-{writer}")
    try:
        journal.get(incident)  # connected and caught up before the start
        barrier.wait()
        started = time.monotonic()
        latencies = timed_appends(journal, incident, count, f"writer-{writer}")
        results.put((started, time.monotonic(), latencies))
    finally:
        journal.close()


def many_writers(backend: Backend, per_writer: int) -> tuple[float, list[float], int]:
    """8 processes at once on one incident: wall time, every append's latency, and the events recorded."""
    context = processes_context()
    journal = backend.open("bench")
    try:
        incident = declare(journal, "eight writers")
        barrier = context.Barrier(WRITERS)
        results = context.Queue()
        processes = [
            context.Process(target=_writer, args=(backend, incident, w, per_writer, barrier, results))
            for w in range(WRITERS)
        ]
        for process in processes:
            process.start()
        done = [results.get(timeout=300) for _ in processes]
        for process in processes:
            process.join(timeout=60)
        if any(p.exitcode != 0 for p in processes):
            raise SystemExit(f"{backend.name}: a writer failed: exit codes {[p.exitcode for p in processes]}")
        wall = max(end for _, end, _ in done) - min(start for start, _, _ in done)
        notes = sum(1 for e in journal.timeline(incident) if e.kind == "note")
        return wall, [x for _, _, latencies in done for x in latencies], notes
    finally:
        journal.close()


def declares(backend: Backend, count: int) -> list[float]:
    journal = backend.open("bench")
    try:
        declare(journal, "warm-up")
        latencies = []
        for n in range(count):
            start = time.perf_counter()
            declare(journal, f"declared {n}")
            latencies.append(time.perf_counter() - start)
        return latencies
    finally:
        journal.close()


def _follower(backend: Backend, incident: str, ready: Any, stop: Any, seen: Any) -> None:
    """Reads the incident as a follower does: wait for the doorbell, re-read, report each new event's arrival."""
    journal = backend.open("follower")
    try:
        known = {e.id for e in journal.timeline(incident)}
        journal.wait_for_change(0.01)  # the team journal LISTENs from here on
        ready.set()
        while not stop.is_set():
            journal.wait_for_change(0.5)  # re-read on a timeout too: a doorbell may be missed, never a note
            now = time.monotonic()
            for event in journal.timeline(incident):
                if event.id not in known:
                    known.add(event.id)
                    seen.put((event.id, now))
    finally:
        journal.close()


def follows(backend: Backend, count: int) -> list[float]:
    """From just before a note is appended until the follower process has read it."""
    context = processes_context()
    journal = backend.open("bench")
    try:
        incident = declare(journal, "followed")
        ready, stop, seen = context.Event(), context.Event(), context.Queue()
        follower = context.Process(target=_follower, args=(backend, incident, ready, stop, seen))
        follower.start()
        if not ready.wait(60):
            raise SystemExit(f"{backend.name}: the follower did not start")
        latencies = []
        pace = random.Random(0)
        for n in range(count):
            time.sleep(pace.uniform(0.1, 0.3))  # not in step with the folder's polling
            event_id = str(uuid.uuid4())
            start = time.monotonic()  # CLOCK_MONOTONIC: one clock for every process on the machine
            journal.append(incident, "note", {"text": f"followed {n}"}, event_id=event_id)
            got, when = seen.get(timeout=10)
            if got != event_id:
                raise SystemExit(f"{backend.name}: the follower read {got}, not the note just written")
            latencies.append(when - start)
        stop.set()
        follower.join(timeout=10)
        return latencies
    finally:
        journal.close()


# --- the report ------------------------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--appends", type=int, default=200, help="appends timed for the one writer")
    parser.add_argument("--per-writer", type=int, default=50, help="appends by each of the 8 writers")
    parser.add_argument("--declares", type=int, default=30)
    parser.add_argument("--follows", type=int, default=12, help="notes timed until a follower has read them")
    args = parser.parse_args(argv)

    base = pgserver().new_base()  # one the server's user (postgres, when we are root) can reach
    try:
        (base / "pg").mkdir(mode=0o755)
        with postgres(base / "pg") as dsn:
            if dsn is None:
                return 0
            results: dict[str, dict[str, Any]] = {}
            for name in BACKENDS:  # in turn, the folder first, each on a fresh journal of its own
                folder = base / name
                folder.mkdir()
                backend = Backend(name, str(folder), dsn if name == "postgres" else None)
                started = time.monotonic()
                single = one_writer(backend, args.appends)
                wall, concurrent, notes = many_writers(backend, args.per_writer)
                results[name] = {
                    "single": single,
                    "wall": wall,
                    "concurrent": concurrent,
                    "notes": notes,
                    "declares": declares(backend, args.declares),
                    "follows": follows(backend, args.follows),
                    "seconds": time.monotonic() - started,
                }
            report(results, args)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


Row = tuple[str, Callable[[dict[str, Any]], float], int]


def report(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> None:
    folder, pg = results["folder"], results["postgres"]
    total = WRITERS * args.per_writer
    rows: list[Row] = [
        ("journal append, one writer: median", lambda r: statistics.median(r["single"]), args.appends),
        ("journal append, one writer: p99", lambda r: p99(r["single"]), args.appends),
        (f"{WRITERS} writers x {args.per_writer} appends to one incident: all", lambda r: r["wall"], total),
        (f"{WRITERS} writers x {args.per_writer} appends: p99 of one", lambda r: p99(r["concurrent"]), total),
        ("incident declare (store): median", lambda r: statistics.median(r["declares"]), args.declares),
        ("note until a follower has read it: median", lambda r: statistics.median(r["follows"]), args.follows),
        ("note until a follower has read it: p99", lambda r: p99(r["follows"]), args.follows),
    ]
    print(f"{'':58} {'PostgreSQL':>11} {'folder':>11}  postgres/folder")
    for what, value, runs in rows:
        ours, theirs = value(pg), value(folder)
        print(f"{what:58} {ms(ours)} {ms(theirs)}  {ours / theirs:5.2f}x  ({runs} samples)")
        record(what, "team journal (PostgreSQL)", ours, "folder journal", theirs, runs)
    for name, r in (("PostgreSQL", pg), ("folder", folder)):
        print(
            f"{name}: one writer {len(r['single']) / sum(r['single']):,.0f} appends/s; {WRITERS} writers "
            f"{total / r['wall']:,.0f} appends/s together, {r['notes']:,} of {total:,} notes recorded; "
            f"declare p99 {p99(r['declares']) * 1000:.2f} ms; measured in {r['seconds']:.1f} s"
        )


if __name__ == "__main__":
    raise SystemExit(main())
