"""The file channel through the outbox: one .eml file per message in the runbook's folder, exactly once (a stop
between writing and recording is found again), and a key from an edited journal never writes outside it."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from tests.communicate.harness import Comms, Killed

CHANNELS = {"mail-drop": {"kind": "file", "dir": "outbox/mail"}}


@pytest.fixture
def comms(comms_factory: Callable[..., Comms]) -> Comms:
    return comms_factory(CHANNELS)


def folder(comms: Comms) -> Path:
    return comms.root / "outbox" / "mail"


def files(comms: Comms) -> list[Path]:
    return sorted(p for p in folder(comms).iterdir() if not p.name.startswith("."))


def test_each_message_is_one_email_file_named_by_its_key(comms: Comms) -> None:
    incident = comms.declare("Checkout fails\nBcc: attacker@evil.test")
    sent = comms.json("communicate", "send", "initial", "--impact", "Payments fail — for 40 %")["data"]["outcomes"]
    comms.ok("communicate", "send", "update", "--update", "Rolled back")

    first, second = files(comms)
    assert first.name == f"{incident}%2Finitial-1%2Fmail-drop.eml"
    assert second.name == f"{incident}%2Fupdate-1%2Fmail-drop.eml"
    assert sent[0]["receipt"] == {"file": str(first)}
    mail = message_from_bytes(first.read_bytes(), policy=policy.default)
    assert mail["X-Incidentctl-Key"] == f"{incident}/initial-1/mail-drop"
    assert mail["Subject"].startswith("[P2] High Incident - Checkout fails")
    assert mail["Bcc"] is None
    assert "Payments fail — for 40 %" in mail.get_content()
    assert [e["state"] for e in comms.json("communicate", "status", incident)["data"]["entries"]] == ["sent", "sent"]


def test_a_sender_stopped_after_writing_is_found_again_and_nothing_is_written_twice(comms: Comms) -> None:
    comms.declare()
    comms.stop_after_send("mail-drop")
    with pytest.raises(Killed):
        comms.run("communicate", "send", "initial")
    [written] = files(comms)
    before = written.read_bytes()
    comms.clock.advance(minutes=3)
    assert comms.json("communicate", "status")["data"]["entries"][0]["state"] == "in-doubt"

    flushed = comms.json("communicate", "flush")["data"]["outcomes"][0]
    assert (flushed["state"], flushed["recovered"]) == ("sent", True)
    assert files(comms) == [written]
    assert written.read_bytes() == before


def test_a_folder_that_cannot_be_made_keeps_the_message_and_a_retry_writes_it_once(comms: Comms) -> None:
    (comms.root / "outbox").write_text("a file where the folder should be", encoding="utf-8")
    comms.declare()
    failed = comms.json("communicate", "send", "initial", code=4)["data"]["outcomes"][0]
    assert (failed["state"], failed["reason"]) == ("failed", "config")
    assert "outbox/mail" in failed["error"]

    (comms.root / "outbox").unlink()
    assert comms.json("communicate", "flush", "--retry-failed")["data"]["outcomes"][0]["state"] == "sent"
    assert comms.json("communicate", "flush", "--retry-failed")["data"]["outcomes"] == []  # written once
    assert len(files(comms)) == 1


@pytest.mark.parametrize(
    "key", ["../../../escaped", "/tmp/escaped", "..", "a/../../b", "x\n/../escaped", "%2e%2e%2Fescaped"]
)
def test_a_key_from_an_edited_journal_never_writes_outside_the_folder(comms: Comms, key: str) -> None:
    incident = comms.declare()
    comms.ok("communicate", "send", "initial")
    timeline = comms.root / "incidents" / incident / "timeline.jsonl"
    [queued] = [e for e in comms.timeline(incident) if e["kind"] == "messages_queued"]
    queued["data"]["batch"] = "initial-9"
    queued["data"]["messages"][0]["key"] = key
    with timeline.open("a", encoding="utf-8") as out:
        out.write(json.dumps(queued) + "\n")
    before = set(comms.root.rglob("*"))
    naive = Path(os.path.normpath(folder(comms) / key))  # where joining the key as a path would land

    outcome = next(o for o in comms.json("communicate", "flush")["data"]["outcomes"] if o["key"] == key)
    assert outcome["state"] == "sent"
    [written] = set(comms.root.rglob("*")) - before
    assert written.parent == folder(comms)
    assert naive.is_relative_to(comms.root) or not naive.exists()
    assert message_from_bytes(written.read_bytes(), policy=policy.default)["X-Incidentctl-Key"]


def test_a_symlink_planted_under_a_message_name_is_not_written_through(comms: Comms, tmp_path: Path) -> None:
    incident = comms.declare()
    target = tmp_path / "victim.txt"
    target.write_text("precious", encoding="utf-8")
    folder(comms).mkdir(parents=True)
    os.symlink(target, folder(comms) / f"{incident}%2Finitial-1%2Fmail-drop.eml")

    failed = comms.json("communicate", "send", "initial", code=4)["data"]["outcomes"][0]
    assert (failed["state"], failed["reason"]) == ("failed", "client")
    assert "in the way" in failed["error"]
    assert target.read_text(encoding="utf-8") == "precious"
