"""Opening a runbook channel as a :class:`~incidentctl.adapters.notify.base.Delivery`: one class per kind, each
built the same way from its runbook section and a :class:`ChannelDeps`.

Classes are found by name and imported on first use, so a command that only posts to Slack never imports
``smtplib``, and each kind's module stands alone.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

    from incidentctl.adapters.notify.base import Delivery
    from incidentctl.adapters.secrets import Secrets

#: channel kind -> "module:class" under incidentctl.adapters.notify
KINDS: dict[str, str] = {
    "slack": "slack:SlackDelivery",
    "statuspage": "statuspage:StatuspageDelivery",
    "pagerduty": "pagerduty:PagerDutyDelivery",
    "email": "email:EmailDelivery",
    "webhook": "webhook:WebhookDelivery",
    "file": "file:FileDelivery",
}


@dataclass(frozen=True)
class ChannelDeps:
    """What a channel may use: the command's HTTP client, the secrets, where relative paths start, one attempt's
    timeout, the clock."""

    name: str
    http: httpx.Client
    secrets: Secrets
    runbook_dir: Path
    timeout: float
    clock: Callable[[], datetime]
    #: The runbook's ``tls.ca_file``, trusted besides the usual certificates by channels not on HTTP (SMTP).
    ca_file: Path | None = None


def open_channel(config: Any, deps: ChannelDeps) -> Delivery:
    """The delivery for one runbook channel (``config`` is its section); manual channels have none."""
    target = KINDS.get(config.kind)
    if target is None:
        raise ValueError(f"channel {deps.name}: kind {config.kind!r} cannot be sent to")
    module, _, cls = target.partition(":")
    factory = getattr(importlib.import_module(f"incidentctl.adapters.notify.{module}"), cls)
    delivery: Delivery = factory(config, deps)
    return delivery
