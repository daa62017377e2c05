"""Delivering what is queued: claim a message, send it outside the journal's lock, record what happened.

A message whose sender stopped between sending and recording (in doubt) is first looked for on its channel when
the channel can tell (``Delivery.find``): found, it is recorded as sent without sending again. A channel that
cannot tell leaves it in doubt for a person (``communicate done KEY`` when it arrived, ``flush --resend`` to
send again), since a second copy could reach a customer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from incidentctl.core.messages import OutboxEntry, fold_outbox, receipts
from incidentctl.errors import IncidentctlError
from incidentctl.phases.messaging.outbox import claim, current, record_failed, record_sent

if TYPE_CHECKING:
    import httpx

    from incidentctl.adapters.notify.base import Delivery, Outgoing, Receipt
    from incidentctl.adapters.notify.retry import RetryPolicy
    from incidentctl.core.incident import Incident
    from incidentctl.phases.context import PhaseContext


@dataclass(frozen=True)
class Outcome:
    """What a flush did with one message."""

    key: str
    channel: str
    kind: str
    #: sent | queued (failed, will be retried) | failed (will not) | in-doubt | sending (someone else) | to-do
    state: str
    error: str | None = None
    reason: str | None = None
    attempts: int = 0
    recovered: bool = False
    receipt: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FlushOptions:
    keys: frozenset[str] | None = None
    retry_failed: bool = False
    #: Send in-doubt messages again on channels that cannot tell whether they have them.
    resend: bool = False


def flush(ctx: PhaseContext, incident_id: str, options: FlushOptions) -> list[Outcome]:
    """Deliver the incident's queued messages (or those of ``options.keys``), in the order queued."""
    from datetime import timedelta

    from incidentctl.adapters.notify.retry import RetryPolicy

    journal = ctx.journal()
    rb = ctx.runbook
    delivery = rb.communication.delivery
    lease: timedelta = delivery.lease
    policy = RetryPolicy(attempts=delivery.attempts, longest_wait=delivery.longest_wait.total_seconds())
    incident = journal.get(incident_id)
    entries = fold_outbox(journal.timeline(incident_id))
    # what each channel answered so far; a message sent in this flush adds its receipt for the next one
    prior = {c: list(receipts(entries.values(), c)) for c in {e.channel for e in entries.values()}}
    outcomes: list[Outcome] = []
    channels: dict[str, Delivery] = {}
    client: list[httpx.Client] = []
    try:
        for entry in _wanted(entries.values(), options):
            now = ctx.clock()
            seen = current(entry, now, lease)
            if seen.state in ("sent", "to-do", "sending") or (seen.state == "failed" and not options.retry_failed):
                outcomes.append(_as_is(seen))
                continue
            try:
                channel = channels.get(entry.channel) or _open(ctx, entry.channel, client)
            except (IncidentctlError, ValueError, KeyError) as e:  # a missing secret, a channel no longer there
                text = ctx.secrets.redact(str(e) if not isinstance(e, KeyError) else f"no channel {entry.channel}")
                record_failed(
                    journal,
                    incident_id,
                    entry,
                    error=text,
                    reason="config",
                    retryable=True,
                    attempts=entry.attempts,
                    status=None,
                )
                outcomes.append(Outcome(entry.key, entry.channel, entry.kind, "queued", text, "config", entry.attempts))
                continue
            channels[entry.channel] = channel
            if seen.state == "in-doubt" and not channel.can_tell and not options.resend:
                outcomes.append(_as_is(seen))
                continue
            got = claim(journal, incident_id, entry.key, now=ctx.clock, lease=lease, retry_failed=options.retry_failed)
            if got is None:  # someone else took it meanwhile
                outcomes.append(_as_is(current(fold_outbox(journal.timeline(incident_id))[entry.key], now, lease)))
                continue
            message = _outgoing(incident, entry, tuple(prior.get(entry.channel, ())))
            outcome = _send(ctx, incident_id, got.entry, message, channel, policy, in_doubt=got.was_in_doubt)
            if outcome.state == "sent" and outcome.receipt:
                prior.setdefault(entry.channel, []).append(outcome.receipt)
            outcomes.append(outcome)
    finally:
        for c in client:
            c.close()
    return outcomes


def _send(
    ctx: PhaseContext,
    incident_id: str,
    entry: OutboxEntry,
    message: Outgoing,
    channel: Delivery,
    policy: RetryPolicy,
    *,
    in_doubt: bool,
) -> Outcome:
    from incidentctl.adapters.notify.base import DeliveryError
    from incidentctl.adapters.notify.retry import Attempts, deliver

    journal = ctx.journal()
    attempts = Attempts()
    try:
        if in_doubt and channel.can_tell:
            found = channel.find(message)
            if found is not None:
                record_sent(journal, incident_id, entry, found, attempts=entry.attempts, recovered=True)
                return Outcome(
                    entry.key,
                    entry.channel,
                    entry.kind,
                    "sent",
                    attempts=entry.attempts,
                    recovered=True,
                    receipt=dict(found),
                )
        receipt = deliver(channel, message, policy, sleep=ctx.sleep, attempts=attempts)
    except DeliveryError as e:
        text = ctx.secrets.redact(e.message)
        total = entry.attempts + max(attempts.count, 1)
        record_failed(
            journal,
            incident_id,
            entry,
            error=text,
            reason=e.reason,
            retryable=e.retryable,
            attempts=total,
            status=e.status,
        )
        return Outcome(
            entry.key, entry.channel, entry.kind, "queued" if e.retryable else "failed", text, e.reason, total
        )
    total = entry.attempts + attempts.count
    record_sent(journal, incident_id, entry, receipt, attempts=total)
    return Outcome(entry.key, entry.channel, entry.kind, "sent", attempts=total, receipt=dict(receipt))


def _wanted(entries: Iterable[OutboxEntry], options: FlushOptions) -> list[OutboxEntry]:
    """A send's own batch whole (its to-do items are part of what it reports); for a flush, what is still to
    deliver: a message already sent or a person's to-do item is nothing to flush."""
    if options.keys is not None:
        return [e for e in entries if e.key in options.keys]
    return [e for e in entries if e.state not in ("sent", "to-do")]


def _as_is(entry: OutboxEntry) -> Outcome:
    return Outcome(
        entry.key,
        entry.channel,
        entry.kind,
        entry.state,
        entry.error,
        entry.reason,
        entry.attempts,
        entry.recovered,
        dict(entry.receipt),
    )


def _outgoing(incident: Incident, entry: OutboxEntry, prior: tuple[Receipt, ...]) -> Outgoing:
    from incidentctl.adapters.notify.base import Outgoing

    return Outgoing(
        key=entry.key,
        incident_id=incident.id,
        kind=entry.kind,
        subject=entry.subject,
        text=entry.text,
        payload=entry.payload,
        severity=incident.severity,
        status=incident.status.value,
        title=incident.title,
        components=tuple(incident.components),
        prior=prior,
        queued_at=entry.queued_at,
    )


def _open(ctx: PhaseContext, name: str, client: list[httpx.Client]) -> Delivery:
    from incidentctl.adapters.notify.channels import ChannelDeps

    config = ctx.runbook.communication.channels[name]
    runbook_dir = ctx.runbook_dir or Path(".")
    if not client:
        client.append(ctx.adapters.http())
    deps = ChannelDeps(
        name=name,
        http=client[0],
        secrets=ctx.secrets,
        runbook_dir=runbook_dir,
        timeout=ctx.runbook.communication.delivery.timeout.total_seconds(),
        clock=ctx.clock,
        ca_file=ctx.runbook.tls.ca_path(runbook_dir),
    )
    return ctx.adapters.channel(config, deps)
