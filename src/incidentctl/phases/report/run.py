"""The ``report`` use case on the phase contract: ``run_report(ctx, request) -> ReportResult``.

Reads the journal once (every incident and its timeline, one pass over each file), measures the incidents that
matter to the period with :mod:`incidentctl.core.metrics`, and returns numbers only: the terminal view, the JSON
document and the markdown document are drawn from the same result by :mod:`incidentctl.render.report`. Which
incidents a period holds is :mod:`incidentctl.phases.report.period`'s to say.

A report writes nothing to the journal: it is a reading, and may be run by anyone at any time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from incidentctl.core.metrics import (
    Bucket,
    IncidentMeasures,
    MonthSla,
    Summary,
    buckets,
    group,
    in_period,
    measure,
    sla_by_month,
    summarize,
)
from incidentctl.core.postmortem import ActionItem, action_items
from incidentctl.errors import RunbookError
from incidentctl.exitcodes import ExitCode
from incidentctl.phases.report.period import Period, Step, Window, window
from incidentctl.runbook.templates import resolve_template

if TYPE_CHECKING:
    from incidentctl.core.incident import Incident
    from incidentctl.phases.context import PhaseContext

#: Where the markdown document's template is when the runbook does not name one (``communication.templates``).
DEFAULT_TEMPLATE = "templates/report.md.j2"


@dataclass(frozen=True)
class ReportRequest:
    period: Period = "weekly"
    #: As ``--since``/``--until`` take them: a date, an RFC 3339 time, or a duration ago (``30d``).
    since: str | None = None
    until: str | None = None
    #: Find the markdown document's template (``-o markdown``): a missing one is an error only then.
    document: bool = False


@dataclass(frozen=True)
class MetricView:
    """A response metric of the runbook, as the report names it."""

    id: str
    name: str
    description: str
    start: str
    end: str


@dataclass(frozen=True)
class ReportResult:
    period: Period
    since: datetime
    until: datetime
    generated_at: datetime
    #: The runbook's section names for this period (``metrics.reports``), in its order.
    sections: list[str]
    metrics: list[MetricView]
    #: The incidents whose impact started in the period, newest first.
    incidents: list[IncidentMeasures]
    #: Incidents still open whose impact started before the period: listed, not counted.
    carried_over: list[IncidentMeasures]
    summary: Summary
    by_severity: dict[str, Summary]
    by_category: dict[str, Summary]
    by_component: dict[str, Summary]
    #: The severity ids in the runbook's order, and what each is called.
    severities: dict[str, str]
    #: How the trend is cut: by the hour, the day or the calendar month (from the period's length).
    step: Step
    trend: list[Bucket]
    sla: list[MonthSla]
    #: The severities whose impact counts as down time (``slo.counts``).
    sla_counts: list[str]
    #: Open action items past their due day, across the whole journal (an overdue item does not expire).
    overdue_actions: list[ActionItem]
    #: What could not be measured (a damaged journal, an interval that ends before it starts).
    problems: list[str] = field(default_factory=list)
    template: Path | None = None
    exit_code: ExitCode = ExitCode.OK

    @property
    def open_incidents(self) -> list[IncidentMeasures]:
        return [m for m in [*self.incidents, *self.carried_over] if m.is_open]

    def longest(self, now: datetime) -> IncidentMeasures | None:
        """The period's incident with the longest impact (until now while it lasts)."""
        return max(self.incidents, key=lambda m: m.impact.duration(now), default=None)


def run_report(ctx: PhaseContext, request: ReportRequest) -> ReportResult:
    now = ctx.clock()
    rb = ctx.runbook
    span = window(request.period, request.since, request.until, now)
    template = _template(ctx) if request.document else None
    journal = ctx.journal()
    measured: list[IncidentMeasures] = []
    overdue: list[ActionItem] = []
    problems: list[str] = []
    months = Window(_month_start(span.since), span.until)
    for incident in journal.incidents():
        timeline = journal.timeline(incident.id)
        overdue += [a for a in action_items(incident.id, timeline) if a.done_at is None and a.is_overdue(now)]
        if not _may_matter(incident, months):
            continue
        m = measure(rb, incident, timeline, now)
        measured.append(m)
        problems += [f"{incident.id}: {p}" for p in m.problems]
        problems += [f"{d.where}: {d.problem}" for d in incident.problems]
    inside = sorted(
        (m for m in measured if in_period(m, span.since, span.until)), key=lambda m: m.started_at, reverse=True
    )
    carried = sorted((m for m in measured if m.is_open and m.started_at < span.since), key=lambda m: m.started_at)
    return ReportResult(
        period=request.period,
        since=span.since,
        until=span.until,
        generated_at=now,
        sections=list(rb.metrics.reports.get(request.period, [])),
        metrics=[MetricView(t.id, t.name, t.description, t.start, t.end) for t in rb.metrics.response],
        incidents=inside,
        carried_over=carried,
        summary=summarize(rb, inside),
        by_severity=group(rb, inside, "severity"),
        by_category=group(rb, inside, "category"),
        by_component=group(rb, inside, "component"),
        severities={sid: sev.name for sid, sev in rb.severities.items()},
        step=span.step,
        trend=buckets(inside, span.since, span.until, _STEPS[span.step]),
        sla=sla_by_month(rb, measured, span.since, span.until, now),
        sla_counts=list(rb.slo.counts) if rb.slo is not None else [],
        overdue_actions=sorted(overdue, key=lambda a: (a.due_at or now, a.ref)),
        problems=problems,
        template=template,
    )


_STEPS: dict[Step, timedelta | Literal["month"]] = {
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "month": "month",
}


def _may_matter(incident: Incident, months: Window) -> bool:
    """Whether the incident can be in the period, carried over into it, or down in one of its months: its impact
    lies within [started, resolved] (mitigated comes before resolved), so this needs no timeline."""
    if incident.is_open:
        return incident.started_at < months.until
    end = incident.resolved_at or incident.started_at
    return incident.started_at < months.until and end >= months.since


def _month_start(moment: datetime) -> datetime:
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _template(ctx: PhaseContext) -> Path:
    relative = ctx.runbook.communication.templates.get("report", DEFAULT_TEMPLATE)
    base = ctx.runbook_dir if ctx.runbook_dir is not None else Path.cwd()
    found = resolve_template(relative, base)
    if found is None:
        raise RunbookError(
            f"the report template {relative} cannot be read (beside the runbook or among the bundled ones)",
            where=str(base / relative),
            hint="restore the file, or point communication.templates.report at one",
        )
    return found
