"""``mitigate flush-cache`` on the sandbox: cache-corruption is fixed by the runbook's ``redis-cli flushall``, run
in redis-0 after a preview (``redis-cli dbsize``) says what it drops; it needs an open incident and a reason; a
dry run runs the preview and nothing else; a command that fails is recorded as failed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.mitigate.conftest import Drill, resource_versions

from incidentctl.sandbox.testing import Kubectl, kubectl_for


def _keys(kubectl: Kubectl) -> str:
    """What real kubectl's ``exec redis-0 -- redis-cli dbsize`` answers: whether anything was flushed."""
    result = kubectl("exec", "redis-0", "-c", "redis", "--", "redis-cli", "dbsize")
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def _edit_runbook(d: Drill, change: Callable[[dict[str, Any]], None]) -> None:
    data = yaml.safe_load(d.site.runbook.read_text())
    change(data)
    d.site.runbook.write_text(yaml.safe_dump(data, sort_keys=False))


def _redis(data: dict[str, Any]) -> dict[str, Any]:
    return next(s for s in data["datastores"] if s["name"] == "redis")


@pytest.mark.parametrize("named", [("redis",), ()], ids=["named", "the-only-one"])
def test_cache_corruption_is_fixed_by_flushing_redis(
    drill: Callable[..., Drill], tmp_path: Path, named: tuple[str, ...]
) -> None:
    d = drill("cache-corruption")
    kubectl = kubectl_for(d.sandbox, tmp_path)
    incident = d.declare()
    assert _keys(kubectl) == "(integer) 48213"
    code, doc = d.json("mitigate", "flush-cache", *named, "--yes", "--reason", "corrupt keys")
    data = doc["data"]
    assert code == 0, doc
    assert data["outcome"] == "applied"
    plan = data["plan"]
    assert [w["describe"] for w in plan["writes"]] == ["exec in pod/redis-0: redis-cli flushall"]
    assert plan["destructive"] is True
    assert plan["datastores"] == ["redis"]
    assert set(plan["components"]) == {"retrieval", "synthesis"}
    assert plan["undo"] is None
    assert any("48213" in note for note in plan["notes"]), plan["notes"]
    assert any("cannot be undone" in note for note in plan["notes"]), plan["notes"]
    assert data["verification"]["healthy"] is True, data["verification"]
    assert _keys(kubectl) == "(integer) 0"
    assert d.kinds(incident) == ["mitigation_planned", "mitigation_applied", "mitigation_verified"]
    planned = next(e for e in d.timeline(incident) if e["kind"] == "mitigation_planned")
    assert planned["data"]["reason"] == "corrupt keys"
    assert planned["data"]["before"]["pod/redis-0"]["preview"]["output"] == "(integer) 48213"
    # the gateway's 5xx ratio over 5 minutes falls off as the bad minutes leave its window: detect agrees then
    d.sandbox.advance(300)
    code, report = d.json("detect")
    assert code == 0, report


def test_the_plan_says_what_is_dropped_on_stderr(drill: Callable[..., Drill]) -> None:
    d = drill("cache-corruption")
    d.declare()
    result = d.run("mitigate", "flush-cache", "--yes", "--reason", "corrupt keys", "--no-verify")
    assert result.exit_code == 0, result.output
    assert "redis-cli dbsize" in result.stderr
    assert "(integer) 48213" in result.stderr
    assert "undo: not possible" in result.stderr


@pytest.mark.parametrize("reason", [(), ("--reason", ""), ("--reason", "   ")], ids=["none", "empty", "blank"])
def test_without_a_reason_it_is_refused_and_nothing_runs(
    drill: Callable[..., Drill], tmp_path: Path, reason: tuple[str, ...]
) -> None:
    d = drill("cache-corruption")
    kubectl = kubectl_for(d.sandbox, tmp_path)
    incident = d.declare()
    result = d.run("mitigate", "flush-cache", "redis", "--yes", *reason)
    assert result.exit_code == 5, result.output
    assert "destructive" in result.stderr
    assert "--reason" in result.stderr
    assert "Traceback" not in result.output
    assert _keys(kubectl) == "(integer) 48213"
    assert d.kinds(incident) == ["mitigation_refused"]


def test_without_an_open_incident_it_is_refused(drill: Callable[..., Drill], tmp_path: Path) -> None:
    d = drill("cache-corruption")
    kubectl = kubectl_for(d.sandbox, tmp_path)
    result = d.run("mitigate", "flush-cache", "--yes", "--reason", "corrupt keys")
    assert result.exit_code == 5, result.output
    assert "open incident" in result.stderr
    assert _keys(kubectl) == "(integer) 48213"


def test_a_dry_run_runs_the_preview_and_nothing_else(drill: Callable[..., Drill], tmp_path: Path) -> None:
    d = drill("cache-corruption")
    kubectl = kubectl_for(d.sandbox, tmp_path)
    incident = d.declare()
    before = resource_versions(d.sandbox)
    code, doc = d.json("mitigate", "flush-cache", "redis", "--dry-run", "--reason", "corrupt keys")
    assert code == 0, doc
    data = doc["data"]
    assert data["outcome"] == "dry-run"
    assert any("48213" in note for note in data["plan"]["notes"])
    assert any("sends nothing" in note for note in data["plan"]["notes"])
    answer = data["dryRunObjects"]["pod/redis-0"]
    assert "not sent" in answer["dryRun"]
    assert _keys(kubectl) == "(integer) 48213"
    assert resource_versions(d.sandbox) == before
    assert d.kinds(incident) == []
    table = d.run("mitigate", "flush-cache", "--dry-run", "--reason", "corrupt keys")
    assert table.exit_code == 0, table.output
    assert "not sent" in table.stdout
    assert "accepted" not in table.stdout


def test_a_command_that_fails_is_recorded_as_failed(drill: Callable[..., Drill], tmp_path: Path) -> None:
    d = drill("cache-corruption")
    _edit_runbook(d, lambda data: _redis(data)["actions"][0].update(command=["redis-flush", "--all"]))
    kubectl = kubectl_for(d.sandbox, tmp_path)
    incident = d.declare()
    result = d.run("mitigate", "flush-cache", "--yes", "--reason", "corrupt keys")
    assert result.exit_code == 5, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("error")]
    assert len(lines) == 1, result.stderr
    assert "redis-flush --all" in lines[0]
    assert "exited 127" in lines[0]
    assert "Traceback" not in result.output
    assert _keys(kubectl) == "(integer) 48213"
    assert d.kinds(incident) == ["mitigation_planned", "mitigation_failed"]
    failed = next(e for e in d.timeline(incident) if e["kind"] == "mitigation_failed")
    assert failed["data"]["applied"] == []
    assert failed["data"]["notApplied"] == ["exec in pod/redis-0: redis-flush --all"], failed


def test_a_failing_preview_is_said_not_taken_for_nothing_to_lose(drill: Callable[..., Drill]) -> None:
    d = drill("cache-corruption")
    _edit_runbook(d, lambda data: _redis(data)["actions"][0].update(preview=["redis-count"]))
    d.declare()
    code, doc = d.json("mitigate", "flush-cache", "--dry-run", "--reason", "corrupt keys")
    assert code == 0, doc
    notes = doc["data"]["plan"]["notes"]
    assert any("preview `redis-count` failed" in n and "not known" in n for n in notes), notes


@pytest.mark.parametrize(
    ("args", "change", "words"),
    [
        (("nosuch",), None, "no datastore 'nosuch'"),
        (("postgres",), None, "postgres has no flush-cache action"),
        ((), lambda data: _redis(data).update(actions=[]), "no datastore in the runbook has a flush-cache action"),
        (
            (),
            lambda data: next(s for s in data["datastores"] if s["name"] == "postgres").update(
                actions=[{"name": "flush-cache", "description": "drop caches", "command": ["psql", "-c", "DISCARD"]}]
            ),
            "2 datastores have a flush-cache action: postgres, redis",
        ),
    ],
    ids=["unknown", "no-such-action", "none-has-one", "ambiguous"],
)
def test_which_datastore_is_a_usage_error_when_unclear(
    drill: Callable[..., Drill],
    args: tuple[str, ...],
    change: Callable[[dict[str, Any]], None] | None,
    words: str,
) -> None:
    d = drill("cache-corruption")
    if change is not None:
        _edit_runbook(d, change)
    incident = d.declare()
    result = d.run("mitigate", "flush-cache", *args, "--yes", "--reason", "corrupt keys")
    assert result.exit_code == 2, result.output
    assert words in result.stderr
    assert "Traceback" not in result.output
    assert d.kinds(incident) == []
