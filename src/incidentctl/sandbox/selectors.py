"""Label and field selectors with the API server's syntax and its error for a field it does not index."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from incidentctl.core.labels import LabelSelector, LabelSelectorError

Obj = dict[str, Any]


class SelectorError(ValueError):
    """The selector cannot be parsed; the server answers 400 BadRequest with this message."""


def parse_label_selector(text: str | None) -> LabelSelector:
    """The project's one label-selector parser (the API server's grammar and messages), as incidentctl's ``-l``
    uses it: what the sandbox serves for a selector is what detect selects with it."""
    try:
        return LabelSelector.parse(text or "")
    except LabelSelectorError as e:
        raise SelectorError(str(e)) from None


def labels_match(selector: LabelSelector, obj: Obj) -> bool:
    return selector.matches(obj.get("metadata", {}).get("labels") or {})


def selector_from_match_labels(match_labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(match_labels.items()))


#: fields each kind supports in a fieldSelector, beyond metadata.name and metadata.namespace (as the API server)
_FIELDS: dict[str, tuple[str, ...]] = {
    "Pod": (
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
    ),
    "Event": (
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    ),
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
