"""``journal migrate`` and ``journal status`` on a real server: versioned, idempotent, safe to run at once, and
a status that says "ready" only when the database answered with the schema this incidentctl uses."""

from __future__ import annotations

import json
import multiprocessing
import socket
import uuid
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import psycopg
import pytest
from tests.conftest import Invoke

from incidentctl.exitcodes import ExitCode
from incidentctl.journal.postgres.connect import parse_dsn
from incidentctl.journal.postgres.schema import LATEST, MIGRATIONS, migrate_target

PASSWORD = "pw-M1grate-77"


def envelope(stdout: str, kind: str) -> dict[str, Any]:
    document = json.loads(stdout)
    assert document["kind"] == kind
    data: dict[str, Any] = document["data"]
    return data


def versions(dsn: str) -> list[tuple[int, str]]:
    with psycopg.connect(dsn) as conn:
        return [
            (int(v), str(by)) for v, by in conn.execute("SELECT version, applied_by FROM incidentctl.schema_version")
        ]


@pytest.mark.usefixtures("team_runbook")
def test_migrate_applies_each_version_once_and_then_nothing(invoke: Invoke, postgres_dsn: str) -> None:
    env = {"INCIDENTCTL_JOURNAL_DSN": postgres_dsn, "INCIDENTCTL_ACTOR": "dba"}
    first = invoke(["-o", "json", "journal", "migrate"], env=env)
    assert first.exit_code == 0, first.stderr
    data = envelope(first.stdout, "JournalMigrate")
    assert data["applied"] == [{"version": v, "description": d} for v, d, _ in MIGRATIONS]
    assert data["schemaVersion"] == LATEST
    assert data["location"] == str(parse_dsn(postgres_dsn))

    again = invoke(["journal", "migrate"], env=env)
    assert again.exit_code == 0, again.stderr
    assert again.stdout.strip() == f"{parse_dsn(postgres_dsn)} is at schema version {LATEST}"
    assert versions(postgres_dsn) == [(v, "dba") for v, _, _ in MIGRATIONS]

    declared = invoke(["incident", "declare", "--title", "works now", "--severity", "P3"], env=env)
    assert declared.exit_code == 0, declared.stderr


def _migrate_worker(dsn: str, writer: int, barrier: Barrier, results: Any) -> None:
    barrier.wait()
    applied, version = migrate_target(parse_dsn(dsn), timeout=5, applied_by=f"dba-{writer}")
    results.put((writer, [a.version for a in applied], version))


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="the workers are started with fork")
def test_four_migrations_at_once_apply_it_once(postgres_dsn: str) -> None:
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(4)
    results = context.Queue()
    processes = [context.Process(target=_migrate_worker, args=(postgres_dsn, w, barrier, results)) for w in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
    assert [p.exitcode for p in processes] == [0] * 4
    outcomes = [results.get(timeout=5) for _ in range(4)]
    appliers = [writer for writer, applied, _ in outcomes if applied]
    assert len(appliers) == 1
    assert [applied for _, applied, _ in outcomes if applied] == [[v for v, _, _ in MIGRATIONS]]
    assert {version for _, _, version in outcomes} == {LATEST}
    assert versions(postgres_dsn) == [(v, f"dba-{appliers[0]}") for v, _, _ in MIGRATIONS]


def test_migrate_on_a_folder_journal_says_there_is_nothing_to_migrate(invoke: Invoke) -> None:
    result = invoke(["journal", "migrate"])
    assert result.exit_code == ExitCode.USAGE
    assert "needs no migration" in result.stderr


@pytest.mark.usefixtures("team_runbook")
def test_migrate_refuses_a_schema_newer_than_it_knows(invoke: Invoke, journal_dsn: str) -> None:
    with psycopg.connect(journal_dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO incidentctl.schema_version (version, description, applied_by) VALUES (99, 'f', 'x')")
    result = invoke(["journal", "migrate"], env={"INCIDENTCTL_JOURNAL_DSN": journal_dsn})
    assert result.exit_code == ExitCode.USAGE
    assert "newer than this incidentctl knows" in result.stderr
    assert max(v for v, _ in versions(journal_dsn)) == 99  # and nothing was changed


def status(invoke: Invoke, dsn: str) -> tuple[int, dict[str, Any], str]:
    result = invoke(["-o", "json", "journal", "status"], env={"INCIDENTCTL_JOURNAL_DSN": dsn})
    return result.exit_code, envelope(result.stdout, "JournalStatus"), result.stderr


def test_status_of_a_migrated_journal_is_ready(invoke: Invoke, journal_dsn: str, team_runbook: Path) -> None:
    code, data, _ = status(invoke, journal_dsn)
    assert code == 0
    assert data == {
        "backend": "postgres",
        "location": str(parse_dsn(journal_dsn)),
        "reachable": True,
        "state": "ready",
        "schemaVersion": LATEST,
        "supportedSchemaVersion": LATEST,
        "problem": None,
        "hint": None,
        "spool": data["spool"],
        "spoolPending": 0,
        "spoolDamaged": 0,
        "spoolProblem": None,
    }
    assert data["spool"] == str(team_runbook.parent / "spool"), "the runbook's journal.spool, relative to it"
    person = invoke(["journal", "status"], env={"INCIDENTCTL_JOURNAL_DSN": journal_dsn})
    assert person.stdout.splitlines()[0].endswith(f"postgres journal at {parse_dsn(journal_dsn)}: ready")


@pytest.mark.usefixtures("team_runbook")
def test_status_of_a_database_never_migrated_says_to_migrate(invoke: Invoke, postgres_dsn: str) -> None:
    code, data, _ = status(invoke, postgres_dsn)
    assert code == ExitCode.USAGE
    assert (data["reachable"], data["state"], data["schemaVersion"]) == (True, "not migrated", 0)
    assert "incidentctl journal migrate" in data["hint"]


@pytest.mark.usefixtures("team_runbook")
def test_status_of_a_database_that_is_away_is_unreachable_and_keeps_the_password(invoke: Invoke) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dsn = f"postgresql://app:{PASSWORD}@127.0.0.1:{port}/journal"
    code, data, stderr = status(invoke, dsn)
    assert code == ExitCode.UNREACHABLE
    assert (data["reachable"], data["state"], data["schemaVersion"]) == (False, "unreachable", None)
    assert data["location"] == f"postgres://127.0.0.1:{port}/journal"
    assert "cannot reach" in data["problem"]
    person = invoke(["--debug", "journal", "status"], env={"INCIDENTCTL_JOURNAL_DSN": dsn})
    assert person.exit_code == ExitCode.UNREACHABLE
    for shown in (json.dumps(data), stderr, person.stdout, person.stderr):
        assert PASSWORD not in shown
        assert "ready" not in shown


@pytest.mark.usefixtures("team_runbook")
def test_status_of_a_user_without_privileges_is_refused(invoke: Invoke, journal_dsn: str) -> None:
    from tests.pgserver import SUPERUSER

    user = f"nopriv_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(journal_dsn, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {user} LOGIN PASSWORD '{PASSWORD}'")
    code, data, _ = status(invoke, journal_dsn.replace(f"{SUPERUSER}@", f"{user}:{PASSWORD}@"))
    assert code == ExitCode.USAGE
    assert (data["reachable"], data["state"]) == (True, "refused")
    assert "permission denied" in data["problem"]
    assert PASSWORD not in json.dumps(data)


def test_status_of_a_folder_journal(invoke: Invoke, workdir: Path) -> None:
    code = invoke(["-o", "json", "journal", "status"])
    data = envelope(code.stdout, "JournalStatus")
    assert code.exit_code == 0
    assert (data["backend"], data["state"], data["reachable"]) == ("folder", "empty", False)
    assert invoke(["incident", "declare", "--title", "t", "--severity", "P3"]).exit_code == 0
    data = envelope(invoke(["-o", "json", "journal", "status"]).stdout, "JournalStatus")
    assert (data["state"], data["reachable"], data["location"]) == ("ready", True, str(workdir / "incidents"))
