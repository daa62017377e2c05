"""Whether a workload's rollout is finished, by kubectl's own rules (``kubectl rollout status``), as pure functions.

Deployments (kubectl's ``DeploymentStatusViewer``): nothing is judged until the controller has seen the latest spec
(``observedGeneration >= generation``); a ``Progressing`` condition with reason ``ProgressDeadlineExceeded`` is a
failure; fewer updated replicas than wanted, old replicas still running, or updated replicas not yet available
mean "still rolling out". StatefulSets (``StatefulSetStatusViewer``, RollingUpdate): ready replicas short of the
spec, or ``currentRevision`` not yet ``updateRevision``. A pod (a datastore's one pod, restarted by deleting it) is
done when a new one of the same name (another uid) is Ready.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

JSON = Mapping[str, Any]

State = Literal["done", "progressing", "failed"]


@dataclass(frozen=True)
class RolloutState:
    state: State
    message: str
    desired: int = 0
    updated: int = 0
    available: int = 0


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def deployment_status(obj: JSON) -> RolloutState:
    name = (obj.get("metadata") or {}).get("name", "?")
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    desired = _int(spec.get("replicas", 1))
    updated, available = _int(status.get("updatedReplicas")), _int(status.get("availableReplicas"))
    replicas = _int(status.get("replicas"))
    counts = {"desired": desired, "updated": updated, "available": available}
    waiting = f'Waiting for deployment "{name}" rollout to finish'
    if _int((obj.get("metadata") or {}).get("generation")) > _int(status.get("observedGeneration")):
        return RolloutState("progressing", "Waiting for deployment spec update to be observed...", **counts)
    for cond in status.get("conditions") or []:
        if cond.get("type") == "Progressing" and cond.get("reason") == "ProgressDeadlineExceeded":
            return RolloutState("failed", f'deployment "{name}" exceeded its progress deadline', **counts)
    if updated < desired:
        message = f"{waiting}: {updated} out of {desired} new replicas have been updated..."
        return RolloutState("progressing", message, **counts)
    if replicas > updated:
        message = f"{waiting}: {replicas - updated} old replicas are pending termination..."
        return RolloutState("progressing", message, **counts)
    if available < updated:
        message = f"{waiting}: {available} of {updated} updated replicas are available..."
        return RolloutState("progressing", message, **counts)
    return RolloutState("done", f'deployment "{name}" successfully rolled out', **counts)


def statefulset_status(obj: JSON) -> RolloutState:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    desired = _int(spec.get("replicas", 1))
    ready, updated = _int(status.get("readyReplicas")), _int(status.get("updatedReplicas"))
    counts = {"desired": desired, "updated": updated, "available": ready}
    if _int((obj.get("metadata") or {}).get("generation")) > _int(status.get("observedGeneration")):
        return RolloutState("progressing", "Waiting for statefulset spec update to be observed...", **counts)
    if ready < desired:
        return RolloutState("progressing", f"Waiting for {desired - ready} pods to be ready...", **counts)
    if status.get("updateRevision") and status.get("currentRevision") != status.get("updateRevision"):
        revision = status.get("updateRevision")
        message = f"waiting for statefulset rolling update to complete {updated} pods at revision {revision}..."
        return RolloutState("progressing", message, **counts)
    return RolloutState(
        "done",
        f"statefulset rolling update complete {ready} pods at revision {status.get('currentRevision', '?')}...",
        **counts,
    )


def pod_replaced_status(obj: JSON | None, old_uid: str | None) -> RolloutState:
    """A restarted pod: a new one (another uid) of the same name, Ready."""
    if obj is None:
        return RolloutState("progressing", "Waiting for the pod to be created again...", 1, 0, 0)
    meta = obj.get("metadata") or {}
    name = meta.get("name", "?")
    if old_uid is not None and meta.get("uid") == old_uid:
        if meta.get("deletionTimestamp"):
            return RolloutState("progressing", f'Waiting for pod "{name}" to terminate...', 1, 0, 0)
        return RolloutState("progressing", f'Waiting for pod "{name}" to be replaced...', 1, 0, 0)
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (obj.get("status") or {}).get("conditions") or []
    )
    if not ready:
        return RolloutState("progressing", f'Waiting for the new pod "{name}" to be ready...', 1, 1, 0)
    return RolloutState("done", f'pod "{name}" was replaced and is ready', 1, 1, 1)
