"""``mitigate rollback`` on the sandbox, held to real kubectl: the bad deploy is fixed by rolling synthesis back,
the plan shows what the rollback changes, and each state kubectl's ``rollout undo`` refuses is one clear line."""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.mitigate.conftest import Drill, resource_versions

from incidentctl.sandbox.faults import Fault
from incidentctl.sandbox.testing import kubectl_for

NS = "sarvanom-production"
BAD = "registry.sarvanom.com/sarvanom/synthesis:2.5.0"
GOOD = "registry.sarvanom.com/sarvanom/synthesis:2.4.3"


def test_bad_deploy_is_fixed_by_rolling_synthesis_back(drill: Callable[..., Drill]) -> None:
    d = drill("bad-deploy")
    incident = d.declare()
    code, doc = d.json("mitigate", "rollback", "synthesis", "--yes")
    data = doc["data"]
    assert code == 0, doc
    assert data["outcome"] == "applied"
    assert data["verification"]["healthy"] is True
    assert data["plan"]["summary"] == "roll back deployment/synthesis from revision 4 to 3"
    change = data["plan"]["changes"][0]
    assert {"field": "synthesis: image", "before": BAD, "after": GOOD} in change["fields"]
    assert any(line.startswith("-") and BAD in line for line in change["diff"])
    assert any(line.startswith("+") and GOOD in line for line in change["diff"])
    write = data["plan"]["writes"][0]
    assert (write["describe"], write["patchType"]) == ("patch deployment/synthesis", "json")
    assert data["plan"]["undo"]["args"] == {"revisions": {"synthesis": 4}}
    assert d.kinds(incident) == ["mitigation_planned", "mitigation_applied", "mitigation_verified"]

    kubectl = kubectl_for(d.sandbox, d.site.runbook.parent)
    history = kubectl.run("rollout", "history", "deployment/synthesis", "-n", NS, check=True).stdout
    rows = [line.split(None, 1) for line in history.splitlines()[2:] if line.strip()]
    assert [r[0] for r in rows] == ["1", "2", "4", "5"]
    assert rows[-1][1].startswith("deploy synthesis 2.4.3")
    shown = json.loads(kubectl.run("get", "deployment", "synthesis", "-n", NS, "-o", "json", check=True).stdout)
    assert shown["spec"]["template"]["spec"]["containers"][0]["image"] == GOOD
    annotations = shown["metadata"]["annotations"]
    assert annotations["kubernetes.io/change-cause"].startswith("deploy synthesis 2.4.3")
    assert annotations["deployment.kubernetes.io/revision"] == "5"

    detect = d.run("detect", "-o", "json")
    assert detect.exit_code == 0, detect.output


def test_to_revision_rolls_back_to_that_revision(drill: Callable[..., Drill]) -> None:
    d = drill("bad-deploy")
    d.declare()
    code, doc = d.json("mitigate", "rollback", "synthesis", "--to-revision", "2", "--dry-run")
    assert code == 0, doc
    assert doc["data"]["outcome"] == "dry-run"
    assert doc["data"]["plan"]["summary"] == "roll back deployment/synthesis from revision 4 to 2"
    fields = doc["data"]["plan"]["changes"][0]["fields"]
    assert {"field": "synthesis: image", "before": BAD, "after": GOOD.replace("2.4.3", "2.4.0")} in fields


def test_a_dry_run_changes_nothing(drill: Callable[..., Drill]) -> None:
    d = drill("bad-deploy")
    incident = d.declare()
    before = resource_versions(d.sandbox, ("deployments", "replicasets", "pods"))
    code, doc = d.json("mitigate", "rollback", "synthesis", "--dry-run")
    assert code == 0, doc
    assert (
        doc["data"]["dryRunObjects"]["deployment/synthesis"]["spec"]["template"]["spec"]["containers"][0]["image"]
        == GOOD
    )
    assert resource_versions(d.sandbox, ("deployments", "replicasets", "pods")) == before
    assert d.kinds(incident) == []


def test_a_revision_not_in_the_history_is_a_usage_error(drill: Callable[..., Drill]) -> None:
    d = drill("bad-deploy")
    incident = d.declare()
    before = resource_versions(d.sandbox)
    for revision in ("9", "-1", str(10**30)):
        result = d.run("mitigate", "rollback", "synthesis", "--to-revision", revision, "--yes")
        assert result.exit_code == 2, result.output
        assert f"unable to find specified revision {revision} in history" in result.stderr
        assert "Traceback" not in result.output
    for args, said in (
        (("synthesis", "--to-revision", "three"), "--to-revision"),
        (("nosuch",), "nothing in the runbook"),
    ):
        result = d.run("mitigate", "rollback", *args, "--yes")
        assert result.exit_code == 2, result.output
        assert said in result.stderr
        assert "Traceback" not in result.output
    assert resource_versions(d.sandbox) == before
    assert d.kinds(incident) == []


def test_a_paused_deployment_is_refused(drill: Callable[..., Drill]) -> None:
    d = drill("bad-deploy")
    incident = d.declare()
    kubectl = kubectl_for(d.sandbox, d.site.runbook.parent)
    kubectl.run("rollout", "pause", "deployment/synthesis", "-n", NS, check=True)
    before = resource_versions(d.sandbox)
    result = d.run("mitigate", "rollback", "synthesis", "--yes")
    assert result.exit_code == 5, result.output
    assert "deployment/synthesis is paused" in result.stderr
    assert "kubectl rollout resume" in result.stderr
    assert resource_versions(d.sandbox) == before
    assert d.kinds(incident) == []


def test_the_revision_running_now_is_nothing_to_do(drill: Callable[..., Drill]) -> None:
    d = drill("bad-deploy")
    incident = d.declare()
    before = resource_versions(d.sandbox)
    result = d.run("mitigate", "rollback", "synthesis", "--to-revision", "4", "--yes")
    assert result.exit_code == 0, result.output
    assert "skipped rollback: the current template already matches revision 4" in result.output
    assert resource_versions(d.sandbox) == before
    assert d.kinds(incident) == []


def test_no_earlier_revision_is_refused(drill: Callable[..., Drill]) -> None:
    d = drill("healthy")
    incident = d.declare()
    kubectl = kubectl_for(d.sandbox, d.site.runbook.parent)
    listed = json.loads(kubectl.run("get", "rs", "-n", NS, "-o", "json", check=True).stdout)["items"]
    running = json.loads(kubectl.run("get", "deployment", "gateway", "-n", NS, "-o", "json", check=True).stdout)
    revision = running["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
    for rs in listed:
        meta = rs["metadata"]
        if meta["name"].startswith("gateway-") and meta["annotations"]["deployment.kubernetes.io/revision"] != revision:
            kubectl.run("delete", "rs", meta["name"], "-n", NS, check=True)
    before = resource_versions(d.sandbox)
    result = d.run("mitigate", "rollback", "gateway", "--yes")
    assert result.exit_code == 5, result.output
    assert 'no rollout history found for deployment "gateway"' in result.stderr
    assert resource_versions(d.sandbox) == before
    assert d.kinds(incident) == []


def test_a_422_from_the_server_is_one_line_and_recorded(drill: Callable[..., Drill]) -> None:
    d = drill("bad-deploy")
    incident = d.declare()
    d.sandbox.faults.add(Fault("status", "kube", status=422, verb="patch", resource="deployments", remaining=1))
    before = resource_versions(d.sandbox)
    result = d.run("mitigate", "rollback", "synthesis", "--yes")
    assert result.exit_code == 5, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert "422" in errors[0], result.stderr
    assert "Traceback" not in result.output
    assert resource_versions(d.sandbox) == before
    assert d.kinds(incident) == ["mitigation_planned", "mitigation_failed"]


def test_rolling_back_a_rollback_says_it_returns_to_the_revision_rolled_back_from(drill: Callable[..., Drill]) -> None:
    d = drill("bad-deploy")
    d.declare()
    code, doc = d.json("mitigate", "rollback", "synthesis", "--yes", "--no-verify")
    assert code == 0, doc
    code, doc = d.json("mitigate", "rollback", "synthesis", "--dry-run")
    assert code == 0, doc
    assert doc["data"]["plan"]["summary"] == "roll back deployment/synthesis from revision 5 to 4"
    assert doc["data"]["plan"]["notes"] == [
        "revision 5 is itself a rollback (it ran before as revision 3): rolling back again returns to revision 4, "
        "the one it replaced; name the revision with --to-revision if that is not what you mean"
    ]
