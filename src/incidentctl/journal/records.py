"""One event per line of ``timeline.jsonl``: ``{"time", "actor", "kind", "data"}``.

A line is written with a single ``write`` of compact JSON (JSON escapes newlines inside strings, so an event
can never span two lines), which is what lets a reader tell a complete event from one torn by a crash.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from datetime import datetime, timezone
from typing import Any, TypeVar

from incidentctl.core.events import journal_data
from incidentctl.core.incident import Event, Incident, IncidentStatus, format_timestamp, parse_timestamp
from incidentctl.errors import UsageError

#: What a kind looks like (``status_changed``): a kind from a newer incidentctl is kept, but not any string.
_KIND = re.compile(r"[a-z][a-z0-9_]{0,63}")


def encode_event(event: Event) -> bytes:
    """The line for ``event``. Only a registered kind, with a payload its model takes, is written
    (:class:`~incidentctl.core.events.PayloadError` otherwise): a line nothing can read is worse than no line."""
    if not _KIND.fullmatch(event.kind):  # a reader would take the line for damage
        raise ValueError(f"{event.kind!r} is not an event kind (lower_case_with_underscores)")
    record = {
        **({"id": event.id} if event.id else {}),
        "time": format_timestamp(event.time),
        "actor": event.actor,
        "kind": event.kind,
        "data": journal_data(event.kind, event.data),
    }
    try:
        return (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: argv decodes bytes that are not UTF-8 to those
        raise UsageError(
            f"this {event.kind} event holds text that is not valid UTF-8, which the journal cannot store",
            hint="write the text again in UTF-8",
        ) from None


#: The longest line a reader takes in. An event is a few hundred bytes (evidence lives in files of its own), so
#: anything longer is damage, and is skipped without being held in memory; appends refuse to write one.
MAX_LINE_BYTES = 1 << 20

_T = TypeVar("_T")


def decode_event(raw: bytes) -> Event:
    """Parse one line; ValueError (with a short reason) if it is not a whole, well-formed event."""
    event, _ = decode_line(raw)
    return event


def decode_line(raw: bytes) -> tuple[Event, str | None]:
    """Parse one line into its event, and say what was wrong with it if it could be read only in part.

    Two kinds of damage still leave the event readable, and it is kept: zeros before it (a crash lost a write
    and the file system filled the region with NUL bytes, then the next write went straight after it), and
    bytes that are not UTF-8 inside its strings (read with replacement characters). Anything else raises
    ValueError with a short reason.
    """
    problem: str | None = None
    stripped = raw.lstrip(b"\0")
    if len(stripped) < len(raw):
        if not stripped.strip():
            raise ValueError(f"{len(raw)} NUL bytes (a region a crash left unwritten)")
        problem = f"{len(raw) - len(stripped)} NUL bytes before the event (a write lost in a crash)"
    try:
        text = stripped.decode("utf-8")
    except UnicodeDecodeError as e:
        text = stripped.decode("utf-8", errors="replace")
        problem = f"bytes that are not UTF-8 at column {e.start + 1}, read as \ufffd"
        try:
            return _decode(text), problem
        except ValueError:
            raise ValueError(f"not UTF-8 text (at column {e.start + 1})") from e
    return _decode(text), problem


def _decode(text: str) -> Event:
    try:
        record: Any = _JSON.decode(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"not valid JSON ({e.msg} at column {e.colno})") from e
    except RecursionError as e:
        raise ValueError("not an event (JSON nested too deeply)") from e
    if not isinstance(record, dict):
        raise ValueError(f"not a JSON object but {_json_type(record)}")
    time, actor, kind, data = (record.get(k) for k in ("time", "actor", "kind", "data"))
    if not isinstance(time, str):
        raise ValueError("'time' is missing" if time is None else f"'time' is {_json_type(time)}, not a string")
    try:
        when = parse_timestamp(time)  # already UTC
    except (ValueError, OverflowError) as e:
        raise ValueError(f"'time' {time[:40]!r} is not an RFC 3339 time with a time zone") from e
    if not isinstance(actor, str):
        raise ValueError("'actor' is missing" if actor is None else f"'actor' is {_json_type(actor)}, not a string")
    if not isinstance(kind, str) or not kind:
        raise ValueError("'kind' is missing" if not kind else f"'kind' is {_json_type(kind)}, not a string")
    if not _KIND.fullmatch(kind):
        raise ValueError(f"'kind' {kind[:40]!r} is not an event kind (lower_case_with_underscores)")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValueError(f"'data' is {_json_type(data)}, not an object")
    event_id = record.get("id", "")
    if not isinstance(event_id, str) or len(event_id) > MAX_EVENT_ID:
        raise ValueError(f"'id' is {_json_type(event_id)}, not an event id")
    return Event(time=when, actor=actor, kind=kind, data=data, id=event_id)


#: An event id is a UUID (36 characters); a longer one is not ours.
MAX_EVENT_ID = 64


def legacy_event_id(incident_id: str, line: int, raw: bytes) -> str:
    """The id of an event written before events had ids: derived from where it is and what it says, so every
    read (and every copy) of the same line gives the same id, and a copy run twice writes it once."""
    digest = hashlib.sha256(raw).hexdigest()
    return str(uuid.uuid5(_LEGACY_NAMESPACE, f"{incident_id}:{line}:{digest}"))


_LEGACY_NAMESPACE = uuid.UUID("6f0c3a52-2d0e-4c55-9c1e-2f5b7f1d3e11")


def _refuse_constant(name: str) -> Any:
    """NaN and Infinity are not JSON; Python reads them by default, and they would leak into ``-o json``."""
    raise ValueError(f"{name} is not a JSON value")


#: One decoder for every line: ``json.loads`` with an option builds a new one per call, a third of the cost.
_JSON = json.JSONDecoder(parse_constant=_refuse_constant)


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", int: "a number"}
    return "null" if value is None else names.get(type(value), "a number")


def decode_snapshot(raw: bytes) -> Incident:
    """Read ``incident.yaml`` back (only when the timeline lost its declaration); ValueError if it is not one."""
    import yaml

    if len(raw) > MAX_LINE_BYTES:
        raise ValueError(f"{len(raw)} bytes, more than a snapshot ever is")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        document: Any = yaml.load(raw.decode("utf-8"), Loader=loader)
    except UnicodeDecodeError as e:
        raise ValueError("not UTF-8 text") from e
    except yaml.YAMLError as e:
        raise ValueError(f"not valid YAML ({str(e).splitlines()[0]})") from e
    if not isinstance(document, dict):
        raise ValueError(f"not a mapping of the incident's fields but {_json_type(document)}")
    try:
        declared_at = _required(_time(document, "declared_at"))
        components = document.get("components") or []
        if not isinstance(components, list) or not all(isinstance(c, str) for c in components):
            raise ValueError("'components' is not a list of names")
        return Incident(
            id=_required(_str(document, "id")),
            title=_required(_str(document, "title")),
            severity=_required(_str(document, "severity")),
            status=IncidentStatus(document.get("status")),
            category=_str(document, "category", required=False),
            components=tuple(components),
            summary=_str(document, "summary", required=False),
            commander=_str(document, "commander", required=False),
            tech_lead=_str(document, "tech_lead", required=False),
            declared_by=_str(document, "declared_by", required=False) or "unknown",
            declared_at=declared_at,
            started_at=_time(document, "started_at", required=False) or declared_at,
            acknowledged_at=_time(document, "acknowledged_at", required=False),
            acknowledged_by=_str(document, "acknowledged_by", required=False),
            resolved_at=_time(document, "resolved_at", required=False),
            updated_at=_time(document, "updated_at", required=False),
            notes=_count(document, "notes"),
            events=_count(document, "events"),
            reopened=_count(document, "reopened"),
        )
    except (ValueError, OverflowError) as e:
        raise ValueError(f"not an incident ({e})") from e


def _required(value: _T | None) -> _T:
    if value is None:  # never, for a field read as required; this tells the type checker so
        raise ValueError("a field is missing")
    return value


def _str(document: dict[Any, Any], key: str, *, required: bool = True) -> str | None:
    value = document.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key!r} is not a non-empty string")
    return value


def _time(document: dict[Any, Any], key: str, *, required: bool = True) -> datetime | None:
    value = document.get(key)
    if value is None and not required:
        return None
    if isinstance(value, datetime):  # YAML reads an unquoted time stamp itself
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    if not isinstance(value, str):
        raise ValueError(f"{key!r} is not a time")
    return parse_timestamp(value)


def _count(document: dict[Any, Any], key: str) -> int:
    value = document.get(key, 0)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{key!r} is not a count")
    return value
