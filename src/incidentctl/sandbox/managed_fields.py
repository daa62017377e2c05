"""``metadata.managedFields`` as the API server keeps them: per manager (and operation, and subresource) the time
of its last write and the fields it set, so "who changed this, and when" reads as it would on a real cluster.

The manager is the request's ``fieldManager`` (kubectl sends ``kubectl-set``, ``kubectl-patch``,
``kubectl-rollout``, ``kubectl-edit``...), else the User-Agent up to its first ``/``, as the API server derives it.
The field sets are simplified: maps are written out as ``f:`` keys, a list is one leaf (the server's ``k:``/``v:``
keys for list items are not needed by anything that reads these).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from incidentctl.sandbox.clock import rfc3339
from incidentctl.sandbox.store import Obj

#: Set by the server, never a manager's field.
_SERVER_FIELDS = {"uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "deletionTimestamp"}


def manager_of(field_manager: str | None, user_agent: str | None) -> str:
    """The manager a write is recorded under."""
    if field_manager:
        return field_manager
    return (user_agent or "unknown").split("/", 1)[0] or "unknown"


def _fields(old: Any, new: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if not isinstance(new, dict):
        return out
    for key, value in new.items():
        before = old.get(key) if isinstance(old, dict) else None
        if before == value:
            continue
        out[f"f:{key}"] = _fields(before, value) if isinstance(value, dict) else {}
    return out


def _merge(into: dict[str, Any], more: dict[str, Any]) -> dict[str, Any]:
    for key, value in more.items():
        into[key] = _merge(dict(into.get(key) or {}), value) if value else into.get(key, {})
    return into


def stamp(
    obj: Obj,
    manager: str,
    when: datetime,
    *,
    old: Obj | None = None,
    operation: str = "Update",
    subresource: str | None = None,
) -> Obj:
    """Record in ``obj`` (changed in place, and returned) that ``manager`` wrote what differs from ``old``."""
    meta = obj.setdefault("metadata", {})
    if subresource == "status":
        changed = _fields((old or {}).get("status"), obj.get("status"))
        tree = {"f:status": changed} if changed else {}
    else:
        body = {k: v for k, v in obj.items() if k not in ("status", "apiVersion", "kind")}
        body["metadata"] = {k: v for k, v in meta.items() if k not in _SERVER_FIELDS}
        before = None
        if old is not None:
            before = {k: v for k, v in old.items() if k not in ("status", "apiVersion", "kind")}
            before["metadata"] = {k: v for k, v in (old.get("metadata") or {}).items() if k not in _SERVER_FIELDS}
        tree = _fields(before, body)
        for key in ("f:name", "f:namespace"):
            (tree.get("f:metadata") or {}).pop(key, None)
        if not tree.get("f:metadata", True):
            tree.pop("f:metadata")
    entries = [dict(e) for e in meta.get("managedFields") or []]
    mine = next(
        (
            e
            for e in entries
            if e.get("manager") == manager and e.get("operation") == operation and e.get("subresource") == subresource
        ),
        None,
    )
    if mine is None:
        mine = {"manager": manager, "operation": operation, "apiVersion": obj.get("apiVersion", "v1")}
        if subresource:
            mine["subresource"] = subresource
        entries.append(mine)
    mine["time"] = rfc3339(when)
    mine["fieldsType"] = "FieldsV1"
    mine["fieldsV1"] = _merge(dict(mine.get("fieldsV1") or {}), tree)
    meta["managedFields"] = entries
    return obj
