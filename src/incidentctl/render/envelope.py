"""The versioned json/yaml envelope every command prints with ``-o json|yaml``, on success and on error.

Shape: ``{"apiVersion": "incidentctl/v1", "kind": <Kind>, "data": ...}``; errors are
``{"apiVersion": ..., "kind": "Error", "error": {"reason", "message", "hint", "where", "exitCode", "details"}}``.
This is the one place a result becomes a document: ``data`` goes through its kind's typed model
(``render.output_kinds``), so every key is camelCase, as kubectl writes JSON, and every document matches the schema
``incidentctl schema output KIND`` publishes. Fields are only ever added within ``incidentctl/v1``, never renamed
or removed (the key style was settled at version 0.1).
"""

from __future__ import annotations

import json
from typing import Any

from incidentctl.core.text import UNSAFE, has_unsafe
from incidentctl.errors import IncidentctlError

API_VERSION = "incidentctl/v1"


def envelope(kind: str, data: Any) -> dict[str, Any]:
    """``data`` is the kind's result model, or what it reads by attribute (a phase's result, the journal's
    dataclasses); a kind without a model is a programming error, raised here rather than printed unchecked."""
    from incidentctl.render.output_kinds import data_document  # pydantic models: paid for only when printing

    return {"apiVersion": API_VERSION, "kind": kind, "data": data_document(kind, data)}


def error_envelope(err: IncidentctlError, data: Any = None) -> dict[str, Any]:
    """The envelope of an error; ``data``, a ``DetectReport`` result, is what the command could still see."""
    from incidentctl.render.output_kinds import data_document, error_document

    doc = {"apiVersion": API_VERSION, "kind": "Error", "error": error_document(err)}
    if data is not None:
        doc["data"] = data_document("DetectReport", data)
    return doc


def dumps(doc: Any, fmt: str, *, compact: bool = False) -> str:
    """json or yaml; readable unicode, but never a raw control, bidi or zero-width character (``core.text``):
    a document printed on a terminal is as safe as a table. ``compact`` json is one line (for ``--watch``)."""
    if fmt == "json":
        text = json.dumps(doc, indent=None if compact else 2, ensure_ascii=False)
        # json escapes C0 itself; the rest of the class is escaped the same way (only strings can hold them)
        return UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n"
    import yaml  # only paid for when yaml output is asked for

    return str(yaml.dump(doc, Dumper=_safe_dumper(), sort_keys=False, allow_unicode=True, default_flow_style=False))


def _safe_dumper() -> type[Any]:
    """PyYAML's safe dumper, except that a string holding an unsafe character is written double-quoted with every
    non-ASCII character escaped (PyYAML counts bidi controls, NEL and U+2028 as printable and writes them raw)."""
    import yaml

    class SafeTextDumper(yaml.SafeDumper):
        def analyze_scalar(self, scalar: str) -> Any:
            return self._ascii_if_unsafe(scalar, super().analyze_scalar, scalar)

        def write_double_quoted(self, text: str, split: bool = True) -> None:
            self._ascii_if_unsafe(text, super().write_double_quoted, text, split)

        def _ascii_if_unsafe(self, text: str, method: Any, *args: Any) -> Any:
            if not has_unsafe(text):
                return method(*args)
            allow, self.allow_unicode = self.allow_unicode, False
            try:
                return method(*args)
            finally:
                self.allow_unicode = allow

    return SafeTextDumper
