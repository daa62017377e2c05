"""What ``detect`` and ``triage`` print with ``-o json|yaml`` (and each line of ``detect --watch -o json``).

The models read the phase's results by attribute; only what is renamed or derived for the wire (seconds as a
number, an incident as its id) is given by :func:`report_output` and :func:`triage_output`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import Field

from incidentctl.core.checks import CheckKind, Failure, Health
from incidentctl.render.output_model import FreeForm, OutputModel, UtcTime

if TYPE_CHECKING:
    from incidentctl.core.checks import CheckResult
    from incidentctl.phases.detect import DetectReport
    from incidentctl.phases.triage import TriageOutcome


class SubjectOutput(OutputModel):
    """A row of the report: a component, dependency, datastore or ingress, and its worst check."""

    name: str
    kind: str
    health: Health
    reasons: list[str]


class CheckOutput(OutputModel):
    """One check and what it found."""

    check: str = Field(description="A stable id, e.g. http:gateway, deployment:gateway.")
    kind: CheckKind
    subject: str | None
    target: str
    health: Health
    failure: Failure | None = Field(description="What failed, for machines (null when the check is OK).")
    summary: str = Field(description="For people; never parse it (kind, failure and observed have the facts).")
    reasons: list[str]
    latency_seconds: float | None
    observed: FreeForm = Field(description="The raw facts (status code, replica counts, a signal's value...).")


class SignalValueOutput(OutputModel):
    """One measurement of a signal, for a component or (subject null) for the whole service."""

    subject: str | None
    value: float | bool | None
    unit: str
    detail: str | None


class DetectReportOutput(OutputModel):
    """``incidentctl detect``: every check of the runbook's first five minutes."""

    namespace: str
    server: str | None
    started_at: UtcTime
    duration_seconds: float
    health: Health
    subjects: list[SubjectOutput]
    checks: list[CheckOutput]
    signals: dict[str, list[SignalValueOutput]] = Field(description="By signal name, as the runbook names them.")


class DeadlineOutput(OutputModel):
    what: str
    who: str
    by: UtcTime | None


class RuleOutput(OutputModel):
    """A triage rule of the runbook and how it came out."""

    rule: str
    severity: str
    matched: bool
    pending: bool
    because: str


class SlaOutput(OutputModel):
    """Error-budget burn from the runbook's SLO (every number null when the runbook has none)."""

    slo: str | None
    error_rate: float | None = None
    burn_rate: float | None = None
    budget_used: float | None = None
    elapsed_seconds: float | None = None


class SeveritySettingOutput(OutputModel):
    """Who set the incident's current severity."""

    actor: str
    at: UtcTime
    by_person: bool
    rule: str | None
    message: str | None


class SeverityDecisionOutput(OutputModel):
    """What triage did with an open incident's severity, and why."""

    action: str
    current: str
    severity: str
    proposed: str
    because: str
    forced: bool
    explanation: str
    set_by: SeveritySettingOutput | None


class ImpactStartOutput(OutputModel):
    """When the impact began, and the evidence that says so."""

    at: UtcTime
    source: str
    basis: str


class TriageOutput(OutputModel):
    """``incidentctl triage``: the severity with its reason, the impact, who to tell by when, what detect saw."""

    healthy: bool
    severity: str | None
    severity_name: str | None
    reason: str
    decided_by: str | None
    category: str | None
    components: list[str]
    users_affected: float | None
    users_affected_basis: str
    sla: SlaOutput
    response_time_seconds: float | None
    deadlines: list[DeadlineOutput]
    notify: list[str]
    rules: list[RuleOutput]
    evidence: list[str]
    incident: str | None = Field(description="The id of the incident triage declared or updated.")
    action: str | None
    recorded: bool
    severity_decision: SeverityDecisionOutput | None
    impact_start: ImpactStartOutput | None
    next_steps: list[str]
    detect: DetectReportOutput


def attributes(model: type[OutputModel], *sources: object, **given: Any) -> dict[str, Any]:
    """Each field of ``model`` from ``given``, else from the first source with an attribute (or, for a mapping, a
    key) of that name: a field with the same name as the dataclass's needs nothing here."""
    values: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        if name in given:
            values[name] = given[name]
            continue
        for source in sources:
            if isinstance(source, Mapping) and name in source:
                values[name] = source[name]
                break
            if not isinstance(source, Mapping) and hasattr(source, name):
                values[name] = getattr(source, name)
                break
        else:
            if field.is_required():
                raise TypeError(f"{model.__name__}.{name}: none of the sources has it")
    return values


def check_output(r: CheckResult) -> CheckOutput:
    latency = round(r.latency_s, 4) if r.latency_s is not None else None
    return CheckOutput.model_validate(attributes(CheckOutput, r, latency_seconds=latency))


def report_output(report: DetectReport) -> DetectReportOutput:
    return DetectReportOutput.model_validate(
        attributes(
            DetectReportOutput,
            report,
            duration_seconds=round(report.duration_s, 3),
            checks=[check_output(r) for r in report.results],
        )
    )


def triage_output(outcome: TriageOutcome, report: DetectReport) -> TriageOutput:
    t = outcome.triage
    sla = t.sla
    return TriageOutput.model_validate(
        attributes(
            TriageOutput,
            t,
            outcome,
            sla=SlaOutput.model_validate(attributes(SlaOutput, sla, elapsed_seconds=sla.get("elapsed_s"))),
            response_time_seconds=t.response_time.total_seconds() if t.response_time else None,
            incident=outcome.incident.id if outcome.incident else None,
            severity_decision=outcome.severity,
            impact_start=outcome.impact,
            detect=report_output(report),
        )
    )
