"""``mitigate verify`` on the sandbox: the rollouts awaited and detect's checks re-run, judged as detect judges."""

from __future__ import annotations

from collections.abc import Callable

from tests.mitigate.conftest import Drill


def test_a_healthy_cluster_verifies_and_is_recorded_in_the_open_incident(drill: Callable[..., Drill]) -> None:
    d = drill("healthy")
    incident = d.declare()
    code, doc = d.json("mitigate", "verify")
    assert code == 0, doc
    assert doc["kind"] == "Verification"
    data = doc["data"]
    assert data["healthy"] is True
    assert data["incidentId"] == incident
    assert "synthesis" in data["components"]
    assert any(r["ref"]["label"] == "deployment/synthesis" and r["state"] == "done" for r in data["rollouts"])
    verified = [e for e in d.timeline(incident) if e["kind"] == "mitigation_verified"]
    assert len(verified) == 1
    assert "id" not in verified[0]["data"] or verified[0]["data"]["id"] is None
    assert verified[0]["data"]["healthy"] is True


def test_a_bad_deploy_is_not_verified_and_says_synthesis_is_still_wrong(drill: Callable[..., Drill]) -> None:
    d = drill("bad-deploy")
    result = d.run("mitigate", "verify", "synthesis", "--timeout", "20s", "--settle", "30s")
    assert result.exit_code == 3, result.output
    assert "synthesis" in result.stdout
    assert "still wrong" in result.stdout
    assert "Traceback" not in result.output


def test_a_datastore_waits_for_its_statefulset_and_judges_the_datastore(drill: Callable[..., Drill]) -> None:
    d = drill("healthy")
    code, doc = d.json("mitigate", "verify", "postgres")
    assert code == 0, doc
    data = doc["data"]
    assert [r["ref"]["label"] for r in data["rollouts"]] in (["statefulset/postgres"], ["pod/postgres-0"])
    assert data["datastores"] == ["postgres"]
    assert data["incidentId"] is None


def test_an_unknown_component_is_a_usage_error(drill: Callable[..., Drill]) -> None:
    d = drill("healthy")
    result = d.run("mitigate", "verify", "nosuch")
    assert result.exit_code == 2, result.output
    assert "nosuch" in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2
    assert "Traceback" not in result.output


def test_an_unreachable_cluster_is_exit_4(drill: Callable[..., Drill]) -> None:
    d = drill("healthy")
    d.sandbox.stop()
    result = d.run("mitigate", "verify", "synthesis")
    assert result.exit_code == 4, result.output
    assert "Traceback" not in result.output


def test_a_finished_rollout_that_still_fails_its_checks_is_not_verified(drill: Callable[..., Drill]) -> None:
    d = drill("traffic-spike")
    code, doc = d.json("mitigate", "verify", "gateway", "--settle", "30s")
    assert code == 3, doc
    data = doc["data"]
    assert data["rollouts"][0]["state"] == "done"
    assert data["healthy"] is False
    assert any(line.startswith("gateway:") for line in data["stillWrong"]), data["stillWrong"]
