"""One event per line of ``timeline.jsonl``: ``{"time", "actor", "kind", "data"}``.

A line is written with a single ``write`` of compact JSON (JSON escapes newlines inside strings, so an event
can never span two lines), which is what lets a reader tell a complete event from one torn by a crash.
"""

from __future__ import annotations

import json
from datetime import timezone
from typing import Any

from incidentctl.core.incident import Event, format_timestamp, parse_timestamp


def encode_event(event: Event) -> bytes:
    record = {
        "time": format_timestamp(event.time),
        "actor": event.actor,
        "kind": event.kind,
        "data": event.data,
    }
    return (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def decode_event(raw: bytes) -> Event:
    """Parse one line; ValueError (with a short reason) if it is not a whole, well-formed event."""
    try:
        record: Any = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise ValueError("not UTF-8 text") from e
    except json.JSONDecodeError as e:
        raise ValueError(f"not valid JSON ({e.msg} at column {e.colno})") from e
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    time, actor, kind, data = (record.get(k) for k in ("time", "actor", "kind", "data"))
    if not isinstance(time, str):
        raise ValueError("'time' is missing")
    try:
        when = parse_timestamp(time)
    except ValueError as e:
        raise ValueError(f"'time' {time!r} is not an RFC 3339 time") from e
    if not isinstance(actor, str):
        raise ValueError("'actor' is missing")
    if not isinstance(kind, str) or not kind:
        raise ValueError("'kind' is missing")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValueError("'data' is not an object")
    return Event(time=when.astimezone(timezone.utc), actor=actor, kind=kind, data=data)
