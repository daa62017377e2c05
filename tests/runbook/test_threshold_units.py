"""A threshold's unit must fit what it is compared with: a percentage is a ratio, a duration is seconds, and a count
or a plain number is neither. Every signal unit the runbook has (ratio, seconds, count, bool) and the SLO target are
covered; each mistake is one problem located at the threshold itself."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from incidentctl.runbook.loader import load_runbook
from incidentctl.runbook.problems import Problem, RunbookInvalid

P2_RESPONSE = 'when: [{signal: response_time, op: ">", threshold: 30s}]'
P2_ERRORS = 'when: [{signal: error_rate, op: ">", threshold: 10%}]'
P3_COUNT = 'when: [{signal: components_degraded, op: ">=", threshold: 1}]'
L2_RESPONSE = 'when: [{signal: response_time, op: ">", threshold: 60s}]'


@dataclass(frozen=True)
class Wrong:
    id: str
    old: str
    new: str
    path: str
    message: str
    hint: str | None = None


WRONG = [
    Wrong(
        "percent-on-seconds",
        P2_RESPONSE,
        P2_RESPONSE.replace("30s", "30%"),
        "triage.rules[2].when[0].threshold",
        "'response_time' is measured in seconds, but the threshold 30% is a percentage",
        "write a duration such as 30s, or a number of seconds",
    ),
    Wrong(
        "duration-on-count",
        P3_COUNT,
        P3_COUNT.replace("threshold: 1", "threshold: 2h"),
        "triage.rules[4].when[0].threshold",
        "'components_degraded' is a count, but the threshold 2h is a duration",
        "write a plain number such as 2",
    ),
    Wrong(
        "percent-on-count",
        P3_COUNT,
        P3_COUNT.replace("threshold: 1", "threshold: 50%"),
        "triage.rules[4].when[0].threshold",
        "'components_degraded' is a count, but the threshold 50% is a percentage",
    ),
    Wrong(
        "duration-on-ratio",
        P2_ERRORS,
        P2_ERRORS.replace("10%", "5m"),
        "triage.rules[1].when[0].threshold",
        "'error_rate' is a ratio, but the threshold 5m is a duration",
        "write a percentage such as 10%, or a number from 0 to 1",
    ),
    Wrong(
        "milliseconds-on-builtin-ratio",
        P3_COUNT,
        'when: [{signal: pods_not_ready, op: ">", threshold: 500ms}]',
        "triage.rules[4].when[0].threshold",
        "'pods_not_ready' is a ratio, but the threshold 500ms is a duration",
    ),
    Wrong(
        "percent-on-seconds-in-escalation",
        L2_RESPONSE,
        L2_RESPONSE.replace("60s", "60%"),
        "escalation.rules.automatic[2].when[0].threshold",
        "'response_time' is measured in seconds, but the threshold 60% is a percentage",
    ),
    Wrong(
        "duration-as-slo-target",
        "availability: 99.9%",
        "availability: 30s",
        "slo.availability",
        "the availability target is a ratio, but 30s is a duration",
        "write a percentage such as 99.9%",
    ),
    Wrong(
        "slo-target-above-one",
        "availability: 99.9%",
        "availability: 99.9",
        "slo.availability",
        "the availability target is a ratio (0..1) but it is 99.9",
        "did you mean 99.9%?",
    ),
]


def _load(tmp_path: Path, text: str) -> RunbookInvalid:
    path = tmp_path / "runbook.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RunbookInvalid) as info:
        load_runbook(path)
    return info.value


@pytest.mark.parametrize("case", WRONG, ids=[c.id for c in WRONG])
def test_a_threshold_in_the_wrong_unit_is_a_located_problem(case: Wrong, runbook_text: str, tmp_path: Path) -> None:
    assert case.old in runbook_text
    text = runbook_text.replace(case.old, case.new, 1)

    err = _load(tmp_path, text)

    (problem,) = err.problems
    assert problem.message == case.message
    if case.hint is not None:
        assert problem.hint == case.hint
    where = text.index(case.new)
    value = case.new.split(": ")[-1].rstrip("}]")
    line = text.count("\n", 0, where) + 1
    column = where - text.rfind("\n", 0, where) + case.new.rindex(value)
    assert (problem.line, problem.column) == (line, column)
    assert str(err).startswith(f"{tmp_path / 'runbook.yaml'}:{line}:{column}: {case.path}: ")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (P2_RESPONSE, P2_RESPONSE.replace("30s", "500ms"), 0.5),
        (P2_RESPONSE, P2_RESPONSE.replace("30s", "45"), 45.0),  # a plain number is in the signal's unit
        (P2_ERRORS, P2_ERRORS.replace("10%", "0.1"), 0.1),
        (P3_COUNT, P3_COUNT.replace("threshold: 1", "threshold: 2"), 2.0),
    ],
)
def test_thresholds_in_the_signals_unit_still_load(
    runbook_text: str, tmp_path: Path, old: str, new: str, expected: float
) -> None:
    path = tmp_path / "runbook.yaml"
    path.write_text(runbook_text.replace(old, new, 1), encoding="utf-8")
    rb = load_runbook(path)
    thresholds = [c.threshold for r in rb.triage.rules for c in r.when]
    assert expected in thresholds


def test_every_signal_unit_refuses_some_spelling(runbook_text: str, tmp_path: Path) -> None:
    """A unit added to the schema later gets a rule here too, or this fails."""
    import typing

    from incidentctl.runbook.model import SignalUnit

    marker = "signals:\n"
    assert marker in runbook_text
    for unit in typing.get_args(SignalUnit):
        if unit == "bool":  # a bool signal takes no threshold at all (covered by the malformed-runbook table)
            continue
        refused = []
        for written in ("30%", "30s", "0.3"):
            signal = f"  custom_{unit}:\n    description: x\n    unit: {unit}\n    query: up\n"
            rule = P3_COUNT.replace("components_degraded", f"custom_{unit}").replace("1}", f"{written}}}")
            text = runbook_text.replace(marker, marker + signal, 1).replace(P3_COUNT, rule, 1)
            problems = _problems(tmp_path, text)
            assert all(p.loc[-1] == "threshold" for p in problems), [p.message for p in problems]
            if problems:
                refused.append(written)
        assert refused, f"unit {unit!r} accepts a threshold in any unit"
        assert "0.3" not in refused  # a plain number is always in the signal's own unit


def _problems(tmp_path: Path, text: str) -> list[Problem]:
    path = tmp_path / "runbook.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        load_runbook(path)
    except RunbookInvalid as e:
        return e.problems
    return []
