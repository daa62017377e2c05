"""The built-in signals triage rules can use, derived from what detect saw.

They turn a pile of check results into the few facts the runbook's definitions speak of ("complete service
outage", "partial service outage", "single component failure"), each with its evidence.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from incidentctl.core.checks import (
    AlertsObservation,
    CheckKind,
    CheckResult,
    Failure,
    Health,
    PodsObservation,
    SignalObservation,
)
from incidentctl.core.rules import SignalValue, Unit

if TYPE_CHECKING:
    from incidentctl.runbook.model import Runbook

Signals = dict[str, list[SignalValue]]

_UNITS: dict[str, Unit] = {"ratio": "ratio", "seconds": "seconds", "count": "count", "bool": "bool"}


def subject_health(results: Sequence[CheckResult], subject: str) -> Health:
    return Health.worst([r.health for r in results if r.subject == subject])


#: Checks that show whether a component has any serving capacity at all.
_CAPACITY_KINDS = (CheckKind.DEPLOYMENT, CheckKind.PODS, CheckKind.SERVICE)

#: An HTTP check that failed this way still reached a server that answers requests, if badly or slowly.
_ANSWERED = (Failure.HTTP_STATUS, Failure.BODY_MISMATCH, Failure.SLOW, Failure.TIMEOUT)


def _serves_nobody(results: Sequence[CheckResult], component: str) -> bool:
    """A complete outage of this component: no serving replica, or its endpoint cannot be reached at all.

    A health endpoint answering 503 or answering slowly (or not within its timeout) is not an outage by itself:
    requests are still being served (the error rate and response time say how badly), which is what keeps
    "error rate 40%" a P2 rather than the P1 of a service nobody can reach. Judged on the check's failure, never
    on its summary's words.
    """
    mine = [r for r in results if r.subject == component]
    if any(r.kind in _CAPACITY_KINDS and r.health is Health.DOWN for r in mine):
        return True
    return any(r.kind is CheckKind.HTTP and r.health is Health.DOWN and r.failure not in _ANSWERED for r in mine)


def _why_down(results: Sequence[CheckResult], component: str) -> str | None:
    down = [r for r in results if r.subject == component and r.health is Health.DOWN]
    return "; ".join(f"{r.check}: {r.summary}" for r in down) or None


def builtin_signals(rb: Runbook, results: Sequence[CheckResult], *, declared: Sequence[str] = ()) -> Signals:
    """``declared`` lists signals set by hand on the incident (``security_breach``)."""
    components = rb.component_names()
    health = {c: subject_health(results, c) for c in components}
    datastores = {d.name: subject_health(results, d.name) for d in rb.datastores}
    dependencies = {d.name: subject_health(results, d.name) for d in rb.dependencies}
    down = [c for c in components if health[c] is Health.DOWN]
    not_ok = [c for c in components if health[c] in (Health.DOWN, Health.DEGRADED)]
    out: Signals = {}
    facing = [c for c in rb.components if c.user_facing] or rb.components[:1]
    out["service_down"] = [
        SignalValue("service_down", "bool", _serves_nobody(results, c.name), c.name, detail=_why_down(results, c.name))
        for c in facing
    ]
    service_down = any(sv.value for sv in out["service_down"])
    failed = down + [d for d, h in datastores.items() if h is Health.DOWN]
    out["partial_outage"] = [
        SignalValue("partial_outage", "bool", bool(failed) and not service_down, None, detail=", ".join(failed) or None)
    ]
    out["components_down"] = [SignalValue("components_down", "count", float(len(down)), None, detail=", ".join(down))]
    out["components_degraded"] = [
        SignalValue("components_degraded", "count", float(len(not_ok)), None, detail=", ".join(not_ok))
    ]
    pods = [r.observation for r in results if isinstance(r.observation, PodsObservation)]
    total = sum(p.pods for p in pods)
    ready = sum(p.ready for p in pods)
    out["pods_not_ready"] = [
        SignalValue(
            "pods_not_ready",
            "ratio",
            (total - ready) / total if total else None,
            None,
            detail=f"{total - ready}/{total} pods" if total else None,
        )
    ]
    dep_down = [d for d, h in dependencies.items() if h is Health.DOWN]
    out["dependency_down"] = [
        SignalValue("dependency_down", "count", float(len(dep_down)), None, detail=", ".join(dep_down))
    ]
    ds_down = [d for d, h in datastores.items() if h is Health.DOWN]
    out["datastore_down"] = [
        SignalValue("datastore_down", "count", float(len(ds_down)), None, detail=", ".join(ds_down))
    ]
    out["security_breach"] = [
        SignalValue("security_breach", "bool", "security_breach" in declared, None, source="declared by hand")
    ]
    return out


def measured_signals(results: Sequence[CheckResult]) -> Signals:
    """Signals measured by Prometheus (detect's ``signal:<name>:<component>`` checks)."""
    out: Signals = {}
    for r in results:
        seen = r.observation
        if not isinstance(seen, SignalObservation):
            continue
        unit = _UNITS.get(seen.unit, "ratio")
        out.setdefault(seen.signal, []).append(
            SignalValue(
                seen.signal,
                unit,
                float(seen.value) if seen.value is not None else None,
                r.subject,
                source="prometheus",
            )
        )
    return out


def alert_signals(rb: Runbook, results: Sequence[CheckResult]) -> Signals:
    """Signals set by firing alerts (``observability.alertmanager.signals``), one value per component whose alerts
    were read: on when one of its firing alerts matches, unknown when its alerts could not be read (never "off"
    on missing evidence). Matched on the alerts' labels, never on their words."""
    am = rb.observability.alertmanager
    if am is None or not am.signals:
        return {}
    checks = [r for r in results if r.kind is CheckKind.ALERTS]
    out: Signals = {}
    for mapping in am.signals:
        for r in checks:
            seen = r.observation
            if not isinstance(seen, AlertsObservation):
                out.setdefault(mapping.signal, []).append(
                    SignalValue(mapping.signal, "bool", None, r.subject, source="alertmanager", detail=r.summary)
                )
                continue
            hits = [a.name for a in seen.alerts if _labels_match(mapping.match, mapping.match_re, a.labels)]
            out.setdefault(mapping.signal, []).append(
                SignalValue(
                    mapping.signal,
                    "bool",
                    bool(hits),
                    r.subject,
                    source="alertmanager",
                    detail=", ".join(dict.fromkeys(hits)) or None,
                )
            )
    return out


def _labels_match(exact: Mapping[str, str], regex: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    if any(labels.get(name) != value for name, value in exact.items()):
        return False
    return all(re.fullmatch(pattern, labels.get(name, "")) for name, pattern in regex.items())


def merged(*sources: Signals) -> Signals:
    """Several sources' values of each signal side by side: a rule holds when one of them does (a breach set by
    hand or by an alert)."""
    out: Signals = {}
    for source in sources:
        for name, values in source.items():
            out.setdefault(name, []).extend(values)
    return out
