"""The two patch types a runbook switch is written in, applied locally to the live object, so that a plan can show
exactly what the server will make of it before anything is sent.

JSON merge patch (RFC 7386) is small enough to be one function; JSON Patch (RFC 6902: test, pointers, array
indices, ``-``) comes from the ``jsonpatch`` package, which implements all of it. Pure: no I/O.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any


class PatchDoesNotApply(ValueError):
    """The patch cannot be applied to this object (a path it names is not there, a ``test`` that fails)."""


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge key by key, ``null`` removes a key, anything else replaces what was there."""
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    result = copy.deepcopy(dict(target)) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def json_patch(target: Any, operations: Sequence[Mapping[str, Any]]) -> Any:
    """RFC 6902, all or nothing: the patched copy, or :class:`PatchDoesNotApply` saying which operation failed."""
    import jsonpatch
    import jsonpointer

    try:
        return jsonpatch.JsonPatch([dict(op) for op in operations]).apply(target, in_place=False)
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as e:
        raise PatchDoesNotApply(str(e)) from e


def leaf_changes(before: Any, after: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Every value that differs, by its path (``data.MAINTENANCE_MODE``, ``spec.rules[0].http.paths[0]...``);
    a value that is absent on one side is None there."""
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        out: list[tuple[str, Any, Any]] = []
        for key in dict.fromkeys([*before, *after]):
            out += leaf_changes(before.get(key), after.get(key), f"{path}.{key}" if path else str(key))
        return out
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        out = []
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            out += leaf_changes(old, new, f"{path}[{index}]")
        return out
    return [] if before == after else [(path, before, after)]


def changed_part(before: Any, after: Any) -> tuple[Any, Any]:
    """The two objects cut down to the keys whose values differ (a list that differs is kept whole, so its
    neighbours give the change its context): what a reviewer needs to see, without the rest of the object."""
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        old: dict[str, Any] = {}
        new: dict[str, Any] = {}
        for key in dict.fromkeys([*before, *after]):
            if before.get(key) == after.get(key) and (key in before) == (key in after):
                continue
            b, a = changed_part(before.get(key), after.get(key))
            if key in before:
                old[key] = b
            if key in after:
                new[key] = a
        return old, new
    return before, after
