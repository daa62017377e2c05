"""Every way the team journal's database can be wrong, through the CLI: one line saying what and where, the
exit code a script can act on, and never the DSN's password (nor its text), with or without --debug."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from tests import pgserver
from tests.conftest import Invoke
from tests.journal.conftest import migrated

from incidentctl.exitcodes import ExitCode

PASSWORD = "pw-S3cr3t-9f2c"


def run_list(invoke: Invoke, dsn: str) -> list[tuple[int, str, str]]:
    """``incident list`` as a person and with --debug: (exit code, stdout, stderr) for each."""
    results = []
    for extra in ([], ["--debug"]):
        result = invoke([*extra, "incident", "list"], env={"INCIDENTCTL_JOURNAL_DSN": dsn})
        results.append((result.exit_code, result.stdout, result.stderr))
    return results


def assert_one_error(
    results: list[tuple[int, str, str]], code: ExitCode, *expected: str, secret: str = PASSWORD
) -> str:
    (exit_code, stdout, stderr), (debug_code, debug_out, debug_err) = results
    assert exit_code == debug_code == code, stderr
    first = stderr.strip().splitlines()[0]
    for text in expected:
        assert text in first, stderr
    assert [line for line in stderr.splitlines() if line.startswith("error:")] == [first]
    assert "Traceback" not in stderr
    assert "Traceback" in debug_err  # --debug shows where, still without the secret
    for shown in (stdout, stderr, debug_out, debug_err):
        assert secret not in shown
    return first


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts TCP connections and never says a word: a server hung, or a firewall that swallows."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield int(listener.getsockname()[1])


def unique(name: str) -> str:
    """Roles belong to the whole server, which the tests of a process share."""
    return f"{name}_{uuid.uuid4().hex[:8]}"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.usefixtures("team_runbook")
def test_a_server_that_refuses_the_connection_is_unreachable(invoke: Invoke) -> None:
    port = closed_port()
    first = assert_one_error(
        run_list(invoke, f"postgresql://app:{PASSWORD}@127.0.0.1:{port}/journal"),
        ExitCode.UNREACHABLE,
        f"cannot reach the team journal at postgres://127.0.0.1:{port}/journal",
    )
    assert "app" not in first.split("journal", 1)[0]


@pytest.mark.usefixtures("team_runbook")
def test_a_server_that_never_answers_times_out_as_unreachable(invoke: Invoke, silent_port: int) -> None:
    assert_one_error(
        run_list(invoke, f"postgresql://app:{PASSWORD}@127.0.0.1:{silent_port}/journal"),
        ExitCode.UNREACHABLE,
        f"postgres://127.0.0.1:{silent_port}/journal",
        "timeout",
    )


@pytest.mark.usefixtures("team_runbook")
def test_a_wrong_password_is_a_configuration_error(invoke: Invoke, postgres_server: pgserver.PostgresServer) -> None:
    postgres_server.create_user(user := unique("wrongpw"), "the-right-one")
    assert_one_error(
        run_list(invoke, postgres_server.dsn("postgres", user=user, password=PASSWORD)),
        ExitCode.USAGE,
        "refused the credentials",
    )


@pytest.mark.usefixtures("team_runbook")
def test_a_missing_database_is_a_configuration_error(invoke: Invoke, postgres_server: pgserver.PostgresServer) -> None:
    postgres_server.create_user(user := unique("nodb"), PASSWORD)
    assert_one_error(
        run_list(invoke, postgres_server.dsn("no_such_db", user=user, password=PASSWORD)),
        ExitCode.USAGE,
        "database 'no_such_db' does not exist",
    )


@pytest.mark.usefixtures("team_runbook")
def test_a_database_without_the_schema_says_to_migrate(invoke: Invoke, postgres_dsn: str) -> None:
    (_, _, stderr), _ = results = run_list(invoke, postgres_dsn)
    assert_one_error(results, ExitCode.USAGE, "has no incidentctl schema yet")
    assert "incidentctl journal migrate" in stderr


@pytest.mark.usefixtures("team_runbook")
def test_a_schema_newer_than_this_incidentctl_says_to_upgrade(invoke: Invoke, journal_dsn: str) -> None:
    with psycopg.connect(journal_dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO incidentctl.schema_version (version, description, applied_by) VALUES (99, 'future', 'x')"
        )
    (_, _, stderr), _ = results = run_list(invoke, journal_dsn)
    assert_one_error(results, ExitCode.USAGE, "has schema version 99, newer than this incidentctl knows")
    assert "upgrade incidentctl" in stderr


@pytest.mark.usefixtures("team_runbook")
def test_a_user_without_privileges_on_the_schema_is_refused(
    invoke: Invoke, postgres_server: pgserver.PostgresServer
) -> None:
    dsn = migrated(postgres_server.create_database())
    postgres_server.create_user(user := unique("reader"), PASSWORD)
    (_, _, stderr), _ = results = run_list(invoke, dsn.replace("incidentctl@", f"{user}:{PASSWORD}@"))
    assert_one_error(results, ExitCode.USAGE, "refused: permission denied")
    assert "needs to read and write the incidentctl schema" in stderr


@pytest.mark.usefixtures("team_runbook")
@pytest.mark.parametrize(
    "dsn",
    [
        f"host=127.0.0.1 password={PASSWORD} port",  # a keyword without its value
        f"postgresql://app:{PASSWORD}@127.0.0.1:notaport/journal",
        f"postgresql://app:{PASSWORD}@[::1/journal",
        f"host=127.0.0.1 password='{PASSWORD}",  # an unterminated quote
        f"password={PASSWORD} nonsense_option=1",
    ],
)
def test_a_dsn_that_is_not_one_is_never_echoed(invoke: Invoke, dsn: str) -> None:
    first = assert_one_error(run_list(invoke, dsn), ExitCode.USAGE, "DSN")
    for part in dsn.split():
        assert part not in first or len(part) < 5


@pytest.mark.usefixtures("team_runbook")
def test_a_server_restarted_between_two_commands_is_simply_used(
    invoke: Invoke, own_postgres_server: pgserver.PostgresServer
) -> None:
    dsn = migrated(own_postgres_server.create_database())
    env = {"INCIDENTCTL_JOURNAL_DSN": dsn}
    declared = invoke(["incident", "declare", "--title", "db down", "--severity", "P2"], env=env)
    assert declared.exit_code == 0, declared.stderr
    own_postgres_server.stop("fast")
    own_postgres_server.start()
    listed = invoke(["-o", "json", "incident", "list"], env=env)
    assert listed.exit_code == 0, listed.stderr
    assert declared.stdout.strip() in listed.stdout


@pytest.mark.usefixtures("team_runbook")
def test_a_password_in_the_dsn_is_never_shown_when_everything_works(
    invoke: Invoke, postgres_server: pgserver.PostgresServer
) -> None:
    """--debug turns on every logger, the driver's included: a working command still never prints the DSN."""
    dsn = migrated(postgres_server.create_database())
    user = unique("app")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {user} LOGIN SUPERUSER PASSWORD '{PASSWORD}'")
    env = {"INCIDENTCTL_JOURNAL_DSN": dsn.replace("incidentctl@", f"{user}:{PASSWORD}@")}
    for args in (
        ["--debug", "incident", "declare", "--title", "db down", "--severity", "P2"],
        ["--debug", "-o", "json", "incident", "list"],
        ["--debug", "-o", "yaml", "journal", "status"],
        ["--debug", "journal", "migrate"],
    ):
        result = invoke(args, env=env)
        assert result.exit_code == 0, result.stderr
        assert PASSWORD not in result.stdout
        assert PASSWORD not in result.stderr
