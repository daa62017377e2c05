"""What ``report daily|weekly|monthly`` prints with ``-o json|yaml``. The models read the phase's result (and
:mod:`incidentctl.core.metrics`'s dataclasses) by attribute. A rate or a duration nobody can know yet (no
incident reached the metric's end, no action item was due) is ``null``, never 0 or 100 %. Durations are numbers
of seconds in fields ending in ``Seconds``, as in every other document."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from pydantic import BeforeValidator, Field

from incidentctl.render.output_model import OutputModel, UtcTime


def _seconds(value: object) -> object:
    return value.total_seconds() if isinstance(value, timedelta) else value


#: A duration read from a ``timedelta`` attribute, written as a number of seconds.
Seconds = Annotated[float, BeforeValidator(_seconds)]


class StatsOutput(OutputModel):
    count: int = Field(description="How many incidents reached both ends of the metric.")
    mean_seconds: Seconds | None = Field(validation_alias="mean")
    p50_seconds: Seconds | None = Field(
        validation_alias="p50", description="The median (linear between the closest ranks)."
    )
    p90_seconds: Seconds | None = Field(validation_alias="p90")
    min_seconds: Seconds | None = Field(validation_alias="min")
    max_seconds: Seconds | None = Field(validation_alias="max")


class SummaryOutput(OutputModel):
    count: int
    open: int
    by_status: dict[str, int]
    by_severity: dict[str, int]
    response: dict[str, StatsOutput] = Field(description="Each response metric of the runbook (mttd, ...).")
    escalated: int
    escalation_rate: float | None = Field(description="Escalated / count; null without incidents.")
    postmortems_required: int
    postmortems_complete: int
    postmortem_completion: float | None = Field(description="Complete / required (and resolved); null: none due.")
    action_items: int
    actions_due: int
    actions_done_on_time: int
    action_item_completion: float | None = Field(description="Done on time / due; null: none due yet.")
    updates_due: int
    updates_on_time: int
    communication_timeliness: float | None = Field(description="Updates sent by their due time / due.")
    reopened: int = Field(description="Incidents resolved and then reopened at least once.")


class ImpactOutput(OutputModel):
    start: UtcTime
    end: UtcTime | None = Field(description="Mitigated, else resolved; null while the impact lasts.")


class IncidentMeasuresOutput(OutputModel):
    incident_id: str
    title: str
    severity: str
    category: str | None
    components: list[str]
    status: str
    is_open: bool
    started_at: UtcTime = Field(description="The impact's start (a correction's, when one was recorded).")
    declared_at: UtcTime
    resolved_at: UtcTime | None
    durations_seconds: dict[str, Seconds | None] = Field(
        validation_alias="durations", description="Each response metric; null: its end not reached."
    )
    impact: ImpactOutput
    escalated: bool
    highest_level: str | None
    reopened: int
    postmortem_required: bool
    postmortem_complete: bool
    action_items: int
    problems: list[str]


class BucketOutput(OutputModel):
    start: UtcTime
    end: UtcTime
    count: int
    by_severity: dict[str, int]
    response_p50_seconds: dict[str, Seconds | None] = Field(
        validation_alias="response_p50", description="Each response metric's median here; null: none reached it."
    )


class MonthSlaOutput(OutputModel):
    month: str = Field(description="2026-11")
    start: UtcTime
    end: UtcTime = Field(description="The month's end, or the report's time for the current month.")
    downtime_seconds: Seconds = Field(
        validation_alias="downtime", description="The union of the counted incidents' impact windows in the month."
    )
    availability: float
    target: float
    compliant: bool
    budget_seconds: Seconds = Field(
        validation_alias="budget", description="The bad time the whole month allows (also for the current month)."
    )
    budget_consumed: float
    incidents: list[str]
    partial: bool = Field(description="The current month, measured until the report's time.")


class ActionItemOutput(OutputModel):
    ref: str = Field(description="INC-2026-004/A2")
    text: str
    owner: str | None
    due: date | None
    area: str | None


class MetricOutput(OutputModel):
    id: str
    name: str
    description: str
    start: str = Field(description="The milestone it counts from (started, detected, ...).")
    end: str


class ReportOutput(OutputModel):
    """report daily|weekly|monthly: incident counts, response metrics with percentiles, groups, trends and SLA
    compliance over a period, from the journal."""

    period: str = Field(description="daily, weekly or monthly.")
    since: UtcTime
    until: UtcTime = Field(description="Exclusive.")
    generated_at: UtcTime
    sections: list[str] = Field(description="The runbook's section names for this period.")
    metrics: list[MetricOutput]
    summary: SummaryOutput
    by_severity: dict[str, SummaryOutput]
    by_category: dict[str, SummaryOutput]
    by_component: dict[str, SummaryOutput]
    incidents: list[IncidentMeasuresOutput] = Field(description="Impact started in the period; newest first.")
    carried_over: list[IncidentMeasuresOutput] = Field(
        description="Still open, impact started before the period: listed, not counted."
    )
    step: str = Field(description="How the trend is cut: hour, day or month (from the period's length).")
    trend: list[BucketOutput]
    sla: list[MonthSlaOutput] = Field(description="Each calendar month (UTC) the period touches.")
    overdue_actions: list[ActionItemOutput] = Field(description="Open action items past their due day, any incident.")
    problems: list[str]
