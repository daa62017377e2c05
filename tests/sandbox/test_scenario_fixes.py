"""Every scenario names the incidentctl command that fixes it (``Scenario.fix``), and ``sandbox scenarios
--mitigations`` shows it beside the kubectl line. A fix must be a command line incidentctl really parses: a
renamed command, a missing argument or an unknown option in one of them fails here, not in front of a newcomer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

from incidentctl.cli.app import app
from incidentctl.cli.state import AppState
from incidentctl.cli.typercompat import Command, Context, UsageError
from incidentctl.sandbox.scenarios import SCENARIOS

#: The scenarios without an incidentctl fix: healthy needs none.
WITHOUT_FIX = {"healthy"}


def _parse(args: tuple[str, ...]) -> Context:
    """Resolve the fix's command path in the real command tree and parse its arguments as the CLI would."""
    command: Command = typer.main.get_command(app)
    parent = command.make_context("incidentctl", [], resilient_parsing=True)
    rest = list(args)
    while isinstance(command, TyperGroup):
        assert rest, f"{' '.join(args)} stops at a group"
        name = rest.pop(0)
        sub = command.get_command(parent, name)
        assert sub is not None, f"incidentctl has no command {name!r} (in {' '.join(args)})"
        command = sub
        if isinstance(command, TyperGroup):
            parent = command.make_context(name, [], parent=parent, resilient_parsing=True)
    return command.make_context(command.name or "", rest, parent=parent)


@pytest.mark.parametrize("name", [n for n in SCENARIOS if n not in WITHOUT_FIX])
def test_each_scenario_names_an_incidentctl_command_that_parses(name: str) -> None:
    fix = SCENARIOS[name].fix
    assert fix, name
    assert fix[0] == "mitigate"
    parsed = _parse(fix)  # a missing argument, an extra one or an unknown option raises here
    assert parsed.args == []


def test_the_scenarios_without_a_fix_are_the_ones_that_say_why() -> None:
    assert {n for n, s in SCENARIOS.items() if not s.fix} == WITHOUT_FIX


def test_a_fix_that_does_not_parse_is_caught() -> None:
    with pytest.raises(AssertionError, match="no command 'restrat'"):
        _parse(("mitigate", "restrat", "retrieval"))
    with pytest.raises(UsageError):
        _parse(("mitigate", "restart", "retrieval", "--no-such-option"))


def test_scenarios_shows_the_incidentctl_fix_beside_the_kubectl_line(tmp_path: Path) -> None:
    listed = CliRunner().invoke(app, ["sandbox", "scenarios", "-o", "json"], obj=AppState(cwd=tmp_path))
    assert listed.exit_code == 0, listed.output
    data = {d["name"]: d for d in json.loads(listed.stdout)["data"]}
    assert data["memory-leak"]["fix"] == ["mitigate", "restart", "retrieval"]
    assert data["healthy"]["fix"] == []
    quiet = CliRunner().invoke(app, ["sandbox", "scenarios"], obj=AppState(cwd=tmp_path), env={"COLUMNS": "250"})
    assert "incidentctl mitigate" not in quiet.stdout  # no spoilers for responders by default
    answers = CliRunner().invoke(
        app, ["sandbox", "scenarios", "--mitigations"], obj=AppState(cwd=tmp_path), env={"COLUMNS": "250"}
    )
    assert answers.exit_code == 0, answers.output
    rows = answers.stdout.splitlines()
    leak = next(i for i, line in enumerate(rows) if line.startswith("memory-leak"))
    assert "incidentctl mitigate restart retrieval" in rows[leak]
    assert "kubectl rollout restart deployment/retrieval" in "\n".join(rows[leak : leak + 3])
    bad_config = next(line for line in rows if line.startswith("bad-config"))
    assert "incidentctl mitigate apply" in bad_config


def test_the_sandbox_runbook_names_the_hotfix_that_fixes_bad_config(tmp_path: Path) -> None:
    """``mitigate apply`` without DIR applies the runbook's hotfix_dir: the sandbox's runbook names a folder it
    writes beside itself, with the manifest that puts the provider timeout back."""
    import yaml

    from incidentctl.sandbox import world
    from incidentctl.sandbox.sandbox_runbook import write_runbook

    runbook = write_runbook(tmp_path / "drill" / "runbook.yaml", "http://127.0.0.1:1")
    folder = runbook.parent / yaml.safe_load(runbook.read_text())["mitigation"]["hotfix_dir"]
    manifests = [yaml.safe_load(p.read_text()) for p in sorted(folder.glob("*.yaml"))]
    assert manifests == [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "gateway-config", "namespace": world.NAMESPACE},
            "data": {world.LOGIN_THROTTLE_KEY: "5"},
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "synthesis-config", "namespace": world.NAMESPACE},
            "data": {world.TIMEOUT_KEY: world.GOOD_TIMEOUT},
        },
    ]
    checked = CliRunner().invoke(app, ["runbook", "validate", "--runbook", str(runbook)], obj=AppState(cwd=tmp_path))
    assert checked.exit_code == 0, checked.output
