"""The three PATCH types the API server accepts, as kubectl and the Python client send them.

Strategic merge patch merges lists by their merge key (containers and env by ``name``, container ports by
``containerPort``...) and honours the ``$patch``/``$setElementOrder`` directives; JSON merge patch is RFC 7386;
JSON Patch is RFC 6902 (implemented here: it is small and the sandbox keeps to the standard library).
"""

from __future__ import annotations

import copy
from typing import Any

from incidentctl.core.patches import merge_patch as merge_patch  # noqa: PLC0414 - RFC 7386, the one the client uses too

#: list field name -> merge key, for the lists of the kinds the sandbox serves (from the Kubernetes API types)
MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "conditions": "type",
    "ownerReferences": "uid",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name",
    "readinessGates": "conditionType",
}


class PatchError(ValueError):
    """The patch cannot be applied; the server answers 422 (or 400 for a malformed patch)."""


def strategic_merge_patch(target: Any, patch: Any, field: str = "") -> Any:
    if isinstance(patch, dict):
        if patch.get("$patch") == "replace":
            return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
        if patch.get("$patch") == "delete":
            return None
        result = copy.deepcopy(target) if isinstance(target, dict) else {}
        retain = patch.get("$retainKeys")
        for key, value in patch.items():
            if key.startswith("$setElementOrder/") or key in ("$retainKeys", "$patch"):
                continue
            if key.startswith("$deleteFromPrimitiveList/"):
                name = key.split("/", 1)[1]
                if isinstance(result.get(name), list):
                    result[name] = [v for v in result[name] if v not in value]
                continue
            if value is None:
                result.pop(key, None)
            elif isinstance(value, list):
                result[key] = _merge_list(result.get(key), value, key)
            else:
                merged = strategic_merge_patch(result.get(key), value, key)
                if merged is None:
                    result.pop(key, None)
                else:
                    result[key] = merged
        if isinstance(retain, list):
            result = {k: v for k, v in result.items() if k in retain}
        return result
    return copy.deepcopy(patch)


def _merge_list(target: Any, patch: list[Any], field: str) -> list[Any]:
    key = MERGE_KEYS.get(field)
    if field == "ports":
        key = "containerPort" if any("containerPort" in p for p in patch if isinstance(p, dict)) else "port"
    if key is None or not isinstance(target, list) or not all(isinstance(p, dict) for p in patch):
        return [p for p in copy.deepcopy(patch) if not (isinstance(p, dict) and p.get("$patch") == "delete")]
    if any(p.get("$patch") == "replace" for p in patch):
        return [
            copy.deepcopy({k: v for k, v in p.items() if k != "$patch"}) for p in patch if p.get("$patch") != "replace"
        ]
    result = copy.deepcopy(target)
    for item in patch:
        ident = item.get(key)
        index = next((i for i, t in enumerate(result) if isinstance(t, dict) and t.get(key) == ident), None)
        if item.get("$patch") == "delete":
            if index is not None:
                result.pop(index)
            continue
        if index is None:
            result.append(strategic_merge_patch({}, item, field))
        else:
            result[index] = strategic_merge_patch(result[index], item, field)
    return result


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"invalid JSON pointer: {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc: Any, parts: list[str], path: str) -> Any:
    cur = doc
    for part in parts:
        if isinstance(cur, dict):
            if part not in cur:
                raise PatchError(f"doc is missing path: {path!r}")
            cur = cur[part]
        elif isinstance(cur, list):
            try:
                cur = cur[int(part)]
            except (ValueError, IndexError) as e:
                raise PatchError(f"doc is missing path: {path!r}") from e
        else:
            raise PatchError(f"doc is missing path: {path!r}")
    return cur


def _add(doc: Any, parts: list[str], value: Any, path: str, replace: bool = False) -> Any:
    if not parts:
        return copy.deepcopy(value)
    parent = _walk(doc, parts[:-1], path)
    last = parts[-1]
    if isinstance(parent, dict):
        if replace and last not in parent:
            raise PatchError(f"replace operation does not apply: doc is missing key: {path}")
        parent[last] = copy.deepcopy(value)
    elif isinstance(parent, list):
        if last == "-" and not replace:
            parent.append(copy.deepcopy(value))
        else:
            try:
                index = int(last)
            except ValueError as e:
                raise PatchError(f"invalid array index in {path!r}") from e
            if replace:
                if not 0 <= index < len(parent):
                    raise PatchError(f"replace operation does not apply: index out of range: {path}")
                parent[index] = copy.deepcopy(value)
            else:
                if not 0 <= index <= len(parent):
                    raise PatchError(f"add operation does not apply: index out of range: {path}")
                parent.insert(index, copy.deepcopy(value))
    else:
        raise PatchError(f"doc is missing path: {path!r}")
    return doc


def _remove(doc: Any, parts: list[str], path: str) -> Any:
    if not parts:
        raise PatchError("cannot remove the whole document")
    parent = _walk(doc, parts[:-1], path)
    last = parts[-1]
    try:
        if isinstance(parent, dict):
            return parent.pop(last)
        if isinstance(parent, list):
            return parent.pop(int(last))
    except (KeyError, ValueError, IndexError) as e:
        raise PatchError(f"remove operation does not apply: doc is missing path: {path}") from e
    raise PatchError(f"doc is missing path: {path!r}")


def json_patch(target: Any, operations: Any) -> Any:
    """RFC 6902; the whole patch applies or none of it does."""
    if not isinstance(operations, list):
        raise PatchError("a JSON patch must be a list of operations")
    doc = copy.deepcopy(target)
    for op in operations:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError(f"invalid JSON patch operation: {op!r}")
        name, path = op["op"], op["path"]
        parts = _pointer(path)
        if name == "add":
            doc = _add(doc, parts, op.get("value"), path)
        elif name == "replace":
            doc = _add(doc, parts, op.get("value"), path, replace=True)
        elif name == "remove":
            _remove(doc, parts, path)
        elif name in ("move", "copy"):
            source = op.get("from", "")
            value = copy.deepcopy(_walk(doc, _pointer(source), source))
            if name == "move":
                _remove(doc, _pointer(source), source)
            doc = _add(doc, parts, value, path)
        elif name == "test":
            if _walk(doc, parts, path) != op.get("value"):
                raise PatchError(f"testing value {path} failed")
        else:
            raise PatchError(f"unknown JSON patch operation {name!r}")
    return doc
