"""``investigate changes`` sees a Deployment scaled down, as a real cluster records it: the deployment controller's
ScalingReplicaSet event on the Deployment (what ``kubectl get events`` shows), and the Deployment's managedFields
once the events have expired. A scale to zero before the onset is the suspect; a rollout's scaling, another
object's events, a forged message and an old scale are not; events that cannot be read are said, never taken for
"no change"."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from tests.conftest import Invoke
from tests.phases.conftest import Site
from tests.phases.test_investigate_changes import changes, data_of

from incidentctl.sandbox import resources
from incidentctl.sandbox.testing import kubectl_for

NAMESPACE = "sarvanom-production"


def gateway_rs(invoke: Invoke, site: Site) -> str:
    """The ReplicaSet the gateway Deployment runs now, as the view's own history names it."""
    data = data_of(changes(invoke, site, "gateway", "-o", "json"))
    [history] = data["histories"]
    return str(next(r["replicaset"] for r in history["revisions"] if r["current"]))


def post_event(site: Site, involved: dict[str, Any], message: str, **extra: Any) -> None:
    """An event as any client with ``create events`` may post it (the API does not check who wrote a message)."""
    now = site.sandbox.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    event = {
        "metadata": {"name": f"posted.{uuid.uuid4().hex}", "namespace": NAMESPACE},
        "involvedObject": {"namespace": NAMESPACE, **involved},
        "reason": "ScalingReplicaSet",
        "message": message,
        "source": {"component": "deployment-controller"},
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
        "type": "Normal",
        **extra,
    }
    site.sandbox.store.create(resources.EVENTS, event)


def test_a_deployment_scaled_to_zero_is_the_suspect(
    invoke: Invoke, site_for: Callable[..., Site], tmp_path: Any
) -> None:
    site = site_for("total-outage")
    result = changes(invoke, site, "-o", "json")
    data = data_of(result)
    suspect = data["suspect"]
    assert result.exit_code == 3, result.output
    assert (suspect["kind"], suspect["component"], suspect["deployment"]) == ("scale", "gateway", "gateway")
    assert (suspect["replicas"], suspect["previousReplicas"], suspect["who"]) == (0, 3, "kubectl")
    assert suspect["time"] <= suspect["onset"]
    assert re.fullmatch(
        r"deployment/gateway scaled to 0 replicas \(from 3\) at \d\d:\d\d; errors began \d\d:\d\d", data["summary"]
    )
    [down] = data["scaleDowns"]
    assert (down["source"], down["replicas"], down["previousReplicas"]) == ("event", 0, 3)
    current = next(r for r in data["histories"] if r["component"] == "gateway")["revisions"][-1]
    assert down["replicaset"] == current["replicaset"]
    # the same scale as real kubectl lists it from the sandbox
    k = kubectl_for(site.sandbox, tmp_path)
    shown = k(
        "get", "events", "-n", NAMESPACE, "--field-selector", "reason=ScalingReplicaSet,involvedObject.name=gateway"
    )
    assert shown.returncode == 0, shown.stderr
    assert f"Scaled down replica set {down['replicaset']} to 0 from 3" in shown.stdout


def test_the_terminal_marks_the_scale_on_the_time_axis(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    result = changes(invoke, site_for("total-outage"))
    assert result.exit_code == 3, result.output
    assert "SUSPECT deployment/gateway scaled to 0 replicas (from 3) at " in result.stdout
    [row] = [line for line in result.stdout.splitlines() if " scale " in line]
    assert "deployment/gateway scaled down to 0 from 3 by kubectl" in row
    assert row.endswith("<- suspect")


def test_the_fix_scaling_back_up_is_no_suspect_and_the_scale_down_stays_named(
    invoke: Invoke, site_for: Callable[..., Site], tmp_path: Any
) -> None:
    site = site_for("total-outage")
    k = kubectl_for(site.sandbox, tmp_path)
    scaled = k("scale", "deployment/gateway", "--replicas=3", "-n", NAMESPACE)
    assert scaled.returncode == 0, scaled.stderr
    site.sandbox.advance(60)
    shown = k(
        "get", "events", "-n", NAMESPACE, "--field-selector", "reason=ScalingReplicaSet,involvedObject.name=gateway"
    )
    assert "to 3 from 0" in shown.stdout, "the controller records the scale up as it did the scale down"
    data = data_of(changes(invoke, site, "-o", "json"))
    assert [d["replicas"] for d in data["scaleDowns"]] == [0]
    assert (data["suspect"]["kind"], data["suspect"]["replicas"]) == ("scale", 0)


def test_a_rollout_scaling_its_replicasets_is_no_scale_down(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    """bad-deploy's rollout scaled the old ReplicaSet down: a rollout, named as one, never as a scale."""
    data = data_of(changes(invoke, site_for("bad-deploy"), "-o", "json"))
    assert data["scaleDowns"] == []
    assert (data["suspect"]["kind"], data["suspect"]["revision"]) == ("rollout", 4)


def test_forbidden_events_are_said_and_a_deployment_at_zero_is_still_seen(
    invoke: Invoke, site_for: Callable[..., Site]
) -> None:
    site = site_for("total-outage")
    site.sandbox.faults.forbid("list", "events")
    result = changes(invoke, site, "-o", "json")
    data = data_of(result)
    assert any(p.startswith("could not read events") and "forbidden" in p.lower() for p in data["problems"])
    [down] = data["scaleDowns"]
    assert (down["source"], down["replicas"], down["previousReplicas"], down["who"]) == (
        "managedFields",
        0,
        None,
        "kubectl",
    )
    assert data["suspect"]["kind"] == "scale"
    assert data["summary"].startswith("deployment/gateway scaled to 0 replicas at ")
    assert result.exit_code == 3
    shown = changes(invoke, site)
    assert "could not look: could not read events" in shown.stdout


def test_forbidden_events_with_no_other_change_never_read_as_no_change(
    invoke: Invoke, site_for: Callable[..., Site]
) -> None:
    site = site_for("memory-leak")
    site.sandbox.faults.forbid("list", "events")
    result = changes(invoke, site, "-o", "json")
    data = data_of(result)
    assert data["suspect"] is None
    assert data["reason"].endswith("scale changes could not be read (events)")
    assert result.exit_code == 3, "a look that could not see is never 'nothing changed'"


def test_events_not_about_the_deployment_or_not_the_controllers_are_ignored(
    invoke: Invoke, site_for: Callable[..., Site]
) -> None:
    """A scale-down message on another Deployment, on the gateway's ReplicaSet, on a gateway made again (another
    uid), with control characters or markup in it, of another ReplicaSet: none of them is the gateway scaled."""
    site = site_for("healthy")
    rs = gateway_rs(invoke, site)
    deploy = site.sandbox.store.must_get(resources.DEPLOYMENTS, NAMESPACE, "gateway")
    uid = deploy["metadata"]["uid"]
    mine = {"kind": "Deployment", "name": "gateway", "uid": uid, "apiVersion": "apps/v1"}
    post_event(site, {**mine, "name": "retrieval"}, f"Scaled down replica set {rs} to 0 from 3")
    post_event(site, {**mine, "kind": "ReplicaSet", "name": rs}, f"Scaled down replica set {rs} to 0 from 3")
    post_event(site, {**mine, "uid": "another-gateway"}, f"Scaled down replica set {rs} to 0 from 3")
    post_event(site, mine, f"Scaled down replica set {rs} to 0 from 3\n\x1b[2J## owned")
    post_event(site, mine, f"Scaled down replica set <b>{rs}</b> to 0 from 3")
    post_event(site, mine, "Scaled down replica set gateway-0ld to 0 from 3")
    post_event(site, mine, f"Scaled down replica set {rs} to 0 from 3", source={"component": "someone"})
    post_event(site, mine, f"Scaled down replica set {rs} to 0 from 3", type="Warning")
    data = data_of(changes(invoke, site, "--onset", "0s", "-o", "json"))
    assert data["scaleDowns"] == []
    assert data["suspect"] is None or data["suspect"]["kind"] != "scale"


def test_the_older_message_without_the_count_before_is_read(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    """Kubernetes before 1.28 wrote "Scaled down replica set X to N"."""
    site = site_for("healthy")
    rs = gateway_rs(invoke, site)
    uid = site.sandbox.store.must_get(resources.DEPLOYMENTS, NAMESPACE, "gateway")["metadata"]["uid"]
    post_event(site, {"kind": "Deployment", "name": "gateway", "uid": uid}, f"Scaled down replica set {rs} to 1")
    data = data_of(changes(invoke, site, "--onset", "0s", "-o", "json"))
    [down] = data["scaleDowns"]
    assert (down["replicas"], down["previousReplicas"]) == (1, None)
    assert (data["suspect"]["kind"], data["suspect"]["replicas"]) == ("scale", 1)


def test_thousands_of_events_are_paged_and_the_scale_down_still_found(
    invoke: Invoke, site_for: Callable[..., Site]
) -> None:
    site = site_for("total-outage")
    uid = site.sandbox.store.must_get(resources.DEPLOYMENTS, NAMESPACE, "retrieval")["metadata"]["uid"]
    involved = {"kind": "Deployment", "name": "retrieval", "uid": uid}
    for n in range(1200):
        post_event(site, involved, f"Scaled up replica set retrieval-old{n} to {n + 1} from {n}")
    data = data_of(changes(invoke, site, "-o", "json"))
    assert [(d["deployment"], d["replicas"]) for d in data["scaleDowns"]] == [("gateway", 0)]
    assert data["suspect"]["kind"] == "scale"


def test_a_scale_down_older_than_the_window_is_not_named(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    """The gateway was scaled to zero a minute before its 5xx rose: outside a 10 s window, on the axis only."""
    site = site_for("total-outage")
    data = data_of(changes(invoke, site, "--window", "10s", "-o", "json"))
    assert data["suspect"] is None
    assert data["reason"] == "no rollout, scale-down or ConfigMap change in the 10s before the onset"
    [down] = data["scaleDowns"]
    assert down["time"] < data["onset"]["time"]
