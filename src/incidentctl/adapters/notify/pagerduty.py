"""PagerDuty Events API v2: the incident pages, is acknowledged while someone handles it, and resolves.

Every event carries the incident id as its ``dedup_key``, so PagerDuty keeps one alert per incident and folds a
repeated event into it. That is why this channel can tell (``can_tell``) without asking PagerDuty anything: a
message whose sender stopped after sending is simply sent again (``find`` answers None), and the second copy
changes nothing.

The event's action, from the message's kind and where the incident stands when it is sent:

- ``resolve``: a resolution, or any message once the incident is resolved (a late message never re-opens it);
- ``trigger``: the initial notification and an escalation (they are meant to page);
- otherwise (an update, a summary): ``acknowledge`` once the incident is identified or monitored (someone is
  handling it, so PagerDuty stops re-paging), ``trigger`` while it is still being investigated.

The routing key authenticates the event and is in its body only: never in a URL, a receipt or an error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from incidentctl.adapters.notify.base import Outgoing, Receipt
from incidentctl.adapters.notify.http import request_json
from incidentctl.core.text import one_line

if TYPE_CHECKING:
    from incidentctl.adapters.notify.channels import ChannelDeps
    from incidentctl.runbook.model import PagerDutyChannel

#: Kinds that page whatever the incident's status (short of resolved).
PAGING_KINDS = frozenset({"initial", "escalation"})
#: Statuses that say a person is handling the incident.
HANDLED = frozenset({"identified", "monitoring"})
#: PagerDuty cuts a summary at 1024 characters.
SUMMARY_LIMIT = 1024
SEVERITIES = frozenset({"critical", "error", "warning", "info"})


def event_action(kind: str, status: str) -> str:
    """``trigger``, ``acknowledge`` or ``resolve`` for a message of ``kind`` on an incident in ``status``."""
    if kind == "resolution" or status == "resolved":
        return "resolve"
    if kind in PAGING_KINDS or status not in HANDLED:
        return "trigger"
    return "acknowledge"


class PagerDutyDelivery:
    can_tell = True

    def __init__(self, config: PagerDutyChannel, deps: ChannelDeps) -> None:
        self._deps = deps
        self._url = config.url
        self._routing_key = deps.secrets.resolve(config.routing_key)

    def send(self, message: Outgoing) -> Receipt:
        response = request_json(
            self._deps.http,
            "POST",
            self._url,
            json=self.event(message),
            timeout=self._deps.timeout,
            what=f"PagerDuty {self._deps.name}",
        )
        try:
            answer: Any = response.json()
        except ValueError:
            answer = {}
        dedup = answer.get("dedup_key") if isinstance(answer, dict) else None
        return {"dedup_key": str(dedup or message.incident_id)}

    def find(self, message: Outgoing) -> Receipt | None:
        """None: sending again is how to make sure, since PagerDuty folds it into the same alert."""
        return None

    def event(self, message: Outgoing) -> dict[str, Any]:
        payload = message.payload
        severity = str(payload.get("severity") or "")
        body: dict[str, Any] = {
            "routing_key": self._routing_key,
            "event_action": event_action(message.kind, message.status),
            "dedup_key": message.incident_id,
            "payload": {
                "summary": one_line(message.subject or message.title)[:SUMMARY_LIMIT],
                "source": "incidentctl",
                "severity": severity if severity in SEVERITIES else "error",
                "custom_details": {
                    "incident": message.incident_id,
                    "severity": message.severity,
                    "status": message.status,
                    "message": message.key,
                    "text": message.text,
                },
            },
        }
        for field in ("component", "group", "class"):
            if payload.get(field):
                body["payload"][field] = str(payload[field])
        return body
