"""The runbook's review stages (``postmortem.stages``: immediate review within 24 h, detailed analysis within
72 h, action items within a week) as deadlines read from the journal: ``postmortem status`` and ``postmortem
complete``; the meeting (``postmortem schedule``) is :mod:`.meeting`.

A stage's deadline counts from the incident's resolution (``resolved_at + within``), the latest one for a reopened
incident, since the review is of the whole outage; an open incident has no deadline yet. A severity outside
``postmortem.required_for`` needs no post-mortem and is left out of the overview. A stage is done when the
journal has its ``review_completed`` event; nothing else (a document, a meeting) counts, so the status never
says "done" on evidence a person did not record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from incidentctl.core import postmortem_input as inputs
from incidentctl.core.events import EventKind, ReviewCompletedPayload, to_journal
from incidentctl.core.postmortem import action_items, completed_stages, review_due
from incidentctl.core.times import parse_rfc3339_or_none
from incidentctl.errors import UsageError
from incidentctl.exitcodes import ExitCode
from incidentctl.phases.postmortem.meeting import ScheduleRequest, schedule

if TYPE_CHECKING:
    from incidentctl.core.incident import Event, Incident
    from incidentctl.phases.context import PhaseContext
    from incidentctl.runbook.model import Runbook

#: A stage's state: done; due (its deadline is ahead); overdue (past it); not-yet (the incident is still open);
#: not-required (the severity needs no post-mortem: a team may still complete stages, but none is ever late).
DONE, DUE, OVERDUE, NOT_YET, NOT_REQUIRED = "done", "due", "overdue", "not-yet", "not-required"


# --- requests ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusRequest:
    #: One incident; None: every incident whose post-mortem is required and not complete.
    incident: str | None = None
    #: With no incident named: complete post-mortems too.
    include_complete: bool = False


@dataclass(frozen=True)
class CompleteRequest:
    incident: str
    stage: str
    note: str | None = None


# --- results ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StageView:
    id: str
    description: str
    within: timedelta
    #: What completing it means: the runbook's steps.
    steps: list[str]
    state: str
    #: resolved_at + within; None while the incident is open.
    due_at: datetime | None
    done_at: datetime | None = None
    done_by: str | None = None
    #: Done after its deadline.
    late: bool = False


@dataclass(frozen=True)
class IncidentReview:
    incident_id: str
    title: str
    severity: str
    status: str
    resolved_at: datetime | None
    #: The severity is in ``postmortem.required_for``.
    required: bool
    stages: list[StageView]
    #: Where ``postmortem draft`` last wrote the document; None: not drafted.
    draft: str | None
    #: The meeting's time, as last scheduled; None: not scheduled.
    meeting_at: datetime | None
    action_items: int
    #: Open action items without an owner or a due date, by ref.
    unowned: list[str]
    undated: list[str]
    #: What is missing, one line each, for a person.
    hints: list[str]

    @property
    def complete(self) -> bool:
        return bool(self.stages) and all(s.state == DONE for s in self.stages)

    @property
    def overdue(self) -> bool:
        return any(s.state == OVERDUE for s in self.stages)


@dataclass(frozen=True)
class StatusResult:
    now: datetime
    incidents: list[IncidentReview]

    @property
    def exit_code(self) -> ExitCode:
        """3 when a stage is overdue, so a cron job can nag; 0 otherwise (due, done or not yet)."""
        return ExitCode.PROBLEMS_FOUND if any(i.overdue for i in self.incidents) else ExitCode.OK


@dataclass(frozen=True)
class CompleteResult:
    incident_id: str
    stage: str
    #: False: the stage had been completed already; nothing new was recorded.
    recorded: bool
    completed_at: datetime
    completed_by: str
    note: str | None
    review: IncidentReview
    #: When the review was read (the stages' states are as of then).
    now: datetime
    exit_code: ExitCode = ExitCode.OK


# --- the use cases ----------------------------------------------------------------------------------------


def status(ctx: PhaseContext, request: StatusRequest) -> StatusResult:
    from incidentctl.core.incident import normalize_incident_id

    journal = ctx.journal()
    now = ctx.clock()
    if request.incident is not None:
        incident = journal.get(normalize_incident_id(request.incident))
        chosen = [review(ctx.runbook, incident, journal.timeline(incident.id), now)]
    else:
        chosen = []
        for incident in journal.incidents():
            if not is_required(ctx.runbook, incident):
                continue
            found = review(ctx.runbook, incident, journal.timeline(incident.id), now)
            if request.include_complete or not found.complete:
                chosen.append(found)
    chosen.sort(key=_urgency)
    return StatusResult(now, chosen)


def complete(ctx: PhaseContext, request: CompleteRequest) -> CompleteResult:
    from incidentctl.core.incident import normalize_incident_id

    rb = ctx.runbook
    stage = inputs.stage_id(rb, request.stage)
    note = inputs.optional_text(request.note, "--note")
    journal = ctx.journal()
    already: list[tuple[datetime, str, str | None]] = []

    def decide(incident: Incident, timeline: Sequence[Event]) -> Mapping[str, Any] | None:
        if incident.is_open:
            raise UsageError(
                f"{incident.id} is still {incident.status.value}; its review stages start when it is resolved",
                hint=f"resolve it first: incidentctl incident status {incident.id} resolved",
            )
        for event in timeline:
            if event.kind == EventKind.REVIEW_COMPLETED and event.data.get("stage") == stage:
                already.append((event.time, event.actor, event.data.get("note")))
                return None
        return to_journal(
            ReviewCompletedPayload(stage=stage, note=note) if note else ReviewCompletedPayload(stage=stage)
        )

    result = journal.append_if_timeline(normalize_incident_id(request.incident), EventKind.REVIEW_COMPLETED, decide)
    incident = result.incident
    now = ctx.clock()
    seen = review(rb, incident, journal.timeline(incident.id), now)
    if result.event is not None:
        return CompleteResult(incident.id, stage, True, result.event.time, result.event.actor, note, seen, now)
    at, by, earlier_note = already[0]
    return CompleteResult(incident.id, stage, False, at, by, earlier_note, seen, now)


#: request type -> its use case (see :mod:`incidentctl.phases.postmortem.run`); the meeting is :mod:`.meeting`
HANDLERS: dict[type[Any], Callable[[Any, Any], Any]] = {
    StatusRequest: status,
    CompleteRequest: complete,
    ScheduleRequest: schedule,
}


# --- reading the journal ------------------------------------------------------------------------------------


def is_required(rb: Runbook, incident: Incident) -> bool:
    return incident.severity in rb.postmortem.required_for


def review(rb: Runbook, incident: Incident, timeline: Sequence[Event], now: datetime) -> IncidentReview:
    """Where the incident's post-mortem stands at ``now``: each stage's deadline and state, and what is missing."""
    done = _completions(timeline)
    resolved = incident.resolved_at if not incident.is_open else None
    required = is_required(rb, incident)
    stages = []
    for sid, spec in rb.postmortem.stages.items():
        due_at = review_due(incident, spec.within) if required else None
        if sid in done:
            at, by = done[sid]
            state, late = DONE, due_at is not None and at >= due_at
        else:
            at, by, late = None, None, False
            state = _pending_state(required, due_at, now)
        stages.append(StageView(sid, spec.description, spec.within, list(spec.steps), state, due_at, at, by, late))
    draft = None
    meeting = None
    for event in timeline:
        if event.kind == EventKind.POSTMORTEM_DRAFTED and isinstance(event.data.get("path"), str):
            draft = event.data["path"]
        elif event.kind == EventKind.POSTMORTEM_SCHEDULED and isinstance(event.data.get("at"), str):
            meeting = parse_rfc3339_or_none(event.data["at"]) or meeting
    items = action_items(incident.id, timeline)
    still_open = [i for i in items if i.done_at is None]
    unowned = [i.ref for i in still_open if not i.owner]
    undated = [i.ref for i in still_open if i.due is None]
    hints = _hints(incident, required, draft, meeting, len(items), unowned, undated, now) if stages else []
    return IncidentReview(
        incident.id,
        incident.title,
        incident.severity,
        incident.status.value,
        resolved,
        required,
        stages,
        draft,
        meeting,
        len(items),
        unowned,
        undated,
        hints,
    )


def _pending_state(required: bool, due_at: datetime | None, now: datetime) -> str:
    if not required:
        return NOT_REQUIRED
    if due_at is None:
        return NOT_YET
    return OVERDUE if now >= due_at else DUE


def _completions(timeline: Sequence[Event]) -> dict[str, tuple[datetime, str]]:
    first = completed_stages(timeline)
    by: dict[str, str] = {}
    for event in timeline:
        stage = event.data.get("stage")
        if event.kind == EventKind.REVIEW_COMPLETED and isinstance(stage, str):
            by.setdefault(stage, event.actor)
    return {stage: (at, by[stage]) for stage, at in first.items()}


def _hints(
    incident: Incident,
    required: bool,
    draft: str | None,
    meeting: datetime | None,
    items: int,
    unowned: list[str],
    undated: list[str],
    now: datetime,
) -> list[str]:
    said: list[str] = []
    if not required:
        said.append(f"{incident.severity} is not in the runbook's postmortem.required_for: no post-mortem is required")
        return said
    if incident.is_open:
        said.append("the review stages start when the incident is resolved")
    if draft is None:
        said.append(f"no draft yet: incidentctl postmortem draft {incident.id}")
    if meeting is None:
        said.append(f"no meeting scheduled: incidentctl postmortem schedule {incident.id} --at TIME")
    elif meeting > now:
        said.append(f"meeting scheduled for {meeting.strftime('%Y-%m-%d %H:%M UTC')}")
    if items == 0:
        said.append(f"no action items: incidentctl postmortem action add {incident.id} TEXT --owner NAME --due DATE")
    if unowned:
        said.append(f"without an owner: {', '.join(unowned)}")
    if undated:
        said.append(f"without a due date: {', '.join(undated)}")
    return said


def _urgency(review: IncidentReview) -> tuple[int, datetime, str]:
    """Overdue first, then by the nearest deadline; open incidents (no deadline yet) last."""
    pending = [s.due_at for s in review.stages if s.state in (DUE, OVERDUE) and s.due_at is not None]
    nearest = min(pending).replace(tzinfo=None) if pending else datetime.max
    rank = 0 if review.overdue else 1 if pending else 2
    return rank, nearest, review.incident_id
