"""The outbox: which messages an incident has queued, sent, failed or left in doubt, folded from its timeline.

Every message is journalled before it is sent (the transactional-outbox pattern): ``messages_queued`` records a
batch (one message per channel, each with its idempotency key and exactly what will be sent), ``message_sending``
claims one for an attempt, and ``message_sent`` or ``message_failed`` records the outcome. A claim with no outcome
is a sender that stopped between sending and recording (killed, the machine gone): the message is *in doubt*.
A channel that can tell whether it already has the message (``find``) settles the doubt; one that cannot leaves it
for a person, because sending again could be the duplicate a customer sees.

Pure: no I/O, no clock of its own. The journal's events are the only input.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal, get_args

#: What a message is about; each kind has its template (``KIND_TEMPLATES``).
MessageKind = Literal["initial", "update", "resolution", "executive-summary", "status-page", "support", "escalation"]
MESSAGE_KINDS: tuple[MessageKind, ...] = get_args(MessageKind)

#: The runbook template each kind renders (``communication.templates``; bundled when the runbook names none).
KIND_TEMPLATES: Mapping[MessageKind, str] = {
    "initial": "initial_notification",
    "update": "status_update",
    "resolution": "resolution_notification",
    "executive-summary": "executive_summary",
    "status-page": "status_page",
    "support": "customer_support",
    #: sent by ``escalate`` (it names the level, the role and the reason), one batch per level reached
    "escalation": "escalation_notice",
}

#: The kinds that tell people where the incident stands; the update cadence counts from the last one sent.
CADENCE_KINDS: frozenset[str] = frozenset({"initial", "update", "resolution"})

#: Where a message stands.
#: queued: not tried yet (or waiting after a failure that may pass); sending: claimed by a live sender;
#: sent: the channel took it; failed: the channel refused it for good (a 4xx: fix and ``flush --retry-failed``);
#: in-doubt: claimed, no outcome, the sender is gone; to-do: a manual channel, for a person to do and mark done.
OutboxState = Literal["queued", "sending", "sent", "failed", "in-doubt", "to-do"]

#: A channel's receipt for a message: what it answered (a Slack ``ts``, a Statuspage incident id, a dedup key).
Receipt = Mapping[str, str]


@dataclass(frozen=True)
class OutboxEntry:
    key: str
    batch: str
    kind: str
    channel: str
    channel_kind: str
    audience: str | None
    subject: str
    text: str
    #: What the channel sends besides the text (Slack blocks, a Statuspage body), as rendered when queued.
    payload: Mapping[str, Any]
    queued_at: datetime
    queued_by: str
    state: OutboxState = "queued"
    attempts: int = 0
    error: str | None = None
    #: The failure's kind (``rate_limited``, ``server``, ``timeout``, ``connection``, ``client``, ``config``).
    reason: str | None = None
    retryable: bool = True
    receipt: Receipt = field(default_factory=dict)
    claimed_at: datetime | None = None
    claimed_by: str | None = None
    claim_host: str | None = None
    claim_pid: int | None = None
    sent_at: datetime | None = None
    #: Who recorded the delivery (the sender's actor, or the person who marked it done).
    sent_by: str | None = None
    #: True when the message was found already delivered after a sender stopped, rather than sent again.
    recovered: bool = False
    #: True when a person marked a manual channel's item (or an in-doubt message) done.
    by_hand: bool = False


def fold_outbox(timeline: Iterable[Any]) -> dict[str, OutboxEntry]:
    """Every message of the incident by key, in the order queued. ``timeline`` holds journal events."""
    from incidentctl.core.events import EventKind  # here, not at the top: the CLI reads MESSAGE_KINDS at start-up

    entries: dict[str, OutboxEntry] = {}
    for event in timeline:
        if event.kind.startswith("message") and not _readable(event):
            continue  # a hand-edited or damaged record: the timeline reports it; the outbox goes on without it
        data: Mapping[str, Any] = event.data
        if event.kind == EventKind.MESSAGES_QUEUED:
            for m in data.get("messages") or []:
                key = str(m.get("key", ""))
                if not key or key in entries:
                    continue
                manual = m.get("channel_kind") == "manual"
                entries[key] = OutboxEntry(
                    key=key,
                    batch=str(data.get("batch", "")),
                    kind=str(data.get("kind", "")),
                    channel=str(m.get("channel", "")),
                    channel_kind=str(m.get("channel_kind", "")),
                    audience=m.get("audience"),
                    subject=str(m.get("subject", "")),
                    text=str(m.get("text", "")),
                    payload=dict(m.get("payload") or {}),
                    queued_at=event.time,
                    queued_by=event.actor,
                    state="to-do" if manual else "queued",
                )
            continue
        key = str(data.get("key", ""))
        entry = entries.get(key)
        if entry is None:
            continue
        if event.kind == EventKind.MESSAGE_SENDING:
            entries[key] = replace(
                entry,
                state="sending",
                attempts=int(data.get("attempt") or entry.attempts + 1),
                claimed_at=event.time,
                claimed_by=event.actor,
                claim_host=data.get("host"),
                claim_pid=data.get("pid"),
            )
        elif event.kind == EventKind.MESSAGE_SENT:
            entries[key] = replace(
                entry,
                state="sent",
                receipt={str(k): str(v) for k, v in (data.get("receipt") or {}).items()},
                sent_at=event.time,
                sent_by=event.actor,
                error=None,
                recovered=bool(data.get("recovered")),
                by_hand=bool(data.get("by_hand")),
            )
        elif event.kind == EventKind.MESSAGE_FAILED:
            retryable = bool(data.get("retryable", True))
            entries[key] = replace(
                entry,
                state="queued" if retryable else "failed",
                error=data.get("error"),
                reason=data.get("reason"),
                retryable=retryable,
                attempts=int(data.get("attempts") or entry.attempts),
            )
    return entries


def in_doubt(entry: OutboxEntry, now: datetime, *, lease: timedelta, alive: bool | None) -> bool:
    """Whether a claimed message's sender is gone: ``alive`` is what the caller knows of the claiming process
    (None: another machine, so only the lease can tell)."""
    if entry.state != "sending" or entry.claimed_at is None:
        return False
    if alive is not None:
        return not alive
    return now - entry.claimed_at >= lease


def with_doubt(entry: OutboxEntry, now: datetime, *, lease: timedelta, alive: bool | None) -> OutboxEntry:
    """The entry as a reader should see it: a claim whose sender is gone reads ``in-doubt``."""
    return replace(entry, state="in-doubt") if in_doubt(entry, now, lease=lease, alive=alive) else entry


def receipts(entries: Iterable[OutboxEntry], channel: str) -> tuple[Receipt, ...]:
    """What ``channel`` answered for this incident's messages so far, oldest first (Slack's status message, the
    Statuspage incident a later update patches)."""
    return tuple(e.receipt for e in entries if e.channel == channel and e.state == "sent" and e.receipt)


def next_batch(entries: Iterable[OutboxEntry], kind: str) -> str:
    """The next batch name of a kind: ``update-3`` after two updates were queued."""
    seen = {e.batch for e in entries if e.kind == kind}
    return f"{kind}-{len(seen) + 1}"


def message_key(incident_id: str, batch: str, channel: str) -> str:
    """The idempotency key of one message: stable, unique per incident, batch and channel, safe in a header."""
    return f"{incident_id}/{batch}/{channel}"


def last_cadence_message(entries: Sequence[OutboxEntry]) -> OutboxEntry | None:
    """The latest initial notification, update or resolution that went out on a channel that is not manual: a
    person ticking off the war room's item has told nobody the incident's state."""
    sent = [
        e
        for e in entries
        if e.kind in CADENCE_KINDS and e.state == "sent" and e.sent_at is not None and e.channel_kind != "manual"
    ]
    return max(sent, key=lambda e: e.sent_at or e.queued_at) if sent else None


def _readable(event: Any) -> bool:
    """Whether the event's payload is what its kind takes (its fields are read below without further checks)."""
    from incidentctl.core.events import PayloadError, spec

    found = spec(event.kind)
    if found is None:
        return False
    try:
        found.read(event.data)
    except PayloadError:
        return False
    return True
