"""The result shape the two check views share (datastores, dependencies): the runbook's checks, each with its
latency and the exact error, as one :class:`~incidentctl.phases.investigate.base.Section`."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import Field

from incidentctl.core.checks import CheckKind, CheckResult, Failure, Health
from incidentctl.core.times import format_elapsed
from incidentctl.core.wire import WireModel
from incidentctl.errors import IncidentctlError, UsageError
from incidentctl.exitcodes import ExitCode
from incidentctl.phases.investigate.base import Evidence, Finding, Rank
from incidentctl.phases.investigate.saving import Kept, json_evidence

if TYPE_CHECKING:
    from incidentctl.adapters.secrets import Secrets

WORD = {Health.OK: "OK", Health.DEGRADED: "DEGRADED", Health.DOWN: "DOWN", Health.UNKNOWN: "UNKNOWN"}


@dataclass(frozen=True)
class ChecksResult:
    """What one check view found: every check's result, or the error that kept the view from looking at all."""

    #: ``datastores`` or ``dependencies``: the evidence's folder and the words of the findings.
    view: str
    rank: Rank
    started_at: datetime
    finished_at: datetime
    checks: tuple[CheckResult, ...] = ()
    #: The Kubernetes API could not be used at all (datastores only): nothing was looked at.
    error: IncidentctlError | None = None
    #: The runbook has nothing of this kind to check (said so, never "healthy").
    none_defined: bool = False
    kept: Kept = field(default_factory=Kept)

    @property
    def health(self) -> Health:
        if self.error is not None:
            return Health.UNKNOWN
        return Health.worst([c.health for c in self.checks])

    @property
    def problems(self) -> tuple[CheckResult, ...]:
        return tuple(c for c in self.checks if c.health is not Health.OK)

    @property
    def exit_code(self) -> int:
        """0: every check passed; 3: a check found a problem (or could not run); the error's own code (4 for an
        unreachable or refusing cluster) when the view could not look at all."""
        if self.error is not None:
            return int(self.error.exit_code)
        return int(ExitCode.PROBLEMS_FOUND if self.problems else ExitCode.OK)

    def findings(self) -> Sequence[Finding]:
        if self.error is not None:
            return [Finding(self.rank, f"{self.view}: could not look: {self.error}")]
        if self.none_defined:
            return [Finding(self.rank, f"{self.view}: the runbook names none to check", problem=False)]
        ordered = sorted(self.checks, key=lambda c: (-c.health.rank, c.check))
        return [Finding(self.rank, finding_text(c), problem=c.health is not Health.OK) for c in ordered]

    def evidence(self) -> Iterable[Evidence]:
        yield json_evidence(f"{self.view}/checks.json", self._document)

    def _document(self) -> bytes:
        records = CheckRecords(
            view=self.view,
            started_at=self.started_at,
            finished_at=self.finished_at,
            error=str(self.error) if self.error is not None else None,
            checks=[CheckRecord.of(c) for c in self.checks],
        )
        return (json.dumps(records.to_wire(), indent=2, ensure_ascii=False) + "\n").encode()


def redacted(c: CheckResult, secrets: Secrets) -> CheckResult:
    """The check with every text in it (the target URL, the summary, what it observed) free of the runbook's
    secrets: a webhook's token in a URL path is not a query parameter the probe knows to hide."""
    observation = c.observation
    if observation is not None:
        observation = type(observation).model_validate(secrets.redact_data(observation.model_dump()))
    return replace(
        c,
        target=secrets.redact(c.target),
        summary=secrets.redact(c.summary),
        reasons=tuple(secrets.redact(r) for r in c.reasons),
        observation=observation,
    )


def finding_text(c: CheckResult) -> str:
    """``postgres DOWN: exit code 2: psql: FATAL: too many clients (pod/postgres-0, 35ms)``."""
    subject = c.subject or c.check
    latency = f", {format_elapsed(c.latency_s)}" if c.latency_s is not None else ""
    return f"{subject} {WORD[c.health]}: {c.summary} ({c.target}{latency})"


class CheckRecord(WireModel):
    """A check as the evidence file keeps it (the same facts ``-o json`` prints)."""

    check: str
    kind: CheckKind
    subject: str | None
    target: str
    health: Health
    failure: Failure | None
    summary: str
    reasons: list[str]
    latency_seconds: float | None
    observed: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def of(cls, c: CheckResult) -> CheckRecord:
        latency = round(c.latency_s, 4) if c.latency_s is not None else None
        return cls(
            check=c.check,
            kind=c.kind,
            subject=c.subject,
            target=c.target,
            health=c.health,
            failure=c.failure,
            summary=c.summary,
            reasons=list(c.reasons),
            latency_seconds=latency,
            observed=c.observed,
        )


class CheckRecords(WireModel):
    view: str
    started_at: datetime
    finished_at: datetime
    error: str | None
    checks: list[CheckRecord]


def select(available: Sequence[Any], names: Sequence[str], what: str) -> list[Any]:
    """The runbook entries named (all when none are), refusing a name the runbook does not have."""
    known = [a.name for a in available]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UsageError(
            f"unknown {what} {unknown[0]!r}",
            hint=f"{what}s in the runbook: {', '.join(known)}" if known else f"the runbook names no {what}s",
        )
    return [a for a in available if not names or a.name in names]
