"""``mitigate undo ACTION-ID``: a recorded mitigation is reverted with the undo it recorded, through the same
contract (previewed, guarded, confirmed, journaled with ``undoes``, verified); what cannot be undone is refused."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import pytest
from tests.mitigate.conftest import Drill, advancing, resource_versions

from incidentctl.cli.state import AppState
from incidentctl.core.events import EventKind
from incidentctl.core.mitigation import Plan, Undo
from incidentctl.phases.mitigate.base import ActionEnv, MitigateRequest, MitigateResult, MitigationRefused
from incidentctl.phases.mitigate.contract import run_mitigate
from incidentctl.phases.mitigate.restart import Restart


@dataclass(frozen=True)
class RestartUndoneByRestart:
    """A restart whose plan says how it is undone (another restart), as the actions that change state do."""

    targets: tuple[str, ...]
    name: str = "restart"

    def plan(self, env: ActionEnv) -> Plan:
        plan = Restart(self.targets).plan(env)
        return replace(plan, undo=Undo("restart", {"targets": list(self.targets)}, "restart it again"))


def state_of(d: Drill) -> AppState:
    st = advancing(d.sandbox, runbook_path=d.site.runbook, kubeconfig=str(d.site.kubeconfig))
    st.env = {"INCIDENTCTL_ACTOR": "tester"}
    return st


def mitigate(d: Drill, **request: Any) -> MitigateResult:
    request.setdefault("action", RestartUndoneByRestart(("retrieval",)))
    return run_mitigate(state_of(d).phase_context(), MitigateRequest(yes=True, **request))


@pytest.fixture
def undoable(drill: Callable[..., Drill]) -> tuple[Drill, str]:
    d = drill("memory-leak")
    incident = d.declare()
    assert mitigate(d).action_id == "M1"
    return d, incident


def test_undo_runs_the_recorded_undo_through_the_contract(undoable: tuple[Drill, str]) -> None:
    d, incident = undoable
    code, doc = d.json("--yes", "mitigate", "undo", "M1")
    assert code == 0, doc
    data = doc["data"]
    assert data["outcome"] == "applied"
    assert data["actionId"] == "M2"
    assert data["verification"]["healthy"] is True
    events = [e for e in d.timeline(incident) if e["kind"].startswith("mitigation_")]
    m2 = next(e for e in events if e["kind"] == "mitigation_planned" and e["data"]["id"] == "M2")
    assert m2["data"]["undoes"] == "M1"
    assert m2["data"]["action"] == "restart"
    assert [e["kind"] for e in events][-3:] == ["mitigation_planned", "mitigation_applied", "mitigation_verified"]


def test_an_undone_mitigation_is_not_undone_twice(undoable: tuple[Drill, str]) -> None:
    d, incident = undoable
    assert d.run("--yes", "mitigate", "undo", f"{incident}/M1").exit_code == 0
    before = resource_versions(d.sandbox)
    again = d.run("--yes", "mitigate", "undo", f"{incident}/M1")
    assert again.exit_code == 5, again.output
    assert "already undone by M2" in again.stderr
    assert "Traceback" not in again.output
    assert resource_versions(d.sandbox) == before
    # a second responder who read the timeline before M2 was recorded is refused when it records its own undo
    with pytest.raises(MitigationRefused, match="already undone by M2"):
        mitigate(d, undoes="M1", incident=incident)
    assert resource_versions(d.sandbox) == before


def test_the_undo_is_previewed_and_a_dry_run_changes_nothing(undoable: tuple[Drill, str]) -> None:
    d, incident = undoable
    before = resource_versions(d.sandbox)
    result = d.run("mitigate", "undo", "M1", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Dry run (undoing M1): restart deployment/retrieval" in result.stderr
    assert resource_versions(d.sandbox) == before
    assert d.kinds(incident)[-1] == "mitigation_verified"  # nothing recorded by the dry run


def test_without_a_terminal_or_yes_the_undo_is_refused(undoable: tuple[Drill, str]) -> None:
    d, incident = undoable
    result = d.run("mitigate", "undo", "M1")
    assert result.exit_code == 5, result.output
    assert d.kinds(incident)[-1] == "mitigation_refused"


def test_an_id_that_does_not_exist_is_exit_2(undoable: tuple[Drill, str]) -> None:
    d, incident = undoable
    for text in ("M9", f"{incident}/M9", "INC-2026-999/M1", "9", "M", "restart", f"{incident}/", "M1/M2"):
        result = d.run("--yes", "mitigate", "undo", text)
        assert result.exit_code == 2, (text, result.output)
        assert len(result.stderr.strip().splitlines()) <= 2, result.stderr
        assert "Traceback" not in result.output


def test_a_mitigation_without_an_undo_is_refused(drill: Callable[..., Drill]) -> None:
    d = drill("healthy")
    d.declare()
    # a deleted pod cannot be put back (a deployment's restart can: it is rolled back)
    assert d.run("--yes", "mitigate", "restart", "postgres-0", "--reason", "drill").exit_code == 0
    result = d.run("--yes", "mitigate", "undo", "M1")
    assert result.exit_code == 5, result.output
    assert "M1" in result.stderr
    assert "cannot be undone" in result.stderr


def test_a_failed_mitigation_is_not_undone(drill: Callable[..., Drill]) -> None:
    d = drill("memory-leak")
    incident = d.declare()
    d.sandbox.faults.forbid("patch", "deployments", count=1)
    with pytest.raises(Exception, match="forbidden"):
        mitigate(d)
    assert d.kinds(incident) == ["mitigation_planned", "mitigation_failed"]
    result = d.run("--yes", "mitigate", "undo", "M1")
    assert result.exit_code == 5, result.output
    assert "M1 failed" in result.stderr


def test_a_mitigation_that_never_applied_is_not_undone(drill: Callable[..., Drill]) -> None:
    """A run that died between recording its plan and its outcome: nobody knows what it changed."""
    d = drill("memory-leak")
    incident = d.declare()
    journal = state_of(d).journal()
    journal.append(
        incident,
        EventKind.MITIGATION_PLANNED,
        {
            "id": "M1",
            "action": "restart",
            "summary": "restart deployment/retrieval",
            "targets": ["deployment/retrieval"],
            "undo": {"action": "restart", "args": {"targets": ["retrieval"]}, "summary": "restart it again"},
        },
    )
    d.sandbox.advance(300)
    result = d.run("--yes", "mitigate", "undo", "M1")
    assert result.exit_code == 5, result.output
    assert "never applied" in result.stderr


def test_several_open_incidents_need_the_id_to_name_one(undoable: tuple[Drill, str]) -> None:
    d, incident = undoable
    d.declare()
    result = d.run("--yes", "mitigate", "undo", "M1")
    assert result.exit_code == 5, result.output
    assert "none was named" in result.stderr
    assert d.run("--yes", "mitigate", "undo", "M1", "--incident", incident).exit_code == 0


def test_auto_undo_runs_the_planned_undo_when_the_verification_fails(drill: Callable[..., Drill]) -> None:
    d = drill("bad-deploy")
    incident = d.declare()
    result = mitigate(d, action=RestartUndoneByRestart(("synthesis",)), auto_undo=True, timeout=timedelta(seconds=20))
    assert result.verification is not None
    assert result.verification.healthy is False
    assert result.undone_by is not None
    assert result.undone_by.action_id == "M2"
    m2 = next(e for e in d.timeline(incident) if e["kind"] == "mitigation_planned" and e["data"]["id"] == "M2")
    assert m2["data"]["undoes"] == "M1"
    assert m2["data"]["args"] == {"targets": ["synthesis"]}
