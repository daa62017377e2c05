"""The scripted incidents: each puts the SarvanOM world into a faulty state; the world's model does the rest.

Every scenario names the mitigation that really fixes it in the sandbox (tests prove each one with real kubectl)
and what a responder sees first. Switching scenarios (``Sandbox.inject``, ``incidentctl sandbox inject``)
replaces the one playing, never stacks on it: the previous scenario's faults are cleared first (the provider
outage, the traffic, exhausted connections, the filled cache, corrupt keys, and a broken revision, which is rolled
back as ``kubectl rollout undo`` would), then the new one starts. What responders changed stays as they left it
(replica counts, restarts, a ConfigMap edit such as an open circuit breaker), and so does the past: restart counts,
events, logs and the last five minutes of metrics.

The dependency outage cannot be fixed from the cluster. A drill contains it with the circuit breaker: setting
``CIRCUIT_BREAKER=open`` (or ``LLM_PROVIDER=anthropic``) in the ``synthesis-config`` ConfigMap makes synthesis
answer with the fallback provider (the app reloads the ConfigMap), so errors stop reaching users while the
openai check keeps failing until the provider recovers (``inject healthy``).

total-outage scales the gateway to zero (``inject healthy`` scales it back to its usual count when it is still at
zero). credential-stuffing floods the gateway's login route with failed logins from a few addresses
(:data:`incidentctl.sandbox.world.ATTACKERS`): 401s in the gateway's logs and a ``CredentialStuffing`` alert
labelled ``category=security``, ``kind=attack``; a positive ``LOGIN_THROTTLE_PER_MINUTE`` in ``gateway-config``
(the hotfix folder has it) answers those addresses 429 before any password check, and the alert resolves.

The runbook's other switches work on any scenario: ``MAINTENANCE_MODE=on`` in ``gateway-config`` makes the gateway
answer the maintenance page, and pointing the ``sarvanom`` ingress at the ``gateway-standby`` ExternalName Service
sends the users' traffic to the standby region (:mod:`incidentctl.sandbox.behaviour` is the model of both).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from incidentctl.sandbox import managed_fields, resources, world
from incidentctl.sandbox.objects import CHANGE_CAUSE, HASH_LABEL, REVISION
from incidentctl.sandbox.simulation import Simulation


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str
    symptoms: str
    mitigation: str
    start: Callable[[Simulation], None]
    #: the incidentctl command line (after ``incidentctl``) that fixes it, beside the kubectl one in
    #: ``mitigation``; empty for healthy. bad-config's is ``mitigate apply``: the hotfix folder the sandbox's
    #: runbook names (:mod:`incidentctl.sandbox.hotfix`)
    fix: tuple[str, ...] = ()


def _healthy(sim: Simulation) -> None:
    model = sim.model
    model.openai_down = False
    model.traffic_multiplier = 1.0
    model.credential_stuffing = False
    for run in sim.pods.values():
        for key in ("connections_exhausted", "exhausted_since", "corrupt_keys"):
            run.attrs.pop(key, None)
        if run.attrs.get("cache_mi_at_start", 0) > 100:
            run.attrs["cache_mi_at_start"] = 40.0
        for crun in run.containers.values():
            if crun.current is not None and crun.current.finished is None and crun.current.cause == "oom":
                crun.current.cause = ""
    for deploy in sim.store.list(resources.DEPLOYMENTS, world.NAMESPACE):
        _undo_broken_rollout(sim, deploy)
    _undo_bad_config(sim)
    _undo_total_outage(sim)
    sim.touch_all()


def _runs_broken_image(template: dict[str, Any]) -> bool:
    return any(c.get("image") in world.BROKEN_IMAGES for c in template.get("spec", {}).get("containers", []))


def _undo_broken_rollout(sim: Simulation, deploy: dict[str, Any]) -> None:
    """Roll a deployment that runs a broken image back to its newest good revision, the way ``kubectl rollout
    undo`` does: that ReplicaSet's pod template (without its hash label) and change-cause become the
    deployment's, and the controller scales the old ReplicaSet back up under a new revision number."""
    if not _runs_broken_image(deploy["spec"]["template"]):
        return
    uid = deploy["metadata"]["uid"]
    owned = [
        rs
        for rs in sim.store.list(resources.REPLICASETS, world.NAMESPACE)
        if any(ref.get("uid") == uid for ref in rs["metadata"].get("ownerReferences") or [])
    ]
    good = sorted(
        (rs for rs in owned if not _runs_broken_image(rs["spec"]["template"])),
        key=lambda rs: int((rs["metadata"].get("annotations") or {}).get(REVISION, "0")),
    )
    if not good:
        return
    template = copy.deepcopy(good[-1]["spec"]["template"])
    template.get("metadata", {}).get("labels", {}).pop(HASH_LABEL, None)
    new = copy.deepcopy(deploy)
    new["spec"]["template"] = template
    annotations = new["metadata"].setdefault("annotations", {})
    for key in (CHANGE_CAUSE, world.DEPLOYED_BY):
        annotations.pop(key, None)
        value = (good[-1]["metadata"].get("annotations") or {}).get(key)
        if value:
            annotations[key] = value
    new["metadata"]["generation"] = int(deploy["metadata"].get("generation", 1)) + 1
    managed_fields.stamp(new, "kubectl", sim.clock.now(), old=deploy)  # `rollout undo` sends no fieldManager
    sim.store.replace(resources.DEPLOYMENTS, new)


def _pods_of(sim: Simulation, component: str) -> list[str]:
    return [
        p["metadata"]["uid"]
        for p in sim.store.list(resources.PODS, world.NAMESPACE)
        if world.component_of(p) == component
    ]


def _bad_deploy(sim: Simulation) -> None:
    """The pipeline's ``kubectl set image`` with the release's change-cause and author: the controller copies both
    onto the new ReplicaSet, so ``kubectl rollout history`` shows the bad revision with its cause."""
    deploy = sim.store.must_get(resources.DEPLOYMENTS, world.NAMESPACE, "synthesis")
    new = copy.deepcopy(deploy)
    container = new["spec"]["template"]["spec"]["containers"][0]
    container["image"] = world.SYNTHESIS.image_at(world.BAD_SYNTHESIS.version)
    annotations = new["metadata"].setdefault("annotations", {})
    annotations[CHANGE_CAUSE] = world.BAD_SYNTHESIS.change_cause
    annotations[world.DEPLOYED_BY] = world.BAD_SYNTHESIS.author
    new["metadata"]["generation"] = int(deploy["metadata"].get("generation", 1)) + 1
    managed_fields.stamp(new, world.DEPLOY_MANAGER, sim.clock.now(), old=deploy)
    sim.store.replace(resources.DEPLOYMENTS, new)


def _bad_config(sim: Simulation) -> None:
    """Someone lowers synthesis' provider timeout below the provider's own p95 with ``kubectl edit``: the app
    reloads its ConfigMap, and a third of the answers time out."""
    cm = sim.store.must_get(resources.CONFIGMAPS, world.NAMESPACE, "synthesis-config")
    new = copy.deepcopy(cm)
    new["data"][world.TIMEOUT_KEY] = world.BAD_TIMEOUT
    managed_fields.stamp(new, "kubectl-edit", sim.clock.now(), old=cm)
    sim.store.replace(resources.CONFIGMAPS, new)
    sim.touch_all()


def _undo_bad_config(sim: Simulation) -> None:
    cm = sim.store.get(resources.CONFIGMAPS, world.NAMESPACE, "synthesis-config")
    if cm is None or (cm.get("data") or {}).get(world.TIMEOUT_KEY) != world.BAD_TIMEOUT:
        return
    new = copy.deepcopy(cm)
    new["data"][world.TIMEOUT_KEY] = world.GOOD_TIMEOUT
    managed_fields.stamp(new, "kubectl-edit", sim.clock.now(), old=cm)
    sim.store.replace(resources.CONFIGMAPS, new)


def _scale_gateway(sim: Simulation, replicas: int) -> None:
    """``kubectl scale deployment gateway --replicas=N``: a write to the scale subresource by kubectl."""
    deploy = sim.store.must_get(resources.DEPLOYMENTS, world.NAMESPACE, world.GATEWAY.name)
    new = copy.deepcopy(deploy)
    new["spec"]["replicas"] = replicas
    managed_fields.stamp(new, "kubectl", sim.clock.now(), old=deploy, subresource="scale")
    sim.store.replace(resources.DEPLOYMENTS, new)


def _total_outage(sim: Simulation) -> None:
    """A cleanup job meant for staging runs against production and scales the gateway to zero: every gateway pod
    is terminated, the ingress still points at the gateway Service, which has no endpoints left."""
    _scale_gateway(sim, 0)
    sim.touch_all()


def _undo_total_outage(sim: Simulation) -> None:
    deploy = sim.store.get(resources.DEPLOYMENTS, world.NAMESPACE, world.GATEWAY.name)
    if deploy is not None and int(deploy["spec"].get("replicas", 1)) == 0:
        _scale_gateway(sim, world.GATEWAY.replicas)


def _credential_stuffing(sim: Simulation) -> None:
    sim.model.credential_stuffing = True
    sim.touch_all()


def _db_outage(sim: Simulation) -> None:
    now = sim.clock.now()
    for uid in _pods_of(sim, "postgres"):
        sim.pods[uid].attrs.update(connections_exhausted=True, exhausted_since=now)
    sim.touch_all()


def _dependency_outage(sim: Simulation) -> None:
    sim.model.openai_down = True
    sim.touch_all()


def _memory_leak(sim: Simulation) -> None:
    now = sim.clock.now()
    uids = _pods_of(sim, "retrieval")
    for index, uid in enumerate(uids):
        run = sim.pods[uid]
        run.attrs.update(cache_mi_at_start=680.0 + 40 * (index % 3), cache_since=now)
    sim.touch_all()


def _traffic_spike(sim: Simulation) -> None:
    sim.model.traffic_multiplier = 3.2
    sim.touch_all()


def _cache_corruption(sim: Simulation) -> None:
    for uid in _pods_of(sim, "redis"):
        sim.pods[uid].attrs["corrupt_keys"] = 5821
    sim.touch_all()


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "healthy",
            "Everything works; a baseline for drills and for checks that should find nothing.",
            "all pods ready, error rate ~0.3 %, p95 ~2.3 s at the gateway",
            "none needed",
            _healthy,
        ),
        Scenario(
            "bad-deploy",
            "A new synthesis revision (2.5.0) segfaults under load: CrashLoopBackOff and 5xx.",
            "synthesis pods in CrashLoopBackOff (exit 139), 502s at the gateway, a fresh rollout in the history",
            "kubectl rollout undo deployment/synthesis (or --to-revision=3)",
            _bad_deploy,
            fix=("mitigate", "rollback", "synthesis"),
        ),
        Scenario(
            "db-outage",
            "postgres-0 runs out of connection slots; retrieval fails its queries.",
            "postgres-0 0/1 Running with failing readiness, psql exits 2, retrieval 5xx above 50 %",
            "kubectl delete pod postgres-0 (or kubectl rollout restart statefulset/postgres)",
            _db_outage,
            fix=("mitigate", "restart", "postgres-0", "--reason", "postgres-0 has run out of connection slots"),
        ),
        Scenario(
            "dependency-outage",
            "The OpenAI API stops answering; synthesis requests time out after 30 s.",
            "openai /v1/models times out, synthesis 5xx and 30 s latency, nothing wrong in the cluster",
            "nothing in the cluster fixes it; contain it with the circuit breaker: incidentctl mitigate "
            "circuit-breaker openai open (the runbook's patch: kubectl patch configmap synthesis-config -p "
            '\'{"data":{"CIRCUIT_BREAKER":"open"}}\'; answers fall back to anthropic)',
            _dependency_outage,
            fix=("mitigate", "circuit-breaker", "openai", "open"),
        ),
        Scenario(
            "memory-leak",
            "retrieval's in-memory index cache has filled its pods; they are OOMKilled again and again.",
            "retrieval OOMKilled (exit 137) every minute or so, high memory in kubectl top, retrieval 5xx",
            "kubectl rollout restart deployment/retrieval (fresh pods start with an empty cache; relieves it for "
            "hours)",
            _memory_leak,
            fix=("mitigate", "restart", "retrieval"),
        ),
        Scenario(
            "traffic-spike",
            "Traffic triples; the gateway saturates its CPU and answers after more than 30 s.",
            "gateway p95 above 30 s, CPU at its limit in kubectl top, 504s",
            "kubectl scale deployment gateway --replicas=5 (or more)",
            _traffic_spike,
            fix=("mitigate", "scale", "gateway=5"),
        ),
        Scenario(
            "bad-config",
            "synthesis-config's LLM_TIMEOUT_SECONDS was edited from 30 to 2: provider calls time out, 504s.",
            "synthesis 5xx near 40 %, httpx.ReadTimeout after 2 s in its logs, no new revision, a fresh ConfigMap "
            "write",
            'kubectl patch configmap synthesis-config --type=merge -p \'{"data":{"LLM_TIMEOUT_SECONDS":"30"}}\'',
            _bad_config,
            fix=("mitigate", "apply"),
        ),
        Scenario(
            "cache-corruption",
            "Corrupt entries in redis make retrieval and synthesis give wrong answers and errors.",
            "ValueError/AnswerValidationError in logs, health canary mismatch, redis itself answers PONG",
            "kubectl exec redis-0 -- redis-cli flushall",
            _cache_corruption,
            fix=("mitigate", "flush-cache", "redis", "--reason", "corrupt entries in redis"),
        ),
        Scenario(
            "total-outage",
            "A cleanup job run against the production context scaled the gateway to zero: it serves nobody (P1).",
            "no gateway pods, deployment gateway 0/0, the gateway Service without endpoints, every health check "
            "of the gateway refused or 503",
            f"kubectl scale deployment gateway --replicas={world.GATEWAY.replicas}",
            _total_outage,
            fix=("mitigate", "scale", f"gateway={world.GATEWAY.replicas}"),
        ),
        Scenario(
            "credential-stuffing",
            "A few addresses try leaked username/password pairs on the login route: a flood of 401s, a security "
            "alert firing.",
            f"CredentialStuffing (category=security) firing for the gateway, 401s on {world.LOGIN_PATH} from "
            f"{len(world.ATTACKERS)} client addresses in the gateway's logs, error rate and latency normal",
            "turn the gateway's login throttle on: kubectl patch configmap gateway-config --type=merge -p "
            f'\'{{"data":{{"{world.LOGIN_THROTTLE_KEY}":"5"}}}}\' (the hotfix folder\'s gateway-config.yaml)',
            _credential_stuffing,
            fix=("mitigate", "apply"),
        ),
    )
}


def get(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise KeyError(f"unknown scenario {name!r}; choose one of: {', '.join(SCENARIOS)}") from None
