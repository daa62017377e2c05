"""From what detect saw to the runbook's classification: severity with its reason, category, impact, deadlines.

Pure: the runbook and the check results go in, a :class:`Triage` comes out. The most severe rule whose
conditions all hold decides the severity; when something is wrong but no rule matches, the runbook's default
applies; when everything is healthy there is no incident. Every number in the result says where it came from.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from incidentctl.core.checks import CheckResult, Health
from incidentctl.core.rules import ConditionOutcome, SignalValue, evaluate_all, format_value

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
        "slo": f"{rb.slo.availability * 100:g}% over {_days(rb.slo.window)}",
        "error_rate": rate,
        "burn_rate": rate / budget if budget > 0 else None,
        "budget_used": used,
        "elapsed_s": elapsed.total_seconds(),
    }


def _days(window: timedelta) -> str:
    return f"{window.days}d" if window.days else f"{window.total_seconds() / 3600:g}h"


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
    "datastore": ("infrastructure", "database"),
    "dependency": ("application", "integration"),
    "ingress": ("infrastructure", "network"),
    "service": ("infrastructure", "network"),
}


#: Which findings say most about the cause: a failing datastore explains the 503s, not the other way round.
_SPECIFICITY = {"datastore": 0, "dependency": 1, "pods": 2, "deployment": 3, "ingress": 4, "service": 5, "signal": 6}


def infer_category(rb: Runbook, problems: Sequence[CheckResult]) -> str | None:
    """A first guess a person confirms: the most telling finding decides. Only categories the runbook defines
    are ever returned."""
    guesses: list[tuple[str, str]] = []
    # A check that could not run (403, timeout of the API) says nothing about what is wrong.
    known = [r for r in problems if r.health is not Health.UNKNOWN]
    for r in sorted(known, key=lambda r: (_SPECIFICITY.get(r.kind, 9), -r.health.rank)):
        text = " ".join((r.summary, *r.reasons)).lower()
        if r.kind in _CATEGORY_BY_KIND:
            guesses.append(_CATEGORY_BY_KIND[r.kind])
        elif "pending" in text or "unschedulable" in text or "evicted" in text:
            # Before the memory words: "Evicted: the node was low on resource: memory" and "Insufficient
            # memory" are the cluster running short (compute), not the application leaking.
            guesses.append(("infrastructure", "compute"))
        elif "oomkilled" in text or "memory" in text:
            guesses.append(("application", "performance"))
        elif "crashloop" in text or "error" in text or r.kind in ("pods", "deployment", "http"):
            guesses.append(("application", "service"))
        elif "latency" in text or "slow" in text or r.kind == "signal":
            guesses.append(("application", "performance"))
    for category, kind in guesses:
        cat = rb.categories.get(category)
        if cat is not None:
            return f"{category}/{kind}" if kind in cat.kinds else category
    return None
