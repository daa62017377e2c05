"""API errors as the Kubernetes API server words them; the server turns each into a ``Status`` body."""

from __future__ import annotations

from typing import Any

from incidentctl.sandbox.resources import ResourceType

_REASONS = {
    400: "BadRequest",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Expired",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


class ApiError(Exception):
    def __init__(
        self,
        code: int,
        message: str,
        *,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason or _REASONS.get(code, "Unknown")
        self.details = details
        self.headers = headers or {}

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details is not None:
            body["details"] = self.details
        return body


def _details(rt: ResourceType, name: str) -> dict[str, Any]:
    details: dict[str, Any] = {"name": name, "kind": rt.plural}
    if rt.group:
        details["group"] = rt.group
    return details


def not_found(rt: ResourceType, name: str) -> ApiError:
    return ApiError(404, f'{rt.qualified} "{name}" not found', details=_details(rt, name))


def already_exists(rt: ResourceType, name: str) -> ApiError:
    return ApiError(409, f'{rt.qualified} "{name}" already exists', reason="AlreadyExists", details=_details(rt, name))


def conflict(rt: ResourceType, name: str) -> ApiError:
    return ApiError(
        409,
        f'Operation cannot be fulfilled on {rt.qualified} "{name}": the object has been '
        "modified; please apply your changes to the latest version and try again",
        details=_details(rt, name),
    )


def invalid(rt: ResourceType, name: str, field: str, message: str, reason: str = "FieldValueInvalid") -> ApiError:
    details = _details(rt, name)
    details["kind"] = rt.kind
    details["causes"] = [{"reason": reason, "message": message, "field": field}]
    return ApiError(422, f'{rt.kind} "{name}" is invalid: {field}: {message}', details=details)


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def forbidden(user: str, verb: str, rt: ResourceType, namespace: str | None, name: str = "") -> ApiError:
    where = f' in the namespace "{namespace}"' if namespace else " at the cluster scope"
    message = (
        f'{rt.qualified} is forbidden: User "{user}" cannot {verb} resource "{rt.plural}" in API group '
        f'"{rt.group}"{where}'
    )
    if name:
        message = (
            f'{rt.qualified} "{name}" is forbidden: User "{user}" cannot {verb} resource "{rt.plural}" '
            f'in API group "{rt.group}"{where}'
        )
    return ApiError(403, message, details=_details(rt, name))
