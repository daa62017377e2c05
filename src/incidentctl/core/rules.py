"""Evaluating the runbook's structured rules (signal, comparison, threshold, duration) against live signals.

Every evaluation keeps its evidence, so triage can say *why* ("error_rate 14 % > 10 % on synthesis") and a
rule that is only pending ("service_down for 4m of 15m") is shown as such rather than silently false.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, Protocol

from incidentctl.core.times import format_duration, format_elapsed, format_percent

Unit = Literal["ratio", "seconds", "count", "bool"]

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}


@dataclass(frozen=True)
class SignalValue:
    """One measurement of a signal, for one subject (a component) or for the whole service (subject None)."""

    name: str
    unit: Unit
    value: float | bool | None
    subject: str | None = None
    #: How long the value has held (from the journal or the source); None when unknown.
    held_for: timedelta | None = None
    #: Where it came from, for people: "prometheus", "detect", "declared by hand".
    source: str = "detect"
    #: Context for people, e.g. "3/9 pods" for a ratio.
    detail: str | None = None


class ConditionLike(Protocol):
    """What a rule condition provides (the runbook's ``Condition`` model satisfies it)."""

    @property
    def signal(self) -> str: ...
    @property
    def op(self) -> str: ...
    @property
    def threshold(self) -> float | None: ...
    @property
    def for_(self) -> timedelta | None: ...


@dataclass(frozen=True)
class ConditionOutcome:
    holds: bool
    #: The condition with the value that decided it, in words: "error_rate 14% > 10% on synthesis".
    text: str
    #: True when the comparison holds but not yet for the rule's duration.
    pending: bool = False
    subject: str | None = None


def format_value(value: float | bool | None, unit: Unit | str) -> str:
    if value is None:
        return "unknown"
    if unit == "bool" or isinstance(value, bool):
        return "yes" if value else "no"
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if unit == "ratio":
        return format_percent(value)
    if unit == "seconds":
        return format_elapsed(value)
    return f"{value:g}"


def evaluate_condition(cond: ConditionLike, values: Sequence[SignalValue]) -> ConditionOutcome:
    """A condition holds when it holds for at least one subject; the worst offender is the one reported."""
    if not values:
        return ConditionOutcome(False, f"{cond.signal}: no data")
    best: ConditionOutcome | None = None
    worst: tuple[float, ConditionOutcome] | None = None
    for sv in values:
        outcome = _one(cond, sv)
        if outcome.holds:
            how_bad = _how_far(cond.op, sv)
            if worst is None or how_bad > worst[0]:
                worst = (how_bad, outcome)
        elif (outcome.pending and (best is None or not best.pending)) or best is None:
            best = outcome
    if worst is not None:
        return worst[1]
    assert best is not None
    return best


def _how_far(op: str, sv: SignalValue) -> float:
    """How far past the threshold a value is, in the direction the comparison points (larger is worse)."""
    if sv.unit == "bool" or isinstance(sv.value, bool) or sv.value is None:
        return 0.0
    value = float(sv.value)
    return -value if op in ("<", "<=") else value if op in (">", ">=") else 0.0


def _one(cond: ConditionLike, sv: SignalValue) -> ConditionOutcome:
    where = f" on {sv.subject}" if sv.subject else ""
    if sv.value is None:
        return ConditionOutcome(False, f"{cond.signal} unknown{where}", subject=sv.subject)
    if sv.unit == "bool":
        compared = bool(sv.value)
        text = f"{cond.signal}{where}" if compared else f"not {cond.signal}{where}"
    else:
        threshold = cond.threshold if cond.threshold is not None else 0.0
        value = float(sv.value)
        if math.isnan(value):
            # NaN compares false with everything: say so rather than claim "NaN <= 10%".
            return ConditionOutcome(False, f"{cond.signal} NaN{where} (not comparable)", subject=sv.subject)
        compared = _OPS[cond.op](value, threshold)
        text = (
            f"{cond.signal} {format_value(value, sv.unit)} {cond.op if compared else _negated(cond.op)} "
            f"{format_value(threshold, sv.unit)}{where}"
        )
    if not compared:
        return ConditionOutcome(False, text, subject=sv.subject)
    if cond.for_ is not None and cond.for_ > timedelta(0):
        held = sv.held_for
        if held is None or held < cond.for_:
            so_far = format_elapsed(held) if held is not None else "an unknown time"
            return ConditionOutcome(False, f"{text} for {so_far} of {format_duration(cond.for_)}", True, sv.subject)
        text += f" for {format_elapsed(held)}"
    return ConditionOutcome(True, text, subject=sv.subject)


def _negated(op: str) -> str:
    return {">": "<=", ">=": "<", "<": ">=", "<=": ">", "==": "!=", "!=": "=="}[op]


def evaluate_all(
    conditions: Sequence[ConditionLike], signals: Mapping[str, Sequence[SignalValue]]
) -> tuple[bool, list[ConditionOutcome]]:
    """All conditions of a rule must hold (each may be met by a different subject)."""
    outcomes = [evaluate_condition(c, signals.get(c.signal, ())) for c in conditions]
    return all(o.holds for o in outcomes), outcomes
