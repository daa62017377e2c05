"""Checks that need the whole runbook: names that must exist, ids that must be unique, units that must agree.

The schema can only check one value at a time; these checks catch the mistakes that make a runbook silently wrong
at 3 a.m. (a rule for severity "P5" that does not exist, a template file that is not there).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from incidentctl.runbook.model import BUILTIN_SIGNALS, Condition, Runbook, Switch
from incidentctl.runbook.problems import Loc, Problem
from incidentctl.runbook.types import ThresholdSpelling, threshold_spelling


def check_references(rb: Runbook, base_dir: Path) -> list[Problem]:
    problems: list[Problem] = []
    problems += _unique_names(rb)
    problems += _component_links(rb)
    problems += _severity_links(rb)
    problems += _escalation_links(rb)
    problems += _signals(rb)
    problems += _slo(rb)
    problems += _channels(rb)
    problems += _templates(rb, base_dir)
    problems += _mitigation(rb)
    return problems


def _suggest(name: str, valid: Iterable[str]) -> str:
    import difflib

    valid = list(valid)
    close = difflib.get_close_matches(name, valid, n=1, cutoff=0.5)
    if close:
        return f"did you mean {close[0]!r}?"
    return f"known: {', '.join(valid)}" if valid else "none are defined"


def _unique_names(rb: Runbook) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[str, Loc] = {}
    groups: list[tuple[str, list[str]]] = [
        ("components", [c.name for c in rb.components]),
        ("dependencies", [d.name for d in rb.dependencies]),
        ("datastores", [d.name for d in rb.datastores]),
    ]
    for section, names in groups:
        for i, name in enumerate(names):
            loc: Loc = (section, i, "name")
            if name in seen:
                first = seen[name]
                problems.append(
                    Problem(
                        loc,
                        f"duplicate name {name!r} (already used at {first[0]}[{first[1]}])",
                        hint="components, dependencies and datastores share one namespace",
                    )
                )
            else:
                seen[name] = loc
    for section, ids in (
        ("triage.rules", [r.id for r in rb.triage.rules]),
        ("escalation.levels", [lvl.id for lvl in rb.escalation.levels]),
        ("escalation.rules.automatic", [r.id for r in rb.escalation.rules.automatic]),
        ("escalation.rules.manual", [r.id for r in rb.escalation.rules.manual]),
    ):
        first_at: dict[str, int] = {}
        for i, ident in enumerate(ids):
            if ident in first_at:
                loc = (*section.split("."), i, "id")
                problems.append(Problem(loc, f"duplicate id {ident!r} (first at {section}[{first_at[ident]}])"))
            first_at.setdefault(ident, i)
    for ci, ds in enumerate(rb.datastores):
        names = [a.name for a in ds.actions]
        for ai, name in enumerate(names):
            if name in names[:ai]:
                problems.append(Problem(("datastores", ci, "actions", ai, "name"), f"duplicate action {name!r}"))
    return problems


def _component_links(rb: Runbook) -> list[Problem]:
    problems: list[Problem] = []
    components = rb.component_names()
    usable = [d.name for d in rb.dependencies] + [d.name for d in rb.datastores]
    for i, comp in enumerate(rb.components):
        for j, other in enumerate(comp.depends_on):
            if other not in components:
                problems.append(
                    Problem(
                        ("components", i, "depends_on", j), f"unknown component {other!r}", _suggest(other, components)
                    )
                )
            elif other == comp.name:
                problems.append(Problem(("components", i, "depends_on", j), "a component cannot depend on itself"))
        for j, used in enumerate(comp.uses):
            if used not in usable:
                problems.append(
                    Problem(
                        ("components", i, "uses", j),
                        f"unknown dependency or datastore {used!r}",
                        _suggest(used, usable),
                    )
                )
        if comp.scale is not None and comp.scale.min > comp.scale.max:
            problems.append(
                Problem(("components", i, "scale", "min"), f"min {comp.scale.min} is above max {comp.scale.max}")
            )
        surge = comp.scale.surge if comp.scale else None
        if comp.scale is not None and surge is not None and not comp.scale.min <= surge <= comp.scale.max:
            problems.append(
                Problem(
                    ("components", i, "scale", "surge"),
                    f"surge {surge} is outside min..max ({comp.scale.min}..{comp.scale.max})",
                )
            )
    users: list[tuple[str, list[list[str]]]] = [
        ("dependencies", [d.used_by for d in rb.dependencies]),
        ("datastores", [d.used_by for d in rb.datastores]),
    ]
    for section, lists in users:
        for i, used_by in enumerate(lists):
            for j, user in enumerate(used_by):
                if user not in components:
                    problems.append(
                        Problem((section, i, "used_by", j), f"unknown component {user!r}", _suggest(user, components))
                    )
    return problems


def _severity_links(rb: Runbook) -> list[Problem]:
    problems: list[Problem] = []
    severities = list(rb.severities)

    def check(loc: Loc, severity: str) -> None:
        if severity not in rb.severities:
            problems.append(Problem(loc, f"unknown severity {severity!r}", _suggest(severity, severities)))

    for i, rule in enumerate(rb.triage.rules):
        check(("triage", "rules", i, "severity"), rule.severity)
    check(("triage", "default"), rb.triage.default)
    for i, severity in enumerate(rb.postmortem.required_for):
        check(("postmortem", "required_for", i), severity)
    for i, severity in enumerate(rb.slo.counts if rb.slo is not None else []):
        check(("slo", "counts", i), severity)
    return problems


def _escalation_links(rb: Runbook) -> list[Problem]:
    problems: list[Problem] = []
    levels = [lvl.id for lvl in rb.escalation.levels]

    def check(loc: Loc, level: str | None) -> None:
        if level is not None and level not in levels:
            problems.append(Problem(loc, f"unknown escalation level {level!r}", _suggest(level, levels)))

    for sid, sev in rb.severities.items():
        check(("severities", sid, "escalation", "level"), sev.escalation.level)
    for i, auto in enumerate(rb.escalation.rules.automatic):
        check(("escalation", "rules", "automatic", i, "escalate_to"), auto.escalate_to)
    for i, manual in enumerate(rb.escalation.rules.manual):
        check(("escalation", "rules", "manual", i, "escalate_to"), manual.escalate_to)
    channels = list(rb.communication.channels)
    for i, lvl in enumerate(rb.escalation.levels):
        for j, channel in enumerate(lvl.notify):
            if channel not in rb.communication.channels:
                loc: Loc = ("escalation", "levels", i, "notify", j)
                problems.append(Problem(loc, f"unknown channel {channel!r}", _suggest(channel, channels)))
    return problems


def _signals(rb: Runbook) -> list[Problem]:
    problems: list[Problem] = []
    for name, signal in rb.signals.items():
        if signal.source == "prometheus" and not signal.query:
            problems.append(Problem(("signals", name), "a prometheus signal needs a 'query'"))
        if signal.source == "builtin" and name not in BUILTIN_SIGNALS:
            problems.append(
                Problem(
                    ("signals", name, "source"),
                    f"{name!r} is not a built-in signal",
                    f"built-in signals: {', '.join(BUILTIN_SIGNALS)}",
                )
            )
        if signal.source == "prometheus" and rb.observability.prometheus is None:
            problems.append(Problem(("signals", name), "a prometheus signal needs observability.prometheus.url"))
    rule_sets: list[tuple[Loc, list[Condition]]] = []
    rule_sets += [(("triage", "rules", i, "when"), r.when) for i, r in enumerate(rb.triage.rules)]
    rule_sets += [
        (("escalation", "rules", "automatic", i, "when"), r.when) for i, r in enumerate(rb.escalation.rules.automatic)
    ]
    known = [*rb.signals, *BUILTIN_SIGNALS]
    for i, mapping in enumerate(rb.observability.alertmanager.signals if rb.observability.alertmanager else []):
        loc: Loc = ("observability", "alertmanager", "signals", i, "signal")
        unit = rb.signal_unit(mapping.signal)
        if unit is None:
            problems.append(Problem(loc, f"unknown signal {mapping.signal!r}", _suggest(mapping.signal, known)))
        elif unit != "bool":
            problems.append(
                Problem(loc, f"{mapping.signal!r} is measured in {unit}: an alert can only set an on/off signal")
            )
    for base, conditions in rule_sets:
        for j, cond in enumerate(conditions):
            problems += _condition(rb, (*base, j), cond, known)
    return problems


def _condition(rb: Runbook, loc: Loc, cond: Condition, known: list[str]) -> list[Problem]:
    unit = rb.signal_unit(cond.signal)
    if unit is None:
        return [Problem((*loc, "signal"), f"unknown signal {cond.signal!r}", _suggest(cond.signal, known))]
    if unit == "bool":
        if cond.threshold is not None:
            return [Problem((*loc, "threshold"), f"{cond.signal!r} is on or off: drop the threshold")]
        return []
    if cond.threshold is None:
        return [Problem(loc, f"{cond.signal!r} is measured in {unit}: the rule needs a 'threshold'")]
    misfit = _unit_misfit(f"{cond.signal!r}", unit, cond.threshold_written)
    if misfit is not None:
        return [Problem((*loc, "threshold"), *misfit)]
    if unit == "ratio" and cond.threshold > 1:
        pct = f"{cond.threshold:g}%"
        return [
            Problem(
                (*loc, "threshold"),
                f"{cond.signal!r} is a ratio (0..1) but the threshold is {cond.threshold:g}",
                f"did you mean {pct}?",
            )
        ]
    return []


#: How each unit reads in a message, which spellings of a threshold fit it, and what to write instead.
_UNIT_WORDS: dict[str, tuple[str, tuple[ThresholdSpelling, ...], str]] = {
    "ratio": ("is a ratio", ("percent", "number"), "write a percentage such as 10%, or a number from 0 to 1"),
    "seconds": (
        "is measured in seconds",
        ("duration", "number"),
        "write a duration such as 30s, or a number of seconds",
    ),
    "count": ("is a count", ("number",), "write a plain number such as {number}"),
}
_SPELLING_WORDS: dict[ThresholdSpelling, str] = {
    "percent": "a percentage",
    "duration": "a duration",
    "number": "a number",
}


def _unit_misfit(what: str, unit: str, written: str | float | None) -> tuple[str, str] | None:
    """(message, hint) when a threshold is written in a unit its signal is not measured in: ``30%`` compared
    with a response time would silently become 0.3 s."""
    spelling = threshold_spelling(written)
    if unit not in _UNIT_WORDS or spelling is None:
        return None
    words, fits, hint = _UNIT_WORDS[unit]
    if spelling in fits:
        return None
    number = re.match(r"[0-9.]*", str(written).strip())
    hint = hint.format(number=number.group(0) if number and number.group(0) else "1")
    return f"{what} {words}, but the threshold {written} is {_SPELLING_WORDS[spelling]}", hint


def _slo(rb: Runbook) -> list[Problem]:
    if rb.slo is None:
        return []
    loc: Loc = ("slo", "availability")
    written = rb.slo.threshold_written
    if threshold_spelling(written) == "duration":
        return [
            Problem(
                loc,
                f"the availability target is a ratio, but {written} is a duration",
                "write a percentage such as 99.9%",
            )
        ]
    target = rb.slo.availability
    if target > 1:
        return [
            Problem(
                loc, f"the availability target is a ratio (0..1) but it is {target:g}", f"did you mean {target:g}%?"
            )
        ]
    return []


def _channels(rb: Runbook) -> list[Problem]:
    problems: list[Problem] = []
    channels = list(rb.communication.channels)
    for sid, sev in rb.severities.items():
        for j, channel in enumerate(sev.notify):
            if channel not in rb.communication.channels:
                problems.append(
                    Problem(
                        ("severities", sid, "notify", j), f"unknown channel {channel!r}", _suggest(channel, channels)
                    )
                )
    return problems


def _templates(rb: Runbook, base_dir: Path) -> list[Problem]:
    from incidentctl.runbook.templates import resolve_template

    problems: list[Problem] = []
    for name, relative in rb.communication.templates.items():
        if resolve_template(relative, base_dir) is None:
            problems.append(
                Problem(
                    ("communication", "templates", name),
                    f"template file not found: {relative}",
                    hint=f"looked beside the runbook ({base_dir}) and in incidentctl's own templates",
                )
            )
    return problems


def _mitigation(rb: Runbook) -> list[Problem]:
    """The mitigation section against the rest: a breaker for a dependency the runbook does not have, or a switch
    whose revert misses an object its apply changes, would fail at 3 a.m. or leave part of a change behind."""
    problems: list[Problem] = []
    mitigation = rb.mitigation
    rails = mitigation.guardrails
    severities = list(rb.severities)
    for severity in rails.severity_actions:
        if severity not in rb.severities:
            problems.append(
                Problem(
                    ("mitigation", "guardrails", "severity_actions", severity),
                    f"unknown severity {severity!r}",
                    _suggest(severity, severities),
                    at_key=True,
                )
            )
    if rails.namespaces and rb.cluster.namespace not in rails.namespaces:
        problems.append(
            Problem(
                ("mitigation", "guardrails", "namespaces"),
                f"the runbook's own namespace {rb.cluster.namespace!r} is not allowed, so no mitigation could run",
                hint=f"add {rb.cluster.namespace} to the list, or leave it empty (the runbook's namespace only)",
            )
        )
    dependencies = [d.name for d in rb.dependencies]
    for name in mitigation.circuit_breakers:
        if name not in dependencies:
            problems.append(
                Problem(
                    ("mitigation", "circuit_breakers", name),
                    f"unknown dependency {name!r}: a circuit breaker is named after the dependency it cuts off",
                    _suggest(name, dependencies),
                    at_key=True,
                )
            )
    switches: list[tuple[Loc, Switch]] = []
    if mitigation.maintenance is not None:
        switches.append((("mitigation", "maintenance"), mitigation.maintenance))
    switches += [(("mitigation", "circuit_breakers", k), s) for k, s in mitigation.circuit_breakers.items()]
    switches += [(("mitigation", "redirects", k), s) for k, s in mitigation.redirects.items()]
    for loc, switch in switches:
        problems += _switch(rb, loc, switch)
    return problems


def _switch(rb: Runbook, loc: Loc, switch: Switch) -> list[Problem]:
    problems: list[Problem] = []
    components = rb.component_names()
    for j, name in enumerate(switch.components):
        if name not in components:
            problems.append(Problem((*loc, "components", j), f"unknown component {name!r}", _suggest(name, components)))
    applied = [f"{c.resource}/{c.name}" for c in switch.apply]
    reverted = [f"{c.resource}/{c.name}" for c in switch.revert]
    missing = [o for o in dict.fromkeys(applied) if o not in reverted]
    extra = [o for o in dict.fromkeys(reverted) if o not in applied]
    parts = [f"does not put back {', '.join(missing)}, which apply changes"] if missing else []
    parts += [f"changes {', '.join(extra)}, which apply does not touch"] if extra else []
    if parts:
        problems.append(
            Problem(
                (*loc, "revert"),
                f"revert {' and '.join(parts)}",
                hint="undo runs revert, which must put back every object apply changes and nothing else",
            )
        )
    return problems
