"""investigate changes: every component's rollout history and the ConfigMaps it uses, on one time axis with the
onset of errors, and the suspect named with what it changed.

Replaces ``kubectl rollout history deployment/<each>`` (and ``kubectl get events`` for who scaled what) and the
eyeballing that follows: kubectl shows revision
numbers and change-causes, and ``rollout undo`` goes back one revision without saying what that undoes. Here the
history carries times, images and authors, the onset comes from the same signals detect reads (the 5xx ratio from
Prometheus, the first crash from pod status, and optionally the first NEW error template the caller passes), and
the rules in :mod:`incidentctl.core.rollouts` pick the suspect.

The namespace is read once (deployments, replicasets, configmaps, pods, and the deployment controller's scaling
events: one paged list each, in parallel) while Prometheus answers its range queries, as detect reads its
snapshot. A scale of a Deployment down (:mod:`incidentctl.core.scales`) is a change like a rollout: a cleanup job
that scales the gateway to zero is the cause of the outage.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import IO, TYPE_CHECKING, Any

from incidentctl.core.rollouts import (
    JSON,
    ConfigChange,
    History,
    Onset,
    Suspect,
    Verdict,
    config_change,
    configmaps_of,
    deployment_history,
    describe,
    earliest_onset,
    first_crash,
    first_rise,
    name_suspect,
)
from incidentctl.core.scales import FIELD_SELECTOR, ScaleDown, scale_downs
from incidentctl.core.times import format_rfc3339
from incidentctl.core.workloads import pods_of
from incidentctl.errors import IncidentctlError, UsageError
from incidentctl.exitcodes import ExitCode
from incidentctl.phases.context import PhaseContext
from incidentctl.phases.investigate.base import Evidence, Finding, Rank
from incidentctl.phases.investigate.saving import EvidenceRequest, Kept, check_incident, keep_view

if TYPE_CHECKING:
    from incidentctl.adapters.kube import KubeClient, KubeError

log = logging.getLogger(__name__)

#: The runbook signal that is the share of requests answered with a 5xx.
ERROR_SIGNAL = "error_rate"

#: What the view reads from the namespace; each is one paged list call (events: the scaling ones only).
RESOURCES = ("deployments", "replicasets", "configmaps", "pods", "events")

#: Points per range query at most: the step grows with the window so a day costs what an hour does.
MAX_POINTS = 360


VIEW = "changes"


@dataclass(frozen=True)
class ChangesRequest:
    #: Only these components; empty: all of the runbook's.
    components: tuple[str, ...] = ()
    #: How far back to look for the onset and for ConfigMap changes (the history is shown whole, as kubectl does).
    since: timedelta = timedelta(hours=6)
    #: A change more than this before the onset is not named on timing alone.
    window: timedelta = timedelta(hours=1)
    #: An onset seen elsewhere: the first NEW error template's firstSeen, passed by ``investigate``.
    errors_onset: datetime | None = None
    errors_detail: str | None = None
    #: Where to keep what was looked at (the umbrella passes NO_SAVE: it keeps every view's in one folder).
    evidence: EvidenceRequest = field(default_factory=EvidenceRequest)


@dataclass(frozen=True)
class ChangesResult:
    """The view's result: a :class:`~incidentctl.phases.investigate.base.Section`."""

    namespace: str
    now: datetime
    since: datetime
    window: timedelta
    histories: tuple[History, ...]
    configs: tuple[ConfigChange, ...]
    #: Every scale-down of a component's Deployment since the window's start, oldest first.
    scale_downs: tuple[ScaleDown, ...]
    onsets: tuple[Onset, ...]
    onset: Onset | None
    suspect: Suspect | None
    reason: str
    #: What could not be read: one line each, never taken for "no change".
    problems: tuple[str, ...] = field(default_factory=tuple)
    #: Where the evidence went (set by the run function; nothing when the umbrella ran the view).
    kept: Kept = field(default_factory=Kept)

    @property
    def exit_code(self) -> int:
        """3 when a suspect is named or part of the evidence could not be read; 0 when it was all read and no
        change stands out."""
        return int(ExitCode.PROBLEMS_FOUND if self.suspect is not None or self.problems else ExitCode.OK)

    def findings(self) -> Sequence[Finding]:
        out = [Finding(Rank.SUSPECT_CHANGE, self.summary, problem=self.suspect is not None)]
        out += [Finding(Rank.SUSPECT_CHANGE, p) for p in self.problems]
        return out

    @property
    def summary(self) -> str:
        """One line for people: the suspect and the onset, or why no change is named."""
        return describe(self.suspect, self.onset, self.reason)

    def evidence(self) -> Iterable[Evidence]:
        """The history as read and the suspect with its diff, as JSON in the one key style."""

        def history(out: IO[bytes]) -> None:
            out.write(_json({"histories": self.histories, "configs": self.configs, "scaleDowns": self.scale_downs}))

        def diff(out: IO[bytes]) -> None:
            doc = {"onsets": self.onsets, "onset": self.onset, "suspect": self.suspect, "reason": self.reason}
            out.write(_json(doc))

        return [Evidence("changes/history.json", history), Evidence("changes/suspect.json", diff)]


def run_changes(ctx: PhaseContext, request: ChangesRequest) -> ChangesResult:
    """The rollouts and ConfigMap changes against the onset; the evidence kept in the open incident."""
    check_incident(ctx, request.evidence)
    result = _run_changes(ctx, request)
    return replace(result, kept=keep_view(ctx, request.evidence, VIEW, result))


def _run_changes(ctx: PhaseContext, request: ChangesRequest) -> ChangesResult:
    rb = ctx.runbook
    unknown = [c for c in request.components if c not in rb.component_names()]
    if unknown:
        raise UsageError(
            f"unknown component {unknown[0]!r}", hint=f"components in the runbook: {', '.join(rb.component_names())}"
        )
    components = [c for c in rb.components if not request.components or c.name in request.components]
    namespace = ctx.settings.namespace.value
    now = ctx.clock()
    since = now - request.since
    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="changes") as pool:
        prom_future = pool.submit(_five_xx_onsets, ctx, [c.name for c in components], namespace, since, now)
        items, errors = _read(ctx, namespace, pool)
        five_xx = prom_future.result()
    problems: list[str] = [f"could not read {resource}: {err}" for resource, err in errors.items()]
    seen = _Seen(namespace, items, errors, problems)
    for comp in components:
        seen.component(comp.name, comp.deployment)
    names = {c.name for c in components}
    for ds in rb.datastores:
        if ds.statefulset and (not request.components or set(ds.used_by) & names):
            note = "history not available (a StatefulSet keeps it in ControllerRevisions)"
            seen.histories.append(History(ds.name, "StatefulSet", ds.statefulset, available=False, note=note))
    configs = seen.configs()
    onsets: list[Onset] = [*five_xx, seen.crash(since)]
    if request.errors_onset is not None:
        onsets.append(Onset("errors", request.errors_onset, detail=request.errors_detail or "first new error template"))
    onset = earliest_onset(onsets)
    verdict: Verdict = name_suspect(seen.histories, configs, onset, request.window, seen.scales)
    if verdict.suspect is None and "events" in errors and onset is not None:
        verdict = replace(verdict, reason=f"{verdict.reason}; scale changes could not be read (events)")
    problems += [o.note for o in five_xx if o.unreadable and o.note]
    return ChangesResult(
        namespace=namespace,
        now=now,
        since=since,
        window=request.window,
        histories=tuple(seen.histories),
        configs=tuple(c for c in configs if c.time is None or c.time >= since),
        scale_downs=tuple(sorted((s for s in seen.scales if s.time >= since), key=lambda s: s.time)),
        onsets=tuple(onsets),
        onset=onset,
        suspect=verdict.suspect,
        reason=verdict.reason,
        problems=tuple(problems),
    )


class _Seen:
    """What the namespace's lists say about each component: its history, the ConfigMaps it uses, its pods."""

    def __init__(
        self, namespace: str, items: dict[str, list[JSON]], errors: dict[str, KubeError], problems: list[str]
    ) -> None:
        self.namespace = namespace
        self.items = items
        self.errors = errors
        self.problems = problems
        self.deployments = {d["metadata"]["name"]: d for d in items.get("deployments", [])}
        self.histories: list[History] = []
        self.scales: list[ScaleDown] = []
        self.used_by: dict[str, list[str]] = {}
        self.pods: list[JSON] = []

    def component(self, name: str, deployment: str) -> None:
        """The history from the ReplicaSets; the ConfigMaps and pods from the Deployment even when the
        ReplicaSets could not be read (the config side of the look is still worth having)."""
        if "deployments" in self.errors:
            note = f"could not read: {self.errors['deployments']}"
            self.histories.append(History(name, "Deployment", deployment, available=False, note=note))
            return
        dep = self.deployments.get(deployment)
        if dep is None:
            note = f"deployment {deployment} not found in namespace {self.namespace}"
            self.histories.append(History(name, "Deployment", deployment, available=False, note=note))
            self.problems.append(note)
            return
        templates = [(dep.get("spec") or {}).get("template") or {}]
        if "replicasets" in self.errors:
            note = f"could not read: {self.errors['replicasets']}"
            self.histories.append(History(name, "Deployment", deployment, available=False, note=note))
            self.scales += scale_downs(name, dep, self.items.get("events", []), None)
        else:
            history = deployment_history(name, dep, self.items.get("replicasets", []))
            self.histories.append(history)
            templates += [r.template for r in history.revisions]
            current = next((r.replicaset for r in history.revisions if r.current), None)
            self.scales += scale_downs(name, dep, self.items.get("events", []), current)
        for template in templates:
            for cm in configmaps_of(template):
                if name not in self.used_by.setdefault(cm, []):
                    self.used_by[cm].append(name)
        self.pods += pods_of((dep.get("spec") or {}).get("selector"), self.items.get("pods", []))

    def configs(self) -> list[ConfigChange]:
        if "configmaps" in self.errors:
            return []
        by_name = {c["metadata"]["name"]: c for c in self.items.get("configmaps", [])}
        out = []
        for cm, users in sorted(self.used_by.items()):
            if cm in by_name:
                out.append(config_change(by_name[cm], users))
            else:
                self.problems.append(
                    f"configmap {cm} (used by {', '.join(users)}) not found in namespace {self.namespace}"
                )
        return out

    def crash(self, since: datetime) -> Onset:
        if "pods" in self.errors:
            return Onset("crash", None, note=f"could not read pods: {self.errors['pods']}", unreadable=True)
        crash = first_crash(self.pods, since)
        if crash is None:
            return Onset("crash", None, note="no container terminated in the window")
        return Onset("crash", crash[0], detail=crash[1])


def _read(
    ctx: PhaseContext, namespace: str, pool: ThreadPoolExecutor
) -> tuple[dict[str, list[JSON]], dict[str, KubeError]]:
    """The namespace's lists; an error on one only blinds what needs it. Every list refused or unreachable is
    the cluster's error, raised (one line, its exit code)."""
    from incidentctl.adapters.kube import KubeError

    client: KubeClient = ctx.adapters.kube()
    items: dict[str, list[JSON]] = {}
    errors: dict[str, KubeError] = {}

    def read(resource: str) -> None:
        try:
            selector = FIELD_SELECTOR if resource == "events" else None
            items[resource] = list(client.list(resource, namespace, field_selector=selector))
        except KubeError as e:
            errors[resource] = e

    try:
        for fut in [pool.submit(read, r) for r in RESOURCES]:
            fut.result()
    finally:
        client.close()
    if len(errors) == len(RESOURCES):
        raise next(iter(errors.values()))
    return items, errors


def _five_xx_onsets(
    ctx: PhaseContext, components: Sequence[str], namespace: str, start: datetime, end: datetime
) -> list[Onset]:
    """The first rise of each component's 5xx ratio over the window (the runbook's ``error_rate`` signal, as
    detect queries it); the earliest rise is the onset. A Prometheus that cannot answer says so."""
    rb = ctx.runbook
    signal = rb.signals.get(ERROR_SIGNAL)
    prometheus = rb.observability.prometheus
    if signal is None or signal.source != "prometheus" or not signal.query:
        return [Onset("5xx", None, note=f"the runbook has no Prometheus signal {ERROR_SIGNAL!r}", unreadable=True)]
    if prometheus is None:
        return [Onset("5xx", None, note="the runbook has no observability.prometheus", unreadable=True)]
    from incidentctl.adapters.prometheus import signal_query

    step = max(30.0, (end - start).total_seconds() / MAX_POINTS)
    http = ctx.adapters.http()
    try:
        client = ctx.adapters.prometheus(http, prometheus)
        rises: list[Onset] = []
        for name in components:
            try:
                series = client.query_range(signal_query(signal, name, namespace), start, end, step)
            except IncidentctlError as e:
                return [Onset("5xx", None, subject=name, note=f"could not read {ERROR_SIGNAL}: {e}", unreadable=True)]
            points = sorted((datetime.fromtimestamp(t, tz=end.tzinfo), v) for s in series for t, v in s.points)
            if not points:
                rises.append(Onset("5xx", None, subject=name, note=f"no {ERROR_SIGNAL} samples for {name}"))
                continue
            when = first_rise(points)
            if when is not None:
                peak = max(v for _, v in points if not math.isnan(v))
                rises.append(Onset("5xx", when, subject=name, detail=f"{name} 5xx ratio rose (peak {peak:.1%})"))
    finally:
        http.close()
    first = earliest_onset(rises)
    if first is not None:
        return [first]
    missing = [o for o in rises if o.note]
    if missing and len(missing) == len(components):
        return [Onset("5xx", None, note=f"no {ERROR_SIGNAL} samples in Prometheus", unreadable=True)]
    return [Onset("5xx", None, note=f"the 5xx ratio stayed under the threshold since {format_rfc3339(start)}")]


def _json(value: Any) -> bytes:
    return (json.dumps(_plain(value), indent=2) + "\n").encode()


def _plain(value: Any) -> Any:
    """A result's dataclasses as JSON-ready data, camelCase as every machine output of the tool (the pod
    templates a revision keeps are left out: the diff says what of them matters)."""
    import dataclasses

    from pydantic.alias_generators import to_camel

    if isinstance(value, datetime):
        return format_rfc3339(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            to_camel(f.name): _plain(getattr(value, f.name)) for f in dataclasses.fields(value) if f.name != "template"
        }
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
