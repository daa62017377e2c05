"""What ``postmortem status|complete|schedule`` print with ``-o json|yaml``. The models read the phase's
dataclasses by attribute."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import Field

from incidentctl.render.output_model import OutputModel


class StageOutput(OutputModel):
    id: str = Field(description="A stage id of the runbook's postmortem.stages (immediate-review, ...).")
    description: str
    within: timedelta = Field(description="How long after the resolution it is due.")
    steps: list[str] = Field(description="What completing it means, from the runbook.")
    state: str = Field(
        description="done, due (deadline ahead), overdue, not-yet (the incident is still open), or not-required "
        "(the severity needs no post-mortem)."
    )
    due_at: datetime | None = Field(description="The latest resolution + within; null while the incident is open.")
    done_at: datetime | None
    done_by: str | None
    late: bool = Field(description="Completed at or after its deadline.")


class IncidentReviewOutput(OutputModel):
    incident_id: str
    title: str
    severity: str
    status: str
    resolved_at: datetime | None = Field(description="The latest resolution; null while open.")
    required: bool = Field(description="The severity is in the runbook's postmortem.required_for.")
    complete: bool = Field(description="Every stage has a review_completed event.")
    overdue: bool
    stages: list[StageOutput]
    draft: str | None = Field(description="Where postmortem draft last wrote the document; null: not drafted.")
    meeting_at: datetime | None = Field(description="The post-mortem meeting, as last scheduled.")
    action_items: int
    unowned: list[str] = Field(description="Open action items without an owner (INC-2026-004/A2).")
    undated: list[str] = Field(description="Open action items without a due date.")
    hints: list[str] = Field(description="What is missing, one line each.")


class PostmortemStatusOutput(OutputModel):
    """postmortem status: the runbook's review stages of each incident that needs a post-mortem, due and overdue
    (exit 3 when one is overdue)."""

    now: datetime
    incidents: list[IncidentReviewOutput]


class ReviewCompletedOutput(OutputModel):
    """postmortem complete: the review stage recorded as completed (or found completed already)."""

    incident_id: str
    stage: str
    recorded: bool = Field(description="False: the stage had been completed already; nothing new was recorded.")
    completed_at: datetime
    completed_by: str
    note: str | None
    review: IncidentReviewOutput


class PostmortemMeetingOutput(OutputModel):
    """postmortem schedule: the post-mortem meeting as recorded, and the invitation written (--ics)."""

    incident_id: str
    at: datetime
    end: datetime
    duration_s: int
    where: str | None
    attendees: list[str]
    recorded: bool = Field(description="False: this schedule was recorded already; nothing new was journalled.")
    sequence: int = Field(description="How often it was scheduled before: the invitation's SEQUENCE.")
    uid: str = Field(description="The invitation's UID: the same for every schedule of the incident.")
    ics: str | None = Field(description="Where the iCalendar file was written; null without --ics.")
    past: bool = Field(description="The meeting's time is before now: recorded as one that happened.")
    warnings: list[str]
