"""Atlassian Statuspage: the incident's first message creates the public incident, every later one patches it
(a new incident update, the components' status, and at the end the resolution).

What was created is known from the channel's receipts (``Outgoing.prior``): the first receipt with an
``incident_id`` is the public incident. A sender that stopped between creating it and recording that finds it
again instead of opening a second public incident (:meth:`StatuspageDelivery.find`). A first message is looked
for before every create too, so an attempt that timed out after Statuspage took it (retried, or flushed later)
does not open a second one either. What identifies ours:

- a first message: among the page's unresolved incidents (those of the same name, for one queued as resolved),
  one with our name, created after the message was queued (give or take ``CLOCK_SKEW``), whose first update's
  text is ours. The public text carries no internal id, so name, text and time together are the mark; when
  Statuspage shows no update text, name and time decide, and the earliest such incident is ours. Two incidents
  of the same title and text declared within a minute of each other would be taken for one: they are almost
  certainly the same outage declared twice.
- a later message: the incident's updates, for one with our text, posted after the message was queued.

The update text is sent as ``body``; older documentation calls it ``message``, so both are read back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from incidentctl.adapters.notify.base import DeliveryError, Outgoing, Receipt
from incidentctl.adapters.notify.http import request_json

if TYPE_CHECKING:
    import httpx

    from incidentctl.adapters.notify.channels import ChannelDeps
    from incidentctl.runbook.model import StatuspageChannel

#: How far Statuspage's clock and ours may disagree when deciding an incident was created after we queued.
CLOCK_SKEW = timedelta(minutes=1)


class StatuspageDelivery:
    can_tell = True

    def __init__(self, config: StatuspageChannel, deps: ChannelDeps) -> None:
        self._deps = deps
        self._base = f"{config.url.rstrip('/')}/v1/pages/{config.page_id}"
        self._headers = {"Authorization": f"OAuth {deps.secrets.resolve(config.api_key)}"}

    def send(self, message: Outgoing) -> Receipt:
        incident_id = _incident_of(message.prior)
        what = f"Statuspage {self._deps.name}"
        if incident_id is None:
            # an earlier attempt may have created it and not heard back (a timeout, a stop): look before creating
            found = self.find(message)
            if found is not None:
                return found
            response = self._call("POST", f"{self._base}/incidents", json={"incident": _incident(message)}, what=what)
        else:
            response = self._call(
                "PATCH", f"{self._base}/incidents/{incident_id}", json={"incident": _incident(message)}, what=what
            )
        return _receipt(_json_object(response, what), fallback=incident_id)

    def find(self, message: Outgoing) -> Receipt | None:
        incident_id = _incident_of(message.prior)
        what = f"Statuspage {self._deps.name}"
        body = _body(message)
        if incident_id is not None:
            found = _json_object(self._call("GET", f"{self._base}/incidents/{incident_id}", what=what), what)
            if any(_says(u, body) and _after(u, message.queued_at) for u in _updates(found)):
                return _receipt(found, fallback=incident_id)
            return None
        name = str(message.payload.get("name") or message.subject)
        if message.payload.get("status") == "resolved":
            listed = self._call("GET", f"{self._base}/incidents", params={"q": name}, what=what)
        else:
            listed = self._call("GET", f"{self._base}/incidents/unresolved", what=what)
        candidates = [
            i
            for i in _json_list(listed, what)
            if i.get("name") == name and _after(i, message.queued_at) and _first_update_is(i, body)
        ]
        if not candidates:
            return None
        return _receipt(min(candidates, key=lambda i: str(i.get("created_at") or "")), fallback=None)

    def _call(
        self, method: str, url: str, *, what: str, json: Any = None, params: Mapping[str, str] | None = None
    ) -> httpx.Response:
        return request_json(
            self._deps.http,
            method,
            url,
            json=json,
            params=params,
            headers=self._headers,
            timeout=self._deps.timeout,
            what=what,
        )


def _incident(message: Outgoing) -> dict[str, Any]:
    """The ``incident`` object of a create or an update, from what was fixed when the message was queued."""
    payload = message.payload
    incident: dict[str, Any] = {
        "name": str(payload.get("name") or message.subject),
        "status": str(payload.get("status") or message.status or "investigating"),
        "body": _body(message),
        "deliver_notifications": True,
    }
    if payload.get("impact"):
        incident["impact_override"] = str(payload["impact"])
    ids = [str(i) for i in payload.get("component_ids") or ()]
    if ids:
        incident["component_ids"] = ids
    components = payload.get("components") or {}
    if components:
        incident["components"] = {str(k): str(v) for k, v in components.items()}
    return incident


def _body(message: Outgoing) -> str:
    return str(message.payload.get("body") or message.text).strip()


def _incident_of(prior: Sequence[Receipt]) -> str | None:
    """The public incident this channel created for the incident's first message."""
    return next((r["incident_id"] for r in prior if r.get("incident_id")), None)


def _receipt(incident: Mapping[str, Any], *, fallback: str | None) -> Receipt:
    receipt = {
        "incident_id": str(incident.get("id") or fallback or ""),
        "shortlink": str(incident.get("shortlink") or ""),
    }
    if not receipt["incident_id"]:
        raise DeliveryError("Statuspage answered without an incident id", reason="server")
    return receipt


def _updates(incident: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    updates = incident.get("incident_updates")
    return [u for u in updates if isinstance(u, Mapping)] if isinstance(updates, list) else []


def _says(update: Mapping[str, Any], body: str) -> bool:
    text = update.get("body", update.get("message"))
    return isinstance(text, str) and text.strip() == body


def _first_update_is(incident: Mapping[str, Any], body: str) -> bool:
    """Whether the incident's first update is our text; true when Statuspage shows no update text to compare."""
    updates = _updates(incident)
    if not updates or not any(isinstance(u.get("body", u.get("message")), str) for u in updates):
        return True
    first = min(updates, key=lambda u: str(u.get("created_at") or ""))
    return _says(first, body)


def _after(item: Mapping[str, Any], queued_at: datetime | None) -> bool:
    if queued_at is None:
        return True
    created = _time(item.get("created_at"))
    return created is None or created >= queued_at - CLOCK_SKEW


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _json_object(response: httpx.Response, what: str) -> Mapping[str, Any]:
    data = _json(response, what)
    if not isinstance(data, Mapping):
        raise DeliveryError(f"{what}: answered with something other than an incident", reason="server")
    return data


def _json_list(response: httpx.Response, what: str) -> list[Mapping[str, Any]]:
    data = _json(response, what)
    if not isinstance(data, list):
        raise DeliveryError(f"{what}: answered with something other than a list of incidents", reason="server")
    return [i for i in data if isinstance(i, Mapping)]


def _json(response: httpx.Response, what: str) -> Any:
    try:
        return response.json()
    except ValueError as e:
        raise DeliveryError(f"{what}: answered HTTP {response.status_code} without JSON", reason="server") from e
