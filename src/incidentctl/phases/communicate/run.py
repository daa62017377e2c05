"""The ``communicate`` use cases on the phase contract: ``run_communicate(ctx, request) -> result``.

preview renders without recording; send queues a batch in the journal and delivers it; flush delivers what is
queued; status lists every message and where it stands; due says which incidents owe an update; done marks a
manual channel's item (or an in-doubt message a person checked) as done.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from incidentctl.core.messages import MESSAGE_KINDS, OutboxEntry, fold_outbox, last_cadence_message
from incidentctl.errors import UsageError
from incidentctl.exitcodes import ExitCode
from incidentctl.phases.messaging.compose import Content, compose, targets
from incidentctl.phases.messaging.deliver import FlushOptions, Outcome, flush
from incidentctl.phases.messaging.outbox import Draft, current, queue, record_sent
from incidentctl.phases.recording import require_incident

if TYPE_CHECKING:
    from incidentctl.core.incident import Incident
    from incidentctl.phases.context import PhaseContext


# --- requests ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewRequest:
    kind: str
    incident: str | None = None
    to: Sequence[str] = ()
    content: Content = field(default_factory=Content)


@dataclass(frozen=True)
class SendRequest(PreviewRequest):
    pass


@dataclass(frozen=True)
class FlushRequest:
    incident: str | None = None
    #: Every open incident's outbox (a cron job), not only one.
    all_open: bool = False
    options: FlushOptions = field(default_factory=FlushOptions)


@dataclass(frozen=True)
class StatusRequest:
    incident: str | None = None


@dataclass(frozen=True)
class DueRequest:
    incident: str | None = None


@dataclass(frozen=True)
class DoneRequest:
    key: str
    incident: str | None = None


CommunicateRequest = PreviewRequest | FlushRequest | StatusRequest | DueRequest | DoneRequest


# --- results ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewResult:
    incident_id: str
    kind: str
    drafts: list[Draft]
    exit_code: ExitCode = ExitCode.OK


@dataclass(frozen=True)
class DeliveryResult:
    """What a send or a flush did, message by message."""

    #: The incident; None for ``flush --all`` (``incidents`` names those it looked at).
    incident_id: str | None
    outcomes: list[Outcome]
    #: The batch a send queued (None for a flush).
    batch: str | None = None
    incidents: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> ExitCode:
        # anything not delivered (still queued, failed, in doubt) is the channel's problem: exit 4; a message
        # another live sender is delivering right now is not (two flushers at once each exit 0)
        undelivered = [o for o in self.outcomes if o.state not in ("sent", "to-do", "sending")]
        return ExitCode.UNREACHABLE if undelivered else ExitCode.OK


@dataclass(frozen=True)
class StatusResult:
    incident_id: str
    entries: list[OutboxEntry]
    exit_code: ExitCode = ExitCode.OK


@dataclass(frozen=True)
class DueItem:
    incident_id: str
    severity: str
    status: str
    interval: timedelta
    #: The last initial notification or update sent; None: none yet (due since the incident was declared).
    last_sent: datetime | None
    due_at: datetime
    overdue: bool
    #: How far past due (zero when not yet due).
    late_by: timedelta


@dataclass(frozen=True)
class DueResult:
    items: list[DueItem]

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.PROBLEMS_FOUND if any(i.overdue for i in self.items) else ExitCode.OK


CommunicateResult = PreviewResult | DeliveryResult | StatusResult | DueResult


# --- the use cases ----------------------------------------------------------------------------------------


def run_communicate(ctx: PhaseContext, request: CommunicateRequest) -> CommunicateResult:
    if isinstance(request, SendRequest):
        return _send(ctx, request)
    if isinstance(request, PreviewRequest):
        return _preview(ctx, request)
    if isinstance(request, FlushRequest):
        return _flush(ctx, request)
    if isinstance(request, StatusRequest):
        return _status(ctx, request)
    if isinstance(request, DueRequest):
        return _due(ctx, request)
    return _done(ctx, request)


def _incident(ctx: PhaseContext, explicit: str | None) -> Incident:
    return require_incident(ctx.journal(), explicit, usage="communicate ...")


def _drafts(ctx: PhaseContext, request: PreviewRequest) -> tuple[Incident, list[Draft]]:
    from incidentctl.phases.context import learn_runbook_secrets

    if request.kind not in MESSAGE_KINDS:
        raise UsageError(f"no message kind {request.kind!r}", hint=f"one of {', '.join(MESSAGE_KINDS)}")
    learn_runbook_secrets(ctx)
    incident = _incident(ctx, request.incident)
    timeline = ctx.journal().timeline(incident.id)
    chosen = targets(ctx.runbook, incident, request.kind, request.to)
    return incident, [compose(ctx, incident, timeline, request.kind, t, request.content) for t in chosen]


def _preview(ctx: PhaseContext, request: PreviewRequest) -> PreviewResult:
    incident, drafts = _drafts(ctx, request)
    return PreviewResult(incident.id, request.kind, drafts)


def _send(ctx: PhaseContext, request: SendRequest) -> DeliveryResult:
    incident, drafts = _drafts(ctx, request)
    keys = queue(ctx.journal(), incident.id, request.kind, drafts)
    outcomes = flush(ctx, incident.id, FlushOptions(keys=frozenset(keys)))
    batch = keys[0].split("/")[1] if keys else None
    return DeliveryResult(incident.id, outcomes, batch, incidents=[incident.id])


def _flush(ctx: PhaseContext, request: FlushRequest) -> DeliveryResult:
    from incidentctl.phases.context import learn_runbook_secrets

    learn_runbook_secrets(ctx)
    if request.all_open:
        if request.incident is not None:
            raise UsageError(
                f"flush --all flushes every open incident, and {request.incident} was named too",
                hint="name one incident or give --all, not both",
            )
        ids = [i.id for i in _open_incidents(ctx)]
        outcomes = [o for incident_id in ids for o in flush(ctx, incident_id, request.options)]
        return DeliveryResult(None, outcomes, incidents=ids)
    incident = _incident(ctx, request.incident)
    return DeliveryResult(incident.id, flush(ctx, incident.id, request.options), incidents=[incident.id])


def _open_incidents(ctx: PhaseContext) -> list[Incident]:
    from incidentctl.core.incident import IncidentStatus
    from incidentctl.journal.query import IncidentQuery

    query = IncidentQuery(statuses=frozenset(s for s in IncidentStatus if s.is_open))
    return [i for i in ctx.journal().incidents(query) if i.status.is_open]


def _status(ctx: PhaseContext, request: StatusRequest) -> StatusResult:
    incident = _incident(ctx, request.incident)
    lease = ctx.runbook.communication.delivery.lease
    now = ctx.clock()
    entries = fold_outbox(ctx.journal().timeline(incident.id)).values()
    return StatusResult(incident.id, [current(e, now, lease) for e in entries])


def _due(ctx: PhaseContext, request: DueRequest) -> DueResult:
    journal = ctx.journal()
    incidents = [_incident(ctx, request.incident)] if request.incident else _open_incidents(ctx)
    now = ctx.clock()
    items = []
    for incident in incidents:
        if not incident.status.is_open:
            continue
        level = ctx.runbook.severities.get(incident.severity)
        interval = level.update_interval if level else timedelta(minutes=15)
        last = last_cadence_message(list(fold_outbox(journal.timeline(incident.id)).values()))
        since = last.sent_at if last is not None and last.sent_at is not None else incident.declared_at
        due_at = since + interval
        items.append(
            DueItem(
                incident.id,
                incident.severity,
                incident.status.value,
                interval,
                last.sent_at if last else None,
                due_at,
                now > due_at,
                max(now - due_at, timedelta(0)),
            )
        )
    return DueResult(items)


def _done(ctx: PhaseContext, request: DoneRequest) -> DeliveryResult:
    incident = _incident(ctx, request.incident)
    journal = ctx.journal()
    entries = fold_outbox(journal.timeline(incident.id))
    entry = entries.get(request.key)
    if entry is None:
        raise UsageError(f"{incident.id} has no message {request.key!r}", hint="communicate status lists them")
    seen = current(entry, ctx.clock(), ctx.runbook.communication.delivery.lease)
    if seen.state == "sent":
        return DeliveryResult(
            incident.id, [Outcome(entry.key, entry.channel, entry.kind, "sent")], incidents=[incident.id]
        )
    if seen.state not in ("to-do", "in-doubt", "failed"):
        raise UsageError(
            f"message {request.key} is {seen.state}: only a manual item, an in-doubt or a failed message can be "
            "marked done",
            hint="communicate flush sends what is queued",
        )
    record_sent(journal, incident.id, entry, {}, attempts=entry.attempts, by_hand=True)
    return DeliveryResult(incident.id, [Outcome(entry.key, entry.channel, entry.kind, "sent")], incidents=[incident.id])
