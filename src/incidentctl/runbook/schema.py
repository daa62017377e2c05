"""The JSON Schema of runbook.yaml, for yaml-language-server and other editors."""

from __future__ import annotations

from typing import Any


def runbook_json_schema() -> dict[str, Any]:
    from incidentctl.runbook.model import Runbook

    schema = Runbook.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
        "title": "incidentctl runbook (incidentctl/v1)",
    }
