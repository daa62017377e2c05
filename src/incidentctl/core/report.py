"""What a detect run saw: the report every later phase reads (triage classifies it, render prints it).

It lives in ``core`` rather than in the detect phase because phases do not import each other: triage is handed a
report through its request, and the next phases will be too. Pure data, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from incidentctl.core.checks import CheckResult, Health
from incidentctl.core.signals import Signals
from incidentctl.errors import IncidentctlError


@dataclass(frozen=True)
class SubjectStatus:
    """A row of the report: a component, dependency, datastore or ingress, and its worst check."""

    name: str
    kind: str
    health: Health
    reasons: tuple[str, ...]
    checks: tuple[str, ...]


@dataclass(frozen=True)
class DetectReport:
    namespace: str
    server: str | None
    started_at: datetime
    finished_at: datetime
    subjects: tuple[SubjectStatus, ...]
    results: tuple[CheckResult, ...]
    signals: Signals = field(default_factory=dict)
    #: Set when the Kubernetes side could not be used at all (unreachable, every read refused, the namespace does
    #: not exist): the report then has what else could be seen, and one ``kubernetes`` result that says why.
    cluster_error: IncidentctlError | None = None

    @property
    def health(self) -> Health:
        return Health.worst([s.health for s in self.subjects])

    @property
    def problems(self) -> list[CheckResult]:
        return [r for r in self.results if r.health is not Health.OK]

    @property
    def duration_s(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()
