"""What ``escalate`` prints with ``-o json|yaml``: the matrix, a check of the rules, an escalation. The models
read the phase's dataclasses by attribute."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import Field

from incidentctl.render.communicate_output import OutcomeOutput
from incidentctl.render.output_model import OutputModel


class LevelOutput(OutputModel):
    id: str = Field(description="L1, L2, ...")
    role: str
    response_time: timedelta
    responsibilities: list[str]
    contacts: list[str] = Field(description="Who to reach, one line each.")
    notify: list[str] = Field(description="The channels told (PagerDuty pages) when an incident reaches the level.")
    triggers: list[str] = Field(description="The rules that lead here: severity:P2, automatic and manual rule ids.")


class MatrixOutput(OutputModel):
    """escalate matrix: the escalation levels, who they are and what leads to each."""

    levels: list[LevelOutput]


class RuleStatusOutput(OutputModel):
    rule: str = Field(description="An automatic rule's id, or severity:P2 for a severity's time-based rule.")
    kind: str = Field(description="automatic or severity.")
    level: str
    role: str
    state: str = Field(description="due, pending (due at dueAt if it goes on), covered (level reached), off, unknown.")
    condition: str
    why: str
    since: datetime | None = Field(description="Since when the condition has held.")
    due_at: datetime | None = Field(description="When it is, was or will be due.")


class ReachedOutput(OutputModel):
    level: str
    role: str | None
    at: datetime
    by: str
    rule: str | None
    automatic: bool
    reason: str
    notified: list[str]
    batch: str | None = Field(description="The outbox batch its messages were queued in (escalation-L3).")


class EscalationOutput(OutputModel):
    """escalate ID --to LEVEL, escalate check --apply: the escalation recorded (or found recorded) and its
    messages."""

    incident_id: str
    level: str
    role: str
    reason: str
    rule: str | None
    automatic: bool
    recorded: bool = Field(description="False: the level had been reached already; nothing new was recorded.")
    outcomes: list[OutcomeOutput]


class AssessmentOutput(OutputModel):
    incident_id: str
    severity: str
    open: bool
    now: datetime
    rules: list[RuleStatusOutput]
    reached: list[ReachedOutput]
    last_look_at: datetime | None = Field(description="The latest look detect or triage recorded; null: none yet.")
    looks: int


class CheckOutput(OutputModel):
    """escalate check: every escalation rule judged on the incident's journal: due now, due later, reached."""

    assessment: AssessmentOutput
    applied: EscalationOutput | None = Field(description="With --apply: the escalation recorded.")
