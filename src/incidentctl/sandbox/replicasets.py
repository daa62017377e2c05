"""The ReplicaSet controller: as many pods as asked for, the unready and newest removed first."""

from __future__ import annotations

from datetime import datetime

from incidentctl.sandbox.controller_base import ControllerBase
from incidentctl.sandbox.objects import active
from incidentctl.sandbox.resources import PODS, REPLICASETS
from incidentctl.sandbox.store import Obj


class ReplicaSetController(ControllerBase):
    def _replicasets(self, now: datetime) -> None:
        pods_by_owner = self._children(PODS)
        for rs in self.store.list(REPLICASETS):
            owned_pods = pods_by_owner.get(rs["metadata"]["uid"], [])
            fingerprint = (
                rs["metadata"]["resourceVersion"],
                tuple(p["metadata"]["resourceVersion"] for p in owned_pods),
            )
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
        spec = rs["spec"]
        want = int(spec.get("replicas", 1))
        pods = [p for p in owned_pods if active(p)]
        if len(pods) < want:
            for _ in range(want - len(pods)):
                pod = self._new_pod(rs, spec["template"])
                self.events.record(
                    rs,
                    "Normal",
                    "SuccessfulCreate",
                    f"Created pod: {pod['metadata']['name']}",
                    component="replicaset-controller",
                )
                pods.append(pod)
        elif len(pods) > want:

            def rank(pod: Obj) -> tuple[int, int, int]:
                run = self.pods.get(pod["metadata"]["uid"])
                scheduled = 1 if run is not None and run.node else 0
                ready = 1 if run is not None and run.ready() else 0
                restarts = sum(c.restart_count for c in run.containers.values()) if run else 0
                return (scheduled, ready, -restarts)

            # as the controller chooses: unscheduled, then unready, then restarting pods, then the newest
            newest_first = sorted(pods, key=lambda p: p["metadata"]["creationTimestamp"], reverse=True)
            doomed = sorted(newest_first, key=rank)[: len(pods) - want]
            doomed.sort(key=lambda p: p["metadata"]["creationTimestamp"], reverse=True)
            for pod in doomed:
                meta = pod["metadata"]
                gone = self.store.delete(PODS, meta["namespace"], meta["name"])
                self.deleted(PODS, gone)
                self.events.record(
                    rs, "Normal", "SuccessfulDelete", f"Deleted pod: {meta['name']}", component="replicaset-controller"
                )
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
