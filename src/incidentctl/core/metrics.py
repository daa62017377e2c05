"""Incident metrics from timelines alone: impact windows, the SLO's error budget, the runbook's response metrics
(MTTD, MTTA, MTTR, MTTRec) per incident and over many, and SLA compliance per month.

Every number here is computed from the journal (an incident's fold and its timeline), never from what a person
typed into a report, so the post-mortem and ``report`` agree with ``incident timeline`` to the second. A
corrected impact start (``incident correct --started-at``) is the fold's ``started_at``, so it counts everywhere.

Bad data is never a number: an interval that would be negative (a correction that put the start after the
detection, lines merged out of order) is left out and said in ``problems``, and a rate with nothing to count is
None, never 100 % of nothing.

Pure: no I/O; ``now`` is always given (an open incident's impact lasts until now).
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from typing import TYPE_CHECKING, Literal

from incidentctl.core.escalation import reached_levels
from incidentctl.core.events import EventKind, Milestone, milestones
from incidentctl.core.messages import CADENCE_KINDS, fold_outbox
from incidentctl.core.postmortem import action_items, completed_stages

if TYPE_CHECKING:
    from incidentctl.core.incident import Event, Incident
    from incidentctl.runbook.model import Runbook


@dataclass(frozen=True)
class ImpactWindow:
    """From the impact's start until the service was back (mitigated, else resolved); ``end`` None: it lasts."""

    start: datetime
    end: datetime | None

    def duration(self, now: datetime) -> timedelta:
        """How long it has lasted (until now while it lasts); never negative."""
        end = self.end if self.end is not None else now
        return max(end - self.start, timedelta(0))


def impact_window(incident: Incident, timeline: Sequence[Event]) -> ImpactWindow:
    reached = milestones(timeline)
    back = reached.get(Milestone.MITIGATED) or incident.resolved_at
    if back is not None and back < incident.started_at:  # a correction moved the start after the fix: no impact
        back = incident.started_at
    return ImpactWindow(incident.started_at, back)


@dataclass(frozen=True)
class SlaImpact:
    """What a downtime costs against the SLO (``slo.availability`` over ``slo.window``)."""

    downtime: timedelta
    window: timedelta
    #: The SLO's target share, e.g. 0.999.
    target: float
    #: The downtime as a share of the window (0.001 = 0.1 % availability lost).
    availability_lost: float
    #: The window's allowance of bad time: ``window * (1 - target)``.
    budget: timedelta
    #: The downtime as a share of the budget (1.0 = all of it; may be above 1).
    budget_consumed: float


def sla_impact(downtime: timedelta, target: float, window: timedelta) -> SlaImpact:
    window_s = window.total_seconds()
    budget = window * (1 - target)
    budget_s = budget.total_seconds()
    down_s = downtime.total_seconds()
    return SlaImpact(
        downtime=downtime,
        window=window,
        target=target,
        availability_lost=down_s / window_s if window_s > 0 else 0.0,
        budget=budget,
        budget_consumed=down_s / budget_s if budget_s > 0 else (float("inf") if down_s > 0 else 0.0),
    )


# --- one incident -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IncidentMeasures:
    """Everything the reports count about one incident, measured on its journal at ``now``."""

    incident_id: str
    title: str
    #: The severity it has now (after any change).
    severity: str
    category: str | None
    components: tuple[str, ...]
    #: ``investigating``, ``identified``, ``monitoring`` or ``resolved``.
    status: str
    is_open: bool
    #: When the impact began: the corrected start when a ``corrected`` event set one.
    started_at: datetime
    declared_at: datetime
    #: The latest resolution; None while open (a reopened incident's earlier resolution does not count).
    resolved_at: datetime | None
    #: Each response metric of the runbook (``metrics.response``: mttd, mtta, mttr, mttrec) -> the time between
    #: its two milestones; None when its end is not reached yet, or when the interval would be negative (bad data,
    #: said in ``problems``).
    durations: dict[str, timedelta | None]
    impact: ImpactWindow
    #: At least one ``escalated`` event.
    escalated: bool
    #: The highest escalation level reached (``L3``), None when never escalated.
    highest_level: str | None
    #: How often it was set back from resolved to an open status.
    reopened: int
    #: Its severity is in ``postmortem.required_for``.
    postmortem_required: bool
    #: Every stage of ``postmortem.stages`` has a ``review_completed`` event.
    postmortem_complete: bool
    #: Its action items, all of them.
    action_items: int
    #: Action items whose due day has ended by ``now``, or that are done (items without a due date never count).
    actions_due: int
    #: Of ``actions_due``: done before the end of their due day.
    actions_done_on_time: int
    #: Times a message was owed while the incident was open: the initial notification (due ``response_time``
    #: after the declaration), then an update every ``update_interval`` after the previous one sent.
    updates_due: int
    #: Of ``updates_due``: met by a message that went out (``message_sent``) by its due time.
    updates_on_time: int
    #: What in the journal could not be measured, one line each (the numbers above leave it out).
    problems: list[str] = field(default_factory=list)


def measure(rb: Runbook, incident: Incident, timeline: Sequence[Event], now: datetime) -> IncidentMeasures:
    """The incident's measures at ``now``.

    The timeline is read in time order (lines merged out of order by a bad git merge are put back in order; equal
    times keep the file's order), kinds this version does not know are skipped, and a second acknowledgement or
    detection changes nothing (each milestone is its first event).
    """
    problems: list[str] = []
    if incident.damaged:
        problems.append(f"{incident.id}: the journal is damaged; measured from the part that can be read")
    ordered = sorted(timeline, key=lambda e: e.time)
    if any(a.time > b.time for a, b in itertools.pairwise(timeline)):
        problems.append(f"{incident.id}: the timeline's events are not in time order; read in time order")
        incident = _refold(incident, ordered)
    reached = milestones(ordered)
    points: dict[str, datetime | None] = {"started": incident.started_at}
    points.update({m.value: reached.get(m) for m in Milestone})
    durations: dict[str, timedelta | None] = {}
    for metric in rb.metrics.response:
        start, end = points.get(metric.start), points.get(metric.end)
        value = end - start if start is not None and end is not None else None
        if value is not None and value < timedelta(0):
            problems.append(
                f"{incident.id}: {metric.id} left out: {metric.end} ({_stamp(end)}) is before {metric.start}"
                f" ({_stamp(start)})"
            )
            value = None
        durations[metric.id] = value
    levels = reached_levels(rb, ordered)
    stages = completed_stages(ordered)
    items = action_items(incident.id, ordered)
    due_items = [i for i in items if i.due_at is not None and (i.done_at is not None or now >= i.due_at)]
    updates_due, updates_on_time = _updates(rb, incident, ordered, now, problems)
    return IncidentMeasures(
        incident_id=incident.id,
        title=incident.title,
        severity=incident.severity,
        category=incident.category,
        components=tuple(incident.components),
        status=incident.status.value,
        is_open=incident.is_open,
        started_at=incident.started_at,
        declared_at=incident.declared_at,
        resolved_at=None if incident.is_open else reached.get(Milestone.RESOLVED) or incident.resolved_at,
        durations=durations,
        impact=impact_window(incident, ordered),
        escalated=any(e.kind == EventKind.ESCALATED for e in ordered),
        highest_level=levels[-1].level if levels else None,
        reopened=incident.reopened,
        postmortem_required=incident.severity in rb.postmortem.required_for,
        postmortem_complete=all(stage in stages for stage in rb.postmortem.stages),
        action_items=len(items),
        actions_due=len(due_items),
        actions_done_on_time=sum(1 for i in due_items if i.done_on_time),
        updates_due=updates_due,
        updates_on_time=updates_on_time,
        problems=problems,
    )


def _refold(incident: Incident, ordered: Sequence[Event]) -> Incident:
    """The incident as its events say in time order (the declaration first): a status a bad merge appended after
    the resolution but timed before it does not reopen the incident. The fold as it was when that cannot be done."""
    from incidentctl.core.incident import TimelineError, fold

    try:
        again = fold(sorted(ordered, key=lambda e: e.kind != EventKind.DECLARED))
    except TimelineError:
        return incident
    return dataclasses.replace(again, id=incident.id, damaged=incident.damaged, problems=incident.problems)


def _stamp(when: datetime | None) -> str:
    from incidentctl.core.times import format_rfc3339

    return format_rfc3339(when) if when is not None else "?"


def _updates(
    rb: Runbook, incident: Incident, ordered: Sequence[Event], now: datetime, problems: list[str]
) -> tuple[int, int]:
    """How many times a message was owed while the incident was open, and how many of them were met in time.

    The first is the initial notification, due ``response_time`` after the declaration; each next one is due
    ``update_interval`` after the previous message sent, or after the due time it missed (an update nobody sends
    is owed again every interval, so an hour of silence at a 15m pace is four misses). A due point counts once its
    time has passed while the incident was open, or once a message met it early while it was open (the initial
    notice of an incident resolved in five minutes); the messages sent between two due points meet one of them.
    Only messages that went out on a channel that is not manual count (a person ticking off the war room told
    nobody), of the kinds that say where the incident stands (initial, update, resolution). Nothing is owed while
    the incident is resolved; a reopening owes an update within the interval. The interval is the one of the
    severity in force when the wait began.
    """
    entries = fold_outbox(ordered).values()
    sends = sorted(
        e.sent_at
        for e in entries
        if e.kind in CADENCE_KINDS and e.state == "sent" and e.sent_at is not None and e.channel_kind != "manual"
    )
    due = met = 0
    for index, (begin, end) in enumerate(_open_periods(incident, ordered)):
        stop = min(end, now) if end is not None else now
        level = rb.severities.get(_severity_at(incident, ordered, begin))
        if level is None:
            problems.append(f"{incident.id}: severity {incident.severity!r} is not in the runbook; no update is due")
            return 0, 0
        anchor = begin
        initial = index == 0
        deadline = begin + (level.response_time if initial else level.update_interval)
        while True:
            first = bisect.bisect_left(sends, anchor) if initial else bisect.bisect_right(sends, anchor)
            after = bisect.bisect_right(sends, min(deadline, stop))
            if after > first:  # met: by a message sent by the due time, while open
                due, met, anchor = due + 1, met + 1, sends[after - 1]
            elif deadline <= stop:  # missed, and owed again every interval until a message goes out
                interval = level.update_interval
                if interval <= timedelta(0):
                    due += 1
                    break
                silent_until = min(sends[after] - _TICK, stop) if after < len(sends) else stop
                missed = (silent_until - deadline) // interval + 1
                due += missed
                anchor = deadline + (missed - 1) * interval
            else:
                break
            initial = False
            level = rb.severities.get(_severity_at(incident, ordered, anchor)) or level
            if level.update_interval <= timedelta(0):
                break
            deadline = anchor + level.update_interval
    return due, met


#: The smallest step of time: "just before" a message.
_TICK = timedelta(microseconds=1)


def _open_periods(incident: Incident, ordered: Sequence[Event]) -> list[tuple[datetime, datetime | None]]:
    """From the declaration (and each reopening) until the next resolution; the last one None while open."""
    periods: list[tuple[datetime, datetime | None]] = []
    begin: datetime | None = incident.declared_at
    for event in ordered:
        if event.kind != EventKind.STATUS_CHANGED:
            continue
        to = event.data.get("to")
        if to == "resolved" and begin is not None:
            periods.append((begin, max(event.time, begin)))
            begin = None
        elif to in ("investigating", "identified", "monitoring") and begin is None:
            begin = event.time
    if begin is not None:
        periods.append((begin, None))
    return periods


def _severity_at(incident: Incident, ordered: Sequence[Event], when: datetime) -> str:
    severity = incident.severity
    for event in ordered:
        if event.time > when:
            break
        if event.kind == EventKind.DECLARED and isinstance(event.data.get("severity"), str):
            severity = event.data["severity"]
        elif event.kind == EventKind.SEVERITY_CHANGED and isinstance(event.data.get("to"), str):
            severity = event.data["to"]
    return severity


# --- over many ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stats:
    """A set of durations: mean, median (p50), 90th percentile, min and max; None when there are none.

    Percentiles are linear between the closest ranks (the "inclusive" definition: ``statistics.quantiles`` with
    ``method="inclusive"``, numpy's default, Excel's PERCENTILE.INC): p at rank ``(n - 1) * p`` of the sorted
    values, so p50 of an even count is the mean of the middle two, and p90 of one value is that value. Rounded to
    the microsecond, half to even, like the mean.
    """

    count: int
    mean: timedelta | None
    p50: timedelta | None
    p90: timedelta | None
    min: timedelta | None
    max: timedelta | None


def stats(values: Sequence[timedelta]) -> Stats:
    if not values:
        return Stats(0, None, None, None, None, None)
    ordered = sorted(values)
    us = [v // timedelta(microseconds=1) for v in ordered]
    return Stats(
        count=len(ordered),
        mean=timedelta(microseconds=round(Fraction(sum(us), len(us)))),
        p50=_percentile(us, Fraction(1, 2)),
        p90=_percentile(us, Fraction(9, 10)),
        min=ordered[0],
        max=ordered[-1],
    )


def _percentile(ordered_us: Sequence[int], p: Fraction) -> timedelta:
    rank = (len(ordered_us) - 1) * p
    low = int(rank)
    high = min(low + 1, len(ordered_us) - 1)
    value = ordered_us[low] + (ordered_us[high] - ordered_us[low]) * (rank - low)
    return timedelta(microseconds=round(value))


@dataclass(frozen=True)
class Summary:
    """What a set of incidents adds up to; each rate is None when there is nothing to count it over."""

    count: int
    open: int
    #: status -> how many incidents have it now.
    by_status: dict[str, int]
    #: severity -> how many (the runbook's severities first, each even at 0).
    by_severity: dict[str, int]
    #: Each response metric -> its statistics over the incidents that reached the metric's end (an open
    #: incident counts in MTTD once detected, never in MTTR).
    response: dict[str, Stats]
    escalated: int
    #: escalated / count.
    escalation_rate: float | None
    #: Incidents that need a post-mortem (their severity) and are resolved: the post-mortem can be done.
    postmortems_required: int
    postmortems_complete: int
    #: postmortems_complete / postmortems_required.
    postmortem_completion: float | None
    action_items: int
    actions_due: int
    actions_done_on_time: int
    #: actions_done_on_time / actions_due.
    action_item_completion: float | None
    updates_due: int
    updates_on_time: int
    #: updates_on_time / updates_due.
    communication_timeliness: float | None
    #: Incidents reopened at least once.
    reopened: int
    #: Reopenings in all (an incident reopened twice counts twice).
    reopenings: int


def summarize(rb: Runbook, measures: Sequence[IncidentMeasures]) -> Summary:
    by_status: dict[str, int] = {}
    for m in measures:
        by_status[m.status] = by_status.get(m.status, 0) + 1
    by_severity = dict.fromkeys(rb.severities, 0)
    for m in measures:
        by_severity[m.severity] = by_severity.get(m.severity, 0) + 1
    response = {
        metric.id: stats([v for m in measures if (v := m.durations.get(metric.id)) is not None])
        for metric in rb.metrics.response
    }
    reviewable = [m for m in measures if m.postmortem_required and not m.is_open]
    escalated = sum(1 for m in measures if m.escalated)
    complete = sum(1 for m in reviewable if m.postmortem_complete)
    actions_due = sum(m.actions_due for m in measures)
    on_time = sum(m.actions_done_on_time for m in measures)
    updates_due = sum(m.updates_due for m in measures)
    updates_on_time = sum(m.updates_on_time for m in measures)
    return Summary(
        count=len(measures),
        open=sum(1 for m in measures if m.is_open),
        by_status=by_status,
        by_severity=by_severity,
        response=response,
        escalated=escalated,
        escalation_rate=_rate(escalated, len(measures)),
        postmortems_required=len(reviewable),
        postmortems_complete=complete,
        postmortem_completion=_rate(complete, len(reviewable)),
        action_items=sum(m.action_items for m in measures),
        actions_due=actions_due,
        actions_done_on_time=on_time,
        action_item_completion=_rate(on_time, actions_due),
        updates_due=updates_due,
        updates_on_time=updates_on_time,
        communication_timeliness=_rate(updates_on_time, updates_due),
        reopened=sum(1 for m in measures if m.reopened > 0),
        reopenings=sum(m.reopened for m in measures),
    )


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole > 0 else None


#: What :func:`group` splits by.
GroupBy = Literal["severity", "category", "component"]
#: The group of incidents without a category (or without a component).
NONE_GROUP = "(none)"


def group(rb: Runbook, measures: Sequence[IncidentMeasures], by: GroupBy) -> dict[str, Summary]:
    """A summary per severity (the runbook's order, then any it does not have), category or component (sorted);
    an incident with two components counts in both, one without any in ``(none)``, which comes last."""
    groups: dict[str, list[IncidentMeasures]] = {}
    if by == "severity":
        groups = {severity: [] for severity in rb.severities}
    for m in measures:
        if by == "severity":
            keys: Sequence[str] = [m.severity]
        elif by == "category":
            keys = [m.category or NONE_GROUP]
        else:
            keys = sorted(set(m.components)) or [NONE_GROUP]
        for key in keys:
            groups.setdefault(key, []).append(m)
    if by != "severity":
        groups = dict(sorted(groups.items(), key=lambda kv: (kv[0] == NONE_GROUP, kv[0])))
    return {key: summarize(rb, members) for key, members in groups.items()}


def in_period(m: IncidentMeasures, since: datetime, until: datetime) -> bool:
    """Whether an incident belongs to ``[since, until)``: its impact started then (the corrected start)."""
    return since <= m.started_at < until


@dataclass(frozen=True)
class Bucket:
    """One step of a period (a day, a week, a month): the incidents that started in ``[start, end)``."""

    start: datetime
    end: datetime
    count: int
    #: severity -> how many (every severity seen in the period, even at 0 here, so charts line up).
    by_severity: dict[str, int]
    #: Each response metric -> its median over this bucket's incidents that reached it (None: none did).
    response_p50: dict[str, timedelta | None]

    @property
    def mttr_p50(self) -> timedelta | None:
        return self.response_p50.get("mttr")


def buckets(
    measures: Sequence[IncidentMeasures], since: datetime, until: datetime, step: timedelta | Literal["month"]
) -> list[Bucket]:
    """``[since, until)`` split in steps from ``since`` (the last one cut at ``until``), or in calendar months (UTC;
    the first and last cut at ``since`` and ``until``)."""
    bounds = _month_bounds(since, until) if step == "month" else _step_bounds(since, until, step)
    severities: dict[str, None] = {}
    metric_ids: dict[str, None] = {}
    for m in measures:
        severities.setdefault(m.severity)
        for metric_id in m.durations:
            metric_ids.setdefault(metric_id)
    out = []
    for start, end in bounds:
        members = [m for m in measures if in_period(m, start, end)]
        counts = dict.fromkeys(severities, 0)
        for m in members:
            counts[m.severity] += 1
        medians = {
            metric_id: stats([v for m in members if (v := m.durations.get(metric_id)) is not None]).p50
            for metric_id in metric_ids
        }
        out.append(Bucket(start, end, len(members), counts, medians))
    return out


def _step_bounds(since: datetime, until: datetime, step: timedelta) -> list[tuple[datetime, datetime]]:
    if step <= timedelta(0):
        raise ValueError("a bucket's step must be longer than zero")
    bounds = []
    start = since
    while start < until:
        bounds.append((start, min(start + step, until)))
        start += step
    return bounds


def _month_start(when: datetime) -> datetime:
    when = when.astimezone(timezone.utc)
    return datetime(when.year, when.month, 1, tzinfo=timezone.utc)


def _next_month(start: datetime) -> datetime:
    return start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)


def _month_bounds(since: datetime, until: datetime) -> list[tuple[datetime, datetime]]:
    bounds = []
    start = _month_start(since)
    while start < until:
        end = _next_month(start)
        bounds.append((max(start, since), min(end, until)))
        start = end
    return bounds


# --- SLA per month ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthSla:
    """One calendar month (UTC) against the SLO: how long the service was down, and what that cost."""

    #: ``2026-11``.
    month: str
    start: datetime
    #: The month's end, or now for the current month.
    end: datetime
    #: The union of the impact windows of the incidents whose severity takes availability down (``slo.counts``),
    #: clipped to the month: two incidents at once count once.
    downtime: timedelta
    #: 1 - downtime / (end - start).
    availability: float
    #: ``slo.availability``.
    target: float
    #: availability >= target, judged as downtime <= budget to the microsecond: a month down for exactly its
    #: budget is compliant, whatever the float of ``99.9%`` rounds to.
    compliant: bool
    #: The whole month's allowance of bad time, (month length) * (1 - target), also for the current month: a
    #: calendar month's error budget is the month's, so a bad first day is not "missed" before the month is.
    budget: timedelta
    #: downtime / budget (1.0: all of it; may be above 1).
    budget_consumed: float
    #: The incidents whose impact counted in this month.
    incidents: tuple[str, ...]
    #: The current month, measured until now: ``availability`` is so far, ``compliant`` means "not missed yet".
    partial: bool = False


def sla_by_month(
    rb: Runbook, measures: Sequence[IncidentMeasures], since: datetime, until: datetime, now: datetime
) -> list[MonthSla]:
    """Each calendar month (UTC) that ``[since, until)`` touches, up to now; empty when the runbook has no SLO.

    A whole impact window counts as down time (from the impact's start until mitigated, else resolved; an open
    incident until now): an upper bound, since a degraded service still serves some requests. Which incidents
    count is decided by the severity they have now (a P3 raised to P1 counts, a P1 lowered to P3 does not).
    """
    slo = rb.slo
    if slo is None:
        return []
    counted = [m for m in measures if m.severity in slo.counts]
    out = []
    start = _month_start(since)
    while start < until and start < now:
        end = min(_next_month(start), now)
        windows = []
        ids = []
        for m in counted:
            w_start = max(m.impact.start, start)
            w_end = min(m.impact.end if m.impact.end is not None else now, end)
            if w_end > w_start:
                windows.append((w_start, w_end))
                ids.append(m.incident_id)
        downtime = _union(windows)
        cost = sla_impact(downtime, slo.availability, _next_month(start) - start)
        elapsed = (end - start).total_seconds()
        availability = 1 - downtime.total_seconds() / elapsed if elapsed > 0 else 1.0
        out.append(
            MonthSla(
                month=f"{start.year:04d}-{start.month:02d}",
                start=start,
                end=end,
                downtime=downtime,
                availability=availability,
                target=slo.availability,
                compliant=downtime <= cost.budget,
                budget=cost.budget,
                budget_consumed=cost.budget_consumed,
                incidents=tuple(ids),
                partial=end < _next_month(start),
            )
        )
        start = _next_month(start)
    return out


def _union(windows: Sequence[tuple[datetime, datetime]]) -> timedelta:
    """The length of the union of the intervals (overlapping time counted once)."""
    total = timedelta(0)
    current: tuple[datetime, datetime] | None = None
    for w_start, w_end in sorted(windows):
        if current is None or w_start > current[1]:
            if current is not None:
                total += current[1] - current[0]
            current = (w_start, w_end)
        else:
            current = (current[0], max(current[1], w_end))
    if current is not None:
        total += current[1] - current[0]
    return total
