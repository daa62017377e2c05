"""The offline spool from the command line: real incidentctl processes against a PostgreSQL server that stops.

Commands run as subprocesses (``sys.executable -m incidentctl``, this worktree's code on PYTHONPATH), since what
matters is what a real invocation prints, exits with and leaves on disk when the database is away.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest
from tests.conftest import RUNBOOK

from incidentctl.core.events import EventKind
from incidentctl.core.incident import Declaration
from incidentctl.journal.postgres.connect import parse_dsn
from incidentctl.journal.postgres.schema import migrate
from incidentctl.journal.postgres.store import PostgresJournal
from incidentctl.journal.spool import PENDING, UPLOADED, Spool
from incidentctl.journal.spooled import SpooledJournal

if TYPE_CHECKING:
    from tests.pgserver import PostgresServer

SECRET = "Hunter2-not-for-logs"
SRC = str(Path(__file__).resolve().parents[2] / "src")


@pytest.fixture
def dsn(own_postgres_server: PostgresServer) -> str:
    created = own_postgres_server.create_database()
    with psycopg.connect(created, autocommit=True) as conn:
        migrate(conn, applied_by="tests")
    return created


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """The real runbook, pointed at the team journal, with its spool in the folder (the test server trusts any
    password, so the DSN carries one, to prove it never shows)."""
    text = RUNBOOK.read_text(encoding="utf-8").replace(
        "journal:\n  dir: incidents\n",
        "journal:\n  dir: incidents\n  backend: postgres\n  dsn: {env: INCIDENTCTL_JOURNAL_DSN}\n"
        "  spool: spool\n  connect_timeout: 2s\n",
    )
    assert "backend: postgres" in text
    (tmp_path / "runbook.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def environment(workdir: Path, dsn: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": SRC,
        "HOME": str(workdir),
        "INCIDENTCTL_ACTOR": "alice",
        "INCIDENTCTL_JOURNAL_DSN": dsn.replace("incidentctl@", f"incidentctl:{SECRET}@"),
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }


def run(workdir: Path, dsn: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "incidentctl", *args],
        cwd=workdir,
        env=environment(workdir, dsn),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def start_sync(workdir: Path, dsn: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "incidentctl", "journal", "sync"],
        cwd=workdir,
        env=environment(workdir, dsn),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def notes(dsn: str, incident_id: str) -> list[str]:
    with psycopg.connect(dsn) as conn:
        found = conn.execute(
            "SELECT data->>'text' FROM incidentctl.events WHERE incident_id = %s AND kind = 'note' ORDER BY seq",
            (incident_id,),
        ).fetchall()
    return [text for (text,) in found]


def declared(workdir: Path, dsn: str) -> str:
    done = run(workdir, dsn, "incident", "declare", "--title", "Gateway 5xx", "--severity", "P2")
    assert done.returncode == 0, done.stderr
    found = re.search(r"INC-\d{4}-\d{3}", done.stdout + done.stderr)
    assert found is not None, done.stdout
    return found.group(0)


def spool_offline(workdir: Path, dsn: str, server: PostgresServer, per_incident: dict[str, int]) -> list[str]:
    """Declare incidents, then with the server stopped spool notes for them (in-process, as a command would);
    the server is started again before returning. The incident ids, in order."""
    clock = lambda: datetime(2026, 3, 4, 5, 0, tzinfo=timezone.utc)  # noqa: E731
    store = PostgresJournal(parse_dsn(dsn), clock=clock, actor="alice", connect_timeout=2)
    journal = SpooledJournal(store, Spool(workdir / "spool"), clock=clock, actor="alice")
    ids = [journal.declare(Declaration(title=title, severity="P3")).id for title in per_incident]
    server.stop()
    for incident_id, (title, count) in zip(ids, per_incident.items(), strict=True):
        for n in range(count):
            journal.append(incident_id, EventKind.NOTE, {"text": f"{title} {n}"})
    journal.close()
    server.start()
    return ids


def test_a_note_with_the_database_down_exits_0_with_one_line_and_sync_uploads_it_once(
    workdir: Path, dsn: str, own_postgres_server: PostgresServer
) -> None:
    incident_id = declared(workdir, dsn)
    own_postgres_server.stop()

    noted = run(workdir, dsn, "incident", "note", incident_id, "rolled back", "gateway")
    assert noted.returncode == 0, noted.stderr
    lines = noted.stderr.strip().splitlines()
    assert len(lines) == 1, noted.stderr
    assert re.fullmatch(
        r"warning: the team journal at postgres://127\.0\.0\.1:\d+/t_\w+ cannot be reached \(.+\): recorded 1 "
        r"event in the local spool \(1 waiting\); 'incidentctl journal sync' uploads them",
        lines[0],
    ), lines[0]

    still_down = run(workdir, dsn, "journal", "sync")
    assert still_down.returncode == 4
    assert "hint: the local spool is kept (1 event(s) waiting)" in still_down.stderr
    assert len(still_down.stderr.strip().splitlines()) <= 2  # the error and its hint, no traceback
    assert "Traceback" not in still_down.stderr
    assert (workdir / "spool" / PENDING).stat().st_size > 0

    status = run(workdir, dsn, "-o", "json", "journal", "status")
    assert status.returncode == 4, status.stderr  # unreachable, and the waiting event is still counted
    document = json.loads(status.stdout)["data"]
    assert (document["state"], document["spoolPending"], document["spoolDamaged"]) == ("unreachable", 1, 0)
    told = run(workdir, dsn, "journal", "status")
    assert "1 events waiting ('incidentctl journal sync' uploads them)" in told.stdout

    own_postgres_server.start()
    synced = run(workdir, dsn, "journal", "sync")
    assert synced.returncode == 0, synced.stderr
    assert synced.stdout.startswith(f"uploaded 1 event(s) for {incident_id} from the local spool to postgres://")
    assert notes(dsn, incident_id) == ["rolled back gateway"]

    again = run(workdir, dsn, "journal", "sync")
    assert again.returncode == 0
    assert again.stdout.startswith("nothing to upload: the local spool for postgres://")
    after = json.loads(run(workdir, dsn, "-o", "json", "journal", "status").stdout)["data"]
    assert (after["state"], after["spoolPending"]) == ("ready", 0)
    assert notes(dsn, incident_id) == ["rolled back gateway"]
    for output in (noted, still_down, synced, again):
        assert SECRET not in output.stdout + output.stderr
    for path in (workdir / "spool").rglob("*"):
        assert not path.is_file() or SECRET.encode() not in path.read_bytes()


def test_the_next_command_that_reaches_the_database_uploads_first_and_says_so(
    workdir: Path, dsn: str, own_postgres_server: PostgresServer
) -> None:
    incident_id = declared(workdir, dsn)
    own_postgres_server.stop()
    assert run(workdir, dsn, "incident", "note", incident_id, "offline one").returncode == 0
    assert run(workdir, dsn, "incident", "note", incident_id, "offline two").returncode == 0
    own_postgres_server.start()

    online = run(workdir, dsn, "incident", "note", incident_id, "online")
    assert online.returncode == 0, online.stderr
    assert f"uploaded 2 event(s) recorded offline ({incident_id}) from the local spool" in online.stderr
    assert notes(dsn, incident_id) == ["offline one", "offline two", "online"]


def test_declaring_with_the_database_down_is_refused_in_one_line(
    workdir: Path, dsn: str, own_postgres_server: PostgresServer
) -> None:
    own_postgres_server.stop()
    done = run(workdir, dsn, "incident", "declare", "--title", "Gateway 5xx", "--severity", "P2")
    assert done.returncode == 4
    assert "cannot declare an incident: the team journal at postgres://" in done.stderr
    assert "Traceback" not in done.stderr
    assert SECRET not in done.stderr


def test_two_syncs_at_once_write_each_event_once_in_order(
    workdir: Path, dsn: str, own_postgres_server: PostgresServer
) -> None:
    first, second = spool_offline(workdir, dsn, own_postgres_server, {"one": 30, "two": 30})
    env_run = [start_sync(workdir, dsn) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in env_run]
    assert [p.returncode for p in env_run] == [0, 0], outputs
    counts = [int(m.group(1)) for out, _ in outputs for m in [re.match(r"uploaded (\d+) event", out)] if m]
    assert sum(counts) == 60, outputs
    assert notes(dsn, first) == [f"one {n}" for n in range(30)]
    assert notes(dsn, second) == [f"two {n}" for n in range(30)]


def test_a_sync_killed_half_way_then_run_again_writes_each_event_once(
    workdir: Path, dsn: str, own_postgres_server: PostgresServer
) -> None:
    first, second = spool_offline(workdir, dsn, own_postgres_server, {"one": 5, "two": 5})
    with psycopg.connect(dsn) as blocker:  # holds the second incident: the sync stops inside its upload
        blocker.execute("SELECT 1 FROM incidentctl.incidents WHERE id = %s FOR UPDATE", (second,))
        proc = start_sync(workdir, dsn)
        with psycopg.connect(dsn, autocommit=True) as watcher:
            while not watcher.execute(
                "SELECT 1 FROM pg_stat_activity WHERE application_name = 'incidentctl' AND wait_event_type = 'Lock'"
            ).fetchone():
                assert proc.poll() is None, "the sync ended before reaching the second incident"
                watcher.execute("SELECT pg_sleep(0.05)")
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        blocker.rollback()

    uploaded = (workdir / "spool" / UPLOADED).read_text().split()
    assert len(uploaded) == 5  # the first incident's run was committed and noted; the second was not
    assert notes(dsn, first) == [f"one {n}" for n in range(5)]
    assert notes(dsn, second) == []

    resumed = run(workdir, dsn, "journal", "sync")
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.startswith(f"uploaded 5 event(s) for {second} ")
    assert notes(dsn, first) == [f"one {n}" for n in range(5)]
    assert notes(dsn, second) == [f"two {n}" for n in range(5)]


def test_a_damaged_spool_line_fails_sync_with_its_place_and_stays(
    workdir: Path, dsn: str, own_postgres_server: PostgresServer
) -> None:
    (incident_id,) = spool_offline(workdir, dsn, own_postgres_server, {"one": 2})
    path = workdir / "spool" / PENDING
    with path.open("ab") as f:
        f.write(b"\x1b]0;owned\x07{not json\n")
    done = run(workdir, dsn, "journal", "sync")
    assert done.returncode == 2
    assert done.stdout.startswith(f"uploaded 2 event(s) for {incident_id}")
    assert f"{path}:3: not valid JSON" in done.stderr
    assert "\x1b" not in done.stderr  # the damage is reported, not replayed on the terminal
    assert b"\x1b]0;owned\x07{not json\n" in path.read_bytes()
    assert notes(dsn, incident_id) == ["one 0", "one 1"]


def test_every_command_that_records_offline_says_so_once_and_a_claim_is_refused(
    workdir: Path, dsn: str, own_postgres_server: PostgresServer
) -> None:
    incident_id = declared(workdir, dsn)
    own_postgres_server.stop()
    scheduled = run(workdir, dsn, "postmortem", "schedule", incident_id, "--at", "2026-12-09T10:00:00Z")
    assert scheduled.returncode == 0, scheduled.stderr
    said = [line for line in scheduled.stderr.splitlines() if "recorded 1 event in the local spool" in line]
    assert len(said) == 1, scheduled.stderr

    sent = run(workdir, dsn, "communicate", "send", "update", incident_id)
    assert sent.returncode == 4
    assert "messages_queued events are decided against it" in sent.stderr
    assert "Traceback" not in sent.stderr

    own_postgres_server.start()
    assert run(workdir, dsn, "journal", "sync").returncode == 0
    with psycopg.connect(dsn) as conn:
        kinds = [k for (k,) in conn.execute("SELECT kind FROM incidentctl.events ORDER BY seq").fetchall()]
    assert kinds == ["declared", "postmortem_scheduled"]
