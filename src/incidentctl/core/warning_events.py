"""Warning events grouped the way a responder reads ``kubectl get events``: one line per reason and object, with
how often and when last.

Events come in two shapes, and a cluster holds both: the core/v1 ``Event`` written by the old recorders (kubelet:
``count``, ``firstTimestamp``, ``lastTimestamp``) and the events.k8s.io/v1 one written by the new (kube-scheduler,
controllers: ``eventTime`` and ``series.count``/``series.lastObservedTime``, with ``count`` and ``lastTimestamp``
empty). Read through events.k8s.io/v1 the same event says ``regarding``, ``note`` and ``deprecatedCount``. Every
spelling is read here, so an event is never dropped for its shape nor counted as one occurrence when it has many.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from incidentctl.core.times import parse_rfc3339_or_none

JSON = Mapping[str, Any]


@dataclass(frozen=True)
class EventFact:
    """One event object, whatever its shape."""

    type: str
    reason: str
    kind: str
    name: str
    message: str
    count: int
    first_seen: datetime | None
    last_seen: datetime | None
    source: str


@dataclass(frozen=True)
class EventGroup:
    """Every event of one reason about one object: ``BackOff`` on ``Pod/synthesis-7d9f-abcde``."""

    reason: str
    kind: str
    name: str
    type: str
    count: int
    first_seen: datetime | None
    last_seen: datetime | None
    #: The newest event's message.
    message: str
    source: str

    @property
    def object(self) -> str:
        return f"{self.kind}/{self.name}"


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def event_fact(event: JSON) -> EventFact:
    """An event in either shape (core/v1 or events.k8s.io/v1, read through either API)."""
    meta = event.get("metadata") or {}
    involved = event.get("involvedObject") or event.get("regarding") or {}
    series = event.get("series") or {}
    source = event.get("source") or {}
    count = _count(series.get("count")) or _count(event.get("count")) or _count(event.get("deprecatedCount")) or 1
    first = (
        parse_rfc3339_or_none(event.get("firstTimestamp"))
        or parse_rfc3339_or_none(event.get("deprecatedFirstTimestamp"))
        or parse_rfc3339_or_none(event.get("eventTime"))
        or parse_rfc3339_or_none(meta.get("creationTimestamp"))
    )
    last = (
        parse_rfc3339_or_none(series.get("lastObservedTime"))
        or parse_rfc3339_or_none(event.get("lastTimestamp"))
        or parse_rfc3339_or_none(event.get("deprecatedLastTimestamp"))
        or parse_rfc3339_or_none(event.get("eventTime"))
        or first
    )
    return EventFact(
        type=str(event.get("type") or "Normal"),
        reason=str(event.get("reason") or ""),
        kind=str(involved.get("kind") or ""),
        name=str(involved.get("name") or ""),
        message=str(event.get("message") or event.get("note") or ""),
        count=count,
        first_seen=first,
        last_seen=last,
        source=str(
            source.get("component") or event.get("reportingComponent") or event.get("reportingController") or ""
        ),
    )


def warning_groups(events: Iterable[JSON], *, since: datetime | None = None) -> list[EventGroup]:
    """Warning events last seen at or after ``since``, grouped by reason and object, newest first."""
    groups: dict[tuple[str, str, str], list[EventFact]] = {}
    for event in events:
        fact = event_fact(event)
        if fact.type != "Warning":
            continue
        if since is not None and fact.last_seen is not None and fact.last_seen < since:
            continue
        groups.setdefault((fact.reason, fact.kind, fact.name), []).append(fact)
    out = []
    for (reason, kind, name), facts in groups.items():
        newest = max(facts, key=_key)
        firsts = [f.first_seen for f in facts if f.first_seen is not None]
        out.append(
            EventGroup(
                reason=reason,
                kind=kind,
                name=name,
                type="Warning",
                count=sum(f.count for f in facts),
                first_seen=min(firsts) if firsts else None,
                last_seen=newest.last_seen,
                message=newest.message,
                source=newest.source,
            )
        )
    out.sort(key=lambda g: (_stamp(g.last_seen), g.count), reverse=True)
    return out


def _key(fact: EventFact) -> float:
    return _stamp(fact.last_seen)


def _stamp(when: datetime | None) -> float:
    """An event without any time sorts last (oldest), never first."""
    return when.timestamp() if when is not None else float("-inf")
