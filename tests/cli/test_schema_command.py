"""`incidentctl schema output [KIND]`: the published JSON Schemas of every -o json document, and the copies in
schemas/output/ that CI users can fetch from the repository."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from tests.conftest import Invoke

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas" / "output"
CAMEL = re.compile(r"[a-z][a-zA-Z0-9]*")

KINDS = [
    "DetectReport",
    "Triage",
    "Incident",
    "IncidentList",
    "Event",
    "Timeline",
    "TimelineEvent",
    "InvestigateChanges",
    "Mitigation",
    "Verification",
    "MessagePreview",
    "MessageDelivery",
    "Outbox",
    "UpdatesDue",
    "EscalationMatrix",
    "EscalationCheck",
    "Escalation",
    "PostmortemDraft",
    "RunbookValidation",
    "Runbook",
    "RunbookInit",
    "SandboxScenarioList",
    "SandboxScenario",
    "SandboxStatus",
    "SandboxFaults",
    "SandboxHistory",
    "OutputKindList",
    "LogLine",
    "LogProblem",
    "ErrorTemplates",
    "Investigate",
    "InvestigateDatastores",
    "InvestigateDependencies",
    "InvestigateResources",
    "InvestigateEvents",
    "Report",
    "PostmortemStatus",
    "ReviewCompleted",
    "PostmortemMeeting",
    "ActionItems",
    "ActionItem",
    "JournalCopy",
    "JournalMigrate",
    "JournalStatus",
    "Error",
]


def _schema(invoke: Invoke, kind: str) -> dict[str, Any]:
    result = invoke(["schema", "output", kind])
    assert result.exit_code == 0, result.output
    schema: dict[str, Any] = json.loads(result.stdout)
    return schema


def _property_names(schema: Any) -> list[str]:
    """Every property name a schema declares, at every depth (``$defs`` included)."""
    names: list[str] = []
    if isinstance(schema, dict):
        names += list(schema.get("properties", {}))
        for value in schema.values():
            names += _property_names(value)
    elif isinstance(schema, list):
        for value in schema:
            names += _property_names(value)
    return names


def test_without_a_kind_it_lists_every_kind(invoke: Invoke) -> None:
    table = invoke(["schema", "output"])
    assert table.exit_code == 0, table.output
    assert [line.split()[0] for line in table.stdout.splitlines()[1:] if line and not line.startswith(" ")] == KINDS
    listed = json.loads(invoke(["schema", "output", "-o", "json"]).stdout)
    jsonschema.Draft202012Validator(_schema(invoke, "OutputKindList")).validate(listed)
    assert [item["kind"] for item in listed["data"]["items"]] == KINDS
    assert all(item["description"] for item in listed["data"]["items"])


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_has_a_valid_schema_in_one_key_style(invoke: Invoke, kind: str) -> None:
    schema = _schema(invoke, kind)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["apiVersion"]["const"] == "incidentctl/v1"
    assert schema["properties"]["kind"]["const"] == kind
    assert [n for n in _property_names(schema) if not CAMEL.fullmatch(n)] == []
    assert schema["additionalProperties"] is False


def test_a_kind_is_found_in_any_case_and_as_yaml(invoke: Invoke) -> None:
    as_yaml = invoke(["schema", "output", "detectreport", "-o", "yaml"])
    assert as_yaml.exit_code == 0, as_yaml.output
    assert yaml.safe_load(as_yaml.stdout) == _schema(invoke, "DetectReport")


def test_an_unknown_kind_is_a_usage_error_naming_the_kinds(invoke: Invoke) -> None:
    result = invoke(["schema", "output", "Bogus"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == "error: unknown output kind 'Bogus'"
    assert "DetectReport" in result.stderr
    assert "Traceback" not in result.output
    doc = json.loads(invoke(["-o", "json", "schema", "output", "Bogus"]).stdout)
    jsonschema.Draft202012Validator(_schema(invoke, "Error")).validate(doc)


@pytest.mark.parametrize("kind", KINDS)
def test_the_committed_schemas_are_what_the_command_prints(invoke: Invoke, kind: str) -> None:
    path = SCHEMAS / f"{kind}.schema.json"
    assert path.exists(), f"write it: incidentctl schema output {kind} > schemas/output/{kind}.schema.json"
    printed = invoke(["schema", "output", kind]).stdout
    assert path.read_text(encoding="utf-8") == printed, (
        f"{path.name} is stale: incidentctl schema output {kind} > schemas/output/{kind}.schema.json"
    )


def test_no_other_schema_is_committed() -> None:
    assert sorted(p.name for p in SCHEMAS.glob("*.json")) == sorted(f"{kind}.schema.json" for kind in KINDS)


def test_every_kind_a_command_prints_has_a_published_schema() -> None:
    """A command that printed a kind without a model would fail at run time (the envelope refuses it): every
    kind named in the source is one the schema command publishes."""
    source = Path(__file__).resolve().parents[2] / "src" / "incidentctl"
    printed = {
        match.group(1)
        for path in source.rglob("*.py")
        for match in re.finditer(r"\b(?:result|envelope)\(\s*\"([A-Za-z]+)\"", path.read_text(encoding="utf-8"))
    }
    assert {"DetectReport", "Triage", "Timeline", "Incident"} <= printed
    assert printed <= set(KINDS)
