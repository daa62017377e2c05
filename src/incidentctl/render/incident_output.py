"""What the ``incident`` commands print with ``-o json|yaml``: an incident's state, its events, its timeline.

The state is what the journal folds from the timeline (``core.incident.Incident``), read by attribute: a field the
incident gains is one line here. An event's ``data`` is the payload as journaled, with its field names in the one
key style (the journal's files keep their own spelling; they are storage, not output).
"""

from __future__ import annotations

from pydantic import Field

from incidentctl.core.incident import IncidentStatus
from incidentctl.render.output_model import FreeForm, OutputModel, UtcTime


class DamageOutput(OutputModel):
    """A part of the incident's files that could not be read: where, and what is wrong with it."""

    where: str
    problem: str


class IncidentOutput(OutputModel):
    """``incident declare`` and ``incident show``: the incident's current state."""

    id: str
    title: str
    severity: str
    status: IncidentStatus
    category: str | None
    components: list[str]
    summary: str | None
    commander: str | None = Field(description="The incident commander: coordinates, decides, communicates.")
    tech_lead: str | None = Field(description="The technical lead: leads the investigation and the fix.")
    declared_by: str
    declared_at: UtcTime
    started_at: UtcTime = Field(description="When the impact began (MTTD counts from it).")
    acknowledged_at: UtcTime | None
    acknowledged_by: str | None
    resolved_at: UtcTime | None
    updated_at: UtcTime | None
    notes: int
    events: int
    reopened: int
    damaged: bool
    problems: list[DamageOutput]
    state_from: str = Field(description="timeline, snapshot or events: where the state was read from.")


class EventOutput(OutputModel):
    """One entry of the timeline."""

    id: str = Field(description="The event's id, unique across journals and kept by every copy.")
    time: UtcTime
    actor: str
    kind: str
    data: FreeForm


class IncidentListOutput(OutputModel):
    """``incident list``: the incidents asked for, newest first."""

    items: list[IncidentOutput]


class EventChangeOutput(OutputModel):
    """``incident note|status|severity|ack``: what was recorded (nothing when it would change nothing)."""

    recorded: bool
    event: EventOutput | None
    incident: IncidentOutput


class TimelineOutput(OutputModel):
    """``incident timeline``: every event, oldest first."""

    incident: str
    damaged: bool
    problems: list[DamageOutput]
    events: list[EventOutput]


class TimelineEventOutput(OutputModel):
    """``incident timeline --follow -o json``: one event as it is recorded, one envelope a line (as
    ``detect --watch`` and ``investigate logs --follow`` print theirs)."""

    incident: str
    event: EventOutput
