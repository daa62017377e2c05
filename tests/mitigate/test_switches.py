"""The runbook's switches on the sandbox, through the CLI: the circuit breaker contains the dependency outage,
maintenance mode and the standby redirect do what the runbook defines and are put back by the opposite command
and by the recorded undo, a P3 incident refuses maintenance, and a dry run changes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from tests.mitigate.conftest import Drill, advancing, resource_versions

from incidentctl.core.mitigation import Undo
from incidentctl.phases.mitigate.base import MitigateRequest
from incidentctl.phases.mitigate.contract import run_mitigate
from incidentctl.phases.mitigate.undo import undo_action
from incidentctl.sandbox import resources, world


def _object(d: Drill, resource: str, name: str) -> dict[str, Any]:
    rt = getattr(resources, resource.upper())
    with d.sandbox.store.lock:
        obj = d.sandbox.store.get(rt, world.NAMESPACE, name)
    assert obj is not None, f"{resource}/{name} is gone"
    return dict(obj)


def _flag(d: Drill, configmap: str, key: str) -> str:
    return str(_object(d, "configmaps", configmap)["data"][key])


def _backend(d: Drill) -> str:
    ingress = _object(d, "ingresses", "sarvanom")
    return str(ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"])


def _gateway_health(d: Drill) -> httpx.Response:
    return httpx.get(d.sandbox.urls()["health/gateway"], timeout=10)


def _signals(d: Drill, service: str) -> dict[str, Any]:
    return dict(d.sandbox.describe()["signals"][service])


def _planned(d: Drill, incident: str, action_id: str) -> dict[str, Any]:
    return next(
        e["data"] for e in d.timeline(incident) if e["kind"] == "mitigation_planned" and e["data"]["id"] == action_id
    )


def _undo_recorded(d: Drill, incident: str, action_id: str) -> int:
    """Run the undo that ``action_id`` recorded, as ``mitigate undo`` does: rebuilt by undo_action, through the
    same contract."""
    recorded = _planned(d, incident, action_id)["undo"]
    state = advancing(d.sandbox, runbook_path=d.site.runbook, kubeconfig=str(d.site.kubeconfig), env={})
    ctx = state.phase_context()
    action = undo_action(ctx.runbook, Undo(recorded["action"], recorded["args"], recorded["summary"]))
    result = run_mitigate(ctx, MitigateRequest(action=action, yes=True, undoes=action_id, incident=incident))
    assert result.outcome == "applied", result
    return int(result.exit_code)


def test_dependency_outage_is_contained_by_opening_the_openai_breaker(drill: Callable[..., Drill]) -> None:
    d = drill("dependency-outage")
    incident = d.declare("P2")
    assert _flag(d, "synthesis-config", "CIRCUIT_BREAKER") == "closed"

    code, doc = d.json("mitigate", "circuit-breaker", "openai", "open", "--yes")
    data = doc["data"]
    assert code == 0, doc
    assert data["outcome"] == "applied"
    assert data["plan"]["writes"][0]["describe"] == "patch configmap/synthesis-config"
    assert data["plan"]["changes"][0]["fields"] == [
        {"field": "data.CIRCUIT_BREAKER", "before": "closed", "after": "open"}
    ]
    assert "+  CIRCUIT_BREAKER: open" in data["plan"]["changes"][0]["diff"]
    assert data["verification"]["components"] == ["synthesis"]
    assert data["verification"]["healthy"] is True
    assert _flag(d, "synthesis-config", "CIRCUIT_BREAKER") == "open"
    # contained, not fixed: the provider itself still fails its check, which does not count against synthesis
    detect = d.run("detect", "-o", "json")
    subjects = {s["name"]: s["health"] for s in json.loads(detect.stdout)["data"]["subjects"]}
    assert subjects["synthesis"] == "ok"
    assert subjects["openai"] != "ok"
    planned = _planned(d, incident, "M1")
    assert planned["undo"] == {
        "action": "circuit-breaker",
        "args": {"direction": "revert", "switch": "openai"},
        "summary": "close the openai circuit breaker",
    }
    assert planned["before"]["configmap/synthesis-config"]["data"]["CIRCUIT_BREAKER"] == "closed"
    assert planned["after"]["configmap/synthesis-config"]["data"]["CIRCUIT_BREAKER"] == "open"
    assert d.kinds(incident) == ["mitigation_planned", "mitigation_applied", "mitigation_verified"]

    code, doc = d.json("mitigate", "circuit-breaker", "openai", "close", "--yes", "--no-verify")
    assert code == 0, doc
    assert _flag(d, "synthesis-config", "CIRCUIT_BREAKER") == "closed"


def test_maintenance_mode_on_and_off_and_undone(drill: Callable[..., Drill]) -> None:
    d = drill("healthy")
    incident = d.declare("P1")
    assert _gateway_health(d).status_code == 200

    code, doc = d.json("mitigate", "maintenance", "on", "--yes")
    data = doc["data"]
    assert code == 0, doc
    assert data["outcome"] == "applied"
    assert data["plan"]["changes"][0]["fields"] == [{"field": "data.MAINTENANCE_MODE", "before": "off", "after": "on"}]
    # the maintenance page is a 503 on purpose: nothing is judged until it is turned off
    assert data["verification"] is None
    assert any("maintenance off" in note for note in data["plan"]["notes"])
    assert _flag(d, "gateway-config", "MAINTENANCE_MODE") == "on"
    d.sandbox.advance(5)
    reply = _gateway_health(d)
    assert reply.status_code == 503
    assert reply.json()["status"] == "maintenance"
    assert _signals(d, "gateway")["cause"] == "maintenance"

    code, doc = d.json("mitigate", "maintenance", "off", "--yes")
    assert code == 0, doc
    assert doc["data"]["verification"]["components"] == ["gateway"]
    assert doc["data"]["verification"]["healthy"] is True
    assert _flag(d, "gateway-config", "MAINTENANCE_MODE") == "off"
    assert _gateway_health(d).status_code == 200

    code, doc = d.json("mitigate", "maintenance", "on", "--yes")
    assert code == 0, doc
    assert doc["data"]["actionId"] == "M3"
    assert _undo_recorded(d, incident, "M3") == 0
    assert _flag(d, "gateway-config", "MAINTENANCE_MODE") == "off"
    assert _gateway_health(d).status_code == 200
    assert _planned(d, incident, "M4")["undoes"] == "M3"


def test_the_standby_redirect_on_and_off_and_undone(drill: Callable[..., Drill]) -> None:
    d = drill("healthy")
    incident = d.declare("P2")
    assert _backend(d) == "gateway"
    normal = _signals(d, "gateway")["request_rate"]

    code, doc = d.json("mitigate", "redirect", "standby", "on", "--yes")
    data = doc["data"]
    assert code == 0, doc
    assert data["plan"]["writes"][0]["patchType"] == "json"
    assert data["plan"]["changes"][0]["fields"] == [
        {"field": "spec.rules[0].http.paths[0].backend.service.name", "before": "gateway", "after": "gateway-standby"}
    ]
    assert data["verification"]["healthy"] is True
    assert _backend(d) == "gateway-standby"
    assert _signals(d, "gateway")["request_rate"] < normal * 0.1
    assert any("gateway-standby" in line for line in d.sandbox.describe()["switched"])

    code, doc = d.json("mitigate", "redirect", "standby", "off", "--yes")
    assert code == 0, doc
    assert _backend(d) == "gateway"
    assert _signals(d, "gateway")["request_rate"] == pytest.approx(normal)

    code, doc = d.json("mitigate", "redirect", "standby", "on", "--yes", "--no-verify")
    assert code == 0, doc
    assert _undo_recorded(d, incident, doc["data"]["actionId"]) == 0
    assert _backend(d) == "gateway"


def test_a_switch_already_so_is_nothing_to_do(drill: Callable[..., Drill]) -> None:
    d = drill("healthy")
    incident = d.declare("P2")
    before = resource_versions(d.sandbox)
    code, doc = d.json("mitigate", "maintenance", "off", "--yes")
    assert code == 0, doc
    assert doc["data"]["outcome"] == "unchanged"
    assert resource_versions(d.sandbox) == before
    assert d.kinds(incident) == []


def test_a_p3_incident_refuses_maintenance_and_the_redirect(drill: Callable[..., Drill]) -> None:
    d = drill("healthy")
    incident = d.declare("P3")
    before = resource_versions(d.sandbox)
    for args in (("maintenance", "on"), ("redirect", "standby", "on")):
        result = d.run("mitigate", *args, "--yes")
        assert result.exit_code == 5, result.output
        assert "severity-actions" in result.stderr
        assert f"a P3 incident does not allow {args[0]}" in result.stderr
    assert resource_versions(d.sandbox) == before
    assert d.kinds(incident) == ["mitigation_refused", "mitigation_refused"]
    assert _flag(d, "gateway-config", "MAINTENANCE_MODE") == "off"


def test_leaving_maintenance_is_allowed_after_the_severity_was_lowered(drill: Callable[..., Drill]) -> None:
    """Entered as a P2, the incident lowered to P3: P3 may not take the service away from users, but putting it
    back (maintenance off, the redirect off) takes nothing further from them and is never refused for it."""
    d = drill("healthy")
    incident = d.declare("P2")
    assert d.run("mitigate", "maintenance", "on", "--yes").exit_code == 0
    # not verified: the gateway answers the maintenance page on purpose
    assert d.run("mitigate", "redirect", "standby", "on", "--yes", "--no-verify").exit_code == 0
    lowered = d.run("incident", "severity", incident, "P3", "-m", "contained")
    assert lowered.exit_code == 0, lowered.output
    again = d.run("mitigate", "maintenance", "on", "--yes")  # already on: nothing to do, nothing refused
    assert again.exit_code == 0, again.output
    off = d.run("mitigate", "maintenance", "off", "--yes")
    assert off.exit_code == 0, off.output
    back = d.run("mitigate", "redirect", "standby", "off", "--yes")
    assert back.exit_code == 0, back.output
    assert _flag(d, "gateway-config", "MAINTENANCE_MODE") == "off"
    assert "mitigation_refused" not in d.kinds(incident)


@pytest.mark.parametrize(
    "args",
    [
        ("maintenance", "on"),
        ("circuit-breaker", "openai", "open"),
        ("redirect", "standby", "on"),
    ],
    ids=["maintenance", "circuit-breaker", "redirect"],
)
def test_a_dry_run_of_a_switch_changes_nothing(drill: Callable[..., Drill], args: tuple[str, ...]) -> None:
    d = drill("healthy")
    incident = d.declare("P1")
    before = resource_versions(d.sandbox)
    code, doc = d.json("mitigate", *args, "--dry-run")
    assert code == 0, doc
    assert doc["data"]["outcome"] == "dry-run"
    assert len(doc["data"]["dryRunObjects"]) == 1
    assert resource_versions(d.sandbox) == before
    assert d.kinds(incident) == []


@pytest.mark.parametrize(
    ("args", "message", "hint"),
    [
        (("circuit-breaker", "anthropic", "open"), "the runbook defines no circuit breaker 'anthropic'", "openai"),
        (("redirect", "dr", "on"), "the runbook defines no redirect 'dr'", "mitigation.redirects defines: standby"),
        (("maintenance", "enable"), "maintenance takes on or off, not 'enable'", None),
        (("circuit-breaker", "openai", "closed"), "circuit-breaker takes open or close, not 'closed'", None),
    ],
    ids=["unknown-breaker", "unknown-redirect", "maintenance-word", "breaker-word"],
)
def test_unknown_switches_and_words_say_what_the_runbook_defines(
    drill: Callable[..., Drill], args: tuple[str, ...], message: str, hint: str | None
) -> None:
    d = drill("healthy")
    d.declare("P1")
    before = resource_versions(d.sandbox)
    result = d.run("mitigate", *args, "--yes")
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    if hint is not None:
        assert hint in result.stderr
    assert "Traceback" not in result.output
    assert resource_versions(d.sandbox) == before


def test_a_runbook_without_the_switch_says_so(drill: Callable[..., Drill]) -> None:
    import yaml

    d = drill("healthy")
    d.declare("P1")
    rb = yaml.safe_load(d.site.runbook.read_text())
    del rb["mitigation"]["maintenance"]
    rb["mitigation"]["redirects"] = {}
    d.site.runbook.write_text(yaml.safe_dump(rb, sort_keys=False))
    for args, message in (
        (("maintenance", "on"), "the runbook defines no maintenance mode"),
        (("redirect", "standby", "on"), "the runbook defines no redirects"),
    ):
        result = d.run("mitigate", *args, "--yes")
        assert result.exit_code == 2, result.output
        assert message in result.stderr
        assert "mitigation." in result.stderr  # the hint says where to define it


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "name: gateway-config",
            "name: gateway-settings",
            "configmap/gateway-settings does not exist in namespace sarvanom-production, and the runbook's "
            "mitigation.maintenance.apply[0] changes it",
        ),
        (
            "/spec/rules/0/http/paths/0/backend/service/name",
            "/spec/rules/1/http/paths/0/backend/service/name",
            "the runbook's mitigation.redirects.standby.apply[0] does not fit ingress/sarvanom",
        ),
    ],
    ids=["missing-object", "patch-does-not-fit"],
)
def test_a_switch_that_does_not_fit_the_cluster_is_one_line(
    drill: Callable[..., Drill], old: str, new: str, message: str
) -> None:
    d = drill("healthy")
    incident = d.declare("P1")
    d.site.runbook.write_text(d.site.runbook.read_text().replace(old, new))
    before = resource_versions(d.sandbox)
    args = ("maintenance", "on") if "maintenance" in message else ("redirect", "standby", "on")
    result = d.run("mitigate", *args, "--yes")
    assert result.exit_code == 2, result.output
    first = result.stderr.strip().splitlines()[0]
    assert message in first
    assert "Traceback" not in result.output
    assert resource_versions(d.sandbox) == before
    assert d.kinds(incident) == []


@pytest.mark.parametrize(
    ("args", "edit"),
    [
        (("maintenance", "on"), ("configmap", "gateway-config", "merge", '{"data":{"BANNER":"hello"}}')),
        (
            ("redirect", "standby", "on"),
            ("ingress", "sarvanom", "merge", '{"metadata":{"annotations":{"owner":"someone-else"}}}'),
        ),
    ],
    ids=["merge-patch", "json-patch"],
)
def test_a_change_by_someone_else_after_the_plan_is_shown_again_not_written_over(
    drill: Callable[..., Drill], tmp_path: Any, args: tuple[str, ...], edit: tuple[str, str, str, str]
) -> None:
    from incidentctl.sandbox.testing import Kubectl, require_kubectl

    d = drill("healthy")
    d.declare("P1")
    kubectl = Kubectl(d.sandbox, tmp_path, require_kubectl())
    asked: list[str] = []

    def confirm(question: str) -> bool:
        asked.append(question)
        if len(asked) == 1:  # a second responder edits the object while the first reads the plan
            kind, name, kind_of_patch, patch = edit
            done = kubectl("patch", kind, name, f"--type={kind_of_patch}", "-p", patch)
            assert done.returncode == 0, done.stderr
        return True

    result = d.run("mitigate", *args, "--no-verify", "-o", "json", state=advancing(d.sandbox, confirm=confirm))
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)["data"]
    assert len(asked) == 2
    assert "changed since the plan was read; this is the plan now" in result.stderr
    assert doc["outcome"] == "applied"
    if args[0] == "maintenance":
        assert _flag(d, "gateway-config", "BANNER") == "hello"  # kept, not written over
        assert _flag(d, "gateway-config", "MAINTENANCE_MODE") == "on"
    else:
        assert _object(d, "ingresses", "sarvanom")["metadata"]["annotations"]["owner"] == "someone-else"
        assert _backend(d) == "gateway-standby"


def test_a_switch_changing_one_object_twice_is_sent_in_order(drill: Callable[..., Drill]) -> None:
    import yaml

    d = drill("healthy")
    d.declare("P1")
    rb = yaml.safe_load(d.site.runbook.read_text())
    maintenance = rb["mitigation"]["maintenance"]
    maintenance["apply"].append(
        {"resource": "configmaps", "name": "gateway-config", "merge": {"data": {"MAINTENANCE_MESSAGE": "back soon"}}}
    )
    d.site.runbook.write_text(yaml.safe_dump(rb, sort_keys=False))
    code, doc = d.json("mitigate", "maintenance", "on", "--yes")
    assert code == 0, doc
    writes = doc["data"]["plan"]["writes"]
    assert [w["describe"] for w in writes] == ["patch configmap/gateway-config"] * 2
    assert writes[0]["resourceVersion"] is not None
    assert _flag(d, "gateway-config", "MAINTENANCE_MODE") == "on"
    assert _flag(d, "gateway-config", "MAINTENANCE_MESSAGE") == "back soon"
