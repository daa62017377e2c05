"""Shared vocabulary of the controllers: well-known annotations, quantities, owner references, conditions."""

from __future__ import annotations

import math
from typing import Any

from incidentctl.sandbox.clock import rfc3339
from incidentctl.sandbox.runtime import Instance
from incidentctl.sandbox.store import Obj

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
CHANGE_CAUSE = "kubernetes.io/change-cause"
HASH_LABEL = "pod-template-hash"
NOT_COPIED = (REVISION, REVISION_HISTORY, DESIRED, MAX_REPLICAS, "kubectl.kubernetes.io/last-applied-configuration")

START_DELAY = 2.0  # seconds from scheduling to a running container (image present on the node)
PROBE_PERIOD = 10.0
MAX_BACKOFF = 300.0


def quantity(text: Any) -> float:
    """CPU in cores or memory in bytes from a Kubernetes quantity."""
    value = str(text)
    units = {"m": 1e-3, "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "Ti": 1024**4, "k": 1e3, "M": 1e6, "G": 1e9}
    for suffix in sorted(units, key=len, reverse=True):
        if value.endswith(suffix):
            return float(value[: -len(suffix)]) * units[suffix]
    return float(value)


def owner_uid(obj: Obj) -> str | None:
    for ref in obj.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return str(ref.get("uid"))
    return None


def same_template(rs_template: Obj, template: Obj) -> bool:
    """Equal pod templates, ignoring the pod-template-hash label the controller adds (EqualIgnoreHash)."""
    if rs_template.keys() != template.keys() or rs_template.get("spec") != template.get("spec"):
        return False
    a, b = dict(rs_template.get("metadata") or {}), dict(template.get("metadata") or {})
    la = {k: v for k, v in (a.pop("labels", None) or {}).items() if k != HASH_LABEL}
    lb = {k: v for k, v in (b.pop("labels", None) or {}).items() if k != HASH_LABEL}
    return (
        la == lb and a == b and all(rs_template[k] == template[k] for k in rs_template if k not in ("metadata", "spec"))
    )


def int_or_percent(value: Any, total: int, round_up: bool) -> int:
    if isinstance(value, str) and value.endswith("%"):
        raw = float(value[:-1]) * total / 100
        return math.ceil(raw) if round_up else math.floor(raw)
    return int(value)


def condition(type_: str, status: bool, reason: str, message: str, now: str, old: Obj | None) -> Obj:
    status_text = "True" if status else "False"
    transition = now
    update = now
    if old and old.get("status") == status_text:
        transition = old.get("lastTransitionTime", now)
        if old.get("reason") == reason and old.get("message") == message:
            update = old.get("lastUpdateTime", now)
    return {
        "type": type_,
        "status": status_text,
        "lastUpdateTime": update,
        "lastTransitionTime": transition,
        "reason": reason,
        "message": message,
    }


class OwnerIndex:
    """Controller owner uid -> the objects it owns, kept current by the store's change hook."""

    def __init__(self) -> None:
        self.by_owner: dict[str, dict[str, Obj]] = {}

    def get(self, owner: str, default: list[Obj] | None = None) -> list[Obj]:
        children = self.by_owner.get(owner)
        return list(children.values()) if children else (default if default is not None else [])


def active(pod: Obj) -> bool:
    """Counted by its controller: not being deleted and not finished for good (Failed, Succeeded, Evicted)."""
    return not pod["metadata"].get("deletionTimestamp") and (pod.get("status") or {}).get("phase") not in (
        "Failed",
        "Succeeded",
    )


def terminated_state(inst: Instance) -> Obj:
    assert inst.finished is not None
    return {
        "exitCode": inst.exit_code,
        "reason": inst.reason or ("Completed" if inst.exit_code == 0 else "Error"),
        "startedAt": rfc3339(inst.started),
        "finishedAt": rfc3339(inst.finished),
        "containerID": inst.container_id,
    }
