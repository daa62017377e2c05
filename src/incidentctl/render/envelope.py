"""The versioned json/yaml envelope every command prints with ``-o json|yaml``, on success and on error.

Shape: ``{"apiVersion": "incidentctl/v1", "kind": <Kind>, "data": ...}``; errors are
``{"apiVersion": ..., "kind": "Error", "error": {"reason", "message", "hint", "where", "exitCode", "details"}}``.
Fields are only ever added within ``incidentctl/v1``, never renamed or removed.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime
from enum import Enum
from pathlib import PurePath
from typing import Any

from incidentctl.core.text import UNSAFE, has_unsafe
from incidentctl.core.times import format_rfc3339
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


def to_plain(value: Any) -> Any:
    """Reduce dataclasses, enums, paths and datetimes to JSON-ready values (recursively)."""
    if isinstance(value, Enum):  # before str: a str-based enum must still become its plain value
        return to_plain(value.value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, datetime):
        return format_rfc3339(value)
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


def dumps(doc: Any, fmt: str, *, compact: bool = False) -> str:
    """json or yaml; readable unicode, but never a raw control, bidi or zero-width character (``core.text``):
    a document printed on a terminal is as safe as a table. ``compact`` json is one line (for ``--watch``)."""
    if fmt == "json":
        text = json.dumps(doc, indent=None if compact else 2, ensure_ascii=False)
        # json escapes C0 itself; the rest of the class is escaped the same way (only strings can hold them)
        return UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n"
    import yaml  # only paid for when yaml output is asked for

    return str(yaml.dump(doc, Dumper=_safe_dumper(), sort_keys=False, allow_unicode=True, default_flow_style=False))


def _safe_dumper() -> type[Any]:
    """PyYAML's safe dumper, except that a string holding an unsafe character is written double-quoted with every
    non-ASCII character escaped (PyYAML counts bidi controls, NEL and U+2028 as printable and writes them raw)."""
    import yaml

    class SafeTextDumper(yaml.SafeDumper):
        def analyze_scalar(self, scalar: str) -> Any:
            return self._ascii_if_unsafe(scalar, super().analyze_scalar, scalar)

        def write_double_quoted(self, text: str, split: bool = True) -> None:
            self._ascii_if_unsafe(text, super().write_double_quoted, text, split)

        def _ascii_if_unsafe(self, text: str, method: Any, *args: Any) -> Any:
            if not has_unsafe(text):
                return method(*args)
            allow, self.allow_unicode = self.allow_unicode, False
            try:
                return method(*args)
            finally:
                self.allow_unicode = allow

    return SafeTextDumper
