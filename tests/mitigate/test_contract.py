"""The safety contract's refusals and failures, through the CLI on the sandbox: each ends in one line that says what
and where, the right exit code, nothing changed that should not be, and the journal saying what happened."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import typer
import yaml
from tests.mitigate.conftest import Drill, advancing, resource_versions

from incidentctl.cli.mitigate_common import build_request, run_and_show
from incidentctl.cli.state import AppState, utc_now
from incidentctl.core.events import EventKind
from incidentctl.core.mitigation import Plan
from incidentctl.errors import JournalError
from incidentctl.journal.store import Journal
from incidentctl.phases.mitigate.base import ActionEnv
from incidentctl.phases.mitigate.restart import Restart
from incidentctl.sandbox.faults import Fault
from incidentctl.sandbox.sandbox import CONTEXT


def set_guardrails(d: Drill, **rails: Any) -> None:
    rb = yaml.safe_load(d.site.runbook.read_text())
    rb.setdefault("mitigation", {})["guardrails"] = rails
    d.site.runbook.write_text(yaml.safe_dump(rb, sort_keys=False))


def refused(d: Drill, *args: str, state: AppState | None = None) -> str:
    """Run a mitigation that must be refused: exit 5, one error line (and a hint), nothing changed."""
    before = resource_versions(d.sandbox)
    result = d.run(*args, state=state)
    assert result.exit_code == 5, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert resource_versions(d.sandbox) == before
    return errors[0]


# --- where ----------------------------------------------------------------------------------------------------


def test_the_contexts_guardrail_resolves_the_kubeconfigs_current_context(drill: Callable[..., Drill]) -> None:
    d = drill("memory-leak")
    d.declare()
    set_guardrails(d, contexts=[CONTEXT])
    assert d.run("--yes", "mitigate", "restart", "retrieval", "--no-verify").exit_code == 0
    set_guardrails(d, contexts=["production-eu"])
    line = refused(d, "--yes", "mitigate", "restart", "retrieval")
    assert f"context {CONTEXT!r}" in line
    assert "contexts" in line


def test_the_namespaces_guardrail_refuses_another_namespace(drill: Callable[..., Drill]) -> None:
    d = drill("memory-leak")
    incident = d.declare()
    line = refused(d, "-n", "kube-system", "--yes", "mitigate", "restart", "retrieval")
    assert "namespace 'kube-system'" in line
    assert d.kinds(incident) == []


# --- guardrails on the plan -------------------------------------------------------------------------------------


def test_a_severity_that_does_not_allow_the_action_refuses_it(drill: Callable[..., Drill]) -> None:
    d = drill("memory-leak")
    set_guardrails(d, severity_actions={"P4": ["scale"]})
    incident = d.declare("P4")
    line = refused(d, "--yes", "mitigate", "restart", "retrieval")
    assert "severity-actions" in line
    assert "P4" in line
    assert d.kinds(incident) == ["mitigation_refused"]


def test_a_destructive_action_without_a_reason_is_refused(drill: Callable[..., Drill]) -> None:
    d = drill("healthy")
    incident = d.declare()
    for blank in ([], ["--reason", "  "]):
        line = refused(d, "--yes", "mitigate", "restart", "postgres-0", *blank)
        assert "destructive" in line
        assert "reason" in line
    assert d.kinds(incident) == ["mitigation_refused", "mitigation_refused"]


def test_several_open_incidents_and_none_named_is_refused(drill: Callable[..., Drill]) -> None:
    d = drill("memory-leak")
    first, second = d.declare(), d.declare()
    line = refused(d, "--yes", "mitigate", "restart", "retrieval")
    assert first in line
    assert second in line
    assert d.kinds(first) == d.kinds(second) == []


def test_a_resolved_incident_is_not_mitigated(drill: Callable[..., Drill]) -> None:
    d = drill("memory-leak")
    incident = d.declare()
    assert d.run("incident", "status", incident, "resolved", "-m", "fixed").exit_code == 0
    line = refused(d, "--yes", "mitigate", "restart", "retrieval", "--incident", incident)
    assert f"{incident} is resolved" in line
    line = refused(d, "--yes", "mitigate", "restart", "retrieval")
    assert "none is open" in line
    assert d.kinds(incident) == []


def test_a_dry_run_without_an_incident_still_shows_the_plan(drill: Callable[..., Drill]) -> None:
    d = drill("memory-leak")
    result = d.run("mitigate", "restart", "retrieval", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Dry run: restart deployment/retrieval" in result.stderr


# --- in flight ----------------------------------------------------------------------------------------------


def planned_by_alice(d: Drill, incident: str, ago: timedelta) -> None:
    """Another responder's run recorded its plan ``ago`` and has not said how it ended."""
    when = utc_now() - ago
    alice = Journal(d.site.journal, clock=lambda: when, actor="alice")
    alice.append(
        incident,
        EventKind.MITIGATION_PLANNED,
        {
            "id": "M1",
            "action": "restart",
            "summary": "restart deployment/retrieval",
            "targets": ["deployment/retrieval"],
        },
    )


def test_another_responders_mitigation_in_flight_blocks_the_same_object(drill: Callable[..., Drill]) -> None:
    d = drill("memory-leak")
    incident = d.declare()
    planned_by_alice(d, incident, timedelta(seconds=10))
    line = refused(d, "--yes", "mitigate", "restart", "retrieval")
    assert "M1 by alice is changing deployment/retrieval right now" in line
    assert d.kinds(incident) == ["mitigation_planned"]


def test_a_plan_left_without_an_outcome_minutes_ago_no_longer_blocks(drill: Callable[..., Drill]) -> None:
    d = drill("memory-leak")
    incident = d.declare()
    planned_by_alice(d, incident, timedelta(minutes=2))
    code, doc = d.json("--yes", "mitigate", "restart", "retrieval", "--no-verify")
    assert code == 0, doc
    assert doc["data"]["actionId"] == "M2"


# --- a 409 between the plan and the write ----------------------------------------------------------------------


@dataclass
class ChangedMeanwhile:
    """A restart whose object someone else changes right after the first plan is made (a second responder)."""

    inner: Restart
    plans: list[Plan] = field(default_factory=list)
    name: str = "restart"

    def plan(self, env: ActionEnv) -> Plan:
        plan = self.inner.plan(env)
        if not self.plans:
            body = {"metadata": {"annotations": {"changed-by": "bob"}}}
            env.kube.patch("deployments", env.namespace, "retrieval", body, patch_type="merge")
        self.plans.append(plan)
        return plan


def test_a_conflict_on_an_interactive_run_shows_the_plan_again_and_asks_again(
    drill: Callable[..., Drill], capsys: pytest.CaptureFixture[str]
) -> None:
    d = drill("memory-leak")
    incident = d.declare()
    asked: list[str] = []

    def yes(question: str) -> bool:
        asked.append(question)
        return True

    state = advancing(d.sandbox, runbook_path=d.site.runbook, kubeconfig=str(d.site.kubeconfig), confirm=yes)
    state.env = {"INCIDENTCTL_ACTOR": "tester"}
    action = ChangedMeanwhile(Restart(("retrieval",)))
    request = build_request(state, action, dry_run=False, incident=None, reason=None, no_verify=True)
    with pytest.raises(typer.Exit) as ended:
        run_and_show(state, request)
    assert ended.value.exit_code == 0
    assert len(asked) == 2
    assert len(action.plans) == 2
    err = capsys.readouterr().err
    assert "changed since the plan was read; this is the plan now" in err
    assert "Plan, read again: restart deployment/retrieval" in err
    assert d.kinds(incident) == ["mitigation_planned", "mitigation_failed", "mitigation_planned", "mitigation_applied"]
    failed = next(e for e in d.timeline(incident) if e["kind"] == "mitigation_failed")
    assert failed["data"]["reason"] == "Conflict"


def test_a_conflict_with_yes_stops_and_says_so(drill: Callable[..., Drill], capsys: pytest.CaptureFixture[str]) -> None:
    d = drill("memory-leak")
    incident = d.declare()
    state = advancing(d.sandbox, runbook_path=d.site.runbook, kubeconfig=str(d.site.kubeconfig), yes=True)
    state.env = {"INCIDENTCTL_ACTOR": "tester"}
    action = ChangedMeanwhile(Restart(("retrieval",)))
    request = build_request(state, action, dry_run=False, incident=None, reason=None)
    from incidentctl.phases.mitigate.base import PlanChanged

    with pytest.raises(PlanChanged, match="changed since the plan was read"):
        run_and_show(state, request)
    assert d.kinds(incident) == ["mitigation_planned", "mitigation_failed"]


# --- the server refuses the write ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "code", "reason"),
    [
        (Fault("forbidden", verb="patch", resource="deployments", remaining=1), 4, "Forbidden"),
        (Fault("status", status=422, verb="patch", resource="deployments", remaining=1), 5, "Invalid"),
        (Fault("status", status=503, verb="patch", resource="deployments", remaining=1), 4, "Unreachable"),
    ],
    ids=["403", "422", "503"],
)
def test_a_write_the_server_refuses_is_recorded_as_failed(
    drill: Callable[..., Drill], fault: Fault, code: int, reason: str
) -> None:
    d = drill("memory-leak")
    incident = d.declare()
    d.sandbox.faults.add(fault)
    result = d.run("--yes", "mitigate", "restart", "retrieval", "-o", "json")
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert len([line for line in result.stderr.splitlines() if line.startswith("error:")]) == 1
    assert json.loads(result.stdout)["kind"] == "Error"
    assert d.kinds(incident) == ["mitigation_planned", "mitigation_failed"]
    failed = d.timeline(incident)[-1]["data"]
    assert failed["reason"] == reason
    assert failed["applied"] == []


def test_a_write_without_an_answer_is_recorded_as_uncertain(drill: Callable[..., Drill]) -> None:
    """A timeout: the server may have applied it. The journal must not say "not applied"."""
    d = drill("memory-leak")
    incident = d.declare()
    d.sandbox.faults.add(Fault("latency", seconds=11.0, verb="patch", resource="deployments", remaining=1))
    result = d.run("--yes", "mitigate", "restart", "retrieval")
    assert result.exit_code == 4, result.output
    assert "Traceback" not in result.output
    assert "may have been applied: patch deployment/retrieval" in result.stderr
    failed = d.timeline(incident)[-1]
    assert failed["kind"] == "mitigation_failed"
    assert failed["data"]["uncertain"] == ["patch deployment/retrieval"]
    assert failed["data"]["notApplied"] == []


# --- the journal --------------------------------------------------------------------------------------------


class DiskFull(Journal):
    def append_if_timeline(self, incident_id: str, kind: str, decide: Any, *, event_id: str | None = None) -> Any:
        if kind == EventKind.MITIGATION_PLANNED:
            raise JournalError(
                f"cannot write {self.directory / incident_id / 'timeline.jsonl'}: No space left on device"
            )
        return super().append_if_timeline(incident_id, kind, decide, event_id=event_id)


def test_a_journal_that_cannot_record_the_plan_means_nothing_is_sent(drill: Callable[..., Drill]) -> None:
    d = drill("memory-leak")
    incident = d.declare()
    before = resource_versions(d.sandbox)
    state = advancing(d.sandbox, _journal=DiskFull(d.site.journal, clock=utc_now, actor="tester"))
    result = d.run("--yes", "mitigate", "restart", "retrieval", state=state)
    assert result.exit_code == 2, result.output
    assert "No space left on device" in result.stderr
    assert "Traceback" not in result.output
    assert resource_versions(d.sandbox) == before
    assert d.kinds(incident) == []


class DiskFullAfterTheWrite(Journal):
    def append_if(self, incident_id: str, kind: str, decide: Any, *, event_id: str | None = None) -> Any:
        if kind == EventKind.MITIGATION_APPLIED:
            raise JournalError(
                f"cannot write {self.directory / incident_id / 'timeline.jsonl'}: No space left on device"
            )
        return super().append_if(incident_id, kind, decide, event_id=event_id)


def test_a_change_the_journal_cannot_record_afterwards_is_said_to_be_applied(drill: Callable[..., Drill]) -> None:
    d = drill("memory-leak")
    incident = d.declare()
    before = resource_versions(d.sandbox)
    state = advancing(d.sandbox, _journal=DiskFullAfterTheWrite(d.site.journal, clock=utc_now, actor="tester"))
    result = d.run("--yes", "mitigate", "restart", "retrieval", state=state)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert "M1 was applied (patch deployment/retrieval)" in errors[0]
    assert "No space left on device" in errors[0]
    assert resource_versions(d.sandbox)["deployments/retrieval"] != before["deployments/retrieval"]
    assert d.kinds(incident) == ["mitigation_planned"]
