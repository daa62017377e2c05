"""What every channel is handed and answers: an :class:`Outgoing` message in, a receipt or a
:class:`DeliveryError` out.

A channel does one attempt; :mod:`incidentctl.adapters.notify.retry` decides whether and when to try again, from
the error's typed ``reason`` and ``retryable`` (never from its words). A channel that can tell whether it already
has a message (``can_tell``) implements :meth:`Delivery.find`, so a sender that stopped between sending and
recording does not send twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

#: Why a delivery failed. rate_limited, server, timeout and connection may pass (retried); client and config
#: will not (a 4xx, Slack's ``{"ok": false}``, a missing secret) until someone fixes something.
FailureReason = Literal["rate_limited", "server", "timeout", "connection", "client", "config"]

Receipt = Mapping[str, str]


@dataclass(frozen=True)
class Outgoing:
    """One message for one channel, exactly as queued in the journal."""

    key: str
    incident_id: str
    #: ``initial``, ``update``, ``resolution``, ``executive-summary``, ``status-page``, ``support``, ``escalation``.
    kind: str
    subject: str
    text: str
    #: What the channel sends besides the text (Slack blocks, the Statuspage body), rendered when queued.
    payload: Mapping[str, Any] = field(default_factory=dict)
    severity: str = ""
    #: The incident's status word when queued (investigating, identified, monitoring, resolved).
    status: str = ""
    title: str = ""
    components: tuple[str, ...] = ()
    #: What this channel answered for the incident's earlier messages, oldest first: the Slack channel and status
    #: message to update in place, the Statuspage incident to patch.
    prior: tuple[Receipt, ...] = ()
    #: When it was queued: a channel looking for it after a stop (``find``) knows nothing older can be it.
    queued_at: datetime | None = None


class DeliveryError(Exception):
    """One attempt failed. The message is already masked of secrets (channels build it from the response)."""

    def __init__(
        self,
        message: str,
        *,
        reason: FailureReason,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason: FailureReason = reason
        self.status = status
        #: Seconds the server asked us to wait (429 ``Retry-After``).
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.reason in ("rate_limited", "server", "timeout", "connection")


class Delivery(Protocol):
    """A channel of one kind, configured from the runbook, with its secrets resolved."""

    #: Whether :meth:`find` can tell that a message already went out (a Slack message's metadata, a PagerDuty
    #: dedup key, a Statuspage incident); False: a stopped sender's message needs a person to decide.
    can_tell: bool

    def send(self, message: Outgoing) -> Receipt:
        """Deliver once; raise :class:`DeliveryError` when the channel did not take it."""
        ...

    def find(self, message: Outgoing) -> Receipt | None:
        """The receipt of an earlier delivery of this message (same key), or None when it never arrived."""
        ...
