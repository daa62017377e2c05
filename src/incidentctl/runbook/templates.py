"""The runbook's message templates: where one is found, and the one context every template is rendered with.

A template named in the runbook is found beside runbook.yaml first, then among the bundled ones. The fallback lets
a generated runbook (the sandbox's, or one made with ``runbook init`` without copying templates) use incidentctl's
templates while a team's own copy always wins.

:func:`template_context` is the only place a template's names come from: every phase that sends or writes a
message (communicate, escalate, postmortem, report) builds its context here and renders it with
:func:`incidentctl.adapters.templates.render_template`, strictly, so a name a template uses and the context lacks is
an error instead of a blank. The bundled templates are rendered from it in a test. User text (titles, names,
notes) is made safe here (``core.text``): a title with a newline must not forge a second header in an email, and
an escape sequence must not reach the terminal or the chat client that shows the message.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from incidentctl.bundled import bundled_templates_dir
from incidentctl.core.events import Milestone, describe, is_internal, milestones
from incidentctl.core.incident import Event, Incident
from incidentctl.core.situation import impact_lines, progress_lines, service_state
from incidentctl.core.text import for_terminal, one_line
from incidentctl.runbook.postmortem_view import postmortem_view

if TYPE_CHECKING:
    from incidentctl.runbook.model import Runbook


def resolve_template(relative: str, base_dir: Path) -> Path | None:
    """The template's file, or None when it is missing or cannot be read (a folder, no permission).

    A team's own copy that is there but unreadable is never silently replaced by the bundled one.
    """
    candidate = Path(relative).expanduser()
    if candidate.is_absolute():
        return candidate if _present(candidate) == "readable" else None
    local = base_dir / candidate
    found = _present(local)
    if found != "missing":
        return local if found == "readable" else None
    bundled = bundled_templates_dir() / candidate.name
    return bundled if _present(bundled) == "readable" else None


def _present(path: Path) -> Literal["readable", "unreadable", "missing"]:
    """Whether a template file is there for us to read; a folder we may not search is not a PermissionError."""
    try:
        if path.is_file():
            return "readable" if os.access(path, os.R_OK) else "unreadable"
        return "unreadable" if path.exists() else "missing"
    except OSError:
        return "unreadable"


# --- what a template sees -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IncidentView:
    """The incident as a template sees it: plain values (the status as its word), user text made safe."""

    id: str
    title: str
    severity: str
    status: str
    category: str | None
    components: tuple[str, ...]
    summary: str | None
    commander: str | None
    tech_lead: str | None
    declared_by: str
    declared_at: datetime
    started_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None


@dataclass(frozen=True)
class SeverityView:
    id: str
    name: str
    definition: str


@dataclass(frozen=True)
class TimelineLine:
    """One event of the post-mortem's timeline, in the words ``incident timeline`` uses."""

    time: datetime
    actor: str
    kind: str
    text: str


@dataclass(frozen=True)
class ActionItem:
    """A post-mortem action item (runbook: "Action item 1 (Owner: [Name], Due: [Date])")."""

    text: str
    owner: str | None = None
    due: str | None = None
    done: bool = False


def template_context(
    rb: Runbook,
    incident: Incident,
    timeline: Sequence[Event],
    *,
    now: datetime,
    impact: Sequence[str] | None = None,
    update: str | None = None,
    progress: Sequence[str] | None = None,
    resolution: str | None = None,
    summary: Sequence[str] | None = None,
    root_cause: str | None = None,
    impact_summary: str | None = None,
    lessons: str | None = None,
    customer_impact: str | None = None,
    next_steps: str | None = None,
    action_items: Sequence[ActionItem] | None = None,
    eta: str | None = None,
    escalation: Any = None,
    postmortem: Any = None,
) -> dict[str, Any]:
    """Every name a template may use, for one incident; what the caller does not know yet is None (the templates
    say "being assessed" for it). Times are datetimes and durations timedeltas: the templates format them with
    the ``utc``, ``date``, ``hhmm`` and ``duration`` filters.

    The impact and the progress a caller does not give are the journal's (:mod:`incidentctl.core.situation`):
    what the latest detect/triage look saw, and the mitigations, status changes and notes of the timeline, so a
    message sent with no words of the responder's still says what is known."""
    level = rb.severities.get(incident.severity)
    names = {level_id: severity.name for level_id, severity in rb.severities.items()}
    interval = level.update_interval if level else timedelta(minutes=15)
    reached = milestones(timeline)
    # the service was back when the mitigation was verified healthy (else at the resolution); not yet: None
    back = reached.get(Milestone.MITIGATED) or incident.resolved_at
    return {
        "incident": _view(incident),
        "severity": SeverityView(
            incident.severity,
            level.name if level else "unknown severity",
            level.definition if level else "not in the runbook",
        ),
        "runbook": rb,
        "now": now,
        #: how soon the next update is due: the severity's update interval (runbook: "Next Update: 15 minutes")
        "next_update": interval,
        #: when the next update is due if this message goes out now; None once resolved (no more updates)
        "next_update_at": now + interval if incident.status.is_open else None,
        "review_within": next(iter(rb.postmortem.stages.values())).within,
        "duration": incident.resolved_at - incident.started_at if incident.resolved_at else None,
        "metrics": _metrics(rb, incident, timeline),
        "timeline": [
            TimelineLine(e.time, one_line(e.actor), e.kind, one_line(describe(e, names)))
            for e in timeline
            if not is_internal(e.kind)
        ],
        #: from the impact's start until the service was back (mitigated, else resolved); None while it lasts
        "downtime": back - incident.started_at if back is not None and back >= incident.started_at else None,
        "impact": _lines(impact) or _lines(impact_lines(timeline)),
        #: down or degraded, as the latest look saw it; for public text, which names no part of the system
        "service_state": service_state(timeline),
        "update": _paragraph(update),
        "progress": _lines(progress) or _lines(progress_lines(timeline, names)),
        "eta": _paragraph(eta),
        "resolution": _paragraph(resolution),
        "summary": _lines(summary),
        "root_cause": _paragraph(root_cause),
        "impact_summary": _paragraph(impact_summary),
        "lessons": _paragraph(lessons),
        "customer_impact": _paragraph(customer_impact),
        "next_steps": _paragraph(next_steps),
        "action_items": [
            ActionItem(one_line(a.text), _short(a.owner), _short(a.due), a.done) for a in action_items or []
        ]
        or None,
        #: an escalation notice's level, role and reason (``escalate`` gives it, already made safe)
        "escalation": escalation,
        #: the post-mortem's sections from the journal (``postmortem draft`` gives it with investigate's findings)
        "postmortem": postmortem
        if postmortem is not None
        else _Lazy(lambda: postmortem_view(rb, incident, timeline, now=now)),
    }


class _Lazy:
    """A value built when a template first reads it: every message's context names the post-mortem's sections,
    and only the post-mortem template reads them."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build
        self._value: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._value is None:
            self._value = self._build()
        return getattr(self._value, name)


def _view(incident: Incident) -> IncidentView:
    return IncidentView(
        id=incident.id,
        title=one_line(incident.title),
        severity=one_line(incident.severity),
        status=incident.status.value,
        category=_short(incident.category),
        components=tuple(one_line(c) for c in incident.components),
        summary=_paragraph(incident.summary),
        commander=_short(incident.commander),
        tech_lead=_short(incident.tech_lead),
        declared_by=one_line(incident.declared_by),
        declared_at=incident.declared_at,
        started_at=incident.started_at,
        acknowledged_at=incident.acknowledged_at,
        acknowledged_by=_short(incident.acknowledged_by),
        resolved_at=incident.resolved_at,
    )


def _metrics(rb: Runbook, incident: Incident, timeline: Sequence[Event]) -> dict[str, timedelta]:
    """The runbook's response metrics this incident has reached both ends of (MTTA once acknowledged, ...)."""
    points = {"started": incident.started_at, **{m.value: at for m, at in milestones(timeline).items()}}
    found = {}
    for metric in rb.metrics.response:
        start, end = points.get(metric.start), points.get(metric.end)
        if start is not None and end is not None and end >= start:
            found[metric.name] = end - start
    return found


def _short(text: str | None) -> str | None:
    """A name or a label: one line; None when there is nothing to show."""
    return one_line(text) or None if text is not None else None


def _paragraph(text: str | None) -> str | None:
    """Free text of its own lines (a summary, a root cause): line breaks kept, control characters made visible."""
    return for_terminal(text).strip() or None if text is not None else None


def _lines(lines: Sequence[str] | None) -> list[str] | None:
    """A list the template bullets: one line each."""
    return [one_line(line) for line in lines] if lines else None
