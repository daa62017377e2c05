"""A report as a document of sections, tables and charts, before it is drawn on a terminal or written as markdown.

Both views of ``report`` are made from this one structure, so the terminal and the document a manager is sent say
the same thing. Which content a section gets is decided by the section's name in the runbook
(``metrics.reports``): the seed's twelve names map to the blocks below, and a name incidentctl does not know
keeps its heading with a line saying there is nothing to show for it, rather than vanishing.

Cells are plain text here (durations in minutes, hours or days, rates as percentages, "no data" where nothing
could be measured); user text (titles) stays as written, and each view makes it safe for where it goes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from incidentctl.core.charts import Series, bar, pie, sparkline, xychart
from incidentctl.core.metrics import NONE_GROUP
from incidentctl.core.text import name_key
from incidentctl.core.times import format_percent

if TYPE_CHECKING:
    from incidentctl.core.metrics import MonthSla, Stats, Summary
    from incidentctl.phases.report.run import ReportResult

#: What a cell says when nothing could be measured: never 0 or 100 % of nothing.
NO_DATA = "no data"
#: The most rows a list of incidents or action items gets in a report; the rest are counted, with the command
#: that lists them all.
LONGEST_LIST = 10


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str]]
    #: Columns that hold user text (titles): the markdown view escapes them, the others are ours.
    caption: str | None = None


@dataclass(frozen=True)
class Chart:
    """A chart in both forms: Mermaid text for the document, labelled sparklines or bars for the terminal."""

    title: str
    mermaid: str | None
    #: (label, the line of characters, the value as text)
    lines: list[tuple[str, str, str]]


Block = str | Table | Chart


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)


@dataclass(frozen=True)
class Document:
    title: str
    period: str
    summary: str
    sections: list[Section]
    problems: list[str]


def duration_text(value: timedelta | None) -> str:
    """A duration for people reading a report: minutes up to two hours, then hours up to two days, then days."""
    if value is None:
        return NO_DATA
    minutes = value.total_seconds() / 60
    if minutes < 1:
        return "under 1 min"
    if minutes < 120:
        return f"{minutes:.0f} min"
    if minutes < 48 * 60:
        return f"{minutes / 60:.1f} h"
    return f"{minutes / 1440:.1f} days"


def rate_text(value: float | None, part: int | None = None, whole: int | None = None) -> str:
    if value is None:
        return NO_DATA
    text = format_percent(value)
    return f"{text} ({part} of {whole})" if part is not None and whole is not None else text


def day(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d}"


def minute(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def period_text(result: ReportResult) -> str:
    """``From 2026-03-01 00:00 UTC until 2026-04-01 00:00 UTC``: the end is exclusive, as the JSON's."""
    return f"From {minute(result.since)} until {minute(result.until)}"


def build(result: ReportResult) -> Document:
    """The whole report, section by section in the runbook's order."""
    sections = []
    for name in result.sections or ["Incident summary", "Response metrics", "Trend analysis"]:
        section = Section(name)
        builders = _SECTIONS.get(name_key(name))
        if builders is None:
            section.blocks.append("incidentctl has nothing to show for this section yet; it is for a person to write.")
        for builder in builders or ():
            section.blocks += builder(result)
        sections.append(section)
    last_day = day(result.until - timedelta(microseconds=1))  # the end is exclusive: midnight ends the day before
    title = f"{result.period.capitalize()} incident report: {day(result.since)} to {last_day}"
    return Document(title, period_text(result), summary_paragraph(result), sections, list(result.problems))


def summary_paragraph(result: ReportResult) -> str:
    """The report in plain words, for a reader who stops after the first paragraph."""
    s = result.summary
    if s.count == 0:
        words = [f"No incident started between {minute(result.since)} and {minute(result.until)}."]
    else:
        counts = ", ".join(f"{n} {sid}" for sid, n in s.by_severity.items() if n)
        one = s.count == 1
        words = [
            f"{s.count} incident{'' if one else 's'} started between {minute(result.since)} and "
            f"{minute(result.until)} ({counts})."
        ]
        if s.open:
            words.append(f"{s.open} of them {'is' if s.open == 1 else 'are'} still open.")
        for metric in result.metrics:
            st = s.response.get(metric.id)
            if metric.id == "mttr" and st is not None and st.count:
                if st.count == 1:
                    words.append(f"The one resolved was resolved {duration_text(st.p50)} after it was detected.")
                else:
                    words.append(
                        f"Half were resolved within {duration_text(st.p50)} of being detected "
                        f"(nine in ten within {duration_text(st.p90)})."
                    )
    if result.carried_over:
        n = len(result.carried_over)
        words.append(f"{n} earlier incident{' is' if n == 1 else 's are'} still open as well.")
    missed = [m.month for m in result.sla if not m.compliant]
    if result.sla:
        target = format_percent(result.sla[0].target)
        if missed:
            words.append(f"The availability target of {target} was missed in {', '.join(missed)}.")
        else:
            words.append(f"The availability target of {target} was met in every month of the period.")
    if result.overdue_actions:
        n = len(result.overdue_actions)
        words.append(f"{n} follow-up action{' is' if n == 1 else 's are'} past due.")
    return " ".join(words)


# --- the blocks ---------------------------------------------------------------------------------------------


def _overview(result: ReportResult) -> list[Block]:
    s = result.summary
    rows = [[sid, result.severities.get(sid, ""), str(n)] for sid, n in s.by_severity.items()]
    top = max(s.by_severity.values(), default=0)
    lines = [(sid, bar(n, top, 20), str(n)) for sid, n in s.by_severity.items()]
    blocks: list[Block] = [
        f"{s.count} incident{'' if s.count == 1 else 's'} in the period, {s.open} still open, "
        f"{s.reopened} reopened after being resolved.",
        Table(["Severity", "Meaning", "Incidents"], rows, caption="Incidents by severity"),
    ]
    chart = pie("Incidents by severity", [(sid, n) for sid, n in s.by_severity.items()])
    blocks.append(Chart("Incidents by severity", chart, lines))
    return blocks


def _open(result: ReportResult) -> list[Block]:
    opened = result.open_incidents
    if not opened:
        return ["No incident is open."]
    carried = {m.incident_id for m in result.carried_over}
    rows = [
        [
            m.incident_id,
            m.severity,
            m.title,
            m.status + (" (started before the period)" if m.incident_id in carried else ""),
            duration_text(m.impact.duration(result.generated_at)),
        ]
        for m in opened
    ]
    headers = ["Incident", "Severity", "Title", "Status", "Impact so far"]
    return [Table(headers, rows, caption="Open incidents")]


def _longest(result: ReportResult) -> list[Block]:
    m = result.longest(result.generated_at)
    if m is None:
        return []
    lasting = duration_text(m.impact.duration(result.generated_at))
    still = " and is still going on" if m.impact.end is None else ""
    return [
        Table(
            ["Incident", "Severity", "Title", "Impact"],
            [[m.incident_id, m.severity, m.title, lasting + still]],
            caption="The longest impact",
        )
    ]


def _stats_row(name: str, st: Stats | None) -> list[str]:
    if st is None or not st.count:
        return [name, NO_DATA, NO_DATA, NO_DATA, "0"]
    return [name, duration_text(st.mean), duration_text(st.p50), duration_text(st.p90), str(st.count)]


def _response(result: ReportResult) -> list[Block]:
    rows = [_stats_row(f"{m.name} ({m.id.upper()})", result.summary.response.get(m.id)) for m in result.metrics]
    bounds = "; ".join(f"{m.id.upper()} from {m.start} to {m.end}" for m in result.metrics)
    return [
        Table(["Metric", "Mean", "Median", "90th percentile", "Incidents"], rows, caption="Response times"),
        f"Each metric counts between two moments of an incident ({bounds}); an incident counts once it reached "
        "the metric's end. The median and the 90th percentile are shown beside the mean because one long incident "
        "can hide in a mean.",
    ]


def _response_by_severity(result: ReportResult) -> list[Block]:
    headers = ["Severity", "Incidents", *[f"{m.id.upper()} median" for m in result.metrics]]
    rows = []
    for sid, summary in result.by_severity.items():
        cells = [sid, str(summary.count)]
        for m in result.metrics:
            st = summary.response.get(m.id)
            cells.append(duration_text(st.p50) if st is not None and st.count else NO_DATA)
        rows.append(cells)
    return [Table(headers, rows, caption="Response times by severity")]


def _process(result: ReportResult) -> list[Block]:
    s = result.summary
    rows = [
        ["Escalation rate", rate_text(s.escalation_rate, s.escalated, s.count)],
        [
            "Post-mortems completed",
            rate_text(s.postmortem_completion, s.postmortems_complete, s.postmortems_required),
        ],
        ["Action items done on time", rate_text(s.action_item_completion, s.actions_done_on_time, s.actions_due)],
        ["Updates sent on time", rate_text(s.communication_timeliness, s.updates_on_time, s.updates_due)],
        ["Incidents reopened", str(s.reopened)],
    ]
    return [Table(["Measure", "Value"], rows, caption="How the response went")]


def _grouped(title: str, groups: dict[str, Summary], metrics: Sequence[str]) -> list[Block]:
    if not groups or all(g.count == 0 for g in groups.values()):
        return []
    rows = []
    for key, g in groups.items():
        if g.count == 0:
            continue
        mttr = g.response.get("mttr")
        rows.append([key, str(g.count), str(g.open), duration_text(mttr.p50) if mttr and mttr.count else NO_DATA])
    return [Table([title, "Incidents", "Open", "Median time to resolution"], rows, caption=f"By {title.lower()}")]


def _by_category(result: ReportResult) -> list[Block]:
    return _grouped("Category", result.by_category, [m.id for m in result.metrics])


def _by_component(result: ReportResult) -> list[Block]:
    return _grouped("Component", result.by_component, [m.id for m in result.metrics])


def _bucket_label(result: ReportResult, start: datetime) -> str:
    return {"hour": f"{start:%H:%M}", "day": f"{start:%m-%d}", "month": f"{start:%Y-%m}"}[result.step]


def _trend(result: ReportResult) -> list[Block]:
    if not result.trend:
        return []
    unit = result.step
    counts = [float(b.count) for b in result.trend]
    labels = [_bucket_label(result, b.start) for b in result.trend]
    mttr = [b.response_p50.get("mttr") for b in result.trend]
    mttr_hours = [v.total_seconds() / 3600 if v is not None else None for v in mttr]
    lines = [
        (
            "incidents",
            sparkline(counts),
            f"{int(sum(counts))} in all, at most {int(max(counts))} {'an' if unit == 'hour' else 'a'} {unit}",
        )
    ]
    lines += [
        (
            sid,
            sparkline([float(b.by_severity.get(sid, 0)) for b in result.trend]),
            str(sum(b.by_severity.get(sid, 0) for b in result.trend)),
        )
        for sid in result.severities
        if any(b.by_severity.get(sid) for b in result.trend)
    ]
    if any(v is not None for v in mttr_hours):
        lines.append(("time to resolution (median)", sparkline(mttr_hours), f"per {unit}; a gap: none resolved"))
    chart = xychart(f"Incidents per {unit}", labels, [Series("bar", counts)], y_label="Incidents")
    blocks: list[Block] = [Chart(f"Incidents per {unit}", chart, lines)]
    known = [(b, v) for b, v in zip(result.trend, mttr, strict=True) if v is not None]
    if known and len(result.trend) <= 31:  # longer, the chart and the sparkline tell it better than rows
        rows = [[_bucket_label(result, b.start), str(b.count), duration_text(v)] for b, v in known]
        blocks.append(
            Table([unit.capitalize(), "Incidents", "Median time to resolution"], rows, caption="Resolution trend")
        )
    return blocks


def _month(m: MonthSla) -> str:
    return f"{m.month} (so far)" if m.partial else m.month


def _verdict(m: MonthSla) -> str:
    """A month still going has not met its target yet; it has only not missed it (its budget is the month's)."""
    if m.partial:
        return "not missed yet" if m.compliant else "missed"
    return "met" if m.compliant else "missed"


def _sla(result: ReportResult) -> list[Block]:
    if not result.sla:
        return ["The runbook sets no availability target (slo), so there is no SLA to report."]
    rows = [
        [
            _month(m),
            format_percent(m.availability),
            format_percent(m.target),
            _verdict(m),
            duration_text(m.downtime) if m.downtime else "none",
            format_percent(m.budget_consumed),
            str(len(m.incidents)),
        ]
        for m in result.sla
    ]
    headers = ["Month", "Availability", "Target", "Target met", "Downtime", "Error budget used", "Incidents"]
    labels = [m.month for m in result.sla]
    chart = xychart(
        "Availability per month (percent)",
        labels,
        [
            Series("bar", [round(m.availability * 100, 3) for m in result.sla]),
            Series("line", [round(m.target * 100, 3) for m in result.sla]),
        ],
        y_label="Availability (percent)",
        y_min=min(99.0, *(round(m.availability * 100, 3) for m in result.sla)),
        y_max=100,
    )
    lines = [(_month(m), "", f"{format_percent(m.availability)} ({_verdict(m)})") for m in result.sla]
    return [
        Table(headers, rows, caption="SLA compliance"),
        Chart("Availability per month", chart, lines),
        f"Downtime is the time from each {' or '.join(result.sla_counts)} incident's impact start until it was "
        "mitigated (else resolved), "
        "incidents at the same time counted once: an upper bound, since a degraded service still serves some users.",
    ]


def _actions(result: ReportResult) -> list[Block]:
    s = result.summary
    blocks: list[Block] = [
        f"Action items from this period's incidents: {s.action_items}; of those due, done on time: "
        f"{rate_text(s.action_item_completion, s.actions_done_on_time, s.actions_due)}."
    ]
    if result.overdue_actions:
        shown = result.overdue_actions[:LONGEST_LIST]
        rows = [[a.ref, a.text, a.owner or "nobody", f"{a.due}" if a.due else ""] for a in shown]
        blocks.append(Table(["Action", "What", "Owner", "Due"], rows, caption="Overdue action items, oldest first"))
        blocks += _more(len(result.overdue_actions), "incidentctl postmortem action list --overdue")
    else:
        blocks.append("No action item is overdue.")
    return blocks


def _postmortems(result: ReportResult) -> list[Block]:
    s = result.summary
    missing = [m for m in result.incidents if m.postmortem_required and not m.is_open and not m.postmortem_complete]
    blocks: list[Block] = [
        f"Post-mortems completed: {rate_text(s.postmortem_completion, s.postmortems_complete, s.postmortems_required)}."
    ]
    if missing:
        rows = [[m.incident_id, m.severity, m.title] for m in missing[:LONGEST_LIST]]
        blocks.append(Table(["Incident", "Severity", "Title"], rows, caption="Post-mortems not complete"))
        blocks += _more(len(missing), "incidentctl postmortem status")
    return blocks


def _more(count: int, command: str) -> list[Block]:
    """The line under a list cut at :data:`LONGEST_LIST`: how many more, and the command that lists them all."""
    if count <= LONGEST_LIST:
        return []
    return [f"And {count - LONGEST_LIST} more: {command} lists them all."]


def _findings(result: ReportResult) -> list[Block]:
    """Facts a recommendation can start from; the recommendations themselves are a person's."""
    facts = []
    named = {key: g for key, g in result.by_component.items() if key != NONE_GROUP}
    busiest = max(named.items(), key=lambda kv: kv[1].count, default=None)
    if busiest is not None and busiest[1].count:
        facts.append(f"Most incidents involved {busiest[0]} ({busiest[1].count}).")
    missed = [m.month for m in result.sla if not m.compliant]
    if missed:
        facts.append(f"The availability target was missed in {', '.join(missed)}.")
    if result.overdue_actions:
        facts.append(f"{len(result.overdue_actions)} action items are overdue.")
    if result.summary.reopened:
        facts.append(f"{result.summary.reopened} incidents were reopened after being resolved.")
    blocks: list[Block] = [" ".join(facts) if facts else "Nothing in the journal stands out for this period."]
    blocks.append("Recommendations: to be written by the report's owner.")
    return blocks


_Builder = Callable[["ReportResult"], list[Block]]

#: Section name (as ``name_key`` spells it) -> what it shows.
_SECTIONS: dict[str, list[_Builder]] = {
    "incident summary": [_overview, _open, _longest],
    "response metrics": [_response, _process],
    "trend analysis": [_trend],
    "alert summary": [_by_component],
    "incident trends": [_trend, _by_category, _open],
    "performance metrics": [_response, _response_by_severity],
    "improvement progress": [_postmortems, _actions],
    "team performance": [_process],
    "incident analysis": [_overview, _response, _response_by_severity, _by_category, _by_component, _trend, _open],
    "sla compliance": [_sla],
    "improvement impact": [_postmortems, _actions],
    "strategic recommendations": [_findings],
}
