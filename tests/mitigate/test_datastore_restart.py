"""``mitigate restart`` of a datastore on the sandbox: db-outage (postgres out of connection slots) is fixed by
deleting ``postgres-0`` (its statefulset recreates it) or by restarting the statefulset; either drops the
database's connections, so it needs a reason; and a pod someone else recreated between the plan and the write is
never deleted a second time."""

from __future__ import annotations

from collections.abc import Callable

from tests.mitigate.conftest import Drill, advancing

from incidentctl.sandbox import resources, world
from incidentctl.sandbox.sandbox import Sandbox


def _uid(sb: Sandbox, pod: str) -> str | None:
    with sb.store.lock:
        obj = sb.store.get(resources.PODS, world.NAMESPACE, pod)
    return None if obj is None else str(obj["metadata"]["uid"])


def test_db_outage_is_fixed_by_deleting_postgres_0(drill: Callable[..., Drill]) -> None:
    d = drill("db-outage")
    incident = d.declare()
    old_uid = _uid(d.sandbox, "postgres-0")
    code, doc = d.json("mitigate", "restart", "postgres-0", "--yes", "--reason", "connection slots exhausted")
    data = doc["data"]
    assert code == 0, doc
    assert data["outcome"] == "applied"
    assert [w["describe"] for w in data["plan"]["writes"]] == ["delete pod/postgres-0"]
    assert data["plan"]["destructive"] is True
    assert data["plan"]["datastores"] == ["postgres"]
    verification = data["verification"]
    assert verification["healthy"] is True, verification
    assert set(verification["components"]) >= {"retrieval"}
    assert [r["state"] for r in verification["rollouts"]] == ["done"]
    assert "replaced and is ready" in verification["rollouts"][0]["message"]
    new_uid = _uid(d.sandbox, "postgres-0")
    assert new_uid is not None
    assert new_uid != old_uid
    assert d.kinds(incident) == ["mitigation_planned", "mitigation_applied", "mitigation_verified"]
    planned = next(e for e in d.timeline(incident) if e["kind"] == "mitigation_planned")
    assert planned["data"]["reason"] == "connection slots exhausted"
    assert planned["data"]["before"]["pod/postgres-0"]["uid"] == old_uid
    # detect agrees: postgres and retrieval are healthy again
    code, report = d.json("detect", "--component", "retrieval")
    assert code == 0, report


def test_db_outage_is_fixed_by_restarting_the_statefulset(drill: Callable[..., Drill]) -> None:
    d = drill("db-outage")
    d.declare()
    old_uid = _uid(d.sandbox, "postgres-0")
    code, doc = d.json("mitigate", "restart", "postgres", "--yes", "--reason", "connection slots exhausted")
    data = doc["data"]
    assert code == 0, doc
    # an OrderedReady statefulset replaces no pod while one is not ready: the wedged pod goes too
    assert [w["describe"] for w in data["plan"]["writes"]] == ["patch statefulset/postgres", "delete pod/postgres-0"]
    assert data["verification"]["healthy"] is True, data["verification"]
    assert [r["state"] for r in data["verification"]["rollouts"]] == ["done"]
    assert _uid(d.sandbox, "postgres-0") != old_uid


def test_a_healthy_statefulset_is_restarted_by_its_rolling_update_alone(drill: Callable[..., Drill]) -> None:
    d = drill("healthy")
    d.declare()
    old_uid = _uid(d.sandbox, "redis-0")
    code, doc = d.json("mitigate", "restart", "redis", "--yes", "--reason", "drill")
    data = doc["data"]
    assert code == 0, doc
    assert [w["describe"] for w in data["plan"]["writes"]] == ["patch statefulset/redis"]
    assert data["verification"]["healthy"] is True, data["verification"]
    assert _uid(d.sandbox, "redis-0") != old_uid


def test_a_datastore_restart_without_a_reason_is_refused(drill: Callable[..., Drill]) -> None:
    d = drill("db-outage")
    incident = d.declare()
    old_uid = _uid(d.sandbox, "postgres-0")
    for target in ("postgres-0", "postgres", "statefulset/postgres", "pod/postgres-0"):
        for reason in ((), ("--reason", "  ")):
            result = d.run("mitigate", "restart", target, "--yes", *reason)
            assert result.exit_code == 5, result.output
            assert "destructive" in result.stderr
            assert "--reason" in result.stderr
            assert "Traceback" not in result.output
    d.sandbox.advance(30)
    assert _uid(d.sandbox, "postgres-0") == old_uid
    assert set(d.kinds(incident)) == {"mitigation_refused"}


def test_a_pod_recreated_between_plan_and_write_is_not_deleted_again(drill: Callable[..., Drill]) -> None:
    d = drill("db-outage")
    incident = d.declare()
    sb = d.sandbox
    asked: list[str] = []
    recreated: list[str | None] = []

    def someone_else_restarts_it_first(question: str) -> bool:
        asked.append(question)
        if len(asked) > 1:
            return False  # the plan read again: the responder looks at it and says no
        with sb.store.lock:
            pod = sb.store.must_get(resources.PODS, world.NAMESPACE, "postgres-0")
            sb.sim.deleted(resources.PODS, sb.store.delete(resources.PODS, world.NAMESPACE, "postgres-0"))
        assert pod["metadata"]["uid"]
        sb.advance(15)  # the statefulset recreates it under the same name
        recreated.append(_uid(sb, "postgres-0"))
        return True

    state = advancing(sb, confirm=someone_else_restarts_it_first)
    result = d.run("mitigate", "restart", "postgres-0", "--reason", "connection slots exhausted", state=state)
    assert result.exit_code == 5, result.output
    assert len(asked) == 2, asked
    assert "changed since the plan was read" in result.stderr
    assert "Plan, read again" in result.stderr
    assert recreated[0] is not None
    assert _uid(sb, "postgres-0") == recreated[0]  # the new pod was not deleted
    assert d.kinds(incident) == ["mitigation_planned", "mitigation_failed", "mitigation_refused"]
    failed = next(e for e in d.timeline(incident) if e["kind"] == "mitigation_failed")
    assert failed["data"]["reason"] == "Conflict"
    assert failed["data"]["applied"] == []
