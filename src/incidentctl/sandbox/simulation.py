"""The cluster's moving parts, on the sandbox clock: scheduler, kubelet, the ReplicaSet, Deployment,
StatefulSet and Endpoints controllers, and the garbage collector.

Everything is driven by :meth:`Simulation.reconcile`, run after every accepted API change (controllers react at
once) and whenever time moves. Time moves in jumps: each reconcile notes the next moment something will happen
(a container starts, crashes, becomes available, a progress deadline passes), so an hour of simulated crash loop
costs a few hundred reconciles, not 3,600.
"""

from __future__ import annotations

import copy
import math
import threading
from collections import defaultdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from incidentctl.sandbox import names, resources
from incidentctl.sandbox.clock import SimClock, parse_time, rfc3339
from incidentctl.sandbox.events import EventRecorder
from incidentctl.sandbox.resources import DEPLOYMENTS, ENDPOINTS, NODES, PODS, REPLICASETS, SERVICES, STATEFULSETS
from incidentctl.sandbox.runtime import ContainerRun, Instance, PodRun, container_id, image_id
from incidentctl.sandbox.store import Obj, Store

if TYPE_CHECKING:
    from incidentctl.sandbox.behaviour import Model
    from incidentctl.sandbox.logs import LogInstance

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
CHANGE_CAUSE = "kubernetes.io/change-cause"
HASH_LABEL = "pod-template-hash"
_NOT_COPIED = (REVISION, REVISION_HISTORY, DESIRED, MAX_REPLICAS, "kubectl.kubernetes.io/last-applied-configuration")

START_DELAY = 2.0  # seconds from scheduling to a running container (image present on the node)
PROBE_PERIOD = 10.0
MAX_BACKOFF = 300.0


def _quantity(text: Any) -> float:
    """CPU in cores or memory in bytes from a Kubernetes quantity."""
    value = str(text)
    units = {"m": 1e-3, "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "Ti": 1024**4, "k": 1e3, "M": 1e6, "G": 1e9}
    for suffix in sorted(units, key=len, reverse=True):
        if value.endswith(suffix):
            return float(value[: -len(suffix)]) * units[suffix]
    return float(value)


def _owner_uid(obj: Obj) -> str | None:
    for ref in obj.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return str(ref.get("uid"))
    return None


def _same_template(rs_template: Obj, template: Obj) -> bool:
    """Equal pod templates, ignoring the pod-template-hash label the controller adds (EqualIgnoreHash)."""
    if rs_template.keys() != template.keys() or rs_template.get("spec") != template.get("spec"):
        return False
    a, b = dict(rs_template.get("metadata") or {}), dict(template.get("metadata") or {})
    la = {k: v for k, v in (a.pop("labels", None) or {}).items() if k != HASH_LABEL}
    lb = {k: v for k, v in (b.pop("labels", None) or {}).items() if k != HASH_LABEL}
    return la == lb and a == b and all(rs_template[k] == template[k] for k in rs_template
                                       if k not in ("metadata", "spec"))


def _resolve(value: Any, total: int, round_up: bool) -> int:
    if isinstance(value, str) and value.endswith("%"):
        raw = float(value[:-1]) * total / 100
        return math.ceil(raw) if round_up else math.floor(raw)
    return int(value)


def _condition(type_: str, status: bool, reason: str, message: str, now: str, old: Obj | None) -> Obj:
    status_text = "True" if status else "False"
    transition = now
    update = now
    if old and old.get("status") == status_text:
        transition = old.get("lastTransitionTime", now)
        if old.get("reason") == reason and old.get("message") == message:
            update = old.get("lastUpdateTime", now)
    return {"type": type_, "status": status_text, "lastUpdateTime": update, "lastTransitionTime": transition,
            "reason": reason, "message": message}


class Simulation:
    def __init__(self, store: Store, clock: SimClock, model: Model) -> None:
        self.store = store
        self.clock = clock
        self.lock = store.lock
        self.events = EventRecorder(store)
        self.model = model
        self.pods: dict[str, PodRun] = {}
        self.wakeup: datetime | None = None
        self._ip_counter: dict[str, int] = defaultdict(lambda: 10)
        self._last_expiry: datetime | None = None
        self._ticker: threading.Thread | None = None
        self._log_cache: dict[str, LogInstance] = {}
        self.history: Any = None  # set by the sandbox: signals over time (signals.SignalHistory)
        self._capture: list[datetime | None] | None = None
        self._owned: dict[resources.ResourceType, _OwnerIndex] = {REPLICASETS: _OwnerIndex(), PODS: _OwnerIndex()}
        store.on_change = self._index
        self._seen: dict[str, tuple[Any, datetime | None]] = {}

    # -- time ------------------------------------------------------------------------------------------------

    def wake_at(self, when: datetime) -> None:
        if self.wakeup is None or when < self.wakeup:
            self.wakeup = when
        if self._capture is not None and (self._capture[0] is None or when < self._capture[0]):
            self._capture[0] = when

    def _unchanged(self, key: str, fingerprint: Any, now: datetime) -> bool:
        """Nothing this controller looks at changed since it last found nothing to do, and no timer is due."""
        seen = self._seen.get(key)
        if seen is None or seen[0] != fingerprint or (seen[1] is not None and seen[1] <= now):
            return False
        if seen[1] is not None:
            self.wake_at(seen[1])
        return True

    def _synced(self, key: str, fingerprint: Any, rv_before: int, due: datetime | None) -> None:
        if self.store.resource_version == rv_before:
            self._seen[key] = (fingerprint, due)
        else:
            self._seen.pop(key, None)

    def react(self) -> None:
        self.reconcile()

    def run_until(self, target: datetime, max_step: float = 60.0) -> None:
        """Move a frozen clock to ``target``, stopping wherever something is due to happen."""
        with self.lock:
            self.reconcile()
            guard = 0
            while self.clock.now() < target and guard < 200000:
                guard += 1
                step_end = min(target, self.clock.now() + timedelta(seconds=max_step))
                nxt = self.wakeup if self.wakeup is not None and self.wakeup < step_end else step_end
                if nxt <= self.clock.now():
                    nxt = self.clock.now() + timedelta(milliseconds=1)
                self.clock.set(nxt)
                self.reconcile()

    def advance(self, seconds: float) -> None:
        self.run_until(self.clock.now() + timedelta(seconds=seconds))

    def start_ticker(self, stopping: threading.Event, period: float = 0.25) -> None:
        """Real-time mode: reconcile a few times a second so timers fire on the wall clock."""

        def loop() -> None:
            while not stopping.wait(period):
                with self.lock:
                    self.reconcile()

        self._ticker = threading.Thread(target=loop, name="sandbox-ticker", daemon=True)
        self._ticker.start()

    # -- the loop --------------------------------------------------------------------------------------------

    def reconcile(self) -> None:
        with self.lock:
            now = self.clock.now()
            self.wakeup = None
            for _ in range(8):
                before = self.store.resource_version
                self._deployments(now)
                self._replicasets(now)
                self._statefulsets(now)
                self._schedule(now)
                self._kubelet(now)
                self._endpoints()
                if self.store.resource_version == before:
                    break
            self.model.tick(self, now)
            if self.history is not None:
                self.history.record(now, self.model.signals(self))
            if self._last_expiry is None or now - self._last_expiry > timedelta(minutes=5):
                self.events.expire(now)
                self._last_expiry = now

    # -- API hooks -------------------------------------------------------------------------------------------

    def defaults(self, rt: resources.ResourceType, obj: Obj) -> None:
        """What defaulting and admission would fill into a newly created object."""
        spec = obj.get("spec")
        if rt is DEPLOYMENTS and isinstance(spec, dict):
            spec.setdefault("replicas", 1)
            spec.setdefault("revisionHistoryLimit", 10)
            spec.setdefault("progressDeadlineSeconds", 600)
            spec.setdefault("strategy", {"type": "RollingUpdate",
                                         "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}})
            obj.setdefault("status", {})
        elif rt is STATEFULSETS and isinstance(spec, dict):
            spec.setdefault("replicas", 1)
            spec.setdefault("podManagementPolicy", "OrderedReady")
            spec.setdefault("updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
            spec.setdefault("revisionHistoryLimit", 10)
            obj.setdefault("status", {"replicas": 0, "availableReplicas": 0})
        elif rt is PODS and isinstance(spec, dict):
            spec.setdefault("restartPolicy", "Always")
            spec.setdefault("dnsPolicy", "ClusterFirst")
            spec.setdefault("schedulerName", "default-scheduler")
            spec.setdefault("terminationGracePeriodSeconds", 30)
            spec.setdefault("serviceAccountName", "default")
            for container in spec.get("containers", []):
                container.setdefault("imagePullPolicy", "IfNotPresent")
                container.setdefault("terminationMessagePath", "/dev/termination-log")
                container.setdefault("terminationMessagePolicy", "File")
                container.setdefault("resources", {})
            obj["status"] = {"phase": "Pending", "qosClass": "Burstable"}
        elif rt is resources.NAMESPACES:
            obj["status"] = {"phase": "Active"}
            obj.setdefault("spec", {"finalizers": ["kubernetes"]})

    def deleted(self, rt: resources.ResourceType, obj: Obj) -> None:
        """Garbage collection (background propagation) and the kubelet forgetting a deleted pod."""
        uid = obj["metadata"]["uid"]
        if rt is PODS:
            run = self.pods.pop(uid, None)
            if run is not None and run.node:
                for name in run.containers:
                    self.events.record(obj, "Normal", "Killing", f"Stopping container {name}",
                                       component="kubelet", host=run.node,
                                       field_path=f"spec.containers{{{name}}}")
        for child_rt in (REPLICASETS, PODS, ENDPOINTS):
            for child in list(self.store.list(child_rt, obj["metadata"].get("namespace"))):
                refs = child["metadata"].get("ownerReferences") or []
                if any(ref.get("uid") == uid for ref in refs):
                    meta = child["metadata"]
                    gone = self.store.delete(child_rt, meta.get("namespace", ""), meta["name"])
                    self.deleted(child_rt, gone)
        if rt is SERVICES:
            meta = obj["metadata"]
            if self.store.get(ENDPOINTS, meta["namespace"], meta["name"]) is not None:
                self.store.delete(ENDPOINTS, meta["namespace"], meta["name"])

    # -- indexes ---------------------------------------------------------------------------------------------

    def _children(self, rt: resources.ResourceType) -> _OwnerIndex:
        return self._owned[rt]

    def _index(self, rt: resources.ResourceType, kind: str, obj: Obj) -> None:
        """Keep the owner index of ReplicaSets and pods current (the store calls this on every write)."""
        index = self._owned.get(rt)
        if index is None:
            return
        owner = _owner_uid(obj)
        if owner is None:
            return
        uid = obj["metadata"]["uid"]
        if kind == "DELETED":
            children = index.by_owner.get(owner)
            if children is not None:
                children.pop(uid, None)
                if not children:
                    del index.by_owner[owner]
        else:
            index.by_owner.setdefault(owner, {})[uid] = obj

    def pod_available(self, pod: Obj, min_ready: int, now: datetime) -> bool:
        run = self.pods.get(pod["metadata"]["uid"])
        if run is None or pod["metadata"].get("deletionTimestamp"):
            return False
        since = run.ready_since()
        if since is None:
            return False
        due = since + timedelta(seconds=min_ready)
        if due > now:
            self.wake_at(due)
            return False
        return True

    def pod_ready(self, pod: Obj) -> bool:
        run = self.pods.get(pod["metadata"]["uid"])
        return run is not None and run.ready()

    # -- ReplicaSets -----------------------------------------------------------------------------------------

    def _new_pod(self, owner: Obj, template: Obj, name: str | None = None, extra_labels: dict[str, str] | None = None
                 ) -> Obj:
        meta = owner["metadata"]
        pod_meta: Obj = {"namespace": meta["namespace"],
                         "labels": dict(template.get("metadata", {}).get("labels") or {}) | (extra_labels or {}),
                         "ownerReferences": [{"apiVersion": owner["apiVersion"], "kind": owner["kind"],
                                              "name": meta["name"], "uid": meta["uid"], "controller": True,
                                              "blockOwnerDeletion": True}]}
        annotations = template.get("metadata", {}).get("annotations")
        if annotations:
            pod_meta["annotations"] = dict(annotations)
        if name:
            pod_meta["name"] = name
        else:
            pod_meta["generateName"] = f"{meta['name']}-"
        pod = {"metadata": pod_meta, "spec": copy.deepcopy(template.get("spec", {}))}
        new = self.store.prepare_new(PODS, pod)
        self.defaults(PODS, new)
        return self.store.create(PODS, new, prepared=True)

    def _replicasets(self, now: datetime) -> None:
        pods_by_owner = self._children(PODS)
        for rs in self.store.list(REPLICASETS):
            owned_pods = pods_by_owner.get(rs["metadata"]["uid"], [])
            fingerprint = (rs["metadata"]["resourceVersion"], tuple(p["metadata"]["resourceVersion"]
                                                                    for p in owned_pods))
            key = "rs/" + rs["metadata"]["uid"]
            if self._unchanged(key, fingerprint, now):
                continue
            before = self.store.resource_version
            self._capture = [None]
            try:
                self._sync_replicaset(rs, owned_pods, now)
                self._synced(key, fingerprint, before, self._capture[0])
            finally:
                self._capture = None

    def _sync_replicaset(self, rs: Obj, owned_pods: list[Obj], now: datetime) -> None:
        if True:
            spec = rs["spec"]
            want = int(spec.get("replicas", 1))
            pods = [p for p in owned_pods if _active(p)]
            if len(pods) < want:
                for _ in range(want - len(pods)):
                    pod = self._new_pod(rs, spec["template"])
                    self.events.record(rs, "Normal", "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}",
                                       component="replicaset-controller")
                    pods.append(pod)
            elif len(pods) > want:
                def rank(pod: Obj) -> tuple[int, int, int, str]:
                    run = self.pods.get(pod["metadata"]["uid"])
                    scheduled = 1 if run is not None and run.node else 0
                    ready = 1 if run is not None and run.ready() else 0
                    restarts = sum(c.restart_count for c in run.containers.values()) if run else 0
                    return (scheduled, ready, -restarts, pod["metadata"]["creationTimestamp"])

                doomed = sorted(pods, key=rank)[: len(pods) - want]
                doomed.sort(key=lambda p: p["metadata"]["creationTimestamp"], reverse=True)
                for pod in doomed:
                    meta = pod["metadata"]
                    gone = self.store.delete(PODS, meta["namespace"], meta["name"])
                    self.deleted(PODS, gone)
                    self.events.record(rs, "Normal", "SuccessfulDelete", f"Deleted pod: {meta['name']}",
                                       component="replicaset-controller")
                    pods.remove(pod)
            min_ready = int(spec.get("minReadySeconds", 0))
            status = {
                "replicas": len(pods),
                "fullyLabeledReplicas": len(pods),
                "readyReplicas": sum(1 for p in pods if self.pod_ready(p)),
                "availableReplicas": sum(1 for p in pods if self.pod_available(p, min_ready, now)),
                "observedGeneration": rs["metadata"].get("generation", 1),
            }
            if status != rs.get("status"):
                new = dict(rs)
                new["status"] = status
                new["metadata"] = dict(rs["metadata"])
                self.store.replace(REPLICASETS, new)

    # -- Deployments -----------------------------------------------------------------------------------------

    def _set_rs_replicas(self, deploy: Obj, rs: Obj, replicas: int, annotations: dict[str, str] | None = None
                         ) -> Obj:
        old = int(rs["spec"].get("replicas", 0))
        new = copy.deepcopy(rs)
        new["spec"]["replicas"] = replicas
        if annotations:
            new["metadata"].setdefault("annotations", {}).update(annotations)
        new["metadata"]["generation"] = int(rs["metadata"].get("generation", 1)) + (1 if old != replicas else 0)
        if new == rs:
            return rs
        stored = self.store.replace(REPLICASETS, new)
        if old != replicas:
            direction = "up" if replicas > old else "down"
            self.events.record(deploy, "Normal", "ScalingReplicaSet",
                               f"Scaled {direction} replica set {rs['metadata']['name']} from {old} to {replicas}",
                               component="deployment-controller")
        return stored

    def _deployments(self, now: datetime) -> None:
        rs_by_owner = self._children(REPLICASETS)
        pods_by_owner = self._children(PODS)
        for deploy in self.store.list(DEPLOYMENTS):
            owned = rs_by_owner.get(deploy["metadata"]["uid"], [])
            fingerprint = (deploy["metadata"]["resourceVersion"],
                           tuple(rs["metadata"]["resourceVersion"] for rs in owned),
                           tuple(p["metadata"]["resourceVersion"] for rs in owned
                                 for p in pods_by_owner.get(rs["metadata"]["uid"], [])))
            key = "deploy/" + deploy["metadata"]["uid"]
            if self._unchanged(key, fingerprint, now):
                continue
            before = self.store.resource_version
            self._capture = [None]
            try:
                self._sync_deployment(deploy, owned, pods_by_owner, now)
                self._synced(key, fingerprint, before, self._capture[0])
            finally:
                self._capture = None

    def _sync_deployment(self, deploy: Obj, owned: list[Obj], pods_by_owner: _OwnerIndex,  # noqa: PLR0915
                         now: datetime) -> None:
        spec = deploy["spec"]
        meta = deploy["metadata"]
        replicas = int(spec.get("replicas", 1))
        template = spec["template"]
        min_ready = int(spec.get("minReadySeconds", 0))
        paused = bool(spec.get("paused"))
        new_rs = next((rs for rs in owned if _same_template(rs["spec"]["template"], template)), None)
        revisions = [int(rs["metadata"].get("annotations", {}).get(REVISION, "0")) for rs in owned]
        max_revision = max(revisions, default=0)
        created_new = False
        deploy_annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k not in _NOT_COPIED}
        surge = _resolve((spec.get("strategy", {}).get("rollingUpdate") or {}).get("maxSurge", "25%"), replicas, True)
        unavailable = _resolve((spec.get("strategy", {}).get("rollingUpdate") or {}).get("maxUnavailable", "25%"),
                               replicas, False)
        if surge == 0 and unavailable == 0:
            unavailable = 1
        if new_rs is None and not paused:
            pod_hash = names.template_hash(template)
            rs_template = copy.deepcopy(template)
            rs_template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = pod_hash
            selector = copy.deepcopy(spec["selector"])
            selector.setdefault("matchLabels", {})[HASH_LABEL] = pod_hash
            annotations = dict(deploy_annotations)
            annotations.update({REVISION: str(max_revision + 1), DESIRED: str(replicas),
                                MAX_REPLICAS: str(replicas + surge)})
            rs = {"metadata": {"name": f"{meta['name']}-{pod_hash}", "namespace": meta["namespace"],
                               "labels": dict(rs_template["metadata"]["labels"]), "annotations": annotations,
                               "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
                                                    "name": meta["name"], "uid": meta["uid"], "controller": True,
                                                    "blockOwnerDeletion": True}]},
                  "spec": {"replicas": 0, "minReadySeconds": min_ready, "selector": selector,
                           "template": rs_template}}
            new_rs = self.store.create(REPLICASETS, rs)
            owned = [*owned, new_rs]
            created_new = True
        elif new_rs is not None:
            annotations = new_rs["metadata"].get("annotations") or {}
            current = int(annotations.get(REVISION, "0"))
            wanted = dict(deploy_annotations)
            if current < max_revision:
                history = [h for h in annotations.get(REVISION_HISTORY, "").split(",") if h] + [str(current)]
                wanted.update({REVISION: str(max_revision + 1), REVISION_HISTORY: ",".join(history)})
            stale = {k: v for k, v in wanted.items() if annotations.get(k) != v}
            if stale:
                new_rs = self._set_rs_replicas(deploy, new_rs, int(new_rs["spec"].get("replicas", 0)), stale)
                owned = [new_rs if rs["metadata"]["uid"] == new_rs["metadata"]["uid"] else rs for rs in owned]
        old_rss = sorted((rs for rs in owned if new_rs is None or rs["metadata"]["uid"] != new_rs["metadata"]["uid"]),
                         key=lambda rs: rs["metadata"]["creationTimestamp"])

        def pods_of(rs: Obj) -> list[Obj]:
            return [p for p in pods_by_owner.get(rs["metadata"]["uid"], []) if _active(p)]

        def available(rs: Obj) -> int:
            return sum(1 for p in pods_of(rs) if self.pod_available(p, min_ready, now))

        if new_rs is not None and not paused:
            recreate = spec.get("strategy", {}).get("type") == "Recreate"
            if recreate:
                for rs in old_rss:
                    if int(rs["spec"].get("replicas", 0)):
                        self._set_rs_replicas(deploy, rs, 0)
                if not any(pods_of(rs) for rs in old_rss) and int(new_rs["spec"].get("replicas", 0)) != replicas:
                    new_rs = self._set_rs_replicas(deploy, new_rs, replicas, {DESIRED: str(replicas)})
            else:
                all_count = sum(int(rs["spec"].get("replicas", 0)) for rs in owned)
                current = int(new_rs["spec"].get("replicas", 0))
                target = current
                if current < replicas:
                    target = min(replicas, current + max(0, replicas + surge - all_count))
                elif current > replicas:
                    target = replicas
                if target != current or new_rs["metadata"]["annotations"].get(DESIRED) != str(replicas):
                    new_rs = self._set_rs_replicas(deploy, new_rs, target, {
                        DESIRED: str(replicas), MAX_REPLICAS: str(replicas + surge)})
                # scale down old replica sets, unhealthy pods first, never below minimum availability
                min_available = replicas - unavailable
                all_count = sum(int(rs["spec"].get("replicas", 0)) for rs in [new_rs, *old_rss])
                new_unavailable = int(new_rs["spec"].get("replicas", 0)) - available(new_rs)
                budget = all_count - min_available - new_unavailable
                refreshed = []
                for old in old_rss:
                    count = int(old["spec"].get("replicas", 0))
                    cut = min(budget, count - available(old)) if budget > 0 and count else 0
                    if cut > 0:
                        old = self._set_rs_replicas(deploy, old, count - cut)  # noqa: PLW2901 - the updated one
                        budget -= cut
                    refreshed.append(old)
                old_rss = refreshed
                total_available = available(new_rs) + sum(min(available(rs), int(rs["spec"].get("replicas", 0)))
                                                          for rs in old_rss)
                scale_down = total_available - min_available
                refreshed = []
                for old in old_rss:
                    count = int(old["spec"].get("replicas", 0))
                    if scale_down > 0 and count:
                        cut = min(count, scale_down)
                        old = self._set_rs_replicas(deploy, old, count - cut)  # noqa: PLW2901 - the updated one
                        scale_down -= cut
                    refreshed.append(old)
                old_rss = refreshed
            # keep at most revisionHistoryLimit old replica sets with nothing left in them
            limit = int(spec.get("revisionHistoryLimit", 10))
            idle = [rs for rs in old_rss if int(rs["spec"].get("replicas", 0)) == 0 and not pods_of(rs)]
            if len(idle) > limit:
                idle.sort(key=lambda rs: int(rs["metadata"].get("annotations", {}).get(REVISION, "0")))
                for rs in idle[: len(idle) - limit]:
                    gone = self.store.delete(REPLICASETS, rs["metadata"]["namespace"], rs["metadata"]["name"])
                    self.deleted(REPLICASETS, gone)
        self._deployment_status(deploy, new_rs, old_rss, pods_of, min_ready, unavailable, created_new, now)

    def _deployment_status(self, deploy: Obj, new_rs: Obj | None, old_rss: list[Obj], pods_of: Any,  # noqa: PLR0915
                           min_ready: int, unavailable: int, created_new: bool, now: datetime) -> None:
        spec = deploy["spec"]
        replicas = int(spec.get("replicas", 1))
        everything = ([new_rs] if new_rs is not None else []) + old_rss
        all_pods = [p for rs in everything for p in pods_of(rs)]
        new_pods = pods_of(new_rs) if new_rs is not None else []
        ready = sum(1 for p in all_pods if self.pod_ready(p))
        available = sum(1 for p in all_pods if self.pod_available(p, min_ready, now))
        updated = len(new_pods)
        total_desired = sum(int(rs["spec"].get("replicas", 0)) for rs in everything)
        old_status = deploy.get("status") or {}
        stamp = rfc3339(now)
        old_conditions = {c["type"]: c for c in old_status.get("conditions") or []}
        available_cond = _condition(
            "Available", available >= replicas - unavailable,
            "MinimumReplicasAvailable" if available >= replicas - unavailable else "MinimumReplicasUnavailable",
            "Deployment has minimum availability." if available >= replicas - unavailable
            else "Deployment does not have minimum availability.", stamp, old_conditions.get("Available"))
        rs_name = new_rs["metadata"]["name"] if new_rs is not None else ""
        new_available = sum(1 for p in new_pods if self.pod_available(p, min_ready, now))
        complete = (updated == replicas and new_available == replicas and len(all_pods) == updated
                    and new_rs is not None and int(new_rs["spec"].get("replicas", 0)) == replicas)
        old_prog = old_conditions.get("Progressing")
        progressed = (updated > int(old_status.get("updatedReplicas", 0))
                      or len(all_pods) < int(old_status.get("replicas", 0))
                      or ready > int(old_status.get("readyReplicas", 0))
                      or available > int(old_status.get("availableReplicas", 0)))
        deadline = spec.get("progressDeadlineSeconds", 600)
        if spec.get("paused"):
            progressing = _condition("Progressing", True if old_prog is None else old_prog["status"] == "True",
                                     "DeploymentPaused", "Deployment is paused", stamp, old_prog)
        elif complete:
            progressing = _condition("Progressing", True, "NewReplicaSetAvailable",
                                     f'ReplicaSet "{rs_name}" has successfully progressed.', stamp, old_prog)
        elif created_new:
            progressing = _condition("Progressing", True, "NewReplicaSetCreated",
                                     f'Created new replica set "{rs_name}"', stamp, None)
        elif progressed or old_prog is None or old_prog.get("reason") in ("NewReplicaSetAvailable",
                                                                            "DeploymentPaused"):
            progressing = _condition("Progressing", True, "ReplicaSetUpdated",
                                     f'ReplicaSet "{rs_name}" is progressing.', stamp, old_prog)
            progressing["lastUpdateTime"] = stamp
        else:
            progressing = dict(old_prog)
            last = parse_time(old_prog.get("lastUpdateTime", stamp))
            if old_prog.get("reason") != "ProgressDeadlineExceeded":
                due = last + timedelta(seconds=int(deadline))
                if now >= due:
                    progressing = _condition("Progressing", False, "ProgressDeadlineExceeded",
                                             f'ReplicaSet "{rs_name}" has timed out progressing.', stamp, old_prog)
                else:
                    self.wake_at(due)
        status: Obj = {"observedGeneration": deploy["metadata"].get("generation", 1), "replicas": len(all_pods),
                       "updatedReplicas": updated, "readyReplicas": ready, "availableReplicas": available,
                       "conditions": [available_cond, progressing]}
        if total_desired - available > 0:
            status["unavailableReplicas"] = total_desired - available
        for key in ("readyReplicas", "availableReplicas", "updatedReplicas", "replicas"):
            if status[key] == 0:
                del status[key]
        annotations = dict(deploy["metadata"].get("annotations") or {})
        if new_rs is not None:
            annotations[REVISION] = new_rs["metadata"]["annotations"].get(REVISION, "1")
        if status != old_status or annotations != (deploy["metadata"].get("annotations") or {}):
            new = dict(deploy)
            new["metadata"] = dict(deploy["metadata"])
            new["metadata"]["annotations"] = annotations
            new["status"] = status
            self.store.replace(DEPLOYMENTS, new)

    # -- StatefulSets ----------------------------------------------------------------------------------------

    def _statefulsets(self, now: datetime) -> None:
        pods_by_owner = self._children(PODS)
        for sts in self.store.list(STATEFULSETS):
            spec, meta = sts["spec"], sts["metadata"]
            replicas = int(spec.get("replicas", 1))
            revision = f"{meta['name']}-{names.template_hash(spec['template'])[:10]}"
            pods = {p["metadata"]["name"]: p for p in pods_by_owner.get(meta["uid"], [])}
            status = sts.get("status") or {}
            current_revision = status.get("currentRevision") or revision
            for ordinal in range(replicas):
                name = f"{meta['name']}-{ordinal}"
                if name in pods:
                    continue
                if all(self.pod_ready(pods[f"{meta['name']}-{i}"]) for i in range(ordinal)
                       if f"{meta['name']}-{i}" in pods) and len(
                           [i for i in range(ordinal) if f"{meta['name']}-{i}" in pods]) == ordinal:
                    labels = {"controller-revision-hash": revision,
                              "statefulset.kubernetes.io/pod-name": name, "apps.kubernetes.io/pod-index": str(ordinal)}
                    pod = self._new_pod(sts, spec["template"], name=name, extra_labels=labels)
                    pod = dict(pod)
                    self.events.record(sts, "Normal", "SuccessfulCreate",
                                       f"create Pod {name} in StatefulSet {meta['name']} successful",
                                       component="statefulset-controller")
                    pods[name] = pod
                break
            for name in sorted(pods, reverse=True):
                ordinal = int(name.rsplit("-", 1)[1])
                if ordinal >= replicas:
                    gone = self.store.delete(PODS, meta["namespace"], name)
                    self.deleted(PODS, gone)
                    self.events.record(sts, "Normal", "SuccessfulDelete",
                                       f"delete Pod {name} in StatefulSet {meta['name']} successful",
                                       component="statefulset-controller")
                    del pods[name]
                    break
            # rolling update: replace the highest outdated pod once every pod is ready
            outdated = [n for n, p in pods.items()
                        if p["metadata"].get("labels", {}).get("controller-revision-hash") != revision]
            if outdated and len(pods) == replicas and all(self.pod_ready(p) for p in pods.values()):
                name = max(outdated, key=lambda n: int(n.rsplit("-", 1)[1]))
                gone = self.store.delete(PODS, meta["namespace"], name)
                self.deleted(PODS, gone)
                self.events.record(sts, "Normal", "SuccessfulDelete",
                                   f"delete Pod {name} in StatefulSet {meta['name']} successful",
                                   component="statefulset-controller")
                del pods[name]
            updated = sum(1 for p in pods.values()
                          if p["metadata"].get("labels", {}).get("controller-revision-hash") == revision)
            if updated == replicas and len(pods) == replicas:
                current_revision = revision
            ready = sum(1 for p in pods.values() if self.pod_ready(p))
            new_status: Obj = {"observedGeneration": meta.get("generation", 1), "replicas": len(pods),
                               "readyReplicas": ready, "currentReplicas": len(pods) - (
                                   updated if current_revision != revision else 0),
                               "updatedReplicas": updated, "currentRevision": current_revision,
                               "updateRevision": revision, "collisionCount": 0,
                               "availableReplicas": sum(1 for p in pods.values() if self.pod_available(
                                   p, int(spec.get("minReadySeconds", 0)), now))}
            for key in ("readyReplicas", "currentReplicas", "updatedReplicas"):
                if new_status[key] == 0:
                    del new_status[key]
            if new_status != status:
                new = dict(sts)
                new["metadata"] = dict(meta)
                new["status"] = new_status
                self.store.replace(STATEFULSETS, new)

    # -- scheduler -------------------------------------------------------------------------------------------

    def _requests(self, pod: Obj) -> tuple[float, float]:
        cpu = mem = 0.0
        for container in pod.get("spec", {}).get("containers", []):
            req = (container.get("resources") or {}).get("requests") or {}
            cpu += _quantity(req.get("cpu", 0))
            mem += _quantity(req.get("memory", 0))
        return cpu, mem

    def _schedule(self, now: datetime) -> None:  # noqa: PLR0915
        pending = [p for p in self.store.list(PODS) if not p.get("spec", {}).get("nodeName")]
        if not pending:
            return
        nodes = [n for n in self.store.list(NODES) if not n.get("spec", {}).get("unschedulable")]
        used: dict[str, list[float]] = {n["metadata"]["name"]: [0.0, 0.0, 0] for n in nodes}
        for pod in self.store.list(PODS):
            node = pod.get("spec", {}).get("nodeName")
            if node in used:
                cpu, mem = self._requests(pod)
                used[node][0] += cpu
                used[node][1] += mem
                used[node][2] += 1
        for pod in pending:
            run = self._runtime(pod, now)
            cpu, mem = self._requests(pod)
            fits = []
            short_cpu = short_mem = 0
            for node in nodes:
                name = node["metadata"]["name"]
                alloc = node.get("status", {}).get("allocatable", {})
                free_cpu = _quantity(alloc.get("cpu", 0)) - used[name][0]
                free_mem = _quantity(alloc.get("memory", 0)) - used[name][1]
                if cpu > free_cpu + 1e-9:
                    short_cpu += 1
                if mem > free_mem + 1:
                    short_mem += 1
                if cpu <= free_cpu + 1e-9 and mem <= free_mem + 1:
                    fits.append((used[name][0] / max(_quantity(alloc.get("cpu", 1)), 1e-9), used[name][2], name))
            if not fits:
                reasons = []
                if short_cpu:
                    reasons.append(f"{short_cpu} Insufficient cpu")
                if short_mem:
                    reasons.append(f"{short_mem} Insufficient memory")
                message = (f"0/{len(nodes)} nodes are available: {', '.join(reasons) or 'no nodes available'}. "
                           f"preemption: 0/{len(nodes)} nodes are available: {len(nodes)} No preemption victims "
                           "found for incoming pod.")
                if run.last_sched_event is None or now - run.last_sched_event >= timedelta(seconds=60):
                    self.events.record(pod, "Warning", "FailedScheduling", message, component="default-scheduler")
                    run.last_sched_event = now
                self.wake_at(now + timedelta(seconds=60))
                run.conditions["PodScheduled"] = ("False", run.conditions.get("PodScheduled", ("False", now))[1])
                run.attrs["unschedulable"] = message
                self._write_pod_status(pod, run, now)
                continue
            fits.sort()
            node_name = fits[0][2]
            used[node_name][0] += cpu
            used[node_name][1] += mem
            used[node_name][2] += 1
            run.attrs.pop("unschedulable", None)
            run.node = node_name
            run.scheduled_at = now
            self._ip_counter[node_name] += 1
            node_index = next(i for i, n in enumerate(self.store.list(NODES)) if n["metadata"]["name"] == node_name)
            count = self._ip_counter[node_name]
            run.ip = f"10.244.{node_index + 1}.{count % 250 + 2}"
            new = copy.deepcopy(pod)
            new["spec"]["nodeName"] = node_name
            self.store.replace(PODS, new)
            self.events.record(new, "Normal", "Scheduled",
                               f"Successfully assigned {pod['metadata']['namespace']}/{pod['metadata']['name']} to "
                               f"{node_name}", component="default-scheduler")
            run.next_check = None

    # -- kubelet ---------------------------------------------------------------------------------------------

    def _runtime(self, pod: Obj, now: datetime) -> PodRun:
        uid = pod["metadata"]["uid"]
        run = self.pods.get(uid)
        if run is None:
            containers = {c["name"]: ContainerRun(c["name"], c.get("image", ""))
                          for c in pod.get("spec", {}).get("containers", [])}
            run = PodRun(uid, pod["metadata"].get("namespace", ""), pod["metadata"]["name"],
                         parse_time(pod["metadata"]["creationTimestamp"]), containers)
            run.conditions["PodScheduled"] = ("False", now)
            self.pods[uid] = run
            self.model.pod_created(self, run, pod)
        return run

    def touch_all(self) -> None:
        """Scenario changed: every pod is looked at again on the next reconcile."""
        for run in self.pods.values():
            run.next_check = None

    def _kubelet(self, now: datetime) -> None:
        for pod in self.store.list(PODS):
            node = pod.get("spec", {}).get("nodeName")
            if not node:
                continue
            run = self._runtime(pod, now)
            if run.node is None:
                run.node = node
                run.scheduled_at = now
                self._ip_counter[node] += 1
                run.ip = f"10.244.9.{self._ip_counter[node] % 250 + 2}"
            if run.attrs.get("evicted"):
                self._write_evicted_status(pod, run)
                continue
            if run.next_check is not None and now < run.next_check:
                self.wake_at(run.next_check)
                continue
            # a pod that is fine is looked at again in an hour (a scenario that changes it calls touch_all);
            # anything in motion sooner: its own due time, or the probe period while it is not ready
            nxt = now + timedelta(seconds=PROBE_PERIOD if not run.ready() else 3600.0)
            for spec in pod["spec"].get("containers", []):
                crun = run.containers.get(spec["name"])
                if crun is None:
                    continue
                due = self._container_step(pod, run, spec, crun, now)
                if due is not None and due < nxt:
                    nxt = due
            run.next_check = nxt
            self.wake_at(nxt)
            self._write_pod_status(pod, run, now)

    def _container_step(self, pod: Obj, run: PodRun, spec: Obj, crun: ContainerRun, now: datetime  # noqa: PLR0915
                        ) -> datetime | None:
        """Advance one container through pull, start, readiness, exit and back-off up to ``now``."""
        assert run.scheduled_at is not None
        assert run.node is not None
        host = run.node
        path = f"spec.containers{{{crun.name}}}"
        due: datetime | None = None
        for _ in range(1000):  # catch up on everything that happened since the last look
            if not crun.instances and crun.next_start is None:
                if not self.model.image_pullable(spec.get("image", "")):
                    crun.pull_failures += 1
                    crun.waiting = "ErrImagePull" if crun.pull_failures == 1 else "ImagePullBackOff"
                    image = spec.get("image", "")
                    crun.waiting_message = (f'Back-off pulling image "{image}"' if crun.pull_failures > 1 else
                                            f'failed to pull and unpack image "{image}": not found')
                    if crun.pull_failures == 1:
                        self.events.record(pod, "Normal", "Pulling", f'Pulling image "{image}"', component="kubelet",
                                           host=host, field_path=path)
                        self.events.record(pod, "Warning", "Failed", f'Failed to pull image "{image}": rpc error: '
                                           f'code = NotFound desc = failed to pull and unpack image "{image}": '
                                           f'failed to resolve reference "{image}": {image}: not found',
                                           component="kubelet", host=host, field_path=path)
                        self.events.record(pod, "Warning", "Failed", "Error: ErrImagePull", component="kubelet",
                                           host=host, field_path=path)
                    self.events.record(pod, "Normal", "BackOff", f'Back-off pulling image "{image}"',
                                       component="kubelet", host=host, field_path=path)
                    self.events.record(pod, "Warning", "Failed", "Error: ImagePullBackOff", component="kubelet",
                                       host=host, field_path=path)
                    return now + timedelta(seconds=min(MAX_BACKOFF, 10 * 2 ** min(crun.pull_failures, 6)))
                crun.next_start = run.scheduled_at + timedelta(seconds=START_DELAY)
                crun.waiting = "ContainerCreating"
            if crun.next_start is not None:
                if crun.next_start > now:
                    return crun.next_start
                start = crun.next_start
                index = len(crun.instances)
                inst = Instance(container_id(run.uid, crun.name, index), spec.get("image", ""), start,
                                seed=int(container_id(run.uid, crun.name, index)[-8:], 16))
                crun.instances.append(inst)
                crun.next_start = None
                crun.waiting = ""
                crun.ready_since = None
                image = spec.get("image", "")
                self.events.record(pod, "Normal", "Pulled", f'Container image "{image}" already present on machine',
                                   component="kubelet", host=host, field_path=path, when=start)
                self.events.record(pod, "Normal", "Created", f"Created container: {crun.name}", component="kubelet",
                                   host=host, field_path=path, when=start)
                self.events.record(pod, "Normal", "Started", f"Started container {crun.name}", component="kubelet",
                                   host=host, field_path=path, when=start)
                self.model.container_started(self, run, pod, crun, inst)
                continue
            current = crun.current
            if current is None or current.finished is not None:
                return due
            inst = current
            fate = self.model.fate(self, run, pod, crun, inst)
            if fate is not None and fate[0] <= now:
                end, code, reason = fate
                inst.finished, inst.exit_code, inst.reason = end, code, reason
                crun.ready_since = None
                crun.crashes = crun.crashes + 1 if end - inst.started < timedelta(minutes=10) else 1
                if reason == "OOMKilled":
                    node = self.store.get(NODES, "", host)
                    if node is not None:
                        self.events.record(node, "Warning", "OOMKilling",
                                           f"Memory cgroup out of memory: Killed process {1000 + inst.seed % 30000} "
                                           f"({self.model.process_name(run, crun)}) total-vm:2841236kB, "
                                           f"anon-rss:{self.model.memory_limit_kb(pod, crun.name)}kB, "
                                           "file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:2456kB "
                                           "oom_score_adj:984", component="kernel-monitor", host=host, when=end)
                if pod["spec"].get("restartPolicy", "Always") == "Never":
                    return None
                backoff = min(MAX_BACKOFF, 10.0 * 2 ** (crun.crashes - 1))
                crun.next_start = end + timedelta(seconds=backoff)
                crun.waiting = "CrashLoopBackOff"
                crun.waiting_message = (f"back-off {int(backoff)}s restarting failed container={crun.name} "
                                        f"pod={run.name}_{run.namespace}({run.uid})")
                if crun.next_start > now:
                    self.events.record(pod, "Warning", "BackOff", f"Back-off restarting failed container {crun.name} "
                                       f"in pod {run.name}_{run.namespace}({run.uid})", component="kubelet", host=host,
                                       field_path=path, when=now)
                continue
            if fate is not None:
                due = fate[0]
            ready, message = self.model.readiness(self, run, pod, crun, inst, now)
            ready_at = inst.started + timedelta(seconds=self.model.ready_delay(run, crun))
            if ready and crun.ready_since is None:
                if ready_at <= now:
                    crun.ready_since = ready_at
                else:
                    due = ready_at if due is None or ready_at < due else due
            elif not ready:
                crun.ready_since = None
                if ready_at <= now and (crun.last_probe_event is None
                                        or now - crun.last_probe_event >= timedelta(seconds=PROBE_PERIOD)):
                    self.events.record(pod, "Warning", "Unhealthy", f"Readiness probe failed: {message}",
                                       component="kubelet", host=host, field_path=path)
                    crun.last_probe_event = now
            return due
        return due

    def evict(self, pod: Obj, message: str) -> None:
        """The kubelet evicts a pod (node pressure): it fails for good and its ReplicaSet replaces it."""
        now = self.clock.now()
        run = self._runtime(pod, now)
        for crun in run.containers.values():
            if crun.running and crun.current is not None:
                crun.current.finished, crun.current.exit_code, crun.current.reason = now, 137, "Error"
            crun.next_start = None
            crun.waiting = ""
            crun.ready_since = None
        run.attrs["evicted"] = message
        run.attrs["evicted_at"] = now
        self.events.record(pod, "Warning", "Evicted", message, component="kubelet", host=run.node)
        for name in run.containers:
            self.events.record(pod, "Normal", "Killing", f"Stopping container {name}", component="kubelet",
                               host=run.node, field_path=f"spec.containers{{{name}}}")
        self._write_evicted_status(pod, run)

    def _write_evicted_status(self, pod: Obj, run: PodRun) -> None:
        when = rfc3339(run.attrs.get("evicted_at") or self.clock.now())
        statuses = []
        for spec in pod["spec"].get("containers", []):
            crun = run.containers.get(spec["name"])
            last = crun.last_terminated() if crun else None
            state: Obj = {"terminated": _terminated(last)} if last is not None else {}
            statuses.append({"name": spec["name"], "state": state, "lastState": {}, "ready": False,
                             "restartCount": crun.restart_count - 1 if crun and crun.restart_count else 0,
                             "image": spec.get("image", ""), "imageID": image_id(spec.get("image", "")),
                             "started": False, **({"containerID": last.container_id} if last else {})})
        message = str(run.attrs["evicted"])
        status = {
            "phase": "Failed", "reason": "Evicted", "message": message, "qosClass": "Burstable",
            "conditions": [
                {"type": "DisruptionTarget", "status": "True", "lastProbeTime": None, "lastTransitionTime": when,
                 "reason": "TerminationByKubelet", "message": message},
                {"type": "Ready", "status": "False", "lastProbeTime": None, "lastTransitionTime": when,
                 "reason": "PodFailed"},
                {"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                 "lastTransitionTime": rfc3339(run.scheduled_at or run.created)}],
            "hostIP": (pod.get("status") or {}).get("hostIP", ""),
            "startTime": rfc3339(run.scheduled_at or run.created),
            "containerStatuses": statuses,
        }
        if status != pod.get("status"):
            new = dict(pod)
            new["metadata"] = dict(pod["metadata"])
            new["status"] = status
            self.store.replace(PODS, new)

    def _write_pod_status(self, pod: Obj, run: PodRun, now: datetime) -> None:  # noqa: PLR0915
        stamp = rfc3339(now)
        statuses = []
        all_running = bool(run.containers)
        for spec in pod["spec"].get("containers", []):
            crun = run.containers.get(spec["name"])
            if crun is None:
                continue
            inst = crun.current
            state: Obj
            if crun.running and inst is not None:
                state = {"running": {"startedAt": rfc3339(inst.started)}}
            elif crun.waiting:
                state = {"waiting": {"reason": crun.waiting}}
                if crun.waiting_message and crun.waiting != "ContainerCreating":
                    state["waiting"]["message"] = crun.waiting_message
                all_running = False
            elif inst is not None and inst.finished is not None:
                state = {"terminated": _terminated(inst)}
                all_running = False
            else:
                state = {"waiting": {"reason": "ContainerCreating"}}
                all_running = False
            if not crun.running:
                all_running = False
            last = crun.last_terminated()
            if crun.running or crun.waiting == "CrashLoopBackOff":
                last_state: Obj = {"terminated": _terminated(last)} if last is not None and (
                    not crun.running or last is not inst) else {}
            else:
                last_state = {}
            status: Obj = {"name": crun.name, "state": state, "lastState": last_state,
                           "ready": crun.running and crun.ready_since is not None,
                           "restartCount": crun.restart_count, "image": spec.get("image", ""),
                           "imageID": image_id(spec.get("image", "")) if crun.instances else "",
                           "started": crun.running}
            if inst is not None:
                status["containerID"] = inst.container_id
            status["resources"] = spec.get("resources") or {}
            statuses.append(status)
        scheduled = run.node is not None
        ready = run.ready()
        phase = "Running" if scheduled and any(c.instances for c in run.containers.values()) else "Pending"
        if pod["spec"].get("restartPolicy") == "Never" and all(
                c.current is not None and c.current.finished is not None for c in run.containers.values()):
            phase = "Succeeded" if all(c.current.exit_code == 0 for c in run.containers.values()
                                       if c.current) else "Failed"
        if run.phase_override:
            phase = run.phase_override

        def cond(type_: str, value: bool, reason: str | None = None, message: str | None = None) -> Obj:
            text = "True" if value else "False"
            old = run.conditions.get(type_)
            since = old[1] if old and old[0] == text else now
            run.conditions[type_] = (text, since)
            out: Obj = {"type": type_, "status": text, "lastProbeTime": None,
                        "lastTransitionTime": rfc3339(since)}
            if reason:
                out["reason"] = reason
            if message:
                out["message"] = message
            return out

        if not scheduled:
            conditions = [cond("PodScheduled", False, "Unschedulable", run.attrs.get("unschedulable"))]
        else:
            not_ready = [c.name for c in run.containers.values() if not (c.running and c.ready_since)]
            message = f"containers with unready status: [{' '.join(not_ready)}]" if not_ready else None
            conditions = [
                cond("PodReadyToStartContainers", bool(any(c.instances for c in run.containers.values()))
                     or all_running),
                cond("Initialized", True),
                cond("Ready", ready, None if ready else "ContainersNotReady", message),
                cond("ContainersReady", ready, None if ready else "ContainersNotReady", message),
                cond("PodScheduled", True),
            ]
        status = {"phase": phase, "conditions": conditions, "qosClass": "Burstable"}
        if scheduled:
            node = self.store.get(NODES, "", run.node or "")
            host_ip = next((a["address"] for a in (node or {}).get("status", {}).get("addresses", [])
                            if a.get("type") == "InternalIP"), "10.0.1.10")
            status.update(hostIP=host_ip, hostIPs=[{"ip": host_ip}], startTime=rfc3339(run.scheduled_at or now))
            if run.ip:
                status.update(podIP=run.ip, podIPs=[{"ip": run.ip}])
            if statuses:
                status["containerStatuses"] = statuses
        if status != pod.get("status"):
            new = dict(pod)
            new["metadata"] = dict(pod["metadata"])
            new["status"] = status
            self.store.replace(PODS, new)
        del stamp

    # -- endpoints -------------------------------------------------------------------------------------------

    def _endpoints(self) -> None:
        for svc in self.store.list(SERVICES):
            selector = svc.get("spec", {}).get("selector")
            if not selector:
                continue
            meta = svc["metadata"]
            ready: list[Obj] = []
            not_ready: list[Obj] = []
            for pod in self.store.list(PODS, meta["namespace"]):
                labels = pod["metadata"].get("labels") or {}
                if not all(labels.get(k) == v for k, v in selector.items()):
                    continue
                run = self.pods.get(pod["metadata"]["uid"])
                if run is None or not run.ip or not _active(pod):
                    continue
                address = {"ip": run.ip, "nodeName": run.node,
                           "targetRef": {"kind": "Pod", "namespace": meta["namespace"], "name": pod["metadata"]["name"],
                                         "uid": pod["metadata"]["uid"]}}
                (ready if run.ready() else not_ready).append(address)
            named: dict[str, int] = {}
            for pod in self.store.list(PODS, meta["namespace"]):
                labels = pod["metadata"].get("labels") or {}
                if all(labels.get(k) == v for k, v in selector.items()):
                    for container in pod["spec"].get("containers", []):
                        for cport in container.get("ports") or []:
                            if cport.get("name"):
                                named.setdefault(cport["name"], int(cport["containerPort"]))
                    break
            ports = []
            for port in svc["spec"].get("ports") or []:
                target = port.get("targetPort", port["port"])
                number = int(target) if isinstance(target, int) or str(target).isdigit() else named.get(
                    str(target), port["port"])
                entry = {"port": number, "protocol": port.get("protocol", "TCP")}
                if port.get("name"):
                    entry["name"] = port["name"]
                ports.append(entry)
            subsets = []
            if ready or not_ready:
                subset: Obj = {"ports": ports}
                if ready:
                    subset["addresses"] = sorted(ready, key=lambda a: a["ip"])
                if not_ready:
                    subset["notReadyAddresses"] = sorted(not_ready, key=lambda a: a["ip"])
                subsets.append(subset)
            existing = self.store.get(ENDPOINTS, meta["namespace"], meta["name"])
            body: Obj = {"metadata": {"name": meta["name"], "namespace": meta["namespace"],
                                      "labels": dict(meta.get("labels") or {})}}
            if subsets:
                body["subsets"] = subsets
            if existing is None:
                self.store.create(ENDPOINTS, body)
            elif existing.get("subsets") != body.get("subsets"):
                new = dict(existing)
                new["metadata"] = dict(existing["metadata"])
                if subsets:
                    new["subsets"] = subsets
                else:
                    new.pop("subsets", None)
                self.store.replace(ENDPOINTS, new)

    # -- reading for the API ---------------------------------------------------------------------------------

    def log_instance(self, pod: Obj, container: str, previous: bool) -> LogInstance:
        from incidentctl.sandbox.apierrors import bad_request
        from incidentctl.sandbox.logs import LogInstance

        run = self.pods.get(pod["metadata"]["uid"])
        crun = run.containers.get(container) if run else None
        name = pod["metadata"]["name"]
        if run is None or crun is None or not crun.instances:
            reason = crun.waiting if crun is not None and crun.waiting else "ContainerCreating"
            if reason == "ErrImagePull":
                raise bad_request(f'container "{container}" in pod "{name}" is waiting to start: image can\'t be '
                                  "pulled")
            if reason == "ImagePullBackOff":
                raise bad_request(f'container "{container}" in pod "{name}" is waiting to start: trying and failing '
                                  "to pull image")
            raise bad_request(f'container "{container}" in pod "{name}" is waiting to start: {reason}')
        if previous:
            inst = crun.last_terminated()
            if inst is None:
                raise bad_request(f'previous terminated container "{container}" in pod "{name}" not found')
        else:
            inst = crun.instances[-1]
        key = inst.container_id
        cached = self._log_cache.get(key)
        if cached is None:
            cached = LogInstance(self, run, pod, crun, inst)
            self._log_cache[key] = cached
        return cached

    def pod_metrics(self, namespace: str | None) -> list[Obj]:
        now = self.clock.now()
        items = []
        for pod in self.store.list(PODS, namespace):
            run = self.pods.get(pod["metadata"]["uid"])
            if run is None or not any(c.running for c in run.containers.values()):
                continue
            containers = []
            for crun in run.containers.values():
                if not crun.running or crun.current is None:
                    continue
                cpu = self.model.cpu_millicores(self, run, pod, crun, now)
                mem = self.model.memory_bytes(self, run, pod, crun, now)
                containers.append({"name": crun.name, "usage": {"cpu": f"{int(cpu * 1e6)}n",
                                                                "memory": f"{int(mem // 1024)}Ki"}})
            meta = pod["metadata"]
            items.append({"metadata": {"name": meta["name"], "namespace": meta["namespace"],
                                       "creationTimestamp": rfc3339(now), "labels": dict(meta.get("labels") or {})},
                          "timestamp": rfc3339(now - timedelta(seconds=7)), "window": "15.01s",
                          "containers": containers})
        return items

    def node_metrics(self) -> list[Obj]:
        now = self.clock.now()
        usage: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for pod in self.store.list(PODS):
            run = self.pods.get(pod["metadata"]["uid"])
            if run is None or not run.node:
                continue
            for crun in run.containers.values():
                if crun.running:
                    usage[run.node][0] += self.model.cpu_millicores(self, run, pod, crun, now)
                    usage[run.node][1] += self.model.memory_bytes(self, run, pod, crun, now)
        items = []
        for node in self.store.list(NODES):
            name = node["metadata"]["name"]
            cpu = usage[name][0] + 180  # system daemons and the kubelet itself
            mem = usage[name][1] + 1.4 * 1024**3
            items.append({"metadata": {"name": name, "creationTimestamp": rfc3339(now),
                                       "labels": dict(node["metadata"].get("labels") or {})},
                          "timestamp": rfc3339(now - timedelta(seconds=9)), "window": "20.03s",
                          "usage": {"cpu": f"{int(cpu * 1e6)}n", "memory": f"{int(mem // 1024)}Ki"}})
        return items


class _OwnerIndex:
    """Controller owner uid -> the objects it owns, kept current by the store's change hook."""

    def __init__(self) -> None:
        self.by_owner: dict[str, dict[str, Obj]] = {}

    def get(self, owner: str, default: list[Obj] | None = None) -> list[Obj]:
        children = self.by_owner.get(owner)
        return list(children.values()) if children else (default if default is not None else [])


def _active(pod: Obj) -> bool:
    """Counted by its controller: not being deleted and not finished for good (Failed, Succeeded, Evicted)."""
    return not pod["metadata"].get("deletionTimestamp") and (pod.get("status") or {}).get("phase") not in (
        "Failed", "Succeeded")


def _terminated(inst: Instance) -> Obj:
    assert inst.finished is not None
    return {"exitCode": inst.exit_code, "reason": inst.reason or ("Completed" if inst.exit_code == 0 else "Error"),
            "startedAt": rfc3339(inst.started), "finishedAt": rfc3339(inst.finished),
            "containerID": inst.container_id}
