"""The HTTP side every web channel shares: one POST (or PATCH), its failures as typed :class:`DeliveryError`.

Secrets in URLs and headers never reach an error: the message names the channel's host and the status only.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import httpx

from incidentctl.adapters.notify.base import DeliveryError
from incidentctl.core.text import one_line


def request_json(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    json: Any = None,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float,
    what: str,
) -> httpx.Response:
    """Send one request; a 2xx response is returned, anything else raised as a :class:`DeliveryError`.
    ``what`` names the call in errors ("Slack chat.update", "the webhook")."""
    try:
        response = client.request(method, url, json=json, params=params, headers=dict(headers or {}), timeout=timeout)
    except httpx.TimeoutException as e:
        raise DeliveryError(f"{what}: no answer within {timeout:g}s", reason="timeout") from e
    except httpx.TransportError as e:
        raise DeliveryError(f"{what}: cannot connect ({type(e).__name__})", reason="connection") from e
    check_status(response, what)
    return response


def check_status(response: httpx.Response, what: str) -> None:
    """Raise for a response that is not a 2xx: 429/420 and 5xx may pass, other 4xx will not."""
    status = response.status_code
    if 200 <= status < 300:
        return
    detail = _detail(response)
    if status in (420, 429):
        raise DeliveryError(
            f"{what}: rate limited (HTTP {status}){detail}",
            reason="rate_limited",
            status=status,
            retry_after=retry_after(response.headers.get("Retry-After")),
        )
    if status >= 500:
        raise DeliveryError(f"{what}: server error (HTTP {status}){detail}", reason="server", status=status)
    raise DeliveryError(f"{what}: refused (HTTP {status}){detail}", reason="client", status=status)


def retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header: a number of seconds or an HTTP date (RFC 9110); None when absent
    or unreadable."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(min(int(text), 86400))
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    current = now if now is not None else time.time()
    return max(0.0, when.timestamp() - current) if when > datetime.fromtimestamp(0, timezone.utc) else None


def _detail(response: httpx.Response) -> str:
    """A short, one-line excerpt of the body (Slack's ``invalid_payload``, a JSON error)."""
    try:
        text = response.text
    except (UnicodeDecodeError, httpx.ResponseNotRead):
        return ""
    text = one_line(text.strip())[:160]
    return f": {text}" if text else ""
