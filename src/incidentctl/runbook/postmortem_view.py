"""What the post-mortem template shows, built from the journal alone: the facts of every section, as markdown lines.

The post-mortem (``templates/post_mortem.md.j2``, the runbook's "Post-Mortem Template") is a document a person
finishes. What the journal knows goes in here: the timeline and its chart, the notes tagged for each section, the
suspect change and new error templates investigate found, the mitigation verified healthy, the impact window and
what it cost against the SLO, the action items, the review deadlines. What it does not know is said to be unknown
("being assessed", "none noted yet"), never guessed; the template marks what only a person can write.

Every piece of user text (titles, notes, actors, findings) is masked of secrets (``redact``) and then escaped for
markdown (``core.text.for_markdown``) on one line, so it can neither start a heading, a table or an HTML comment
(a forged ``<!-- incidentctl:begin`` marker or a ``-->`` included) nor reach a terminal as an escape sequence; in
the chart it goes through ``core.mermaid.label``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from incidentctl.core.events import EventKind, Milestone, describe, is_internal, milestones
from incidentctl.core.incident import IncidentStatus
from incidentctl.core.looks import DETECTED, TRIAGED
from incidentctl.core.mermaid import Bar, Point, gantt
from incidentctl.core.metrics import impact_window, sla_impact
from incidentctl.core.postmortem import action_items, completed_stages, review_due
from incidentctl.core.text import for_markdown
from incidentctl.core.times import format_duration, parse_rfc3339_or_none

if TYPE_CHECKING:
    from incidentctl.core.incident import Event, Incident
    from incidentctl.runbook.model import Runbook


@dataclass(frozen=True)
class Found:
    """What one investigate run found, read from its evidence folder by the phase (the files are the record)."""

    at: datetime
    #: The suspect change, as ``changes/suspect.json`` names it (camelCase keys); None: none named or not looked.
    suspect: Mapping[str, Any] | None = None
    #: The NEW error templates of ``errors/templates.json`` (camelCase keys).
    new_errors: Sequence[Mapping[str, Any]] = ()


@dataclass(frozen=True)
class PostmortemView:
    """Every section's lines, markdown-safe; a section with nothing from the journal has its "unknown" line."""

    title: str
    incident_id: str
    date: str
    severity: str
    duration: str
    impact: str
    status: str
    summary: list[str]
    timeline: list[str]
    chart: str
    root_cause: list[str]
    impact_lines: list[str]
    resolution: list[str]
    lessons: list[str]
    contributing: list[str]
    actions: list[str]
    improvements: list[str]
    review: list[str]
    #: The tagged notes of each tag, for the sections' own checks (``root-cause`` -> lines).
    tagged: dict[str, list[str]] = field(default_factory=dict)


def _utc(moment: datetime) -> str:
    return f"{moment.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC"


def _hhmm(moment: datetime) -> str:
    return f"{moment.astimezone(timezone.utc):%H:%M} UTC"


def _pct(share: float, places: int = 3) -> str:
    """A share as a percentage with at most ``places`` decimals, trailing zeros dropped (99.9%, 0.066%)."""
    text = f"{share * 100:.{places}f}".rstrip("0").rstrip(".")
    return f"{text}%"


def _dur(value: timedelta) -> str:
    return format_duration(timedelta(seconds=round(value.total_seconds())))


def postmortem_view(
    rb: Runbook,
    incident: Incident,
    timeline: Sequence[Event],
    *,
    now: datetime,
    found: Sequence[Found] = (),
    redact: Callable[[str], str] = lambda text: text,
) -> PostmortemView:
    def safe(value: object) -> str:
        return for_markdown(redact(str(value)))

    names = {level_id: severity.name for level_id, severity in rb.severities.items()}
    level = rb.severities.get(incident.severity)
    reached = milestones(timeline)
    window = impact_window(incident, timeline)
    lasting = window.duration(now)
    tagged = _tagged(timeline, safe)
    looks = _looks(timeline, safe)

    ongoing = window.end is None
    if window.end is None:
        duration = f"{_dur(lasting)} so far (since {_utc(window.start)}; still going on)"
    else:
        duration = f"{_dur(lasting)} ({_utc(window.start)} until {_utc(window.end)})"
    worst = _worst_share(timeline)
    impact = f"{worst:.0%} of users at the worst" if worst is not None else "users affected: being assessed"
    if rb.slo is not None:
        sla = sla_impact(lasting, float(rb.slo.availability), rb.slo.window)
        impact += f"; {_pct(sla.availability_lost)} availability lost against the {_pct(rb.slo.availability)} SLO"
        impact += " (so far)" if ongoing else ""
        cost = (
            f"SLA impact: {_pct(sla.availability_lost)} of the {_dur(rb.slo.window)} window's availability lost "
            f"against the {_pct(rb.slo.availability)} SLO; {_pct(sla.budget_consumed, 1)} of the error budget "
            f"({_dur(sla.budget)}) consumed" + (" so far" if ongoing else "")
        )
    else:
        cost = "SLA impact: the runbook sets no SLO (slo.availability) to measure it against"

    summary = _summary(incident, level.name if level else None, safe)

    lines = [
        f"{_utc(e.time)} - {safe(describe(e, names))} ({safe(e.actor)})" for e in timeline if not is_internal(e.kind)
    ]

    root = [f"Noted as root cause: {line}" for line in tagged["root-cause"]]
    detected = _detected(timeline, safe)
    if detected:
        root.append(detected)
    for run in found:
        if run.suspect:
            root.append(f"Suspect change (investigate, {_hhmm(run.at)}): {_suspect(run.suspect, safe)}")
        for template in run.new_errors:
            root.append(f"New error template (investigate, {_hhmm(run.at)}): {_template(template, safe)}")
    fixed = _fixed_by(timeline, safe)
    root.append(f"Fixed by: {fixed}" if fixed else "Fixed by: no mitigation verified healthy yet")
    if not tagged["root-cause"]:
        root.insert(0, "No note tagged root-cause yet")

    impact_lines = [f"Duration: {duration}"]
    impact_lines += _corrections(timeline, safe)
    impact_lines += [f"Seen {line}" for line in looks] or ["Users affected: being assessed (no detect or triage look)"]
    impact_lines += [f"Noted: {line}" for line in tagged["impact"]]
    impact_lines.append(cost)

    resolution = [f"Noted: {line}" for line in tagged["resolution"]] + _mitigations(timeline, safe)
    if incident.resolved_at and not incident.is_open:
        resolution.append(f"Resolved {_utc(incident.resolved_at)}")
    elif not resolution:
        resolution = ["Not resolved yet"]

    actions = _actions(incident.id, timeline, now, safe)
    improvements = [
        f"**{safe(area.capitalize())}**: {', '.join(safe(i) for i in items)}"
        for area, items in rb.postmortem.improvement_areas.items()
    ]

    return PostmortemView(
        title=safe(incident.title),
        incident_id=incident.id,
        date=f"{incident.started_at.astimezone(timezone.utc):%Y-%m-%d}",
        severity=f"{safe(incident.severity)} - {safe(level.name) if level else 'not a severity of the runbook'}",
        duration=duration,
        impact=impact,
        status=incident.status.value,
        summary=summary,
        timeline=lines,
        chart=_chart(incident, timeline, reached, window.start, window.end, now),
        root_cause=root,
        impact_lines=impact_lines,
        resolution=resolution,
        lessons=tagged["lesson"] or ["Nothing noted yet"],
        contributing=tagged["contributing-factor"] or ["Nothing noted yet"],
        actions=actions or ["No action item recorded yet"],
        improvements=improvements or ["The runbook lists no improvement areas"],
        review=_review(rb, incident, timeline, now),
        tagged=tagged,
    )


def _summary(incident: Incident, level_name: str | None, safe: Callable[[object], str]) -> list[str]:
    summary = [
        f"Declared {_utc(incident.declared_at)} by {safe(incident.declared_by)} as {safe(incident.severity)}"
        f" ({safe(level_name) if level_name else 'not a severity of the runbook'})",
        f"Status: {incident.status.value}"
        + (f" (resolved {_utc(incident.resolved_at)})" if incident.resolved_at and not incident.is_open else ""),
        f"Components: {', '.join(safe(c) for c in incident.components) or 'none named'}",
        f"Category: {safe(incident.category) if incident.category else 'none given'}",
        f"Incident Commander: {safe(incident.commander) if incident.commander else 'not assigned'}; "
        f"Technical Lead: {safe(incident.tech_lead) if incident.tech_lead else 'not assigned'}",
    ]
    if incident.summary:
        summary.append(f"Summary at declaration: {safe(incident.summary)}")
    if incident.reopened:
        summary.append(f"Reopened {incident.reopened} time(s) after a resolution")
    return summary


def _actions(incident_id: str, timeline: Sequence[Event], now: datetime, safe: Callable[[object], str]) -> list[str]:
    actions = []
    for item in action_items(incident_id, timeline):
        done = f", done {_utc(item.done_at)}" if item.done_at else ""
        late = " (overdue)" if item.is_overdue(now) and item.done_at is None else ""
        area = f", area: {safe(item.area)}" if item.area else ""
        actions.append(
            f"[{'x' if item.done_at else ' '}] {item.id} {safe(item.text)} (Owner: "
            f"{safe(item.owner) if item.owner else 'none yet'}, Due: {item.due or 'none yet'}{area}{done}){late}"
        )
    return actions


def _tagged(timeline: Sequence[Event], safe: Callable[[object], str]) -> dict[str, list[str]]:
    from incidentctl.core.events import NOTE_TAGS

    out: dict[str, list[str]] = {tag: [] for tag in NOTE_TAGS}
    for e in timeline:
        tag = e.data.get("tag")
        if e.kind == EventKind.NOTE and isinstance(tag, str) and tag in out:
            out[tag].append(f"{safe(e.data.get('text') or '')} ({safe(e.actor)}, {_hhmm(e.time)})")
    return out


def _looks(timeline: Sequence[Event], safe: Callable[[object], str]) -> list[str]:
    """Each detect/triage look, in order: what was broken and the users affected (the impact over time)."""
    out = []
    for e in timeline:
        if e.kind not in (DETECTED, TRIAGED):
            continue
        subjects = e.data.get("subjects") or {}
        broken = ", ".join(f"{safe(n)} {safe(h)}" for n, h in subjects.items() if h != "ok")
        state = broken or ("all checked parts healthy" if subjects else f"health {safe(e.data.get('health'))}")
        share = _share(e.data.get("users_affected"))
        users = f"; {share:.0%} of users affected" if share is not None else ""
        out.append(f"{_hhmm(e.time)} ({'triage' if e.kind == TRIAGED else 'detect'}): {state}{users}")
    return out


#: Findings of the declaring look quoted in Root Cause; the triaged event in the timeline keeps them all.
DETECTED_SHOWN = 4


def _detected(timeline: Sequence[Event], safe: Callable[[object], str]) -> str | None:
    """What the look that declared the incident found (triage's evidence: the alerts firing, the checks that
    failed): for a cause that is no change and no new error (a security alert, a deployment scaled to zero) it
    is the first thing the tool recorded about it. Without a declaring triage (declared by hand), the first look
    that found anything; nothing found, no line."""
    declaring = next((e for e in timeline if e.kind == TRIAGED and e.data.get("decision") == "declared"), None)
    looks = [declaring] if declaring is not None else [e for e in timeline if e.kind in (DETECTED, TRIAGED)]
    for e in looks:
        findings = [str(f) for f in _listed(e.data.get("evidence" if e.kind == TRIAGED else "problems")) if f]
        if not findings:
            continue
        shown = "; ".join(safe(f) for f in findings[:DETECTED_SHOWN])
        more = len(findings) - DETECTED_SHOWN
        if more > 0:
            shown += f"; and {more} more (the timeline's {e.kind} event has them all)"
        which = "triage at the declaration" if e is declaring else ("triage" if e.kind == TRIAGED else "detect")
        return f"Detected ({which}, {_hhmm(e.time)}): {shown}"
    return None


def _listed(value: object) -> list[object]:
    """The strings of a list from the journal; anything else in its place is nothing (a hand-edited line must
    not stop the draft)."""
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _share(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if 0 <= value <= 1 else None


def _worst_share(timeline: Sequence[Event]) -> float | None:
    shares = [s for e in timeline if e.kind == TRIAGED and (s := _share(e.data.get("users_affected"))) is not None]
    return max(shares) if shares else None


def _corrections(timeline: Sequence[Event], safe: Callable[[object], str]) -> list[str]:
    out = []
    for e in timeline:
        if e.kind == EventKind.CORRECTED and e.data.get("started_at"):
            was = parse_rfc3339_or_none(e.data.get("was_started_at"))
            now_at = parse_rfc3339_or_none(e.data.get("started_at"))
            if now_at is None:
                continue
            before = f" (was {_utc(was)})" if was else ""
            why = f": {safe(e.data.get('reason'))}" if e.data.get("reason") else ""
            out.append(f"Impact start corrected to {_utc(now_at)}{before} by {safe(e.actor)}{why}")
    return out


def _plans(timeline: Sequence[Event]) -> dict[str, Event]:
    return {str(e.data.get("id")): e for e in timeline if e.kind == EventKind.MITIGATION_PLANNED}


def _fixed_by(timeline: Sequence[Event], safe: Callable[[object], str]) -> str | None:
    """The mitigation whose verification found the service healthy (the first, as the milestone counts it)."""
    plans = _plans(timeline)
    for e in timeline:
        if e.kind == EventKind.MITIGATION_VERIFIED and e.data.get("healthy") and e.data.get("components"):
            mid = e.data.get("id")
            plan = plans.get(str(mid)) if mid else None
            what = f"mitigation {safe(mid)}: {safe(plan.data.get('summary'))}" if plan else "the mitigations applied"
            return f"{what}, verified healthy {_utc(e.time)} ({', '.join(safe(c) for c in e.data['components'])})"
    return None


def _mitigations(timeline: Sequence[Event], safe: Callable[[object], str]) -> list[str]:
    plans = _plans(timeline)
    out = []
    for e in timeline:
        mid = str(e.data.get("id"))
        plan = plans.get(mid)
        summary = safe(e.data.get("summary") or (plan.data.get("summary") if plan else "") or "")
        if e.kind == EventKind.MITIGATION_APPLIED:
            out.append(f"Mitigation {safe(mid)} applied {_utc(e.time)} by {safe(e.actor)}: {summary}")
        elif e.kind == EventKind.MITIGATION_FAILED:
            out.append(f"Mitigation {safe(mid)} failed {_utc(e.time)}: {summary}")
        elif e.kind == EventKind.MITIGATION_VERIFIED and e.data.get("id"):
            verdict = "verified healthy" if e.data.get("healthy") else "not verified healthy"
            out.append(f"Mitigation {safe(mid)} {verdict} {_utc(e.time)}")
    return out


def _suspect(suspect: Mapping[str, Any], safe: Callable[[object], str]) -> str:
    when = parse_rfc3339_or_none(suspect.get("time") if isinstance(suspect.get("time"), str) else None)
    at = f" at {_hhmm(when)}" if when else ""
    if suspect.get("kind") == "scale":
        before = suspect.get("previousReplicas")
        was = f" (from {safe(before)})" if isinstance(before, int) and not isinstance(before, bool) else ""
        by = f" by {safe(suspect['who'])}" if suspect.get("who") else ""
        deployment = suspect.get("deployment") or suspect.get("component")
        return f"deployment/{safe(deployment)} scaled to {safe(suspect.get('replicas'))} replicas{was}{at}{by}"
    if suspect.get("kind") == "config":
        users = _strings(suspect.get("usedBy"))
        used = f" (used by {', '.join(safe(u) for u in users)})" if users else ""
        return f"configmap {safe(suspect.get('configmap'))}{used} changed{at}"
    listed = suspect.get("images")
    images = ", ".join(
        safe(i.get("image")) for i in (listed if isinstance(listed, list) else []) if isinstance(i, Mapping)
    )
    cause = f"; change cause: {safe(suspect['changeCause'])}" if suspect.get("changeCause") else ""
    return (
        f"{safe(suspect.get('component'))} revision {safe(suspect.get('revision'))}"
        f"{', image ' + images if images else ''} rolled out{at}{cause}"
    )


def _template(template: Mapping[str, Any], safe: Callable[[object], str]) -> str:
    first = parse_rfc3339_or_none(template.get("firstSeen") if isinstance(template.get("firstSeen"), str) else None)
    since = f", first seen {_hhmm(first)}" if first else ""
    pods = _strings(template.get("pods"))
    where = f" in {', '.join(safe(p) for p in pods[:3])}" if pods else ""
    return f"{safe(template.get('pattern'))} ({safe(template.get('count'))} lines{where}{since})"


def _strings(value: object) -> list[str]:
    """A list of names from an evidence file; anything else in its place is no names (evidence is read, not
    trusted: a file edited by hand must not stop the draft)."""
    return [str(v) for v in value] if isinstance(value, list) else []


def _review(rb: Runbook, incident: Incident, timeline: Sequence[Event], now: datetime) -> list[str]:
    """Each stage of the runbook's review, with its deadline (from the resolution) and whether it was done."""
    if incident.severity not in rb.postmortem.required_for:
        required = ", ".join(rb.postmortem.required_for) or "no severity"
        return [f"{incident.severity} needs no post-mortem review (required for {required})"]
    done = completed_stages(timeline)
    out = []
    for stage_id, stage in rb.postmortem.stages.items():
        head = f"{stage.description} (within {_dur(stage.within)} of the resolution)"
        due = review_due(incident, stage.within)
        if stage_id in done:
            out.append(f"{head}: completed {_utc(done[stage_id])}")
        elif due is None:
            out.append(f"{head}: the deadline starts when the incident is resolved")
        else:
            state = "overdue since" if now >= due else "due by"
            out.append(f"{head}: {state} {_utc(due)}")
    return out


_PHASE_NAMES = {
    IncidentStatus.INVESTIGATING.value: "Investigating",
    IncidentStatus.IDENTIFIED.value: "Identified",
    IncidentStatus.MONITORING.value: "Monitoring",
}


def _chart(
    incident: Incident,
    timeline: Sequence[Event],
    reached: Mapping[Milestone, datetime],
    start: datetime,
    end: datetime | None,
    now: datetime,
) -> str:
    """The impact window and the status phases as bars, the response milestones as points."""
    bars = [Bar("Impact", "Impact", start, end or now, critical=True)]
    phases: list[tuple[str, datetime]] = []
    for e in timeline:
        if e.kind == EventKind.DECLARED:
            phases.append((str(e.data.get("status") or IncidentStatus.INVESTIGATING.value), e.time))
        elif e.kind == EventKind.STATUS_CHANGED and isinstance(e.data.get("to"), str):
            phases.append((e.data["to"], e.time))
    for index, (status, since) in enumerate(phases):
        if status == IncidentStatus.RESOLVED.value:
            continue
        until = phases[index + 1][1] if index + 1 < len(phases) else now
        bars.append(Bar("Response", _PHASE_NAMES.get(status, status.capitalize()), since, until))
    words = {
        Milestone.DETECTED: "Detected",
        Milestone.ACKNOWLEDGED: "Acknowledged",
        Milestone.MITIGATED: "Mitigated",
        Milestone.RESOLVED: "Resolved",
    }
    points = [Point(word, reached[m]) for m, word in words.items() if m in reached]
    return gantt(f"{incident.id} {incident.title}", bars, points)
