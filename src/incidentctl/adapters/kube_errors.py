"""The Kubernetes API's answers as errors: one class per status, the parsed ``Status`` body, safe headers.

Each error carries the HTTP status, the response headers (credentials redacted) and the API's parsed ``Status``
body, so that a caller decides on data, never on words. No class here sets an exit code: each takes it from the
generic class in :mod:`incidentctl.errors` it derives from, the one place they live.

====================  ======  =======================================================
class                 status  also an instance of
====================  ======  =======================================================
KubeUnauthorized      401     KubeForbidden, UnauthorizedError
KubeForbidden         403     UnauthorizedError
KubeNotFound          404     NotFoundError
KubeConflict          409     KubeApiError, RejectedError
KubeInvalid           422     KubeApiError, RejectedError
KubeTooManyRequests   429     KubeUnreachable
KubeServerError       5xx     KubeUnreachable
KubeTimeout           -       KubeUnreachable (no connection or no answer in time)
KubeExecTimeout       -       KubeTimeout (an exec'd command that did not finish)
KubeUnreachable       -       UnreachableError (refused, host name, TLS, reset)
KubeApiError          other   KubeError (a 400, 405, 410: most likely a bug here)
====================  ======  =======================================================
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from enum import Enum
from types import MappingProxyType
from typing import Any

from pydantic import ConfigDict, ValidationError

from incidentctl.core.wire import WireModel
from incidentctl.errors import IncidentctlError, NotFoundError, RejectedError, UnauthorizedError, UnreachableError

#: Response headers whose values never reach a message, a log or the error's ``headers``.
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
_SECRET_HEADER_WORDS = ("token", "secret", "api-key", "apikey", "password")
REDACTED = "<redacted>"


# --- the API's Status body -------------------------------------------------------------------------------------


class _StatusPart(WireModel):
    """Read strictly (a string where the API sends a number is not a Status) but tolerant of fields added later."""

    model_config = ConfigDict(extra="ignore", strict=True)


class StatusCause(_StatusPart):
    """One thing the server refused: ``field`` is the path (``spec.replicas``), ``reason`` a machine word
    (``FieldValueInvalid``), ``message`` the why, for people."""

    reason: str = ""
    message: str = ""
    field: str = ""


class StatusDetails(_StatusPart):
    name: str = ""
    group: str = ""
    kind: str = ""
    uid: str = ""
    causes: tuple[StatusCause, ...] = ()
    retry_after_seconds: int | None = None


class ApiStatus(_StatusPart):
    """The ``meta/v1`` ``Status`` an API server answers every error with."""

    kind: str = "Status"
    api_version: str = ""
    status: str = ""
    message: str = ""
    reason: str = ""
    code: int = 0
    details: StatusDetails | None = None


def parse_status(body: str | bytes | None) -> ApiStatus | None:
    """The Status in an error body, or None when the body is something else (a proxy's HTML page, a stand-in's
    JSON): then the HTTP status line is all that is known."""
    if not body:
        return None
    try:
        status = ApiStatus.model_validate_json(body)
    except (ValidationError, ValueError):
        return None
    return status if status.kind == "Status" else None


# --- errors ----------------------------------------------------------------------------------------------------


class Transport(Enum):
    """Why there was no HTTP answer at all; ``sent`` says whether the request may have reached the server."""

    REFUSED = "refused"
    NO_ROUTE = "no-route"  # no connection for another reason (network unreachable, a firewall's reject)
    DNS = "dns"
    TLS = "tls"
    CONNECT_TIMEOUT = "connect-timeout"
    READ_TIMEOUT = "read-timeout"
    RESET = "reset"
    OTHER = "other"

    @property
    def sent(self) -> bool:
        return self in (Transport.READ_TIMEOUT, Transport.RESET, Transport.OTHER)


class KubeError(IncidentctlError):
    """Base of the errors a Kubernetes call ends in.

    ``status`` is the HTTP status when there was an answer, ``headers`` its response headers (lower-case names,
    credentials redacted), ``api_status`` the parsed Status body, ``retry_after`` the seconds the server asked to
    wait (uncapped; None when it named none or named one that cannot be read), ``attempts`` how many requests the
    call sent, ``transport`` why there was no answer.
    """

    status: int | None = None
    headers: Mapping[str, str] = MappingProxyType({})
    api_status: ApiStatus | None = None
    retry_after: float | None = None
    attempts: int = 1
    transport: Transport | None = None

    @property
    def causes(self) -> tuple[StatusCause, ...]:
        details = self.api_status.details if self.api_status is not None else None
        return details.causes if details is not None else ()

    def details(self) -> builtins.list[str]:
        return [f"{c.field}: {c.message}" if c.field else c.message for c in self.causes]

    def shown_details(self) -> builtins.list[str]:
        """The server's message already names what it refused; a person gets that one line."""
        return []


class KubeUnreachable(UnreachableError, KubeError):
    """No answer: the connection was refused, reset or timed out, the name did not resolve, TLS failed; and the
    answers that mean the API is not serving now (429, 5xx, below)."""


class KubeTimeout(KubeUnreachable):
    """No connection (``transport`` CONNECT_TIMEOUT) or no answer (READ_TIMEOUT) within the request timeout."""


class KubeExecTimeout(KubeTimeout):
    """An exec whose command started but did not finish within its timeout: the pod's process hangs, not the
    API (a datastore check that hangs is a datastore that is down)."""


class KubeTooManyRequests(KubeUnreachable):
    """HTTP 429: the API's flow control turned the request away; ``retry_after`` says when to come back."""


class KubeServerError(KubeUnreachable):
    """HTTP 5xx: the API server (or a proxy in front of it) failed; a write may or may not have been applied."""


class KubeForbidden(UnauthorizedError, KubeError):
    """HTTP 403: the credentials are fine but RBAC does not allow this verb on this resource."""

    reason = "Forbidden"


class KubeUnauthorized(KubeForbidden):
    """HTTP 401: the credentials themselves were refused (missing, expired). A KubeForbidden as well, so that
    code handling "credentials refused" catches both, as it always has."""

    reason = "Unauthorized"


class KubeNotFound(NotFoundError, KubeError):
    """HTTP 404: the object (or the namespace, or the resource type) does not exist."""


class KubeApiError(KubeError):
    """Any other answer the API gave (a 400, 405, 410, a body that is not the API's)."""


class KubeConflict(RejectedError, KubeApiError):
    """HTTP 409: ``Conflict`` (the object changed since it was read: read it again and retry, see
    ``KubeClient.retry_on_conflict``) or ``AlreadyExists`` (``api_status.reason`` tells which)."""

    reason = "Conflict"


class KubeInvalid(RejectedError, KubeApiError):
    """HTTP 422: the server refused the object; ``causes`` say which field (``spec.replicas``) and why."""

    reason = "Invalid"


#: The one mapping from an HTTP status to its class (5xx not listed here are server errors too).
_BY_STATUS: Mapping[int, type[KubeError]] = MappingProxyType(
    {
        401: KubeUnauthorized,
        403: KubeForbidden,
        404: KubeNotFound,
        409: KubeConflict,
        422: KubeInvalid,
        429: KubeTooManyRequests,
    }
)


def error_class(status: int) -> type[KubeError]:
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return KubeServerError if 500 <= status <= 599 else KubeApiError


def redact_headers(raw: Any) -> Mapping[str, str]:
    """Response headers with lower-case names and every credential replaced, safe to keep, log and show."""
    items = raw.items() if hasattr(raw, "items") else ()
    out: dict[str, str] = {}
    for key, value in items:
        name = str(key).lower()
        secret = name in _SECRET_HEADERS or any(word in name for word in _SECRET_HEADER_WORDS)
        out[name] = REDACTED if secret else str(value)
    return MappingProxyType(out)
