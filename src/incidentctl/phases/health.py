"""The health of the runbook's components, dependencies and datastores, checked at once into one report.

Shared by the phases that judge health: detect (the runbook's first five minutes) and mitigate's verification
(the same checks, re-run on the components a mitigation touched, so "fixed" means what "broken" meant). Checks
run in a bounded thread pool, each with its own timeout; a failed check is a finding (UNKNOWN with the reason),
never an abort. The Kubernetes side reads one snapshot of the namespace (a few paged list calls in parallel) and
judges every component from it, rather than asking the API once per component: fewer calls, one consistent
picture, and a 403 on one resource only blinds the checks that need it.

HTTP probes are started first, so they wait on the network while the Kubernetes client is still importing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from incidentctl.core.checks import CheckKind, CheckResult, Failure, Health, SignalObservation
from incidentctl.core.labels import LabelSelector, LabelSelectorError
from incidentctl.core.report import DetectReport, SubjectStatus
from incidentctl.core.rules import evaluate_condition, format_value
from incidentctl.core.signals import alert_signals, builtin_signals, measured_signals, merged
from incidentctl.core.workloads import (
    deployment_check,
    ingress_checks,
    pods_check,
    pods_of,
    service_check,
)
from incidentctl.errors import IncidentctlError, UsageError
from incidentctl.exitcodes import ExitCode
from incidentctl.phases.checks import Snapshot, datastore_check, dependency_check
from incidentctl.phases.checks import cluster_error as _cluster_error
from incidentctl.phases.checks import guard as _guard
from incidentctl.phases.checks import missing_resources as _missing
from incidentctl.phases.checks import read_snapshot as _read_snapshot
from incidentctl.phases.checks import unknown_result as _unknown
from incidentctl.phases.context import PhaseContext

if TYPE_CHECKING:
    import httpx

    from incidentctl.runbook.model import Component, Runbook

log = logging.getLogger(__name__)


class NothingSelected(IncidentctlError):
    """``-l`` selects no component: nothing the question was about could be checked, so there is no verdict, and
    certainly not "healthy". Exit 3, as for problems found: the selector is valid (it is not a usage error), but a
    CI job that checks ``-l app=checkout`` must fail when no checkout pods are defined any more."""

    exit_code = ExitCode.PROBLEMS_FOUND
    reason = "NothingSelected"


@dataclass(frozen=True)
class DetectOptions:
    """What to check, with the namespace resolved: what the checks read."""

    namespace: str
    components: tuple[str, ...] = ()
    #: ``-l``: a Kubernetes label selector (set-based too), matched against each component's pod labels.
    label_selector: str | None = None
    #: Restarts within this window count as recent.
    window: timedelta = timedelta(hours=1)
    concurrency: int = 16


def health_report(env: PhaseContext, opts: DetectOptions) -> DetectReport:
    """Every check the runbook defines for the components in ``opts`` (all when none), and what they use."""
    rb = env.runbook
    started = env.clock()
    selector = parse_selector(opts.label_selector)
    components = _selected_components(rb, opts)
    names = {c.name for c in components}
    dependencies = [d for d in rb.dependencies if not opts.components or not d.used_by or set(d.used_by) & names]
    datastores = [d for d in rb.datastores if not opts.components or not d.used_by or set(d.used_by) & names]

    from incidentctl.adapters.http_probe import probe_http

    http = env.adapters.http()
    futures: list[Future[list[CheckResult]]] = []
    with ThreadPoolExecutor(max_workers=max(4, opts.concurrency), thread_name_prefix="detect") as pool:

        def submit(fn: Callable[[], list[CheckResult]]) -> None:
            futures.append(pool.submit(_guard, fn))

        # network waits first: they overlap with the Kubernetes client's import below
        for comp in components:
            if comp.health is not None:
                check = comp.health
                submit(
                    lambda c=comp, h=check: [  # type: ignore[misc]
                        probe_http(http, h, check_id=f"http:{c.name}", kind="http", subject=c.name, secrets=env.secrets)
                    ]
                )
        for dep in dependencies:
            submit(lambda d=dep: [dependency_check(http, d, env.secrets)])  # type: ignore[misc]
        futures.extend(_observability_checks(rb, env, http, components, opts, pool))

        snapshot = _read_snapshot(env, opts.namespace, pool)
        if selector is not None:  # -l picks components as --component does, and what they use follows them
            components = _labelled(components, snapshot, selector)
            names = {c.name for c in components}
            dependencies = [d for d in dependencies if not d.used_by or set(d.used_by) & names]
            datastores = [d for d in datastores if not d.used_by or set(d.used_by) & names]
        now = env.clock()
        cluster_error = _cluster_error(snapshot)
        if cluster_error is not None:  # one result says why, instead of every Kubernetes check saying it again
            target = snapshot.client.server if snapshot.client is not None else "the Kubernetes API"
            kube_results = [_unknown("kubernetes", CheckKind.CLUSTER, target, None, cluster_error)]
            datastores_checked: list[Any] = []
        else:
            kube_results = [
                replace(r, latency_s=snapshot.seconds) for r in _judge_workloads(rb, components, snapshot, opts, now)
            ]
            datastores_checked = list(datastores)
        datastore_futures = [
            pool.submit(_guard, lambda d=ds: [datastore_check(d, snapshot, opts.namespace, now, opts.window)])  # type: ignore[misc]
            for ds in datastores_checked
        ]
        results: list[CheckResult] = list(kube_results)
        for fut in [*futures, *datastore_futures]:
            results.extend(fut.result())
    http.close()
    if snapshot.client is not None:
        snapshot.client.close()

    if selector is not None:
        if not components:
            raise NothingSelected(f"no component matches -l {selector.text!r}", hint=_pod_labels_hint(rb, snapshot))
        kept = {c.name for c in components} | {d.name for d in dependencies} | {d.name for d in datastores}
        results = [r for r in results if r.subject is None or r.subject in kept]
    results = _judge_signals(rb, results)
    signals = merged({**builtin_signals(rb, results), **measured_signals(results)}, alert_signals(rb, results))
    subjects = _subjects(rb, components, dependencies, datastores, results)
    return DetectReport(
        namespace=opts.namespace,
        server=snapshot.client.server if snapshot.client is not None else None,
        started_at=started,
        finished_at=env.clock(),
        subjects=tuple(subjects),
        results=tuple(sorted(results, key=lambda r: (r.subject or "~", r.check))),
        signals=signals,
        cluster_error=cluster_error,
    )


def _selected_components(rb: Runbook, opts: DetectOptions) -> list[Component]:
    unknown = [c for c in opts.components if c not in rb.component_names()]
    if unknown:
        raise UsageError(
            f"unknown component {unknown[0]!r}", hint=f"components in the runbook: {', '.join(rb.component_names())}"
        )
    return [c for c in rb.components if not opts.components or c.name in opts.components]


def _judge_workloads(
    rb: Runbook, components: Sequence[Component], snap: Snapshot, opts: DetectOptions, now: datetime
) -> list[CheckResult]:
    deployments = {d["metadata"]["name"]: d for d in snap.items.get("deployments", [])}
    services = {s["metadata"]["name"]: s for s in snap.items.get("services", [])}
    endpoints = {e["metadata"]["name"]: e for e in snap.items.get("endpoints", [])}
    pods = snap.items.get("pods", [])
    out: list[CheckResult] = []
    for comp in components:
        why = _missing(snap, "deployments")
        dep = deployments.get(comp.deployment)
        if why is not None:
            target = f"deployment/{comp.deployment}"
            out.append(_unknown(f"deployment:{comp.name}", CheckKind.DEPLOYMENT, target, comp.name, why))
        else:
            out.append(deployment_check(comp.name, dep, comp.deployment))
        why = _missing(snap, "deployments", "pods")
        if why is not None:
            out.append(_unknown(f"pods:{comp.name}", CheckKind.PODS, f"pods of {comp.name}", comp.name, why))
        elif dep is not None:
            selector = (dep.get("spec") or {}).get("selector")
            out.append(pods_check(comp.name, pods_of(selector, pods), now=now, window=opts.window))
        if comp.service:
            why = _missing(snap, "services", "endpoints")
            if why is not None:
                target = f"service/{comp.service}"
                out.append(_unknown(f"service:{comp.name}", CheckKind.SERVICE, target, comp.name, why))
            else:
                out.append(
                    service_check(comp.name, comp.service, services.get(comp.service), endpoints.get(comp.service))
                )
    if not opts.components:
        why = _missing(snap, "ingresses", "services", "endpoints")
        if why is not None:
            out.append(_unknown("ingress", CheckKind.INGRESS, "ingresses", None, why))
        else:
            by_service = {c.service: c.name for c in rb.components if c.service}
            out.extend(ingress_checks(snap.items.get("ingresses", []), services, endpoints, by_service))
    return out


def _observability_checks(
    rb: Runbook,
    env: PhaseContext,
    http: httpx.Client,
    components: Sequence[Component],
    opts: DetectOptions,
    pool: ThreadPoolExecutor,
) -> list[Future[list[CheckResult]]]:
    futures: list[Future[list[CheckResult]]] = []
    obs = rb.observability
    if obs.prometheus is not None and any(s.source == "prometheus" for s in rb.signals.values()):
        from incidentctl.adapters.prometheus import check_signal

        prom = env.adapters.prometheus(http, obs.prometheus)
        for name, signal in rb.signals.items():
            if signal.source != "prometheus":
                continue
            for comp in components:
                futures.append(
                    pool.submit(
                        _guard,
                        lambda n=name, s=signal, c=comp: [  # type: ignore[misc]
                            check_signal(prom, n, s, component=c.name, namespace=opts.namespace)
                        ],
                    )
                )
    if obs.alertmanager is not None:
        from incidentctl.adapters.alertmanager import check_alerts

        am = env.adapters.alertmanager(http, obs.alertmanager)
        for comp in components:
            futures.append(pool.submit(_guard, lambda c=comp: [check_alerts(am, c.name)]))  # type: ignore[misc]
    return futures


def _judge_signals(rb: Runbook, results: list[CheckResult]) -> list[CheckResult]:
    """A measured signal is a problem when a runbook rule on it fires: the rule says what "too high" means."""
    from incidentctl.core.rules import SignalValue

    rules = [(r.id, r.when) for r in rb.triage.rules] + [(r.id, r.when) for r in rb.escalation.rules.automatic]
    out = []
    for r in results:
        seen = r.observation if isinstance(r.observation, SignalObservation) else None
        if seen is None or seen.value is None or r.health is not Health.OK:
            out.append(r)
            continue
        name, value = seen.signal, float(seen.value)
        unit = rb.signal_unit(name) or "ratio"
        sv = SignalValue(name, unit, value, r.subject)
        fired = []
        for rule_id, conditions in rules:
            for cond in conditions:
                if cond.signal == name and cond.for_ is None:
                    outcome = evaluate_condition(cond, [sv])
                    if outcome.holds:
                        fired.append(f"{outcome.text} (rule {rule_id})")
        if fired:
            summary = f"{name} {format_value(value, unit)}"
            reasons = (*fired, *r.reasons)
            out.append(replace(r, health=Health.DEGRADED, summary=summary, reasons=reasons, failure=Failure.THRESHOLD))
        else:
            out.append(r)
    return out


def _subjects(
    rb: Runbook,
    components: Sequence[Component],
    dependencies: Sequence[Any],
    datastores: Sequence[Any],
    results: Sequence[CheckResult],
) -> list[SubjectStatus]:
    rows = []
    groups: list[tuple[str, list[str]]] = [
        ("component", [c.name for c in components]),
        ("datastore", [d.name for d in datastores]),
        ("dependency", [d.name for d in dependencies]),
    ]
    for kind, names in groups:
        for name in names:
            mine = [r for r in results if r.subject == name]
            bad = [r for r in mine if r.health is not Health.OK]
            reasons = tuple(f"{r.kind}: {r.summary}" for r in sorted(bad, key=lambda r: -r.health.rank))
            rows.append(
                SubjectStatus(
                    name,
                    kind,
                    Health.worst([r.health for r in mine]) if mine else Health.UNKNOWN,
                    reasons,
                    tuple(r.check for r in mine),
                )
            )
    loose = [r for r in results if r.subject is None or r.subject not in {row.name for row in rows}]
    for r in loose:
        rows.append(
            SubjectStatus(r.check, r.kind, r.health, (r.summary,) if r.health is not Health.OK else (), (r.check,))
        )
    return rows


def parse_selector(text: str | None) -> LabelSelector | None:
    """``-l`` read before anything runs: a selector the API server would refuse is the user's to fix, at once."""
    if text is None:
        return None
    try:
        return LabelSelector.parse(text)
    except LabelSelectorError as e:
        raise UsageError(
            f"-l {text!r}: {e}", hint="selectors look like app=gateway, app in (gateway,synthesis), !canary"
        ) from e


def _templates(snap: Snapshot) -> dict[str, dict[str, str]] | None:
    """Each deployment's pod-template labels, or None when the deployments could not be read."""
    if snap.missing("deployments"):
        return None
    return {
        d["metadata"]["name"]: (((d.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {}
        for d in snap.items.get("deployments", [])
    }


def _labelled(components: Sequence[Component], snap: Snapshot, selector: LabelSelector) -> list[Component]:
    """``-l``: the components whose pods carry the labels, as ``kubectl get pods -l`` would select them.

    Judged on the deployment's pod template rather than on the pods listed: a component whose pods are all gone
    (crashed, scaled to 0) is still the one asked about and is reported down, not left out. A component whose
    labels cannot be known (its deployment is missing, or deployments could not be read) stays in: its checks
    say what is wrong, and leaving it out would hide exactly the broken one.
    """
    templates = _templates(snap)
    if templates is None:
        return list(components)
    return [c for c in components if c.deployment not in templates or selector.matches(templates[c.deployment])]


def _pod_labels_hint(rb: Runbook, snap: Snapshot) -> str:
    templates = _templates(snap) or {}
    seen = [
        f"{c.name}: " + ",".join(f"{k}={v}" for k, v in sorted(templates[c.deployment].items()))
        for c in rb.components
        if c.deployment in templates
    ]
    return "pod labels: " + "; ".join(seen) if seen else "no component's deployment was found"
