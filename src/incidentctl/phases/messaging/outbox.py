"""Writing the outbox: queue a batch, claim one message for an attempt, record its outcome.

Every write decides on the timeline as it is at that moment (``append_if_timeline``), so two responders flushing
at once never both claim one message, and a batch is numbered once even when two sends race.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from incidentctl.core.events import EventKind, MessagesQueuedPayload, QueuedMessage, to_journal
from incidentctl.core.messages import OutboxEntry, fold_outbox, in_doubt, message_key, next_batch, with_doubt

if TYPE_CHECKING:
    from incidentctl.core.incident import Event, Incident
    from incidentctl.journal.base import JournalStore


@dataclass(frozen=True)
class Draft:
    """One message to queue, before its key is known (the batch number is decided under the journal's lock)."""

    channel: str
    channel_kind: str
    audience: str | None
    subject: str
    text: str
    payload: Mapping[str, Any]
    #: A manual channel's description, for the checklist item in the timeline (None for the others).
    description: str | None = None


def queue(
    journal: JournalStore, incident_id: str, kind: str, drafts: Sequence[Draft], *, batch: str | None = None
) -> list[str]:
    """Journal one batch of messages; returns their keys in the order of ``drafts``. A ``batch`` named by the
    caller (``escalation-L3``: one per level reached) is queued once: queueing it again records nothing."""
    keys: list[str] = []

    def decide(_incident: Incident, timeline: Sequence[Event]) -> Mapping[str, Any] | None:
        entries = fold_outbox(timeline).values()
        if batch is not None and any(e.batch == batch for e in entries):
            keys[:] = [message_key(incident_id, batch, d.channel) for d in drafts]
            return None
        name = batch or next_batch(entries, kind)
        keys[:] = [message_key(incident_id, name, d.channel) for d in drafts]
        payload = MessagesQueuedPayload(
            batch=name,
            kind=kind,
            messages=[
                QueuedMessage(
                    key=key,
                    channel=d.channel,
                    channel_kind=d.channel_kind,
                    audience=d.audience,
                    subject=d.subject,
                    text=d.text,
                    payload=dict(d.payload),
                    **({"description": d.description} if d.description else {}),
                )
                for key, d in zip(keys, drafts, strict=True)
            ],
        )
        return to_journal(payload)

    journal.append_if_timeline(incident_id, EventKind.MESSAGES_QUEUED, decide)
    return keys


def this_process() -> tuple[str, int]:
    return socket.gethostname(), os.getpid()


def sender_alive(entry: OutboxEntry) -> bool | None:
    """Whether the process that claimed ``entry`` still runs: known on this machine, None on another. Our own pid
    is a claim we no longer hold: a process claims, sends and records in one go and never reads its own claim in
    between, so seeing it means an earlier run in this process stopped there."""
    host, pid = this_process()
    if entry.claim_host != host or entry.claim_pid is None:
        return None
    if entry.claim_pid == pid:
        return False
    try:
        os.kill(entry.claim_pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def current(entry: OutboxEntry, now: datetime, lease: timedelta) -> OutboxEntry:
    """The entry as it stands for a reader: a claim whose sender is gone is in doubt."""
    alive = sender_alive(entry) if entry.state == "sending" else None
    return with_doubt(entry, now, lease=lease, alive=alive)


@dataclass(frozen=True)
class Claim:
    entry: OutboxEntry
    #: The message was claimed before and its sender stopped: it may have been delivered.
    was_in_doubt: bool


def claim(
    journal: JournalStore,
    incident_id: str,
    key: str,
    *,
    now: Callable[[], datetime],
    lease: timedelta,
    retry_failed: bool = False,
) -> Claim | None:
    """Claim one message for an attempt, or None when it is not ours to send (sent, claimed by a live sender,
    failed for good without ``retry_failed``, a manual item). A claim of an in-doubt message says so: the caller
    asks the channel whether it already has it before sending again."""
    found: list[Claim] = []

    def decide(_incident: Incident, timeline: Sequence[Event]) -> Mapping[str, Any] | None:
        entry = fold_outbox(timeline).get(key)
        if entry is None or entry.state in ("sent", "to-do"):
            return None
        doubt = False
        if entry.state == "sending":
            if not in_doubt(entry, now(), lease=lease, alive=sender_alive(entry)):
                return None
            doubt = True
        if entry.state == "failed" and not retry_failed:
            return None
        found.append(Claim(entry, doubt))
        host, pid = this_process()
        return {"key": key, "attempt": entry.attempts + 1, "host": host, "pid": pid}

    journal.append_if_timeline(incident_id, EventKind.MESSAGE_SENDING, decide)
    return found[0] if found else None


def record_sent(
    journal: JournalStore,
    incident_id: str,
    entry: OutboxEntry,
    receipt: Mapping[str, str],
    *,
    attempts: int,
    recovered: bool = False,
    by_hand: bool = False,
) -> None:
    journal.append(
        incident_id,
        EventKind.MESSAGE_SENT,
        {
            "key": entry.key,
            "channel": entry.channel,
            "receipt": dict(receipt),
            "attempts": attempts,
            "recovered": recovered,
            "by_hand": by_hand,
        },
    )


def record_failed(
    journal: JournalStore,
    incident_id: str,
    entry: OutboxEntry,
    *,
    error: str,
    reason: str,
    retryable: bool,
    attempts: int,
    status: int | None,
) -> None:
    journal.append(
        incident_id,
        EventKind.MESSAGE_FAILED,
        {
            "key": entry.key,
            "channel": entry.channel,
            "error": error,
            "reason": reason,
            "retryable": retryable,
            "attempts": attempts,
            "status": status,
        },
    )
