"""``investigate`` with no subcommand: every view at once, what they found ranked on one screen, and everything
they looked at kept in one evidence folder of the open incident.

The views are a list (:data:`VIEWS`): a view is one line there. Each runs in a thread of its own, so the slowest
view (a hung dependency, a log fan-out over fifty pods) sets the time, not the sum. A view that fails is a
problem on the screen ("logs: could not look: ..."), never a silent gap, and never takes the others with it.

Exit codes, the worst of the views' (:func:`worst_exit`): 0 when no view found anything wrong, 3 when one found a
problem, 4 when one could not look (the cluster unreachable or refusing us). Not looking outranks a problem
found, as in detect: a CI job must not read "problems found" as "at least we saw everything".
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from incidentctl.core.text import one_line
from incidentctl.errors import IncidentctlError
from incidentctl.exitcodes import ExitCode
from incidentctl.phases.context import PhaseContext
from incidentctl.phases.investigate.base import Evidence, Finding, Rank, Section
from incidentctl.phases.investigate.changes import ChangesRequest, run_changes
from incidentctl.phases.investigate.datastores import DatastoresRequest, run_datastores
from incidentctl.phases.investigate.dependencies import DependenciesRequest, run_dependencies
from incidentctl.phases.investigate.errors import ErrorsRequest, ErrorsResult, run_errors
from incidentctl.phases.investigate.events import EventsRequest, run_events
from incidentctl.phases.investigate.logs import LogsRequest, Previous, fetch_logs
from incidentctl.phases.investigate.resources import ResourcesRequest, run_resources
from incidentctl.phases.investigate.saving import (
    NO_SAVE,
    EvidenceRequest,
    Kept,
    check_incident,
    keep_evidence,
    learn_runbook_secrets,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class View:
    """One view the umbrella runs: its name, where its failure goes on the screen, and how to run it (without
    keeping evidence: the umbrella keeps every view's in one folder)."""

    name: str
    rank: Rank
    #: Runs the view, given the results of the views it ``needs`` (those that did not fail).
    run: Callable[[PhaseContext, Mapping[str, Section]], Section]
    #: Views whose results this one reads, listed before it in :data:`VIEWS`; it starts when they are done, the
    #: others run meanwhile.
    needs: tuple[str, ...] = ()


def _errors(ctx: PhaseContext, _done: Mapping[str, Section]) -> Section:
    return run_errors(ctx, ErrorsRequest(evidence=NO_SAVE))


def _changes(ctx: PhaseContext, done: Mapping[str, Section]) -> Section:
    """The first NEW error template is an onset too: often the earliest, before the 5xx ratio moves."""
    errors = done.get("errors")
    seen = [t for t in errors.new if t.first_seen is not None] if isinstance(errors, ErrorsResult) else []
    first = min(seen, key=lambda t: t.first_seen or datetime.max, default=None)
    if first is None:
        return run_changes(ctx, ChangesRequest(evidence=NO_SAVE))
    detail = f"first NEW error template: {one_line(first.pattern)[:80]}"
    return run_changes(ctx, ChangesRequest(errors_onset=first.first_seen, errors_detail=detail, evidence=NO_SAVE))


def _logs(ctx: PhaseContext, done: Mapping[str, Section]) -> Section:
    """The logs errors mined (its window and the baseline before it, previous containers included): read once,
    mined once, kept once. Read here only when errors failed."""
    errors = done.get("errors")
    if isinstance(errors, ErrorsResult) and errors.logs is not None:
        return errors.logs
    return fetch_logs(ctx, LogsRequest(since=timedelta(hours=1), previous=Previous.ALSO))


#: Every view ``investigate`` runs, in the order their documents appear in ``-o json``; a view that needs
#: another comes after it.
VIEWS: tuple[View, ...] = (
    View("errors", Rank.NEW_ERRORS, _errors),
    View("changes", Rank.SUSPECT_CHANGE, _changes, needs=("errors",)),
    View("logs", Rank.CRASHES, _logs, needs=("errors",)),
    View(
        "resources", Rank.RESOURCE_PRESSURE, lambda ctx, _done: run_resources(ctx, ResourcesRequest(evidence=NO_SAVE))
    ),
    View("events", Rank.EVENTS, lambda ctx, _done: run_events(ctx, EventsRequest(evidence=NO_SAVE))),
    View("datastores", Rank.DATASTORES, lambda ctx, _done: run_datastores(ctx, DatastoresRequest(evidence=NO_SAVE))),
    View(
        "dependencies",
        Rank.DEPENDENCIES,
        lambda ctx, _done: run_dependencies(ctx, DependenciesRequest(evidence=NO_SAVE)),
    ),
)


@dataclass(frozen=True)
class InvestigateRequest:
    evidence: EvidenceRequest = field(default_factory=EvidenceRequest)
    #: The views to run (None: every one in :data:`VIEWS`).
    views: tuple[View, ...] | None = None


#: How bad an exit code is, for :func:`worst_exit`; a code not listed (a usage error, a bug) is worst of all.
_SEVERITY = {int(ExitCode.OK): 0, int(ExitCode.PROBLEMS_FOUND): 1, int(ExitCode.UNREACHABLE): 2}


def worst_exit(codes: Iterable[int]) -> int:
    """The worst of the views' exit codes: 0 < 3 (problems found) < 4 (could not look) < anything else."""
    return max(codes, key=lambda c: (_SEVERITY.get(c, 3), c), default=int(ExitCode.OK))


@dataclass(frozen=True)
class ViewOutcome:
    """One view's run: its result, or why there is none."""

    name: str
    rank: Rank
    section: Section | None = None
    #: Why the view has no result (its own error's words, or the bug's type and message).
    error: str | None = None
    error_code: int = int(ExitCode.INTERNAL_ERROR)

    @property
    def exit_code(self) -> int:
        return int(self.section.exit_code) if self.section is not None else self.error_code

    def findings(self) -> Sequence[Finding]:
        if self.section is None:
            return [Finding(self.rank, f"{self.name}: could not look: {self.error}")]
        return self.section.findings()


@dataclass(frozen=True)
class InvestigateResult:
    views: tuple[ViewOutcome, ...]
    started_at: datetime
    finished_at: datetime
    kept: Kept = field(default_factory=Kept)

    @property
    def exit_code(self) -> int:
        return worst_exit(v.exit_code for v in self.views)

    def findings(self) -> list[Finding]:
        """Problems first, then what was fine; each group by rank (the suspect change first), in view order."""
        found = list(dict.fromkeys(f for v in self.views for f in v.findings()))  # logs' problems are errors' too
        return sorted(found, key=lambda f: (not f.problem, f.rank))

    def evidence(self) -> Iterable[Evidence]:
        for v in self.views:
            if v.section is not None:
                yield from v.section.evidence()

    def view(self, name: str) -> Section | None:
        return next((v.section for v in self.views if v.name == name), None)


def run_investigate(ctx: PhaseContext, request: InvestigateRequest) -> InvestigateResult:
    """Every view at once; their evidence kept in one folder (``<time>-all``) of the open incident."""
    check_incident(ctx, request.evidence)
    started = ctx.clock()
    learn_runbook_secrets(ctx)
    views = request.views if request.views is not None else VIEWS
    futures: dict[str, Future[Section]] = {}
    # one thread per view: a view waiting for the ones it needs never keeps another from starting
    with ThreadPoolExecutor(max_workers=max(1, len(views)), thread_name_prefix="investigate") as pool:
        for view in views:
            futures[view.name] = pool.submit(_after, view, ctx, {n: futures[n] for n in view.needs if n in futures})
        outcomes = tuple(_outcome(view, futures[view.name].result) for view in views)
    result = InvestigateResult(outcomes, started, ctx.clock())
    problems = [f"{v.name}: {v.error}" for v in outcomes if v.section is None]
    kept = keep_evidence(
        ctx,
        request.evidence,
        "all",
        [(v.name, v.section) for v in outcomes if v.section is not None],
        findings=[f.text for f in result.findings() if f.problem],
        problems=problems,
    )
    return InvestigateResult(outcomes, started, result.finished_at, kept)


def _after(view: View, ctx: PhaseContext, needed: Mapping[str, Future[Section]]) -> Section:
    """Run ``view`` once the views it needs are done, with the results of those that succeeded."""
    done: dict[str, Section] = {}
    for name, fut in needed.items():
        if fut.exception() is None:
            done[name] = fut.result()
    return view.run(ctx, done)


def _outcome(view: View, result: Callable[[], Section]) -> ViewOutcome:
    try:
        return ViewOutcome(view.name, view.rank, result())
    except IncidentctlError as e:
        return ViewOutcome(view.name, view.rank, error=str(e), error_code=int(e.exit_code))
    except Exception as e:  # a bug in one view must not hide what the others found
        log.debug("view %s raised", view.name, exc_info=True)
        return ViewOutcome(view.name, view.rank, error=f"{type(e).__name__}: {e}")
