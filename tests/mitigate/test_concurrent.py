"""Two responders roll synthesis back at the same moment: the cluster is rolled back once, and the second is told
what happened instead of rolling back a second time (to the bad revision, which would then be the previous one).

Each responder runs the mitigate phase in its own thread with its own state, as two terminals would. Both are
released by a barrier, and the sandbox holds every PATCH of a deployment for a moment, so that both have read the
deployment before either write lands: the race the contract must win, made certain rather than left to chance.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.mitigate.conftest import Drill, advancing
from tests.phases.conftest import Site, write_site

from incidentctl.errors import IncidentctlError
from incidentctl.phases.mitigate.base import MitigateRequest, MitigateResult, PlanChanged
from incidentctl.phases.mitigate.contract import run_mitigate
from incidentctl.phases.mitigate.rollback import Rollback
from incidentctl.sandbox.faults import Fault
from incidentctl.sandbox.testing import kubectl_for

NS = "sarvanom-production"
GOOD = "registry.sarvanom.com/sarvanom/synthesis:2.4.3"


@dataclass
class Outcome:
    who: str
    result: MitigateResult | None = None
    error: IncidentctlError | None = None


def _responder(site: Site, who: str, barrier: threading.Barrier, out: Outcome) -> threading.Thread:
    state = advancing(
        site.sandbox,
        runbook_path=site.runbook,
        kubeconfig=str(site.kubeconfig),
        env={"INCIDENTCTL_ACTOR": who},
        cwd=site.runbook.parent,
    )

    def run() -> None:
        ctx = state.phase_context()
        barrier.wait(timeout=30)
        try:
            out.result = run_mitigate(ctx, MitigateRequest(Rollback((("synthesis", None),)), yes=True))
        except IncidentctlError as e:
            out.error = e

    return threading.Thread(target=run, name=f"responder-{who}")


def _race(sites: tuple[Site, Site]) -> tuple[Outcome, Outcome]:
    sb = sites[0].sandbox
    # both plans are read before either write is handled
    sb.faults.add(Fault("latency", "kube", seconds=3.0, verb="patch", resource="deployments"))
    barrier = threading.Barrier(2)
    outcomes = (Outcome("alice"), Outcome("bob"))
    threads = [_responder(site, o.who, barrier, o) for site, o in zip(sites, outcomes, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
        assert not t.is_alive()
    sb.faults.clear()
    applied = [o for o in outcomes if o.result is not None and o.result.outcome == "applied"]
    assert len(applied) == 1, outcomes
    loser = next(o for o in outcomes if o is not applied[0])
    assert loser.error is not None, outcomes
    assert int(loser.error.exit_code) == 5
    return applied[0], loser


def _revisions(d: Drill) -> list[str]:
    kubectl = kubectl_for(d.sandbox, d.site.runbook.parent)
    history = kubectl.run("rollout", "history", "deployment/synthesis", "-n", NS, check=True).stdout
    shown = json.loads(kubectl.run("get", "deployment", "synthesis", "-n", NS, "-o", "json", check=True).stdout)
    assert shown["spec"]["template"]["spec"]["containers"][0]["image"] == GOOD
    return [line.split()[0] for line in history.splitlines()[2:] if line.strip()]


def test_two_rollbacks_in_one_journal_roll_back_once(drill: Callable[..., Drill]) -> None:
    d = drill("bad-deploy")
    incident = d.declare()
    winner, loser = _race((d.site, d.site))
    assert winner.result is not None
    assert winner.result.action_id == "M1"
    # either the journal's lock saw M1 being sent, or the server's 409 said the deployment changed (by M1)
    assert "M1" in str(loser.error), loser.error
    assert _revisions(d) == ["1", "2", "4", "5"]
    planned = [e for e in d.timeline(incident) if e["kind"] == "mitigation_planned"]
    assert planned[0]["actor"] == winner.who
    assert "mitigation_applied" in d.kinds(incident)


def test_two_rollbacks_from_two_journals_are_told_apart_by_the_resource_version(
    drill: Callable[..., Drill], tmp_path: Path
) -> None:
    d = drill("bad-deploy")
    other = Drill(write_site(d.sandbox, tmp_path / "second-laptop"), d.invoke)
    incidents = (d.declare(), other.declare())
    _, loser = _race((d.site, other.site))
    assert isinstance(loser.error, PlanChanged), loser.error
    assert "deployment/synthesis changed since the plan was read" in str(loser.error)
    assert _revisions(d) == ["1", "2", "4", "5"]
    journals = dict(zip(("alice", "bob"), zip((d, other), incidents, strict=True), strict=True))
    lost, lost_incident = journals[loser.who]
    assert lost.kinds(lost_incident) == ["mitigation_planned", "mitigation_failed"]
    failed = lost.timeline(lost_incident)[-1]["data"]
    assert failed["reason"] == "Conflict"
    assert failed["applied"] == []


def test_a_second_rollback_while_the_first_is_being_verified_is_refused(drill: Callable[..., Drill]) -> None:
    """Once M1 has rolled synthesis back, a second `rollback synthesis` would roll it "back" to the bad revision
    (now the previous one). While M1's verification runs, the same journal refuses it, naming M1; once M1 is
    verified, a second rollback is a decision of its own again (and its plan says where it goes)."""
    d = drill("bad-deploy")
    incident = d.declare()
    state = advancing(
        d.sandbox,
        runbook_path=d.site.runbook,
        kubeconfig=str(d.site.kubeconfig),
        env={"INCIDENTCTL_ACTOR": "alice"},
        cwd=d.site.runbook.parent,
    )
    seconds: list[tuple[int, str]] = []

    def during_verification(_progress: object) -> None:
        if not seconds:
            second = d.run("mitigate", "rollback", "synthesis", "--yes")
            seconds.append((second.exit_code, second.stderr))

    first = run_mitigate(
        state.phase_context(),
        MitigateRequest(Rollback((("synthesis", None),)), yes=True, progress=during_verification),
    )
    assert first.outcome == "applied"
    assert first.verification is not None
    assert first.verification.healthy
    code, stderr = seconds[0]
    assert code == 5, stderr
    assert "M1 by alice is verifying its change to deployment/synthesis" in stderr
    assert f"mitigate undo {incident}/M1" in stderr
    kinds = d.kinds(incident)
    assert kinds.count("mitigation_applied") == 1
    assert kinds[-1] == "mitigation_verified"
    history = _revisions(d)
    assert len(history) == len(set(history))
