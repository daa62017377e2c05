"""The shared outbox when things go wrong between two laptops: the database going away right after a channel took a
message (it is not sent again from the other laptop), the database away while a laptop flushes (nothing sent,
one line, the DSN's password nowhere), and hostile text queued on one laptop and delivered from the other (no
forged header, no control character reaches the mail, a huge text is refused before anything is queued).

The database is a real PostgreSQL server of the test's own (stopped and started here), reached with a DSN that
carries a password (the server trusts loopback, so any password connects, which is what lets the test look for it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from tests.communicate.leaks import assert_nowhere
from tests.communicate.smtp import SmtpServer
from tests.journal.test_team_outbox import assert_nothing_local, email, laptop, outbox_story, recorded
from typer.testing import CliRunner, Result

from incidentctl.cli.app import app
from incidentctl.core.events import EventKind
from incidentctl.journal.postgres.connect import connect, parse_dsn
from incidentctl.journal.postgres.schema import migrate

if TYPE_CHECKING:
    from tests.communicate.harness import Comms
    from tests.pgserver import PostgresServer

PASSWORD = "pg-Pa55w0rd-7c6b5a49"


@pytest.fixture
def team_dsn(own_postgres_server: PostgresServer) -> str:
    """A migrated database on a server of this test's own, named by a DSN with a password in it."""
    plain = own_postgres_server.create_database()
    with connect(parse_dsn(plain), timeout=10) as conn:
        migrate(conn, applied_by="tests")
    return plain.replace("postgresql://incidentctl@", f"postgresql://incidentctl:{PASSWORD}@")


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    server = SmtpServer(tmp_path)
    server.start()
    yield server
    server.stop()


class _StopsDatabaseAfterSend:
    """A channel whose next delivery takes the database away once the message has gone out: the moment between
    sending and recording it, when a lost journal could make another laptop send it again."""

    def __init__(self, inner: Any, server: PostgresServer) -> None:
        self._inner = inner
        self._server = server
        self.can_tell = inner.can_tell

    def send(self, message: Any) -> Any:
        receipt = self._inner.send(message)
        self._server.stop("immediate")
        return receipt

    def find(self, message: Any) -> Any:
        return self._inner.find(message)


def run_losing_database_after_send(comms: Comms, server: PostgresServer, *args: str) -> Result:
    state = comms.state()
    context = state.phase_context(cluster=False)
    opener = context.adapters.channel

    def opening(config: Any, deps: Any) -> Any:
        return _StopsDatabaseAfterSend(opener(config, deps), server)

    state._context = dataclasses.replace(context, adapters=dataclasses.replace(context.adapters, channel=opening))
    return CliRunner().invoke(app, list(args), obj=state)


def test_the_database_gone_right_after_a_send_does_not_make_the_other_laptop_send_it_again(
    tmp_path: Path, team_dsn: str, own_postgres_server: PostgresServer, smtp: SmtpServer
) -> None:
    alice = laptop(tmp_path, "alice", email(smtp), team_dsn, "alice")
    bob = laptop(tmp_path, "bob", email(smtp), team_dsn, "bob")
    bob.clock = alice.clock
    incident = alice.declare()

    lost = run_losing_database_after_send(alice, own_postgres_server, "communicate", "send", "initial")
    assert len(smtp.received) == 1  # the mail went out; whether that is recorded is what the database lost
    # unreachable (exit 4), or recorded in the laptop's spool for later (0): either way no internal error
    assert lost.exit_code in (0, 4), (lost.exit_code, lost.stderr)
    assert "Traceback" not in lost.stderr
    if lost.exit_code == 4:
        [line] = lost.stderr.strip().splitlines()
        assert line.startswith("error: cannot reach the team journal at postgres://127.0.0.1:")
    own_postgres_server.start()

    alice.clock.advance(minutes=10)  # past any lease
    [outcome] = bob.json("communicate", "flush", incident, code=4)["data"]["outcomes"]
    key = f"{incident}/initial-1/email"
    assert (outcome["key"], outcome["state"]) == (key, "in-doubt")  # email cannot tell: a person decides
    assert len(smtp.received) == 1
    story = outbox_story(recorded(team_dsn, incident), key)
    assert story[:2] == [(EventKind.MESSAGES_QUEUED, "alice"), (EventKind.MESSAGE_SENDING, "alice")]
    assert (EventKind.MESSAGE_SENDING, "bob") not in story
    assert_nowhere(PASSWORD, [lost], tmp_path)


def test_a_flush_while_the_database_is_away_sends_nothing_and_says_so_in_one_line(
    tmp_path: Path, team_dsn: str, own_postgres_server: PostgresServer, smtp: SmtpServer
) -> None:
    alice = laptop(tmp_path, "alice", email(smtp), team_dsn, "alice")
    bob = laptop(tmp_path, "bob", email(smtp), team_dsn, "bob")
    bob.clock = alice.clock
    incident = alice.declare()
    smtp.stop()
    alice.json("communicate", "send", "initial", code=4)
    smtp.start()

    own_postgres_server.stop()
    away = bob.run("communicate", "flush", incident)
    assert away.exit_code == 4, (away.stdout, away.stderr)
    port, dbname = parse_dsn(team_dsn).port, parse_dsn(team_dsn).dbname
    line, *hint = away.stderr.strip().splitlines()  # the error, and at most a hint of what to do
    assert len(hint) <= 1, away.stderr
    assert all(h.startswith("hint: ") for h in hint), away.stderr
    assert f"postgres://127.0.0.1:{port}/{dbname}" in line
    assert "Traceback" not in away.stderr
    assert smtp.received == []

    own_postgres_server.start()
    assert [o["state"] for o in bob.json("communicate", "flush", incident)["data"]["outcomes"]] == ["sent"]
    assert bob.json("communicate", "flush", incident)["data"]["outcomes"] == []
    assert len(smtp.received) == 1
    assert_nowhere(PASSWORD, [away], tmp_path)


# --- hostile text, queued on one laptop and delivered from the other -------------------------------------------

HOSTILE = (
    "Checkout is back\r\nBcc: everyone@attacker.test\r\n\r\n"
    "\x1b]8;;https://attacker.test\x07click\x1b]8;;\x07 \x1b[2J\x00 \u202eevil\u202c \x7f done"
)


def fed(comms: Comms, stdin: str, *args: str) -> Result:
    """A command reading ``stdin`` (``--text-file -``), on that laptop."""
    return CliRunner().invoke(app, list(args), obj=comms.state(), input=stdin)


def test_hostile_update_text_queued_on_one_laptop_forges_nothing_when_the_other_delivers_it(
    tmp_path: Path, team_dsn: str, smtp: SmtpServer
) -> None:
    alice = laptop(tmp_path, "alice", email(smtp), team_dsn, "alice")
    bob = laptop(tmp_path, "bob", email(smtp), team_dsn, "bob")
    bob.clock = alice.clock
    incident = alice.declare(title="Gateway\r\nBcc: title@attacker.test")
    smtp.stop()
    queued = fed(alice, HOSTILE, "communicate", "send", "update", "--text-file", "-", "-o", "json")
    assert queued.exit_code == 4, (queued.stdout, queued.stderr)
    smtp.start()

    assert [o["state"] for o in bob.json("communicate", "flush", incident)["data"]["outcomes"]] == ["sent"]
    [mail] = smtp.received
    assert mail.rcpt_tos == ["engineering@sarvanom.test"]
    assert mail.message["Bcc"] is None
    assert "\n" not in str(mail.message["Subject"])
    body = mail.message.get_content()
    assert "Checkout is back" in body
    assert not any(ch in body for ch in "\x1b\x07\x00\x7f\u202e")
    status = bob.run("communicate", "status", incident).stdout
    assert not any(ch in status for ch in "\x1b\x07\x00\x7f\u202e")


def test_a_huge_update_is_refused_in_one_line_and_neither_laptop_has_anything_queued(
    tmp_path: Path, team_dsn: str, smtp: SmtpServer
) -> None:
    alice = laptop(tmp_path, "alice", email(smtp), team_dsn, "alice")
    bob = laptop(tmp_path, "bob", email(smtp), team_dsn, "bob")
    incident = alice.declare()
    huge = fed(alice, "x" * 3_000_000, "communicate", "send", "update", "--text-file", "-")
    assert huge.exit_code == 2, (huge.stdout, huge.stderr[:500])
    assert len(huge.stderr.strip().splitlines()[0]) < 300
    for comms in (alice, bob):
        assert comms.json("communicate", "status", incident)["data"]["entries"] == []
    assert smtp.received == []
    assert_nothing_local(alice, bob)


# --- a damaged row in the shared outbox -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "flush_code"),
    [
        ('{"batch": 5}', 0),
        # a message of no channel, its key not even a string: not a message the outbox takes, so it is skipped
        # (the timeline reports the damaged row) and the real one is still sent once
        ('{"batch": "initial-9", "kind": "initial", "messages": [{"key": 7}]}', 0),
        ('{"batch": "initial-1", "kind": "initial", "messages": [{"key": "INC-2026-001/initial-1/email"}]}', 0),
    ],
    ids=["no-messages", "a-message-of-no-channel", "the-same-key-again"],
)
def test_a_malformed_queue_row_written_by_hand_neither_stops_a_laptop_nor_sends_twice(
    tmp_path: Path, team_dsn: str, smtp: SmtpServer, data: str, flush_code: int
) -> None:
    alice = laptop(tmp_path, "alice", email(smtp), team_dsn, "alice")
    bob = laptop(tmp_path, "bob", email(smtp), team_dsn, "bob")
    incident = alice.declare()
    alice.json("communicate", "send", "initial")
    with connect(parse_dsn(team_dsn), timeout=10) as conn:
        conn.execute(
            "INSERT INTO incidentctl.events (incident_id, event_id, time, actor, kind, data) "
            "VALUES (%s, gen_random_uuid()::text, now(), 'mallory', %s, %s::json)",
            (incident, "messages_queued", data),
        )
    for command, code in ((("communicate", "status", incident), 0), (("communicate", "flush", incident), flush_code)):
        result = bob.run(*command)
        assert result.exit_code == code, result.stderr
        assert "Traceback" not in result.stderr
    entries = {e["key"]: e for e in bob.json("communicate", "status", incident)["data"]["entries"]}
    real = entries[f"{incident}/initial-1/email"]
    assert (real["state"], real["sentBy"]) == ("sent", "alice")
    assert [e["state"] for key, e in entries.items() if key != real["key"]] == (["queued"] if flush_code else [])
    assert len(smtp.received) == 1  # sent once, and not again for a second queueing of its key
