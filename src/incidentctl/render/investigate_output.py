"""What ``investigate``, ``investigate datastores`` and ``investigate dependencies`` print with ``-o json|yaml``.

The umbrella's document holds every view's own document (the same one the view's subcommand prints), the
ranked findings, and where the evidence went.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from incidentctl.core.checks import Health
from incidentctl.render.detect_output import CheckOutput, check_output
from incidentctl.render.investigate_changes_output import ChangesOutput, changes_output
from incidentctl.render.investigate_errors_output import ErrorTemplatesOutput, errors_output
from incidentctl.render.investigate_events import InvestigateEventsOutput, events_data
from incidentctl.render.investigate_resources import InvestigateResourcesOutput, resources_data
from incidentctl.render.output_model import OutputModel, UtcTime

if TYPE_CHECKING:
    from incidentctl.phases.investigate.base import Finding
    from incidentctl.phases.investigate.checked import ChecksResult
    from incidentctl.phases.investigate.run import InvestigateResult
    from incidentctl.phases.investigate.saving import Kept


class FindingOutput(OutputModel):
    """One line of the summary screen."""

    rank: str = Field(
        description="Where it goes on the screen: suspect_change, new_errors, crashes, resource_pressure, "
        "datastores, dependencies, events, other."
    )
    text: str = Field(description="For people; the view's document has the facts.")
    problem: bool = Field(description="False for 'looked and it is fine'.")


class EvidenceFileOutput(OutputModel):
    path: str = Field(description="Relative to the run's folder.")
    bytes: int
    cut: bool = Field(description="Cut at the size cap (its last line says so).")


class EvidenceOutput(OutputModel):
    """Where the run's evidence went; ``note`` says why nothing was saved."""

    saved: bool
    incident: str | None
    folder: str | None = Field(description="Relative to the incident's folder: evidence/<time>-<view>.")
    path: str | None = Field(description="The run's folder on disk.")
    files: list[EvidenceFileOutput]
    note: str | None


class ChecksViewOutput(OutputModel):
    health: Health = Field(description="The worst check's; unknown when the view could not look.")
    started_at: UtcTime
    duration_seconds: float
    error: str | None = Field(description="Why nothing could be looked at (the cluster unreachable...).")
    checks: list[CheckOutput]
    findings: list[FindingOutput]
    evidence: EvidenceOutput | None = Field(description="Null inside investigate's document (it keeps its own).")


class InvestigateDatastoresOutput(ChecksViewOutput):
    """``investigate datastores``: every datastore's exec check, with its latency and the exact error."""


class InvestigateDependenciesOutput(ChecksViewOutput):
    """``investigate dependencies``: every dependency's HTTP check, with its latency and the exact error."""


class ViewRunOutput(OutputModel):
    name: str
    exit_code: int
    error: str | None = Field(description="Why the view has no document (it failed).")


class InvestigateOutput(OutputModel):
    """``investigate``: every view at once, the findings ranked, each view's own document, the evidence kept."""

    started_at: UtcTime
    duration_seconds: float
    exit_code: int
    findings: list[FindingOutput] = Field(description="Problems first, then by rank.")
    views: list[ViewRunOutput]
    #: Each view's own document (what its subcommand prints with -o json), null when the view failed. The logs
    #: are in the evidence folder, not here: a document of every line would be the size of the logs.
    errors: ErrorTemplatesOutput | None
    changes: ChangesOutput | None
    resources: InvestigateResourcesOutput | None
    events: InvestigateEventsOutput | None
    datastores: InvestigateDatastoresOutput | None
    dependencies: InvestigateDependenciesOutput | None
    evidence: EvidenceOutput


def finding_output(f: Finding) -> FindingOutput:
    return FindingOutput(rank=f.rank.name.lower(), text=f.text, problem=f.problem)


def evidence_output(kept: Kept) -> EvidenceOutput:
    saved = kept.saved
    return EvidenceOutput(
        saved=saved is not None,
        incident=kept.incident_id,
        folder=saved.folder if saved is not None else None,
        path=str(saved.location) if saved is not None else None,
        files=[EvidenceFileOutput(path=f.path, bytes=f.bytes, cut=f.cut) for f in saved.files] if saved else [],
        note=kept.note,
    )


def checks_view_values(result: ChecksResult, *, with_evidence: bool = True) -> dict[str, Any]:
    return {
        "health": result.health,
        "started_at": result.started_at,
        "duration_seconds": round((result.finished_at - result.started_at).total_seconds(), 3),
        "error": str(result.error) if result.error is not None else None,
        "checks": [check_output(c) for c in result.checks],
        "findings": [finding_output(f) for f in result.findings()],
        "evidence": evidence_output(result.kept) if with_evidence else None,
    }


#: view name -> how its section becomes its document inside investigate's (one line per view).
VIEW_DOCUMENTS: dict[str, Any] = {
    "errors": errors_output,
    "changes": changes_output,
    "resources": resources_data,
    "events": events_data,
    "datastores": lambda s: InvestigateDatastoresOutput(**checks_view_values(s, with_evidence=False)),
    "dependencies": lambda s: InvestigateDependenciesOutput(**checks_view_values(s, with_evidence=False)),
}


def investigate_output(result: InvestigateResult) -> InvestigateOutput:
    documents = {
        v.name: VIEW_DOCUMENTS[v.name](v.section)
        for v in result.views
        if v.section is not None and v.name in VIEW_DOCUMENTS
    }
    return InvestigateOutput(
        started_at=result.started_at,
        duration_seconds=round((result.finished_at - result.started_at).total_seconds(), 3),
        exit_code=result.exit_code,
        findings=[finding_output(f) for f in result.findings()],
        views=[ViewRunOutput(name=v.name, exit_code=v.exit_code, error=v.error) for v in result.views],
        evidence=evidence_output(result.kept),
        **{name: documents.get(name) for name in InvestigateOutput.model_fields if name in VIEW_DOCUMENTS},
    )
