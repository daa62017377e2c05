"""What ``communicate`` prints with ``-o json|yaml``: messages as they would be sent, what a send or flush did,
the outbox, the updates due. The models read the phase's dataclasses by attribute."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import Field

from incidentctl.render.output_model import OutputModel


class DraftOutput(OutputModel):
    channel: str
    channel_kind: str = Field(description="slack, email, pagerduty, statuspage, webhook, file or manual.")
    audience: str | None = Field(description="The audience it was chosen for; null: named or the severity's list.")
    subject: str
    text: str
    payload: dict[str, Any] = Field(description="What the channel sends besides the text (Slack blocks, ...).")
    description: str | None = Field(None, description="A manual channel's description: the person's to-do.")


class PreviewOutput(OutputModel):
    """communicate preview: exactly what would be sent where; nothing is recorded or sent."""

    incident_id: str
    kind: str
    drafts: list[DraftOutput]


class OutcomeOutput(OutputModel):
    key: str = Field(description="The message's idempotency key: INCIDENT/BATCH/CHANNEL.")
    channel: str
    kind: str
    state: str = Field(description="sent, queued (will be retried), failed, in-doubt, sending or to-do.")
    error: str | None
    reason: str | None = Field(description="rate_limited, server, timeout, connection, client or config.")
    attempts: int
    recovered: bool = Field(description="Found already delivered after a sender stopped; not sent again.")
    receipt: dict[str, str]


class DeliveryOutput(OutputModel):
    """communicate send|flush|done: what happened to each message."""

    incident_id: str | None = Field(description="The incident; null for flush --all (see incidents).")
    incidents: list[str] = Field(description="The incidents whose outbox was looked at.")
    batch: str | None
    outcomes: list[OutcomeOutput] = Field(description="Empty when nothing was queued.")


class OutboxEntryOutput(OutputModel):
    key: str
    batch: str
    kind: str
    channel: str
    channel_kind: str
    audience: str | None
    subject: str
    state: str
    attempts: int
    error: str | None
    reason: str | None
    queued_at: datetime
    queued_by: str
    claimed_at: datetime | None = Field(description="The last attempt's start (who claimed it: claimedBy).")
    claimed_by: str | None
    sent_at: datetime | None = Field(description="When it was delivered, or marked done by hand.")
    sent_by: str | None
    recovered: bool
    by_hand: bool
    receipt: dict[str, str]


class OutboxOutput(OutputModel):
    """communicate status: every message of the incident and where it stands."""

    incident_id: str
    entries: list[OutboxEntryOutput]


class DueItemOutput(OutputModel):
    incident_id: str
    severity: str
    status: str
    interval: timedelta
    last_sent: datetime | None
    due_at: datetime
    overdue: bool
    late_by: timedelta


class DueOutput(OutputModel):
    """communicate due: which open incidents owe an update, from the severity's update interval."""

    items: list[DueItemOutput]
