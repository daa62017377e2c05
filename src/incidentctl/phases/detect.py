"""detect: every check of the runbook's first five minutes, at once, into one report.

Replaces ``incident_detection.sh``, ``kubectl get pods/services/ingress`` and the ``curl -f`` lines. The checks
themselves are :mod:`incidentctl.phases.health` (mitigate's verification re-runs them); detect adds recording
the look in the open incident, when it differs from the last one recorded there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from incidentctl.core.looks import summarize
from incidentctl.core.report import DetectReport as DetectReport  # noqa: PLC0414 - kept importable from here
from incidentctl.core.report import SubjectStatus as SubjectStatus  # noqa: PLC0414
from incidentctl.exitcodes import ExitCode
from incidentctl.phases.checks import SNAPSHOT_RESOURCES as SNAPSHOT_RESOURCES  # noqa: PLC0414
from incidentctl.phases.checks import Snapshot, datastore_check
from incidentctl.phases.context import PhaseContext
from incidentctl.phases.health import DetectOptions, health_report
from incidentctl.phases.health import NothingSelected as NothingSelected  # noqa: PLC0414
from incidentctl.phases.health import parse_selector as parse_selector  # noqa: PLC0414
from incidentctl.phases.recording import Recorded, open_incident, record_detection

#: The names the checks had when they lived here (kept importable: they moved to phases.checks and
#: phases.health, shared with investigate and mitigate).
_Snapshot = Snapshot
_datastore_check = datastore_check


@dataclass(frozen=True)
class DetectRequest:
    """What the user asked detect for."""

    #: ``--component``: only these components (and what they use); empty: all.
    components: tuple[str, ...] = ()
    #: ``-l``: a Kubernetes label selector (set-based too), matched against each component's pod labels.
    label_selector: str | None = None
    #: ``--since``: restarts within this window count as recent.
    window: timedelta = timedelta(hours=1)
    #: ``--incident``: record the look in this incident (None: the only open one, if there is one).
    incident: str | None = None
    #: Whether to record the look in the open incident at all (triage records its own look instead).
    record: bool = True
    #: ``--watch``: the summary of the previous round; a round that sees the same does not even ask the journal.
    unchanged_from: str | None = None
    concurrency: int = 16


@dataclass(frozen=True)
class DetectResult:
    """A detect run: the report, what was recorded of it, and the exit code it means."""

    report: DetectReport
    #: For people: which parts are not healthy (what ``--watch`` compares from one round to the next).
    summary: str
    #: What recording the look did, in :attr:`incident_id`; None when the journal was not asked.
    recorded: Recorded | None = None
    incident_id: str | None = None
    #: Several incidents are open and none was named: their ids; the look was recorded in none of them.
    ambiguous: tuple[str, ...] = ()

    @property
    def recorded_in(self) -> str | None:
        """The incident this run wrote to, or None."""
        return self.incident_id if self.recorded is not None and self.recorded.event is not None else None

    @property
    def exit_code(self) -> ExitCode:
        """0 healthy, 3 problems found; the cluster error's own code when the Kubernetes side could not be used."""
        if self.report.cluster_error is not None:
            return self.report.cluster_error.exit_code
        return ExitCode.OK if not self.report.problems else ExitCode.PROBLEMS_FOUND


def run_detect(ctx: PhaseContext, request: DetectRequest) -> DetectResult:
    """Every check at once; then the look is recorded in the open incident, when it differs from the last one
    recorded there (:func:`incidentctl.core.looks.is_new_look`, decided under the journal's lock)."""
    report = _report(ctx, request)
    summary = summarize(report)
    if report.cluster_error is not None or not request.record or summary == request.unchanged_from:
        return DetectResult(report, summary)
    journal = ctx.journal()
    target = open_incident(journal, request.incident)
    if target.incident is None:
        return DetectResult(report, summary, ambiguous=target.ambiguous)
    recorded = record_detection(ctx.runbook, report, journal, target.incident.id)
    return DetectResult(report, summary, recorded, target.incident.id)


def _report(env: PhaseContext, request: DetectRequest) -> DetectReport:
    opts = DetectOptions(
        namespace=env.settings.namespace.value,
        components=request.components,
        label_selector=request.label_selector,
        window=request.window,
        concurrency=request.concurrency,
    )
    return health_report(env, opts)
