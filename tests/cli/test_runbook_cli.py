"""`incidentctl runbook ...` through the real command tree, plus the global-option and error conventions."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from tests.conftest import REPO, Invoke


def test_validate_the_shipped_runbook(invoke: Invoke) -> None:
    result = invoke(["runbook", "validate"])
    assert result.exit_code == 0, result.output
    assert "is valid: 3 components, 2 dependencies, 2 datastores, 4 severities" in result.stdout


def test_validate_lists_every_problem_and_exits_2(invoke: Invoke, workdir: Path) -> None:
    text = (workdir / "runbook.yaml").read_text()
    text = text.replace("      timeout: 5s\n      slow_after", "      timout: 5s\n      slow_after", 1)
    text = text.replace("severity: P3\n      description: Single", "severity: P9\n      description: Single", 1)
    (workdir / "runbook.yaml").write_text(text)

    result = invoke(["runbook", "validate", "-o", "json"])

    assert result.exit_code == 2
    doc = json.loads(result.stdout)
    assert doc["kind"] == "RunbookValidation"
    assert doc["data"]["valid"] is False
    problems = doc["data"]["problems"]
    assert [p["path"] for p in problems] == ["components[0].health.timout"]  # schema errors stop before references
    assert problems[0]["hint"] == "did you mean 'timeout'?"
    assert problems[0]["line"] > 1
    assert problems[0]["column"] == 7


def test_other_commands_on_a_bad_runbook_print_one_located_line(invoke: Invoke, workdir: Path) -> None:
    text = (workdir / "runbook.yaml").read_text().replace("response_time: 15m", "response_time: fast", 1)
    (workdir / "runbook.yaml").write_text(text)

    result = invoke(["runbook", "show"])

    assert result.exit_code == 2
    assert "Traceback" not in result.output
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"error: {workdir / 'runbook.yaml'}:")
    assert "severities.P2.response_time: expected a duration" in first


def test_missing_runbook_is_a_usage_error_with_a_way_out(invoke: Invoke, tmp_path: Path) -> None:
    from incidentctl.cli.state import AppState

    empty = tmp_path / "empty"
    empty.mkdir()
    result = invoke(["runbook", "validate"], state=AppState(cwd=empty))
    assert result.exit_code == 2
    assert f"no runbook: {empty / 'runbook.yaml'} does not exist" in result.stderr
    assert "incidentctl runbook init" in result.stderr


def test_runbook_found_from_option_then_env_then_cwd(invoke: Invoke, tmp_path: Path) -> None:
    from incidentctl.cli.state import AppState

    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "runbook.yaml").write_text(
        (REPO / "runbook.yaml")
        .read_text()
        .replace("namespace: sarvanom-production\n", "namespace: from-env\n", 1)
        .replace("namespaces: [sarvanom-production]", "namespaces: [from-env]", 1)
    )
    nowhere = tmp_path / "nowhere"
    nowhere.mkdir()

    by_env = invoke(
        ["runbook", "show", "-o", "json"],
        env={"INCIDENTCTL_RUNBOOK": str(other / "runbook.yaml")},
        state=AppState(cwd=nowhere),
    )
    assert json.loads(by_env.stdout)["data"]["cluster"]["namespace"] == "from-env"

    by_option = invoke(
        ["--runbook", str(REPO / "runbook.yaml"), "runbook", "show", "-o", "json"],
        env={"INCIDENTCTL_RUNBOOK": str(other / "runbook.yaml")},
        state=AppState(cwd=nowhere),
    )
    assert json.loads(by_option.stdout)["data"]["cluster"]["namespace"] == "sarvanom-production"

    missing = invoke(["--runbook", str(tmp_path / "nope.yaml"), "runbook", "show"])
    assert missing.exit_code == 2
    assert "runbook not found" in missing.stderr


def test_global_options_work_before_and_after_the_subcommand(invoke: Invoke) -> None:
    before = invoke(["-o", "json", "runbook", "show"])
    after = invoke(["runbook", "show", "-o", "json"])
    attached = invoke(["runbook", "show", "-ojson"])
    long_form = invoke(["runbook", "show", "--output=json"])
    assert before.exit_code == after.exit_code == attached.exit_code == long_form.exit_code == 0
    assert json.loads(before.stdout) == json.loads(after.stdout) == json.loads(attached.stdout)
    assert json.loads(long_form.stdout) == json.loads(before.stdout)


def test_show_yaml_round_trips_durations_as_written(invoke: Invoke) -> None:
    result = invoke(["runbook", "show", "-o", "yaml"])
    assert result.exit_code == 0
    doc = yaml.safe_load(result.stdout)
    assert doc["apiVersion"] == "incidentctl/v1"
    assert doc["kind"] == "Runbook"
    data = doc["data"]
    assert data["severities"]["P2"]["response_time"] == "15m"
    assert data["postmortem"]["stages"]["action-items"]["within"] == "1w"
    assert data["escalation"]["rules"]["automatic"][0]["when"][0]["for"] == "15m"
    assert data["escalation"]["rules"]["automatic"][1]["when"][0]["threshold"] == 0.2


def test_show_table_names_components_and_rules(invoke: Invoke) -> None:
    result = invoke(["runbook", "show"])
    assert result.exit_code == 0
    for text in ("gateway", "postgres-0", "p2-error-rate", "Engineering Manager", "sarvanom-production"):
        assert text in result.stdout


def test_unsupported_output_format_is_a_usage_error(invoke: Invoke) -> None:
    result = invoke(["runbook", "show", "-o", "markdown"])
    assert result.exit_code == 2
    assert "unsupported output format 'markdown' for this command (choose table, json, yaml)" in result.stderr
    nonsense = invoke(["runbook", "show", "-o", "xml"])
    assert nonsense.exit_code == 2


def test_schema_validates_the_shipped_runbook(invoke: Invoke) -> None:
    result = invoke(["runbook", "schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    data = yaml.safe_load((REPO / "runbook.yaml").read_text())
    jsonschema.validate(data, schema)
    broken = {**data, "cluster": {"namespace": "x", "namespaec": "y"}}
    with pytest.raises(jsonschema.ValidationError, match="namespaec"):
        jsonschema.validate(broken, schema)


def test_init_writes_a_valid_starter_and_refuses_to_overwrite(invoke: Invoke, tmp_path: Path) -> None:
    target = tmp_path / "team"
    first = invoke(["runbook", "init", str(target)])
    assert first.exit_code == 0, first.output
    assert (target / "runbook.yaml").read_text() == (REPO / "runbook.yaml").read_text()
    assert sorted(p.name for p in (target / "templates").iterdir()) == sorted(
        p.name for p in (REPO / "templates").iterdir()
    )
    assert json.loads((target / "runbook.schema.json").read_text())["title"].startswith("incidentctl runbook")
    assert invoke(["--runbook", str(target / "runbook.yaml"), "runbook", "validate"]).exit_code == 0

    (target / "runbook.yaml").write_text("# my edits\n")
    again = invoke(["runbook", "init", str(target)])
    assert again.exit_code == 5
    assert "not overwriting existing files" in again.stderr
    assert (target / "runbook.yaml").read_text() == "# my edits\n"

    forced = invoke(["runbook", "init", str(target), "--force"])
    assert forced.exit_code == 0
    assert (target / "runbook.yaml").read_text() == (REPO / "runbook.yaml").read_text()


def test_json_errors_come_in_the_envelope(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke(["--runbook", str(tmp_path / "nope.yaml"), "runbook", "show", "-o", "json"])
    assert result.exit_code == 2
    doc = json.loads(result.stdout)
    assert doc["apiVersion"] == "incidentctl/v1"
    assert doc["kind"] == "Error"
    assert doc["error"]["reason"] == "InvalidRunbook"
    assert doc["error"]["exitCode"] == 2
