"""One request to a monitoring service's HTTP API (Prometheus, Alertmanager), with the failures every such call
shares turned into the project's errors.

No answer in time and no connection are ``UnreachableError`` (exit 4), refused credentials ``UnauthorizedError``
(exit 4), each naming the service, its URL and the runbook key to check. What an answer means beyond that (a 404,
an error body) differs per API, so each client judges the rest itself.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from incidentctl.adapters.http_probe import describe_transport_error, format_limit, status_phrase
from incidentctl.adapters.secrets import Secrets, SecretSource
from incidentctl.core.urls import redact_url
from incidentctl.errors import UnauthorizedError, UnreachableError


def send(
    http: httpx.Client,
    method: str,
    base_url: str,
    path: str,
    *,
    service: str,
    runbook_key: str,
    token: SecretSource | None,
    secrets: Secrets,
    timeout: timedelta,
    **request: Any,
) -> tuple[httpx.Response, str]:
    """Send the request and return the response with its status line (``503 Service Unavailable``).

    ``runbook_key`` is where the service is configured (``observability.prometheus``): the hints point there. The
    token, if the runbook names one, is resolved here, at the last moment, and only sent as a bearer header.
    """
    headers = {"Authorization": f"Bearer {secrets.resolve(token)}"} if token is not None else {}
    where = f"{service} at {redact_url(base_url)}"  # the request keeps the URL whole; messages never show a secret
    try:
        response = http.request(method, base_url + path, headers=headers, timeout=timeout.total_seconds(), **request)
    except httpx.TimeoutException as e:
        raise UnreachableError(f"{where} did not answer within {format_limit(timeout)}") from e
    except httpx.TransportError as e:
        raise UnreachableError(
            f"cannot reach {where}: {describe_transport_error(e, base_url + path)}",
            hint=f"check {runbook_key}.url in the runbook and that {service} is running",
        ) from e
    status = status_line(response)
    if response.status_code in (401, 403):
        raise UnauthorizedError(f"{where} refused the credentials ({status})", hint=f"check {runbook_key}.token")
    return response, status


def status_line(response: httpx.Response) -> str:
    """``503 Service Unavailable``, with the standard phrase when the server sent none (HTTP/2 sends none)."""
    return f"{response.status_code} {response.reason_phrase or status_phrase(response.status_code)}".strip()
