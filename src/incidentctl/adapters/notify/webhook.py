"""A generic JSON webhook: the message POSTed as one object, with its idempotency key as a header.

It cannot tell whether it already received a message (there is no way to ask it), so a sender that stopped
between sending and recording leaves the message in doubt for a person; the receiver may de-duplicate on the
``Idempotency-Key`` header (the IETF draft's name) or the ``key`` field.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from incidentctl.adapters.notify.base import Outgoing, Receipt
from incidentctl.adapters.notify.http import request_json

if TYPE_CHECKING:
    from incidentctl.adapters.notify.channels import ChannelDeps
    from incidentctl.runbook.model import WebhookChannel


class WebhookDelivery:
    can_tell = False

    def __init__(self, config: WebhookChannel, deps: ChannelDeps) -> None:
        self._deps = deps
        self._url = deps.secrets.resolve(config.url)
        self._headers = {name: deps.secrets.resolve(ref) for name, ref in config.headers.items()}

    def send(self, message: Outgoing) -> Receipt:
        body = {
            "key": message.key,
            "incident": message.incident_id,
            "kind": message.kind,
            "severity": message.severity,
            "status": message.status,
            "title": message.title,
            "subject": message.subject,
            "text": message.text,
        }
        response = request_json(
            self._deps.http,
            "POST",
            self._url,
            json=body,
            headers={**self._headers, "Idempotency-Key": message.key},
            timeout=self._deps.timeout,
            what=f"webhook {self._deps.name}",
        )
        return {"status": str(response.status_code)}

    def find(self, message: Outgoing) -> Receipt | None:
        return None
