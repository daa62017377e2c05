"""Label and field selectors with the API server's syntax and its error for a field it does not index."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]


class SelectorError(ValueError):
    """The selector cannot be parsed; the server answers 400 BadRequest with this message."""


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!"
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op == "=":
            return present and value == self.values[0]
        if self.op == "!=":
            return not present or value != self.values[0]
        if self.op == "in":
            return present and value in self.values
        if self.op == "notin":
            return not present or value not in self.values
        if self.op == "exists":
            return present
        return not present


_SET_RE = re.compile(r"^\s*(!?)\s*([A-Za-z0-9._/-]+)\s*(?:(notin|in)\s*\(([^)]*)\)|(==|=|!=)\s*([A-Za-z0-9._-]*))?\s*$")


def _split_top(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p for p in parts if p.strip()]


def parse_label_selector(text: str | None) -> list[Requirement]:
    if not text:
        return []
    reqs: list[Requirement] = []
    for part in _split_top(text):
        m = _SET_RE.match(part)
        if m is None:
            raise SelectorError(f"unable to parse requirement: {part.strip()!r}")
        neg, key, set_op, set_vals, op, value = m.groups()
        if neg:
            if set_op or op:
                raise SelectorError(f"unable to parse requirement: {part.strip()!r}")
            reqs.append(Requirement(key, "!"))
        elif set_op:
            vals = tuple(v.strip() for v in (set_vals or "").split(",") if v.strip())
            reqs.append(Requirement(key, set_op, vals))
        elif op:
            reqs.append(Requirement(key, "!=" if op == "!=" else "=", (value or "",)))
        else:
            reqs.append(Requirement(key, "exists"))
    return reqs


def labels_match(reqs: list[Requirement], obj: Obj) -> bool:
    if not reqs:
        return True
    labels = obj.get("metadata", {}).get("labels") or {}
    return all(r.matches(labels) for r in reqs)


def selector_from_match_labels(match_labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(match_labels.items()))


#: fields each kind supports in a fieldSelector, beyond metadata.name and metadata.namespace (as the API server)
_FIELDS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
            "status.phase", "status.podIP", "status.nominatedNodeName"),
    "Event": ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
              "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
              "reason", "reportingComponent", "source", "type"),
    "Node": ("spec.unschedulable",),
    "ReplicaSet": ("status.replicas",),
    "Namespace": ("status.phase",),
    "Secret": ("type",),
}


def _field_value(obj: Obj, path: str) -> str:
    if path == "source":
        return str((obj.get("source") or {}).get("component", ""))
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part)
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


def parse_field_selector(text: str | None, kind: str) -> Callable[[Obj], bool]:
    if not text:
        return lambda _obj: True
    terms: list[tuple[str, bool, str]] = []
    allowed = ("metadata.name", "metadata.namespace", *_FIELDS.get(kind, ()))
    for raw in text.split(","):
        part = raw.strip()
        if not part:
            continue
        m = re.match(r"^([A-Za-z0-9._]+)\s*(==|=|!=)\s*(.*)$", part)
        if m is None:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{part}'")
        key, op, value = m.groups()
        if key not in allowed:
            raise SelectorError(f'"{key}" is not a known field selector: only "metadata.name", "metadata.namespace"')
        terms.append((key, op != "!=", value))

    def match(obj: Obj) -> bool:
        return all((_field_value(obj, key) == value) == equal for key, equal, value in terms)

    return match
