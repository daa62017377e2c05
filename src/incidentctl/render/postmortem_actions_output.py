"""What ``postmortem action add|list|change|done`` print with ``-o json|yaml``. The models read the phase's
dataclasses by attribute."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from incidentctl.render.output_model import OutputModel


class ActionItemOutput(OutputModel):
    ref: str = Field(description="INC-2026-004/A2: how the commands name it.")
    incident_id: str
    id: str = Field(description="A1, A2, ... within its incident.")
    text: str
    owner: str | None
    due: date | None = Field(description="Due by the end of this day, UTC.")
    due_at: datetime | None = Field(description="The end of the due day: overdue from then on.")
    area: str | None = Field(description="An improvement area of the runbook: technical/Testing.")
    added_at: datetime
    added_by: str
    done_at: datetime | None
    done_by: str | None
    state: str = Field(description="open, overdue, done (by its due day) or done-late.")
    overdue: bool
    done_on_time: bool | None = Field(description="null while not done or without a due date.")


class ActionItemsOutput(OutputModel):
    """postmortem action list: action items across incidents, soonest due first (with --overdue, exit 3 when any
    is listed)."""

    now: datetime
    items: list[ActionItemOutput]


class ActionItemChangeOutput(OutputModel):
    """postmortem action add|change|done: the item as it stands after the command."""

    action: str = Field(description="added, changed or done.")
    item: ActionItemOutput
    recorded: bool = Field(description="False: nothing new was recorded (already done, or nothing would change).")
    changed: list[str] = Field(description="The fields a change set.")
    warnings: list[str]
