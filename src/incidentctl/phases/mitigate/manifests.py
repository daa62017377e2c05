"""Reading a folder of hotfix manifests (``kubectl apply -f k8s/hotfix/``): every ``*.yaml``, ``*.yml`` and
``*.json`` file in it, multi-document YAML included, in file-name order (the order they are applied in).

Every problem is one :class:`~incidentctl.errors.UsageError` whose ``where`` is ``file:line``, found before
anything is read from the cluster: a file that does not parse, a document that is not a Kubernetes object, a kind
``mitigate apply`` does not apply, the same object twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from incidentctl.errors import UsageError

SUFFIXES = (".yaml", ".yml", ".json")

#: (apiVersion, kind) -> the API's resource: what ``mitigate apply`` can apply (and verify, for the workloads).
KINDS = {
    ("apps/v1", "Deployment"): "deployments",
    ("apps/v1", "StatefulSet"): "statefulsets",
    ("v1", "Service"): "services",
    ("v1", "ConfigMap"): "configmaps",
    ("v1", "Secret"): "secrets",
    ("networking.k8s.io/v1", "Ingress"): "ingresses",
}


@dataclass(frozen=True)
class Manifest:
    """One object to apply, and where it was written."""

    file: Path
    line: int
    resource: str
    body: dict[str, Any]

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def name(self) -> str:
        return str(self.body["metadata"]["name"])

    @property
    def namespace(self) -> str | None:
        namespace = self.body["metadata"].get("namespace")
        return str(namespace) if namespace else None


def read_manifests(folder: Path) -> list[Manifest]:
    """Every object in ``folder`` (or in one file), in order; a usage error for anything that is not one."""
    if folder.is_file():
        files = [folder]
    elif folder.is_dir():
        files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)
    else:
        raise UsageError(f"{folder}: no such folder", hint="name the folder of hotfix manifests to apply")
    manifests: list[Manifest] = []
    seen: dict[tuple[str, str | None, str], Manifest] = {}
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise UsageError(f"cannot read it: {e}", where=str(path)) from e
        for line, kind_line, doc in _documents(path, text):
            for manifest in _objects(path, line, kind_line, doc):
                key = (manifest.resource, manifest.namespace, manifest.name)
                if key in seen:
                    raise UsageError(
                        f"{manifest.body['kind']} {manifest.name} is written twice (first at {seen[key].where})",
                        where=manifest.where,
                    )
                seen[key] = manifest
                manifests.append(manifest)
    if not manifests:
        raise UsageError(
            f"{folder} has no manifests to apply (no Kubernetes objects in *.yaml, *.yml or *.json files)",
            hint="put the hotfix's manifests there, one object per YAML document",
        )
    return manifests


def _documents(path: Path, text: str) -> Iterator[tuple[int, int, Any]]:
    """(the document's first line, the line of its ``kind``, the document) for each document in a file."""
    if path.suffix.lower() == ".json":
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as e:
            raise UsageError(f"not valid JSON: {e.msg} (column {e.colno})", where=f"{path}:{e.lineno}") from e
        yield 1, 1, doc
        return
    loader = yaml.SafeLoader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            line = node.start_mark.line + 1
            yield line, _key_line(node, "kind", line), loader.construct_document(node)
    except yaml.MarkedYAMLError as e:
        lines = max(1, len(text.splitlines()))
        mark = e.problem_mark or e.context_mark
        line = min(mark.line + 1, lines) if mark is not None else 1
        what = " ".join(str(e.problem or "").split())
        if e.context and e.context_mark is not None:  # "while parsing a flow sequence" started where?
            what += f" ({' '.join(e.context.split())} at line {min(e.context_mark.line + 1, lines)})"
        raise UsageError(f"not valid YAML: {what}", where=f"{path}:{line}") from e
    except yaml.YAMLError as e:
        raise UsageError(f"not valid YAML: {' '.join(str(e).split())}", where=str(path)) from e
    finally:
        loader.dispose()


def _key_line(node: yaml.Node, key: str, default: int) -> int:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return int(v.start_mark.line) + 1
    return default


def _objects(path: Path, line: int, kind_line: int, doc: Any) -> Iterator[Manifest]:
    if doc is None:  # an empty document (a trailing ---)
        return
    where = f"{path}:{line}"
    if not isinstance(doc, dict):
        raise UsageError(f"not a Kubernetes manifest: a {type(doc).__name__}, not an object", where=where)
    missing = [k for k in ("apiVersion", "kind") if not isinstance(doc.get(k), str) or not doc.get(k)]
    meta = doc.get("metadata")
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str) or not meta["name"]:
        missing.append("metadata.name")
    if doc.get("kind") == "List" and doc.get("apiVersion") == "v1" and isinstance(doc.get("items"), list):
        for item in doc["items"]:
            yield from _objects(path, line, kind_line, item)
        return
    if missing:
        raise UsageError(f"not a Kubernetes manifest: no {', '.join(missing)}", where=where)
    resource = KINDS.get((doc["apiVersion"], doc["kind"]))
    if resource is None:
        kinds = ", ".join(f"{v} {k}" for v, k in KINDS)
        raise UsageError(
            f"mitigate apply cannot apply {doc['apiVersion']} {doc['kind']}",
            where=f"{path}:{kind_line}",
            hint=f"it applies {kinds}; apply anything else with kubectl, and record it with incident note",
        )
    yield Manifest(path, line, resource, doc)
