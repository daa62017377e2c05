"""The versioned json/yaml envelope every command prints with ``-o json|yaml``, on success and on error.

Shape: ``{"apiVersion": "incidentctl/v1", "kind": <Kind>, "data": ...}``; errors are
``{"apiVersion": ..., "kind": "Error", "error": {"reason", "message", "hint", "where", "exitCode", "details"}}``.
Fields are only ever added within ``incidentctl/v1``, never renamed or removed.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime, timezone
from enum import Enum
from pathlib import PurePath
from typing import Any

from incidentctl.errors import IncidentctlError

API_VERSION = "incidentctl/v1"


def envelope(kind: str, data: Any) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "kind": kind, "data": to_plain(data)}


def error_envelope(err: IncidentctlError) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "Error",
        "error": {
            "reason": err.reason,
            "message": err.message,
            "where": err.where,
            "hint": err.hint,
            "exitCode": int(err.exit_code),
            "details": err.details(),
        },
    }


def format_time(value: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``, as Kubernetes and most APIs write it."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def to_plain(value: Any) -> Any:
    """Reduce dataclasses, enums, paths and datetimes to JSON-ready values (recursively)."""
    if isinstance(value, Enum):  # before str: a str-based enum must still become its plain value
        return to_plain(value.value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, PurePath):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_plain(v) for v in value]
    model_dump = getattr(value, "model_dump", None)
    if callable(model_dump):
        return to_plain(model_dump(mode="json", by_alias=True))
    raise TypeError(f"cannot serialise {type(value).__name__}")


def dumps(doc: Any, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    import yaml  # only paid for when yaml output is asked for

    return str(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, default_flow_style=False))
