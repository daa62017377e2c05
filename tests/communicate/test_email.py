"""Email over SMTP through the outbox, against a real SMTP server on loopback (aiosmtpd): what it receives
(headers, UTF-8 body, a Message-ID from the key), no header forged by a hostile title, STARTTLS verified against
the runbook's CA, AUTH, replies that refuse for good (550) or for now (451), a server that went away, and a
password that appears nowhere."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.communicate.harness import Comms, Killed
from tests.communicate.leaks import assert_nowhere
from tests.communicate.smtp import SmtpServer
from tests.conftest import Invoke

PASSWORD = "smtp-Pa55w0rd-9f8e7d6c"


def channel(server: SmtpServer, *, starttls: bool = False, auth: bool = False) -> dict[str, Any]:
    smtp: dict[str, Any] = {"host": "127.0.0.1", "port": server.port, "starttls": starttls}
    if auth:
        smtp.update(username={"env": "SMTP_USER"}, password={"env": "SMTP_PASSWORD"})
    return {
        "email": {
            "kind": "email",
            "smtp": smtp,
            "from": "incidents@sarvanom.test",
            "to": ["engineering@sarvanom.test", "oncall@sarvanom.test"],
        }
    }


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SmtpServer]:
    smtp = SmtpServer(tmp_path)
    smtp.start()
    yield smtp
    smtp.stop()


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[SmtpServer]:
    smtp = SmtpServer(tmp_path, tls=True, users={"alerts": PASSWORD})
    smtp.start()
    yield smtp
    smtp.stop()


def trusting(comms: Comms, ca_pem: Path) -> Comms:
    """The runbook trusts the test CA (``tls.ca_file``), as a team with a private CA would."""
    data = yaml.safe_load(comms.runbook_path.read_text(encoding="utf-8"))
    data["tls"] = {"ca_file": str(ca_pem)}
    comms.runbook_path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return comms


def test_the_server_receives_the_message_with_its_headers_and_utf8_body(
    comms_factory: Callable[..., Comms], server: SmtpServer
) -> None:
    comms = comms_factory(channel(server))
    declared = comms.ok("incident", "declare", "--title", "Paiement échoué pour 40 % des clients", "--severity", "P2")
    incident = declared.stdout.strip()
    sent = comms.json("communicate", "send", "initial", "--impact", "Checkout fails — ünïcode intact")
    assert sent["data"]["outcomes"][0]["state"] == "sent"

    [got] = server.received
    mail = got.message
    assert got.mail_from == "incidents@sarvanom.test"
    assert got.rcpt_tos == ["engineering@sarvanom.test", "oncall@sarvanom.test"]
    assert mail["From"] == "incidents@sarvanom.test"
    assert mail["To"] == "engineering@sarvanom.test, oncall@sarvanom.test"
    assert mail["Subject"] == "[P2] High Incident - Paiement échoué pour 40 % des clients"
    assert mail["Message-ID"] == f"<{incident}.initial-1.email@sarvanom.test>"
    assert mail.get_content_charset() == "utf-8"
    body = mail.get_content()
    assert f"Incident ID: {incident}" in body
    assert "Checkout fails — ünïcode intact" in body
    [queued] = [e["data"] for e in comms.timeline(incident) if e["kind"] == "messages_queued"]
    assert body.replace("\r\n", "\n").strip() == queued["messages"][0]["text"].strip()  # exactly what was journalled
    assert sent["data"]["outcomes"][0]["receipt"]["message_id"] == mail["Message-ID"]


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r", "\x0b", "\x0c", "\x85", "\u2028", "\u2029", "\x00"])
def test_a_title_with_a_line_break_forges_no_header(
    comms_factory: Callable[..., Comms], server: SmtpServer, newline: str
) -> None:
    comms = comms_factory(channel(server))
    title = f"Gateway down{newline}Bcc: attacker@evil.test{newline}X-Injected: yes"
    comms.ok("incident", "declare", "--title", title, "--severity", "P2")
    comms.ok("communicate", "send", "initial")

    [got] = server.received
    mail = got.message
    assert got.rcpt_tos == ["engineering@sarvanom.test", "oncall@sarvanom.test"]
    assert {name.lower() for name in mail} == {
        "from",
        "to",
        "subject",
        "date",
        "message-id",
        "x-incident",
        "content-type",
        "content-transfer-encoding",
        "mime-version",
    }
    assert mail["Subject"].startswith("[P2] High Incident - Gateway down")
    assert "\n" not in str(mail["Subject"])
    assert "\r" not in str(mail["Subject"])


def test_starttls_verified_against_the_runbook_ca_and_login(
    comms_factory: Callable[..., Comms], tls_server: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    comms = trusting(
        comms_factory(
            channel(tls_server, starttls=True, auth=True), {"SMTP_USER": "alerts", "SMTP_PASSWORD": PASSWORD}
        ),
        tls_server.ca_pem,
    )
    comms.declare()
    results = [
        comms.run("--debug", "communicate", "preview", "initial"),
        comms.run("--debug", "communicate", "send", "initial", "-o", "json"),
        comms.run("--debug", "communicate", "status"),
    ]
    assert [r.exit_code for r in results] == [0, 0, 0]
    [got] = tls_server.received
    assert got.login == "alerts"
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail"))
    assert_nowhere(PASSWORD, results, comms.root, ours)


def test_a_server_certificate_the_runbook_does_not_trust_sends_nothing(
    comms_factory: Callable[..., Comms], tls_server: SmtpServer
) -> None:
    comms = comms_factory(
        channel(tls_server, starttls=True, auth=True), {"SMTP_USER": "alerts", "SMTP_PASSWORD": PASSWORD}
    )
    comms.declare()
    failed = comms.json("communicate", "send", "initial", code=4)["data"]["outcomes"][0]
    assert (failed["state"], failed["reason"], failed["attempts"]) == ("failed", "config", 1)
    assert "certificate is not trusted" in failed["error"]
    assert tls_server.received == []


def test_a_wrong_password_is_a_refused_login_not_retried(
    comms_factory: Callable[..., Comms], tls_server: SmtpServer
) -> None:
    wrong = "not-the-Pa55word-1234"
    comms = trusting(
        comms_factory(channel(tls_server, starttls=True, auth=True), {"SMTP_USER": "alerts", "SMTP_PASSWORD": wrong}),
        tls_server.ca_pem,
    )
    comms.declare()
    result = comms.run("communicate", "send", "initial", "-o", "json")
    assert result.exit_code == 4
    failed = json.loads(result.stdout)["data"]["outcomes"][0]
    assert (failed["state"], failed["reason"], failed["attempts"]) == ("failed", "config", 1)
    assert "login refused (535" in failed["error"]
    assert_nowhere(wrong, [result], comms.root)
    assert tls_server.received == []


def test_a_server_that_refuses_the_recipients_keeps_the_message_failed_with_its_reply(
    comms_factory: Callable[..., Comms], server: SmtpServer
) -> None:
    server.handler.reply_to_rcpt = "550 5.1.1 Mailbox unavailable"
    comms = comms_factory(channel(server))
    incident = comms.declare()
    failed = comms.json("communicate", "send", "initial", code=4)["data"]["outcomes"][0]
    assert (failed["state"], failed["reason"], failed["attempts"]) == ("failed", "client", 1)
    assert "550 5.1.1 Mailbox unavailable" in failed["error"]
    [entry] = comms.json("communicate", "status", incident)["data"]["entries"]
    assert (entry["state"], entry["error"]) == ("failed", failed["error"])


def test_a_temporary_refusal_is_retried_and_stays_queued(
    comms_factory: Callable[..., Comms], server: SmtpServer
) -> None:
    server.handler.reply_to_rcpt = "451 4.3.0 Try again later"
    comms = comms_factory(channel(server))
    comms.declare()
    queued = comms.json("communicate", "send", "initial", code=4)["data"]["outcomes"][0]
    assert (queued["state"], queued["reason"], queued["attempts"]) == ("queued", "server", 4)
    assert "451 4.3.0 Try again later" in queued["error"]

    server.handler.reply_to_rcpt = None
    assert comms.json("communicate", "flush")["data"]["outcomes"][0]["state"] == "sent"
    assert len(server.received) == 1


def test_a_server_that_went_away_keeps_the_message_queued_and_flush_delivers_it_once(
    comms_factory: Callable[..., Comms], server: SmtpServer
) -> None:
    comms = comms_factory(channel(server))
    incident = comms.declare()
    server.stop()
    queued = comms.json("communicate", "send", "initial", code=4)["data"]["outcomes"][0]
    assert (queued["state"], queued["reason"], queued["attempts"]) == ("queued", "connection", 4)
    assert f"127.0.0.1:{server.port}" in queued["error"]

    server.start()
    assert comms.json("communicate", "flush")["data"]["outcomes"][0]["state"] == "sent"
    assert comms.json("communicate", "flush")["data"]["outcomes"] == []  # nothing sent again
    assert len(server.received) == 1
    [entry] = comms.json("communicate", "status", incident)["data"]["entries"]
    assert (entry["state"], entry["attempts"]) == ("sent", 5)


def test_email_cannot_tell_so_a_stopped_sender_leaves_it_in_doubt_until_resend(
    comms_factory: Callable[..., Comms], server: SmtpServer
) -> None:
    comms = comms_factory(channel(server))
    comms.declare()
    comms.stop_after_send("email")
    with pytest.raises(Killed):
        comms.run("communicate", "send", "initial")
    comms.clock.advance(minutes=3)
    assert comms.json("communicate", "flush", code=4)["data"]["outcomes"][0]["state"] == "in-doubt"
    assert len(server.received) == 1
    assert comms.json("communicate", "flush", "--resend")["data"]["outcomes"][0]["state"] == "sent"
    assert len(server.received) == 2
    assert server.received[0].message["Message-ID"] == server.received[1].message["Message-ID"]


def test_a_password_without_starttls_to_a_remote_server_is_a_runbook_error(invoke: Invoke, workdir: Path) -> None:
    """AUTH without TLS would send the password readable on the network: `runbook validate` says so, at the line."""
    runbook = workdir / "runbook.yaml"
    text = runbook.read_text(encoding="utf-8")
    assert "        starttls: true\n" in text
    runbook.write_text(text.replace("        starttls: true\n", "        starttls: false\n", 1), encoding="utf-8")
    result = invoke(["runbook", "validate"])
    assert result.exit_code == 2, result.output
    assert "unencrypted" in result.output
    assert "communication.channels.email.smtp" in result.output
    assert "Traceback" not in result.output
