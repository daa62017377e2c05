"""The part of an object a mitigation's journal entries record as "before" and "after": what a responder (and the
post-mortem) needs to see what changed and to put it back, never the whole object (no status noise, no secrets:
a Secret's data is never read into a plan)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from incidentctl.core.rollouts import REVISION
from incidentctl.core.urls import MASK

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"


def observed_state(obj: Any) -> dict[str, Any]:
    """The fields worth recording of an object as the server answered it (a write's reply or a read)."""
    if not isinstance(obj, Mapping):
        return {}
    kind = obj.get("kind")
    meta = obj.get("metadata") or {}
    out: dict[str, Any] = {}
    if meta.get("resourceVersion"):
        out["resourceVersion"] = meta["resourceVersion"]
    spec = obj.get("spec") or {}
    if kind in ("Deployment", "StatefulSet"):
        out["replicas"] = spec.get("replicas")
        template = spec.get("template") or {}
        out["images"] = {
            str(c.get("name")): c.get("image") for c in (template.get("spec") or {}).get("containers") or []
        }
        restarted = ((template.get("metadata") or {}).get("annotations") or {}).get(RESTARTED_AT)
        if restarted:
            out["restartedAt"] = restarted
        revision = (meta.get("annotations") or {}).get(REVISION)
        if revision:
            out["revision"] = revision
        if spec.get("paused"):
            out["paused"] = True
    elif kind == "Scale":
        out["replicas"] = spec.get("replicas")
    elif kind == "ConfigMap":
        out["data"] = dict(obj.get("data") or {})
    elif kind == "Pod":
        out["uid"] = meta.get("uid")
    elif kind == "Ingress":
        out["backends"] = [
            f"{rule.get('host', '*')}{path.get('path', '/')} -> {_service_of(path)}"
            for rule in spec.get("rules") or []
            for path in (rule.get("http") or {}).get("paths") or []
        ]
    elif kind == "Service":
        out["selector"] = dict(spec.get("selector") or {})
    elif "exitCode" in obj:
        out = {"exitCode": obj["exitCode"]}
    return out


def _service_of(path: Mapping[str, Any]) -> str | None:
    service = (path.get("backend") or {}).get("service") or {}
    name = service.get("name")
    return str(name) if name is not None else None


#: What a Secret's values are replaced with wherever a mitigation shows or records one: the one mask.
REDACTED = MASK
#: Client-side apply's copy of the whole object (a Secret's data included): never shown, never recorded.
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def redacted(obj: Any) -> Any:
    """``obj`` with a Secret's values (``data``, ``stringData``) and the last-applied copy of it replaced, for
    anything a person or the journal sees (a dry run's answer, a plan's diff); other objects unchanged."""
    if not isinstance(obj, Mapping) or obj.get("kind") != "Secret":
        return obj
    out = dict(obj)
    for key in ("data", "stringData"):
        if isinstance(out.get(key), Mapping):
            out[key] = dict.fromkeys(out[key], REDACTED)
    meta = out.get("metadata")
    if isinstance(meta, Mapping) and isinstance(meta.get("annotations"), Mapping):
        annotations = {k: v for k, v in meta["annotations"].items() if k != LAST_APPLIED}
        out["metadata"] = {**meta, "annotations": annotations}
    return out
