"""The ``escalate`` use cases on the phase contract: ``run_escalate(ctx, request) -> result``.

matrix lists the levels; check judges the incident's rules on its journal (:mod:`incidentctl.core.escalation`)
and, with ``apply``, records the escalation that is due; a manual escalation records the level a person chose.
Either way the ``escalated`` event is appended under the journal's lock, deciding on the timeline as it is then,
so a level is recorded once and never below one already reached, and the level's ``notify`` channels are told
through the outbox (:mod:`incidentctl.phases.messaging`) with communicate's guarantees: the messages are queued in
the journal before they are sent, one batch per level (``escalation-L3``), so a run that stopped after recording
the escalation queues them on the next run rather than losing them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from incidentctl.core.escalation import Assessment, Reached, assess, level_rank, reached_levels, target
from incidentctl.core.events import EscalatedPayload, EventKind, to_journal
from incidentctl.core.text import name_key, one_line
from incidentctl.errors import RefusedError, UsageError
from incidentctl.exitcodes import ExitCode
from incidentctl.phases.messaging.compose import Content, Target, compose
from incidentctl.phases.messaging.deliver import FlushOptions, Outcome, flush
from incidentctl.phases.messaging.outbox import queue
from incidentctl.phases.recording import require_incident

if TYPE_CHECKING:
    from incidentctl.core.incident import Event, Incident
    from incidentctl.phases.context import PhaseContext
    from incidentctl.runbook.model import EscalationLevel, Runbook


# --- requests ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MatrixRequest:
    pass


@dataclass(frozen=True)
class CheckRequest:
    incident: str | None = None
    #: Record the escalation that is due (and tell its level's channels).
    apply: bool = False


@dataclass(frozen=True)
class EscalateRequest:
    """A person's escalation: ``level`` and/or a manual ``rule`` of the runbook, and why."""

    incident: str | None = None
    level: str | None = None
    rule: str | None = None
    reason: str | None = None


EscalateRequestType = MatrixRequest | CheckRequest | EscalateRequest


# --- results ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LevelView:
    id: str
    role: str
    response_time: timedelta
    responsibilities: list[str]
    #: Who to reach, one line each (name, Slack handle, email; never a routing key).
    contacts: list[str]
    notify: list[str]
    #: The rules that lead here: ``severity:P2``, an automatic rule's id, a manual rule's id.
    triggers: list[str]


@dataclass(frozen=True)
class MatrixResult:
    levels: list[LevelView]
    exit_code: ExitCode = ExitCode.OK


@dataclass(frozen=True)
class Escalation:
    """What one escalation did: recorded now, or found already recorded at that level; and its messages."""

    incident_id: str
    level: str
    role: str
    reason: str
    rule: str | None
    automatic: bool
    #: False: the level had been reached already (by someone else, or by an earlier run): nothing new recorded.
    recorded: bool
    reached: Reached
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def exit_code(self) -> ExitCode:
        undelivered = [o for o in self.outcomes if o.state not in ("sent", "to-do")]
        return ExitCode.UNREACHABLE if undelivered else ExitCode.OK


@dataclass(frozen=True)
class CheckResult:
    assessment: Assessment
    applied: Escalation | None = None

    @property
    def exit_code(self) -> ExitCode:
        """3 when an escalation is due and not recorded (a cron job pages on it); 4 when nothing is due but the
        journal cannot say for some rule (no look recorded): never "nothing due" on missing evidence."""
        a = self.assessment
        if self.applied is not None:
            return self.applied.exit_code
        if a.due:
            return ExitCode.PROBLEMS_FOUND
        if a.open and a.unknown:
            return ExitCode.UNREACHABLE
        return ExitCode.OK


EscalateResult = MatrixResult | CheckResult | Escalation


# --- the use cases ----------------------------------------------------------------------------------------


def run_escalate(ctx: PhaseContext, request: EscalateRequestType) -> EscalateResult:
    if isinstance(request, MatrixRequest):
        return MatrixResult(matrix(ctx.runbook))
    if isinstance(request, CheckRequest):
        return _check(ctx, request)
    return _manual(ctx, request)


def matrix(rb: Runbook) -> list[LevelView]:
    views = []
    for lvl in rb.escalation.levels:
        triggers = [f"severity:{sid}" for sid, sev in rb.severities.items() if sev.escalation.level == lvl.id]
        triggers += [r.id for r in rb.escalation.rules.automatic if r.escalate_to == lvl.id]
        triggers += [r.id for r in rb.escalation.rules.manual if r.escalate_to == lvl.id]
        contacts = [", ".join(part for part in (c.name, c.slack, c.email) if part) or "(unnamed)" for c in lvl.contacts]
        views.append(
            LevelView(
                lvl.id,
                lvl.role,
                lvl.response_time,
                list(lvl.responsibilities),
                contacts,
                list(lvl.notify),
                triggers,
            )
        )
    return views


def _incident(ctx: PhaseContext, explicit: str | None) -> Incident:
    return require_incident(ctx.journal(), explicit, usage="escalate check")


def _check(ctx: PhaseContext, request: CheckRequest) -> CheckResult:
    incident = _incident(ctx, request.incident)
    rb = ctx.runbook
    assessment = assess(rb, incident, ctx.journal().timeline(incident.id), ctx.clock())
    chosen = target(rb, assessment)
    if not request.apply or chosen is None:
        return CheckResult(assessment)
    level, rules = chosen
    reason = "; ".join(f"{r.rule}: {r.why}" for r in rules)
    done = escalate(ctx, incident, level, reason=reason, rule=rules[0].rule, automatic=True, allow_lower=True)
    return CheckResult(assess(rb, incident, ctx.journal().timeline(incident.id), ctx.clock()), done)


def _manual(ctx: PhaseContext, request: EscalateRequest) -> Escalation:
    rb = ctx.runbook
    manual = {r.id: r for r in rb.escalation.rules.manual}
    levels = [lvl.id for lvl in rb.escalation.levels]
    if request.level is not None and request.level not in levels:
        raise UsageError(
            f"--to {request.level}: not an escalation level of the runbook", hint=f"one of {', '.join(levels)}"
        )
    rule = None
    if request.rule is not None:
        rule = manual.get(request.rule)
        if rule is None:
            raise UsageError(
                f"--rule {request.rule}: not a manual escalation rule of the runbook",
                hint=f"one of {', '.join(manual) or '(none defined)'}",
            )
        if request.level is not None and request.level != rule.escalate_to:
            raise UsageError(
                f"--rule {rule.id} escalates to {rule.escalate_to}, not {request.level}",
                hint="give one of --to and --rule, or both that agree",
            )
    elif request.reason:
        # a reason that is a manual rule's name (its id or its description: "Security incident") picks the rule
        by_name = {name_key(n): r for r in manual.values() for n in (r.id, r.description)}
        rule = by_name.get(name_key(request.reason))
        if rule is not None and request.level is not None and request.level != rule.escalate_to:
            rule = None
    level = request.level or (rule.escalate_to if rule else None)
    if level is None:
        raise UsageError(
            "say which level: --to LEVEL or --rule RULE",
            hint=f"levels: {', '.join(levels)}; manual rules: {', '.join(manual) or '(none)'}",
        )
    reason = request.reason if request.reason and request.reason.strip() else (rule.description if rule else None)
    if reason is None:
        raise UsageError("say why: --reason TEXT", hint="the reason goes into the journal and every message")
    incident = _incident(ctx, request.incident)
    return escalate(ctx, incident, level, reason=reason, rule=rule.id if rule else None, automatic=False)


def escalate(
    ctx: PhaseContext,
    incident: Incident,
    level: str,
    *,
    reason: str,
    rule: str | None,
    automatic: bool,
    allow_lower: bool = False,
) -> Escalation:
    """Record the escalation under the journal's lock (once per level, never downwards), then tell the level's
    channels. A level already reached records nothing; its messages are queued if an earlier run stopped before."""
    from incidentctl.phases.context import learn_runbook_secrets

    rb = ctx.runbook
    journal = ctx.journal()
    spec = _level(rb, level)
    learn_runbook_secrets(ctx)
    # a pasted token or webhook URL in --reason is masked before it reaches the journal or any message
    safe_reason = ctx.secrets.redact(one_line(reason))[:500]
    batch = f"escalation-{level}" if spec.notify else None
    above: list[Reached] = []
    same: list[Reached] = []

    def decide(_incident: Incident, timeline: Sequence[Event]) -> Mapping[str, Any] | None:
        reached = reached_levels(rb, timeline)
        if reached and level_rank(rb, reached[-1].level) >= level_rank(rb, level):
            mine = [r for r in reached if r.level == level]
            (same if mine else above).append(mine[-1] if mine else reached[-1])
            return None
        payload = EscalatedPayload(
            level=level,
            role=spec.role,
            rule=rule,
            reason=safe_reason,
            automatic=automatic,
            notified=list(spec.notify),
            batch=batch,
        )
        return to_journal(payload)

    appended = journal.append_if_timeline(incident.id, EventKind.ESCALATED, decide)
    if above and not allow_lower:
        top = above[0]
        raise RefusedError(
            f"{incident.id} is already escalated to {top.level} ({top.role or top.level}), above {level}: "
            "nothing recorded",
            hint="an escalation only goes up; escalate check shows the levels reached",
        )
    if appended.event is None:
        found = (same or above)[0]
        return Escalation(
            incident.id,
            level,
            spec.role,
            found.reason,
            found.rule,
            found.automatic,
            False,
            found,
            _tell(ctx, appended.incident, found) if same else [],
        )
    recorded = reached_levels(rb, journal.timeline(incident.id))
    mine = next(r for r in reversed(recorded) if r.level == level)
    return Escalation(
        incident.id, level, spec.role, safe_reason, rule, automatic, True, mine, _tell(ctx, appended.incident, mine)
    )


def _level(rb: Runbook, level: str) -> EscalationLevel:
    for lvl in rb.escalation.levels:
        if lvl.id == level:
            return lvl
    raise UsageError(f"no escalation level {level!r}", hint=", ".join(lvl.id for lvl in rb.escalation.levels))


@dataclass(frozen=True)
class EscalationView:
    """The escalation as the escalation notice's template sees it; user text made safe."""

    level: str
    role: str
    response_time: timedelta
    responsibilities: tuple[str, ...]
    reason: str
    rule: str | None
    automatic: bool
    by: str


def _tell(ctx: PhaseContext, incident: Incident, reached: Reached) -> list[Outcome]:
    """Queue the level's messages (once: the batch is the level's) and deliver them."""
    from incidentctl.phases.context import learn_runbook_secrets

    spec = _level(ctx.runbook, reached.level)
    if not reached.batch or not reached.notified:
        return []
    learn_runbook_secrets(ctx)
    journal = ctx.journal()
    timeline = journal.timeline(incident.id)
    view = EscalationView(
        level=reached.level,
        role=spec.role,
        response_time=spec.response_time,
        responsibilities=tuple(one_line(r) for r in spec.responsibilities),
        reason=one_line(reached.reason),
        rule=one_line(reached.rule) if reached.rule else None,
        automatic=reached.automatic,
        by=one_line(reached.by),
    )
    known = [c for c in reached.notified if c in ctx.runbook.communication.channels]
    drafts = [
        compose(ctx, incident, timeline, "escalation", Target(c, None), Content(), {"escalation": view}) for c in known
    ]
    if not drafts:
        return []
    keys = queue(journal, incident.id, "escalation", drafts, batch=reached.batch)
    return flush(ctx, incident.id, FlushOptions(keys=frozenset(keys)))
