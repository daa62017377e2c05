"""``mitigate restart`` on the sandbox: the memory leak is relieved by a restart that is planned, recorded before
and after, and verified by the same checks detect runs."""

from __future__ import annotations

from collections.abc import Callable

from tests.mitigate.conftest import Drill, resource_versions


def test_memory_leak_is_relieved_by_restarting_retrieval(drill: Callable[..., Drill]) -> None:
    d = drill("memory-leak")
    incident = d.declare()
    code, doc = d.json("mitigate", "restart", "retrieval", "--yes")
    data = doc["data"]
    assert code == 0, doc
    assert data["outcome"] == "applied"
    assert data["actionId"] == "M1"
    assert data["verification"]["healthy"] is True
    assert data["plan"]["writes"][0]["describe"] == "patch deployment/retrieval"
    assert d.kinds(incident) == ["mitigation_planned", "mitigation_applied", "mitigation_verified"]
    planned = next(e for e in d.timeline(incident) if e["kind"] == "mitigation_planned")
    assert planned["data"]["targets"] == ["deployment/retrieval"]
    assert planned["data"]["before"]["deployment/retrieval"]["replicas"] >= 1


def test_a_dry_run_changes_nothing(drill: Callable[..., Drill]) -> None:
    d = drill("memory-leak")
    incident = d.declare()
    before = resource_versions(d.sandbox)
    code, doc = d.json("mitigate", "restart", "retrieval", "--dry-run")
    assert code == 0, doc
    assert doc["data"]["outcome"] == "dry-run"
    assert resource_versions(d.sandbox) == before
    assert d.kinds(incident) == []


def test_without_a_terminal_or_yes_it_is_refused(drill: Callable[..., Drill]) -> None:
    d = drill("memory-leak")
    incident = d.declare()
    before = resource_versions(d.sandbox)
    result = d.run("mitigate", "restart", "retrieval")
    assert result.exit_code == 5, result.output
    assert "no terminal" in result.stderr
    assert resource_versions(d.sandbox) == before
    assert d.kinds(incident) == ["mitigation_refused"]


def test_a_cluster_lost_during_the_verification_is_exit_4_never_healthy(drill: Callable[..., Drill]) -> None:
    """The restart is applied, then the API server goes away before the checks run: the checks could not look,
    which is neither "healthy" nor "still broken"; exit 4, recorded as not verified with why."""
    from tests.mitigate.conftest import advancing

    from incidentctl.phases.mitigate.base import MitigateRequest, Progress
    from incidentctl.phases.mitigate.contract import run_mitigate
    from incidentctl.phases.mitigate.restart import Restart

    d = drill("memory-leak")
    incident = d.declare()
    state = advancing(
        d.sandbox, runbook_path=d.site.runbook, kubeconfig=str(d.site.kubeconfig), cwd=d.site.runbook.parent
    )
    state.env = {"INCIDENTCTL_ACTOR": "tester"}

    def lose_the_cluster(progress: Progress) -> None:
        if progress.rollout is not None and progress.rollout.state == "done":
            d.sandbox.stop()

    result = run_mitigate(
        state.phase_context(), MitigateRequest(Restart(("retrieval",)), yes=True, progress=lose_the_cluster)
    )
    assert result.outcome == "applied"
    assert result.verification is not None
    assert not result.verification.healthy
    assert int(result.exit_code) == 4
    assert "the cluster could not be read" in result.verification.still_wrong[0]
    verified = [e for e in d.timeline(incident) if e["kind"] == "mitigation_verified"]
    assert verified[-1]["data"]["healthy"] is False
