"""Real ``-o json`` output of detect, triage, every ``incident`` command and errors is valid against the schema
``incidentctl schema output KIND`` publishes, and writes every key in one style (camelCase, as kubectl does)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from tests.conftest import Invoke
from tests.phases.conftest import Site, run
from typer.testing import CliRunner, Result

from incidentctl.cli.app import app
from incidentctl.cli.state import AppState
from incidentctl.sandbox.sandbox import Sandbox
from incidentctl.sandbox.scenarios import SCENARIOS

#: A snake_case field name: what no key of ours may be.
SNAKE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+")


@cache
def published(kind: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["schema", "output", kind], obj=AppState())
    assert result.exit_code == 0, result.output
    schema: dict[str, Any] = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def snake_keys(value: Any, path: str = "") -> list[str]:
    """Every key in a document that is a snake_case name. Map keys that are names from elsewhere stay as written:
    the signals of a report are keyed by the runbook's signal names, and Prometheus labels are Prometheus's."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "labels":
                continue
            if SNAKE.fullmatch(key) and not path.endswith(".signals"):
                found.append(f"{path}.{key}")
            found += snake_keys(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += snake_keys(item, f"{path}[{index}]")
    return found


def valid(doc: dict[str, Any], kind: str) -> dict[str, Any]:
    """``doc`` is a ``kind`` document, matches its published schema and has no snake_case key."""
    assert doc["apiVersion"] == "incidentctl/v1"
    assert doc["kind"] == kind
    jsonschema.Draft202012Validator(published(kind)).validate(doc)
    assert snake_keys(doc) == []
    return doc


def document(result: Result, kind: str) -> dict[str, Any]:
    assert "Traceback" not in result.output
    return valid(json.loads(result.stdout), kind)


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_detect_of_every_scenario_matches_the_schema(
    invoke: Invoke, site_for: Callable[..., Site], scenario: str
) -> None:
    result = run(invoke, site_for(scenario), "detect", "-o", "json")
    assert result.exit_code in (0, 3), result.output
    data = document(result, "DetectReport")["data"]
    assert "startedAt" in data
    assert "durationSeconds" in data
    pods = [c for c in data["checks"] if c["kind"] == "pods"]
    assert pods
    assert all("recentRestarts" in c["observed"] for c in pods if c["summary"] != "no pods")  # total-outage: none
    if scenario != "healthy":
        assert data["health"] != "ok"


def test_watch_lines_match_the_schemas(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("db-outage")
    steps = [site.sandbox.stop, site.sandbox.start]

    def sleep(seconds: float) -> None:
        if not steps:
            raise KeyboardInterrupt
        steps.pop(0)()

    result = invoke(site.args("detect", "--watch", "-o", "json"), state=AppState(sleep=sleep))
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["kind"] for line in lines] == ["DetectReport", "Error", "DetectReport"]
    for line in lines:
        valid(line, line["kind"])


def test_triage_declare_update_and_the_incident_commands_match_the_schemas(
    invoke: Invoke, site_for: Callable[..., Site]
) -> None:
    site = site_for("db-outage")
    looked = document(run(invoke, site, "triage", "-o", "json"), "Triage")["data"]
    assert looked["incident"] is None
    assert looked["severityDecision"] is None
    assert looked["sla"]["burnRate"] is not None
    assert "elapsedSeconds" in looked["sla"]
    declared = document(run(invoke, site, "triage", "--declare", "-o", "json"), "Triage")["data"]
    assert declared["action"] == "declared"
    assert declared["impactStart"]["source"]
    incident_id = declared["incident"]
    site.sandbox.advance(120)
    again = document(run(invoke, site, "triage", "--declare", "-o", "json"), "Triage")["data"]
    assert again["severityDecision"]["setBy"]["byPerson"] is False

    def cli(kind: str, *args: str) -> dict[str, Any]:
        result = run(invoke, site, "incident", *args, "-o", "json")
        assert result.exit_code == 0, result.output
        data: dict[str, Any] = document(result, kind)["data"]
        return data

    listed = cli("IncidentList", "list")
    assert [i["id"] for i in listed["items"]] == [incident_id]
    assert listed["items"][0]["declaredAt"].endswith("Z")
    shown = cli("Incident", "show", incident_id)
    assert shown["stateFrom"] == "timeline"
    assert shown["acknowledgedAt"] is None
    cli("Event", "note", incident_id, "rolled", "back")
    cli("Event", "status", incident_id, "identified", "-m", "postgres is down")
    cli("Event", "severity", incident_id, "P1", "-m", "checkout fails")
    assigned = cli("Event", "assign", incident_id, "--commander", "carol", "--tech-lead", "dave")
    assert assigned["incident"]["techLead"] == "dave"
    assert assigned["event"]["data"] == {"commander": "carol", "techLead": "dave"}
    acked = cli("Event", "ack", incident_id)
    assert acked["recorded"] is True
    assert acked["incident"]["acknowledgedBy"] == "tester"
    again_acked = cli("Event", "ack", incident_id)
    assert again_acked["recorded"] is False
    assert again_acked["event"] is None
    timeline = cli("Timeline", "timeline", incident_id)
    triaged = next(e for e in timeline["events"] if e["kind"] == "triaged")
    assert "impactStart" in triaged["data"]
    assert "usersAffected" in triaged["data"]
    other = cli("Incident", "declare", "--title", "slow search", "--severity", "P3", "--started-at", "20m")
    assert other["startedAt"] < other["declaredAt"]


def test_errors_match_the_error_schema(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    missing = run(invoke, site, "incident", "show", "INC-2026-999", "-o", "json")
    assert document(missing, "Error")["error"]["exitCode"] == missing.exit_code != 0
    usage = run(invoke, site, "-o", "json", "incident", "show", "not-an-id")
    assert document(usage, "Error")["error"]["reason"] == "Usage"
    site.sandbox.stop()
    unreachable = run(invoke, site, "detect", "-o", "json")
    doc = document(unreachable, "Error")
    assert doc["error"]["exitCode"] == unreachable.exit_code == 4
    assert any(c["check"] == "kubernetes" for c in doc["data"]["checks"])  # the partial report


def test_runbook_and_sandbox_commands_match_their_schemas(
    invoke: Invoke, sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    validated = document(invoke(["runbook", "validate", "-o", "json"]), "RunbookValidation")["data"]
    assert validated["counts"]["triageRules"] > 0
    (tmp_path / "bad.yaml").write_text("version: 1\ncomponents: 3\n", encoding="utf-8")
    invalid = invoke(["--runbook", str(tmp_path / "bad.yaml"), "runbook", "validate", "-o", "json"])
    assert document(invalid, "RunbookValidation")["data"]["problems"]
    jsonschema.Draft202012Validator(published("Runbook")).validate(
        json.loads(invoke(["runbook", "show", "-o", "json"]).stdout)
    )
    document(invoke(["runbook", "init", str(tmp_path / "starter"), "-o", "json"]), "RunbookInit")
    document(invoke(["sandbox", "scenarios", "-o", "json"]), "SandboxScenarioList")
    sb = sandbox_factory("db-outage")
    sb.write_kubeconfig(tmp_path / ".sandbox" / "kubeconfig")
    status = document(invoke(["sandbox", "status", "--dir", str(tmp_path / ".sandbox"), "-o", "json"]), "SandboxStatus")
    assert status["data"]["signals"]["retrieval"]["errorRate"] > 0
    injected = invoke(["sandbox", "inject", "bad-deploy", "--dir", str(tmp_path / ".sandbox"), "-o", "json"])
    assert document(injected, "SandboxScenario")["data"]["replaced"] == "db-outage"


def test_mitigate_and_verify_match_their_schemas(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("memory-leak")

    def state() -> AppState:
        return AppState(sleep=lambda seconds: site.sandbox.advance(max(seconds, 1.0)))

    declared = invoke(site.args("incident", "declare", "--title", "leak", "--severity", "P2"), state=state())
    assert declared.exit_code == 0, declared.output
    dry = document(
        invoke(site.args("mitigate", "restart", "retrieval", "--dry-run", "-o", "json"), state=state()), "Mitigation"
    )
    assert dry["data"]["outcome"] == "dry-run"
    applied = invoke(site.args("--yes", "mitigate", "restart", "retrieval", "-o", "json"), state=state())
    assert document(applied, "Mitigation")["data"]["verification"]["healthy"] is True
    verified = invoke(site.args("mitigate", "verify", "retrieval", "-o", "json"), state=state())
    assert document(verified, "Verification")["data"]["healthy"] is True
    refused = invoke(site.args("mitigate", "restart", "postgres", "-o", "json"), state=state())
    assert refused.exit_code == 5
    assert document(refused, "Error")["error"]["reason"] == "Refused"
