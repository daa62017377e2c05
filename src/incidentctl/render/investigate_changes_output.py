"""What ``investigate changes`` prints with ``-o json|yaml``: the history per component, the ConfigMap changes,
the onset signals, and the suspect with what it changed. The models read the phase's dataclasses by attribute."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from incidentctl.render.output_model import OutputModel, UtcTime

if TYPE_CHECKING:
    from incidentctl.phases.investigate.changes import ChangesResult


class ContainerImageOutput(OutputModel):
    container: str
    image: str


class RevisionOutput(OutputModel):
    """One revision, as ``kubectl rollout history`` counts it."""

    revision: int
    replicaset: str
    created: UtcTime | None = Field(
        description="When the rollout started: the ReplicaSet's creationTimestamp, or (the running revision, "
        "rolled out again) the Deployment's last pod-template write in managedFields."
    )
    time_source: str = Field(description="creationTimestamp or managedFields.")
    change_cause: str | None = Field(description="kubernetes.io/change-cause; null where kubectl shows <none>.")
    images: list[ContainerImageOutput]
    who: str | None
    who_source: str | None = Field(description="Where who was read: 'annotation <key>' or 'managedFields'.")
    current: bool = Field(description="The revision the Deployment runs now.")


class HistoryOutput(OutputModel):
    component: str
    kind: str = Field(description="Deployment or StatefulSet.")
    name: str
    available: bool = Field(description="False when the history could not be had (note says why).")
    note: str | None
    revisions: list[RevisionOutput]
    skipped: list[str] = Field(description="ReplicaSets kubectl skips too (a revision that is not a number).")


class ConfigKeyOutput(OutputModel):
    key: str
    value: str


class ConfigChangeOutput(OutputModel):
    name: str
    time: UtcTime | None
    time_source: str = Field(description="managedFields or metadata.creationTimestamp.")
    manager: str | None
    used_by: list[str]
    written: list[ConfigKeyOutput] = Field(description="The data keys that manager wrote, with their values now.")


class ScaleDownOutput(OutputModel):
    """A scale-down of a component's Deployment: the deployment controller's ScalingReplicaSet event, or (events
    expired) the last managedFields write of spec.replicas of a Deployment now at zero."""

    component: str
    deployment: str
    time: UtcTime
    replicas: int
    previous_replicas: int | None = Field(description="The replicas before; null when not recorded.")
    replicaset: str | None = Field(description="The ReplicaSet the controller scaled (the one the Deployment runs).")
    who: str | None = Field(description="The manager whose managedFields write of spec.replicas it followed.")
    source: str = Field(description="event or managedFields.")
    count: int = Field(description="How often the controller recorded this very scale.")


class OnsetOutput(OutputModel):
    kind: str = Field(description="5xx (Prometheus), crash (pod status) or errors (the first new error template).")
    time: UtcTime | None
    subject: str | None
    detail: str | None
    note: str | None = Field(description="Why there is no time: not seen, or could not be read.")
    unreadable: bool


class DifferenceOutput(OutputModel):
    container: str | None
    field: str = Field(description="image, env, envFrom, resources, command, args, a probe, or container.")
    key: str | None = Field(description="The env var or resource (limits.memory) that differs.")
    before: str | None
    after: str | None = Field(description="A Secret's value is never shown: env from a Secret shows its reference.")


class SuspectOutput(OutputModel):
    kind: str = Field(description="rollout, config or scale.")
    component: str | None
    time: UtcTime
    onset: UtcTime
    revision: int | None
    previous_revision: int | None
    images: list[ContainerImageOutput]
    change_cause: str | None
    who: str | None
    configmap: str | None
    used_by: list[str]
    differences: list[DifferenceOutput]
    deployment: str | None = Field(description="A scale: the Deployment scaled.")
    replicas: int | None = Field(description="A scale: the replicas it was scaled to.")
    previous_replicas: int | None = Field(description="A scale: the replicas before, when recorded.")


class ChangesOutput(OutputModel):
    """``investigate changes``: rollout history and ConfigMap changes against the onset of errors; the suspect."""

    namespace: str
    now: UtcTime
    since: UtcTime
    window_seconds: float
    summary: str
    histories: list[HistoryOutput]
    configs: list[ConfigChangeOutput]
    scale_downs: list[ScaleDownOutput]
    onsets: list[OnsetOutput]
    onset: OnsetOutput | None
    suspect: SuspectOutput | None
    reason: str = Field(description="Why this suspect, or why none is named.")
    problems: list[str] = Field(description="What could not be read; never taken for 'no change'.")


def changes_output(result: ChangesResult) -> ChangesOutput:
    return ChangesOutput.model_validate(
        {
            **{name: getattr(result, name) for name in ("namespace", "now", "since", "histories", "configs")},
            **{
                name: getattr(result, name)
                for name in ("scale_downs", "onsets", "onset", "suspect", "reason", "problems")
            },
            "window_seconds": result.window.total_seconds(),
            "summary": result.summary,
        }
    )
