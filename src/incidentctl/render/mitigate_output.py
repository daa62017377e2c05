"""What ``mitigate`` prints with ``-o json|yaml``: the plan, the outcome, the verification. The models read the
phase's dataclasses by attribute."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from incidentctl.render.output_model import OutputModel


class ObjectRefOutput(OutputModel):
    resource: str
    name: str
    namespace: str
    label: str = Field(description="As kubectl names it: deployment/synthesis.")


class FieldChangeOutput(OutputModel):
    field: str
    before: str | None
    after: str | None


class ChangeOutput(OutputModel):
    ref: ObjectRefOutput
    summary: str
    fields: list[FieldChangeOutput]
    diff: list[str] = Field(description="Unified diff lines of the part of the object that changes.")


class WriteOutput(OutputModel):
    verb: str
    ref: ObjectRefOutput
    patch_type: str
    subresource: str | None
    resource_version: str | None = Field(description="The version the write was planned against (a precondition).")
    describe: str


class UndoOutput(OutputModel):
    action: str
    args: dict[str, Any]
    summary: str


class PlanOutput(OutputModel):
    action: str
    summary: str
    changes: list[ChangeOutput]
    writes: list[WriteOutput]
    components: list[str]
    rollouts: list[ObjectRefOutput]
    destructive: bool
    datastores: list[str]
    undo: UndoOutput | None
    notes: list[str]
    before: dict[str, Any]
    after: dict[str, Any]


class RolloutStatusOutput(OutputModel):
    ref: ObjectRefOutput
    state: str = Field(description="done, progressing or failed.")
    message: str
    desired: int
    updated: int
    available: int


class VerificationOutput(OutputModel):
    components: list[str]
    rollouts: list[RolloutStatusOutput]
    healthy: bool
    still_wrong: list[str]
    timed_out: bool
    seconds: float


class MitigationOutput(OutputModel):
    outcome: str = Field(description="dry-run, unchanged or applied.")
    action_id: str | None = Field(description="M1, M2...: the mitigation's number in its incident.")
    incident_id: str | None
    plan: PlanOutput
    dry_run_objects: dict[str, Any] = Field(description="For a dry run: the objects as the server would have them.")
    verification: VerificationOutput | None
    undone_by: MitigationOutput | None = Field(description="What --auto-undo did after a failed verification.")
    replanned: int
    messages: list[str]
    exit_code: int


def mitigation_output(result: Any) -> MitigationOutput:
    return MitigationOutput.model_validate(result)


class VerifyResultOutput(OutputModel):
    """mitigate verify: the rollouts awaited, the components' checks re-run, what is still wrong, and the incident
    the verification was recorded in."""

    healthy: bool
    components: list[str]
    datastores: list[str] = Field(description="The runbook's datastores judged besides the components.")
    rollouts: list[RolloutStatusOutput]
    still_wrong: list[str] = Field(description="What keeps it from being healthy, one line each.")
    timed_out: bool
    seconds: float
    incident_id: str | None = Field(description="Where mitigation_verified was recorded; null: nowhere.")
    messages: list[str]
    exit_code: int


def verify_output(result: Any) -> VerifyResultOutput:
    v = result.verification
    return VerifyResultOutput(
        healthy=v.healthy,
        components=list(v.components),
        datastores=list(result.datastores),
        rollouts=[RolloutStatusOutput.model_validate(s) for s in v.rollouts],
        still_wrong=list(v.still_wrong),
        timed_out=v.timed_out,
        seconds=round(v.seconds, 1),
        incident_id=result.incident_id,
        messages=list(result.messages),
        exit_code=int(result.exit_code),
    )
