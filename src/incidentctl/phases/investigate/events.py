"""investigate events: the namespace's Warning events, grouped by reason and object, newest first.

Replaces ``kubectl get events --field-selector type=Warning --sort-by=.lastTimestamp``, which prints one row per
event object (a crash loop is dozens of rows, and events written by the new API sort as if they had no time).
Both event shapes are read (:mod:`incidentctl.core.warning_events`); ``--since`` keeps what was last seen within
the window.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import IO, Any

from incidentctl.core.times import format_duration, format_rfc3339
from incidentctl.core.warning_events import EventGroup, event_fact, warning_groups
from incidentctl.errors import IncidentctlError
from incidentctl.exitcodes import ExitCode
from incidentctl.phases.checks import missing_namespace
from incidentctl.phases.context import PhaseContext
from incidentctl.phases.investigate.base import Evidence, Finding, Rank
from incidentctl.phases.investigate.saving import EvidenceRequest, Kept, check_incident, keep_view

#: How many groups the summary screen gets; the view's own table and JSON have them all.
SUMMARY_GROUPS = 5


VIEW = "events"


@dataclass(frozen=True)
class EventsRequest:
    #: Events last seen within this window.
    window: timedelta = timedelta(hours=1)
    #: Where to keep what was looked at (the umbrella passes NO_SAVE: it keeps every view's in one folder).
    evidence: EvidenceRequest = field(default_factory=EvidenceRequest)


@dataclass(frozen=True)
class EventsResult:
    """What the events view saw. Implements :class:`~incidentctl.phases.investigate.base.Section`."""

    namespace: str
    window: timedelta
    since: datetime
    groups: tuple[EventGroup, ...] = ()
    #: The events could not be read (refused, the API unreachable).
    cluster_error: IncidentctlError | None = None
    #: The Warning events within the window as the API returned them, already redacted.
    raw: list[Any] = field(default_factory=list)
    #: Where the evidence went (set by the run function; nothing when the umbrella ran the view).
    kept: Kept = field(default_factory=Kept)

    @property
    def exit_code(self) -> int:
        if self.cluster_error is not None:
            return int(self.cluster_error.exit_code)
        return int(ExitCode.PROBLEMS_FOUND if self.groups else ExitCode.OK)

    def findings(self) -> Sequence[Finding]:
        if self.cluster_error is not None:
            return [Finding(Rank.EVENTS, f"events not readable: {self.cluster_error}")]
        if not self.groups:
            text = f"no Warning events in namespace {self.namespace} in the last {format_duration(self.window)}"
            return [Finding(Rank.EVENTS, text, problem=False)]
        out = [
            Finding(
                Rank.EVENTS,
                f"{g.reason} {g.object} x{g.count}, last {_when(g.last_seen)}: {g.message}",
            )
            for g in self.groups[:SUMMARY_GROUPS]
        ]
        if len(self.groups) > SUMMARY_GROUPS:
            out.append(Finding(Rank.EVENTS, f"{len(self.groups) - SUMMARY_GROUPS} more kinds of Warning event"))
        return out

    def evidence(self) -> Iterable[Evidence]:
        if self.cluster_error is None:
            yield Evidence("events/warnings.json", self._write)

    def _write(self, out: IO[bytes]) -> None:
        out.write(json.dumps(self.raw, indent=2, sort_keys=True).encode())
        out.write(b"\n")


def _when(value: datetime | None) -> str:
    return format_rfc3339(value) if value is not None else "at an unknown time"


def run_events(ctx: PhaseContext, request: EventsRequest) -> EventsResult:
    """The Warning events grouped; the raw events kept in the open incident (nothing when they could not
    be read)."""
    check_incident(ctx, request.evidence)
    result = _run_events(ctx, request)
    if result.cluster_error is not None:
        return result
    return replace(result, kept=keep_view(ctx, request.evidence, VIEW, result))


def _run_events(ctx: PhaseContext, request: EventsRequest) -> EventsResult:
    from incidentctl.adapters.kube import KubeError

    namespace = ctx.settings.namespace.value
    since = ctx.clock() - request.window
    try:
        client = ctx.adapters.kube()
        try:
            events = client.list("events", namespace)
            missing = missing_namespace(client, namespace) if not events else None
        finally:
            client.close()
    except (KubeError, IncidentctlError) as e:
        return EventsResult(namespace, request.window, since, cluster_error=e)
    if missing is not None:
        return EventsResult(namespace, request.window, since, cluster_error=missing)
    groups = warning_groups(events, since=since)
    kept = [
        e
        for e in events
        if (fact := event_fact(e)).type == "Warning" and (fact.last_seen is None or fact.last_seen >= since)
    ]
    return EventsResult(namespace, request.window, since, tuple(groups), raw=ctx.secrets.redact_data(kept))
