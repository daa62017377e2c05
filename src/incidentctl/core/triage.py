"""From what detect saw to the runbook's classification: severity with its reason, category, impact, deadlines.

Pure: the runbook and the check results go in, a :class:`Triage` comes out. The most severe rule whose
conditions all hold decides the severity; when something is wrong but no rule matches, the runbook's default
applies; when everything is healthy there is no incident. Every number in the result says where it came from.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from incidentctl.core.checks import AlertsObservation, CheckKind, CheckResult, Failure, Health, PodsObservation
from incidentctl.core.incident import Event, EventKind
from incidentctl.core.rules import ConditionOutcome, SignalValue, evaluate_all, format_value
from incidentctl.core.times import format_duration, format_percent

if TYPE_CHECKING:
    from incidentctl.runbook.model import Runbook


@dataclass(frozen=True)
class RuleMatch:
    rule: str
    severity: str
    description: str
    matched: bool
    outcomes: tuple[ConditionOutcome, ...]

    @property
    def because(self) -> str:
        return "; ".join(o.text for o in self.outcomes)

    @property
    def pending(self) -> bool:
        return not self.matched and any(o.pending for o in self.outcomes)


@dataclass(frozen=True)
class Deadline:
    what: str
    who: str
    by: datetime | None


@dataclass(frozen=True)
class Triage:
    healthy: bool
    severity: str | None
    severity_name: str | None
    #: "P2: error_rate 14% > 10% on synthesis (rule p2-error-rate); 3/9 pods not ready"
    reason: str
    decided_by: str | None
    category: str | None
    components: tuple[str, ...]
    users_affected: float | None
    users_affected_basis: str
    sla: dict[str, object]
    response_time: timedelta | None
    deadlines: tuple[Deadline, ...]
    notify: tuple[str, ...]
    rules: tuple[RuleMatch, ...]
    evidence: tuple[str, ...]
    signals: Mapping[str, Sequence[SignalValue]] = field(default_factory=dict)


def classify(
    rb: Runbook,
    results: Sequence[CheckResult],
    signals: Mapping[str, Sequence[SignalValue]],
    *,
    now: datetime,
    since: datetime | None = None,
) -> Triage:
    """Apply the runbook's triage rules. ``since`` is when the incident started (for deadlines and SLA burn)."""
    matches = _evaluate_rules(rb, signals)
    problems = [r for r in results if r.health is not Health.OK]
    winner = next((m for m in matches if m.matched), None)
    affected = tuple(sorted({r.subject for r in problems if r.subject in rb.component_names()}))
    evidence = tuple(f"{r.subject or r.target}: {r.summary}" for r in problems)

    if winner is not None:
        severity: str | None = winner.severity
        reason = f"{severity}: {winner.because} (rule {winner.rule})"
        decided_by: str | None = winner.rule
    elif problems:
        severity = rb.triage.default
        reason = f"{severity}: {len(problems)} problem(s) found but no rule matched (runbook default)"
        decided_by = "default"
    else:
        severity, decided_by = None, None
        reason = "healthy: every check passed"
    if severity is not None:
        extra = _pods_not_ready_text(signals)
        if extra:
            reason += f"; {extra}"

    users, basis = _users_affected(rb, signals, problems)
    start = since or now
    level = rb.severities[severity] if severity else None
    return Triage(
        healthy=severity is None,
        severity=severity,
        severity_name=level.name if level else None,
        reason=reason,
        decided_by=decided_by,
        category=infer_category(rb, problems) if severity else None,
        components=affected,
        users_affected=users,
        users_affected_basis=basis,
        sla=_sla(rb, signals, start, now),
        response_time=level.response_time if level else None,
        deadlines=_deadlines(rb, severity, start),
        notify=tuple(level.notify) if level else (),
        rules=tuple(matches),
        evidence=evidence,
        signals=signals,
    )


def _evaluate_rules(rb: Runbook, signals: Mapping[str, Sequence[SignalValue]]) -> list[RuleMatch]:
    order = {sid: i for i, sid in enumerate(rb.severities)}
    matches = []
    for rule in sorted(rb.triage.rules, key=lambda r: order.get(r.severity, len(order))):
        matched, outcomes = evaluate_all(rule.when, signals)
        matches.append(RuleMatch(rule.id, rule.severity, rule.description, matched, tuple(outcomes)))
    return matches


def _pods_not_ready_text(signals: Mapping[str, Sequence[SignalValue]]) -> str:
    parts = [f"{sv.detail} not ready" for sv in signals.get("pods_not_ready", ()) if sv.value and sv.detail]
    return ", ".join(parts)


def _users_affected(
    rb: Runbook, signals: Mapping[str, Sequence[SignalValue]], problems: Sequence[CheckResult]
) -> tuple[float | None, str]:
    """An estimate a person can check: all users when the service is down, else the worst error rate of a
    user-facing component, else the share of failing requests anywhere, else unknown."""
    if any(sv.value for sv in signals.get("service_down", ())):
        return 1.0, "the service is down for everyone"
    pick = _users_error_rate(rb, signals)
    if pick is not None and pick.value:
        return float(pick.value), f"error rate {format_value(pick.value, 'ratio')} on {pick.subject}"
    if not problems:
        return 0.0, "every check passed"
    if pick is not None:
        where = f" on {pick.subject}" if pick.subject else ""
        return None, f"error rate {format_value(pick.value, 'ratio')}{where}: impact not measurable from here"
    return None, "no error-rate signal: impact not measurable from here"


def _users_error_rate(rb: Runbook, signals: Mapping[str, Sequence[SignalValue]]) -> SignalValue | None:
    """The error rate users see: the worst user-facing component's, else the worst anywhere."""
    facing = {c.name for c in rb.components if c.user_facing}
    rates = [sv for sv in signals.get("error_rate", ()) if isinstance(sv.value, float) and not math.isnan(sv.value)]
    facing_rates = [sv for sv in rates if sv.subject in facing]
    return max(facing_rates or rates, key=lambda sv: float(sv.value or 0), default=None)


def _sla(
    rb: Runbook, signals: Mapping[str, Sequence[SignalValue]], start: datetime, now: datetime
) -> dict[str, object]:
    """Error-budget burn from the runbook's SLO: the rate at which the incident eats the budget, and how much of
    the window's budget the incident has used so far at the current error rate. The SLO is about the requests
    users make, so the rate is the one users see (as for users affected), not an internal component's."""
    if rb.slo is None:
        return {"slo": None}
    budget = 1 - rb.slo.availability
    down = any(sv.value for sv in signals.get("service_down", ()))
    pick = _users_error_rate(rb, signals)
    rate = 1.0 if down else float(pick.value or 0.0) if pick is not None else 0.0
    elapsed = max(now - start, timedelta(0))
    used = rate * elapsed / rb.slo.window / budget if budget > 0 else 0.0
    return {
        "slo": f"{format_percent(rb.slo.availability)} over {format_duration(rb.slo.window)}",
        "error_rate": rate,
        "burn_rate": rate / budget if budget > 0 else None,
        "budget_used": used,
        "elapsed_s": elapsed.total_seconds(),
    }


def deadlines(rb: Runbook, severity: str | None, start: datetime) -> tuple[Deadline, ...]:
    """The runbook's deadlines for a severity, counted from the impact's start."""
    return _deadlines(rb, severity, start)


def _deadlines(rb: Runbook, severity: str | None, start: datetime) -> tuple[Deadline, ...]:
    if severity is None:
        return ()
    level = rb.severities[severity]
    out = [Deadline(f"respond ({level.name})", "on-call (L1)", start + level.response_time)]
    roles = {lvl.id: lvl.role for lvl in rb.escalation.levels}
    esc = level.escalation
    if esc.level is not None:
        by = start + esc.within if esc.within is not None else None
        out.append(Deadline(esc.description, f"{roles.get(esc.level, esc.level)} ({esc.level})", by))
    else:
        out.append(Deadline(esc.description, "standard support", None))
    out.append(Deadline("first status update", ", ".join(level.notify) or "team", start + level.update_interval))
    return tuple(out)


#: What a finding's kind says about the incident's category: (runbook category, sub-kind).
_CATEGORY_BY_KIND = {
    CheckKind.DATASTORE: ("infrastructure", "database"),
    CheckKind.DEPENDENCY: ("application", "integration"),
    CheckKind.INGRESS: ("infrastructure", "network"),
    CheckKind.SERVICE: ("infrastructure", "network"),
}

#: Which findings say most about the cause: a failing datastore explains the 503s, not the other way round.
_SPECIFICITY = {
    CheckKind.DATASTORE: 0,
    CheckKind.DEPENDENCY: 1,
    CheckKind.PODS: 2,
    CheckKind.DEPLOYMENT: 3,
    CheckKind.INGRESS: 4,
    CheckKind.SERVICE: 5,
    CheckKind.SIGNAL: 6,
}

#: The cluster ran short (a pod that cannot be placed, or was pushed off its node): compute, even when the
#: scheduler's message says "Insufficient memory"; checked before OOMKilled for that reason.
_COMPUTE = (Failure.UNSCHEDULABLE, Failure.EVICTED)
#: The application broke or will not start.
_SERVICE = (
    Failure.CRASH_LOOP,
    Failure.CRASHED,
    Failure.IMAGE_PULL,
    Failure.CONTAINER_ERROR,
    Failure.POD_FAILED,
    Failure.WAITING,
    Failure.NOT_READY,
)
_SLOW = (Failure.SLOW, Failure.TIMEOUT, Failure.THRESHOLD)


def _failures(r: CheckResult) -> set[Failure]:
    """Every failure a finding carries: its own, and for a pod check every one of its pods'."""
    found = {r.failure} if r.failure is not None else set()
    if isinstance(r.observation, PodsObservation):
        found.update(r.observation.failures)
    return found


def _guess(r: CheckResult) -> tuple[str, str] | None:
    failures = _failures(r)
    if r.kind in _CATEGORY_BY_KIND:
        return _CATEGORY_BY_KIND[r.kind]
    if failures & set(_COMPUTE):
        return ("infrastructure", "compute")
    if Failure.OOM_KILLED in failures:
        return ("application", "performance")
    if failures & set(_SERVICE) or r.kind in (CheckKind.PODS, CheckKind.DEPLOYMENT, CheckKind.HTTP):
        return ("application", "service")
    if failures & set(_SLOW) or r.kind is CheckKind.SIGNAL:
        return ("application", "performance")
    return None


def _labelled(r: CheckResult) -> list[tuple[str, str]]:
    """What firing alerts say of themselves: a ``category`` label (and a ``kind`` label for the kind), as a
    security team's rules label theirs (``category=security``, ``kind=attack``)."""
    if r.kind is not CheckKind.ALERTS or not isinstance(r.observation, AlertsObservation):
        return []
    return [
        (a.labels["category"].strip().lower(), a.labels.get("kind", "").strip().lower())
        for a in r.observation.alerts
        if a.labels.get("category", "").strip()
    ]


def infer_category(rb: Runbook, problems: Sequence[CheckResult]) -> str | None:
    """A first guess a person confirms: an alert labelled with a runbook category says it outright (monitoring
    knew what it watched for); otherwise the most telling finding decides, by its kind and its typed failure
    (the words of a summary, a pod name or an event message never do). Only categories the runbook defines are
    ever returned."""
    # A check that could not run (403, timeout of the API) says nothing about what is wrong.
    known = [r for r in problems if r.health is not Health.UNKNOWN]
    guesses: list[tuple[str, str] | None] = [g for r in known for g in _labelled(r)]
    guesses += [_guess(r) for r in sorted(known, key=lambda r: (_SPECIFICITY.get(r.kind, 9), -r.health.rank))]
    for guess in guesses:
        if guess is None:
            continue
        category, kind = guess
        cat = rb.categories.get(category)
        if cat is not None:
            return f"{category}/{kind}" if kind in cat.kinds else category
    return None


# --- who decides the severity -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeveritySetting:
    """Who set an incident's current severity, read from its timeline."""

    severity: str
    actor: str
    at: datetime
    #: The triage rule that chose it; None when a person chose it.
    rule: str | None
    #: The reason given with it (a person's ``-m``, or triage's reason).
    message: str | None

    @property
    def by_person(self) -> bool:
        return self.rule is None


def severity_setting(events: Sequence[Event]) -> SeveritySetting | None:
    """The latest declaration or severity change. Triage marks its own with the rule that chose the severity;
    everything else (``incident declare``, ``incident severity``, a record from an older incidentctl) counts as a
    person's choice, which is the safe reading: triage then never lowers it."""
    for event in reversed(events):
        if event.kind not in (EventKind.DECLARED, EventKind.SEVERITY_CHANGED):
            continue
        data = event.data
        declared = event.kind == EventKind.DECLARED
        rule = data.get("severity_rule" if declared else "rule")
        message = None if declared else data.get("message")
        return SeveritySetting(
            severity=str(data.get("severity" if declared else "to")),
            actor=event.actor,
            at=event.time,
            rule=rule if isinstance(rule, str) and rule else None,
            message=message if isinstance(message, str) and message else None,
        )
    return None


@dataclass(frozen=True)
class SeverityDecision:
    """What triage does with an open incident's severity, and why, for the output and the journal."""

    #: "unchanged", "raised", "lowered" (both recorded as a severity change) or "kept" (triage would choose
    #: another, lower, severity, but a person set this one)
    action: str
    #: The incident's severity before and after.
    current: str
    severity: str
    #: What triage's rules choose, and why.
    proposed: str
    because: str
    set_by: SeveritySetting | None
    forced: bool
    explanation: str

    @property
    def changes(self) -> bool:
        return self.action in ("raised", "lowered")


def decide_severity(
    order: Sequence[str], setting: SeveritySetting | None, current: str, triage: Triage, *, force: bool = False
) -> SeverityDecision:
    """Raise when the evidence is worse; lower only a severity triage itself chose, or when asked to (``force``).

    A person who set P1 because customers report checkout broken knows something the checks may not see; a
    triage run a minute later must not quietly undo that. ``order`` is the runbook's severities, most severe first.
    """
    proposed = triage.severity or current
    because = triage.reason.split(": ", 1)[-1]
    who = _who(setting)
    if proposed == current:
        text = f"{current} {who}; triage agrees" if setting is not None and setting.by_person else current
        return SeverityDecision("unchanged", current, current, proposed, because, setting, False, text)
    rank = {level: i for i, level in enumerate(order)}
    worse = rank.get(proposed, len(order)) < rank.get(current, len(order))
    if worse:
        text = (
            f"raised {current} → {proposed} because {because}: "
            f"the evidence is worse than when {current} was set{_by(setting)}"
        )
        return SeverityDecision("raised", current, proposed, proposed, because, setting, False, text)
    if setting is not None and setting.by_person and not force:
        text = (
            f"kept {current} {who}; triage would choose {proposed} because {because} "
            f"(to lower it: triage --declare --force-severity)"
        )
        return SeverityDecision("kept", current, current, proposed, because, setting, False, text)
    forced = setting is not None and setting.by_person
    text = f"lowered {current} → {proposed} because {because}" + (
        f", over {current} {who} (--force-severity)" if forced else f" ({current} was {who})"
    )
    return SeverityDecision("lowered", current, proposed, proposed, because, setting, forced, text)


def _who(setting: SeveritySetting | None) -> str:
    if setting is None:
        return "(who set it is not recorded)"
    when = setting.at.astimezone(timezone.utc).strftime("%H:%M UTC")
    if not setting.by_person:
        return f"set by triage (rule {setting.rule}) at {when}"
    said = f': "{setting.message}"' if setting.message else ""
    return f"set by {setting.actor} at {when}{said}"


def _by(setting: SeveritySetting | None) -> str:
    if setting is None:
        return ""
    return f" by {setting.actor}" if setting.by_person else f" by triage (rule {setting.rule})"
