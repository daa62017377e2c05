"""What every controller of the simulation shares: the store, the clock, the kubelet's view of pods, timers,
the owner index, and the few things all of them do (make a pod, delete with garbage collection, look at pods).

The controllers are mixins of :class:`ControllerBase`, one module each; :class:`~incidentctl.sandbox.simulation.
Simulation` combines them and runs them in order.
"""

from __future__ import annotations

import copy
import threading
from abc import ABC, abstractmethod
from collections import defaultdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from incidentctl.sandbox import resources
from incidentctl.sandbox.clock import SimClock, parse_time
from incidentctl.sandbox.events import EventRecorder
from incidentctl.sandbox.objects import OwnerIndex, owner_uid
from incidentctl.sandbox.resources import DEPLOYMENTS, ENDPOINTS, PODS, REPLICASETS, SERVICES, STATEFULSETS
from incidentctl.sandbox.runtime import ContainerRun, PodRun
from incidentctl.sandbox.store import Obj, Store

if TYPE_CHECKING:
    from incidentctl.sandbox.behaviour import Model
    from incidentctl.sandbox.logs import LogInstance


class ControllerBase(ABC):
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
        self._owned: dict[resources.ResourceType, OwnerIndex] = {REPLICASETS: OwnerIndex(), PODS: OwnerIndex()}
        store.on_change = self._index
        self._seen: dict[str, tuple[Any, datetime | None]] = {}

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

    def defaults(self, rt: resources.ResourceType, obj: Obj) -> None:
        """What defaulting and admission would fill into a newly created object."""
        spec = obj.get("spec")
        if rt is DEPLOYMENTS and isinstance(spec, dict):
            spec.setdefault("replicas", 1)
            spec.setdefault("revisionHistoryLimit", 10)
            spec.setdefault("progressDeadlineSeconds", 600)
            spec.setdefault(
                "strategy", {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}
            )
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
                    self.events.record(
                        obj,
                        "Normal",
                        "Killing",
                        f"Stopping container {name}",
                        component="kubelet",
                        host=run.node,
                        field_path=f"spec.containers{{{name}}}",
                    )
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

    def _children(self, rt: resources.ResourceType) -> OwnerIndex:
        return self._owned[rt]

    def _index(self, rt: resources.ResourceType, kind: str, obj: Obj) -> None:
        """Keep the owner index of ReplicaSets and pods current (the store calls this on every write)."""
        index = self._owned.get(rt)
        if index is None:
            return
        owner = owner_uid(obj)
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

    def _new_pod(
        self, owner: Obj, template: Obj, name: str | None = None, extra_labels: dict[str, str] | None = None
    ) -> Obj:
        meta = owner["metadata"]
        pod_meta: Obj = {
            "namespace": meta["namespace"],
            "labels": dict(template.get("metadata", {}).get("labels") or {}) | (extra_labels or {}),
            "ownerReferences": [
                {
                    "apiVersion": owner["apiVersion"],
                    "kind": owner["kind"],
                    "name": meta["name"],
                    "uid": meta["uid"],
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        }
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

    def _runtime(self, pod: Obj, now: datetime) -> PodRun:
        uid = pod["metadata"]["uid"]
        run = self.pods.get(uid)
        if run is None:
            containers = {
                c["name"]: ContainerRun(c["name"], c.get("image", ""))
                for c in pod.get("spec", {}).get("containers", [])
            }
            run = PodRun(
                uid,
                pod["metadata"].get("namespace", ""),
                pod["metadata"]["name"],
                parse_time(pod["metadata"]["creationTimestamp"]),
                containers,
            )
            run.conditions["PodScheduled"] = ("False", now)
            self.pods[uid] = run
            self.model.pod_created(self, run, pod)
        return run

    @abstractmethod
    def _write_pod_status(self, pod: Obj, run: PodRun, now: datetime) -> None:
        """Implemented by the kubelet mixin; the scheduler reports an unschedulable pod through it."""

    def touch_all(self) -> None:
        """Scenario changed: every pod is looked at again on the next reconcile."""
        for run in self.pods.values():
            run.next_check = None
