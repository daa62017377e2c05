"""The StatefulSet controller: ordinal pods created in order, rolling updates from the highest ordinal down."""

from __future__ import annotations

from datetime import datetime

from incidentctl.sandbox import names
from incidentctl.sandbox.controller_base import ControllerBase
from incidentctl.sandbox.resources import PODS, STATEFULSETS
from incidentctl.sandbox.store import Obj


class StatefulSetController(ControllerBase):
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
                if (
                    all(
                        self.pod_ready(pods[f"{meta['name']}-{i}"])
                        for i in range(ordinal)
                        if f"{meta['name']}-{i}" in pods
                    )
                    and len([i for i in range(ordinal) if f"{meta['name']}-{i}" in pods]) == ordinal
                ):
                    labels = {
                        "controller-revision-hash": revision,
                        "statefulset.kubernetes.io/pod-name": name,
                        "apps.kubernetes.io/pod-index": str(ordinal),
                    }
                    pod = self._new_pod(sts, spec["template"], name=name, extra_labels=labels)
                    pod = dict(pod)
                    self.events.record(
                        sts,
                        "Normal",
                        "SuccessfulCreate",
                        f"create Pod {name} in StatefulSet {meta['name']} successful",
                        component="statefulset-controller",
                    )
                    pods[name] = pod
                break
            for name in sorted(pods, reverse=True):
                ordinal = int(name.rsplit("-", 1)[1])
                if ordinal >= replicas:
                    self._delete_pod(sts, pods, name)
                    break
            # rolling update: replace the highest outdated pod once every pod is ready
            outdated = [
                n
                for n, p in pods.items()
                if p["metadata"].get("labels", {}).get("controller-revision-hash") != revision
            ]
            if outdated and len(pods) == replicas and all(self.pod_ready(p) for p in pods.values()):
                self._delete_pod(sts, pods, max(outdated, key=lambda n: int(n.rsplit("-", 1)[1])))
            updated = sum(
                1 for p in pods.values() if p["metadata"].get("labels", {}).get("controller-revision-hash") == revision
            )
            if updated == replicas and len(pods) == replicas:
                current_revision = revision
            ready = sum(1 for p in pods.values() if self.pod_ready(p))
            new_status: Obj = {
                "observedGeneration": meta.get("generation", 1),
                "replicas": len(pods),
                "readyReplicas": ready,
                "currentReplicas": len(pods) - (updated if current_revision != revision else 0),
                "updatedReplicas": updated,
                "currentRevision": current_revision,
                "updateRevision": revision,
                "collisionCount": 0,
                "availableReplicas": sum(
                    1 for p in pods.values() if self.pod_available(p, int(spec.get("minReadySeconds", 0)), now)
                ),
            }
            for key in ("readyReplicas", "currentReplicas", "updatedReplicas"):
                if new_status[key] == 0:
                    del new_status[key]
            if new_status != status:
                new = dict(sts)
                new["metadata"] = dict(meta)
                new["status"] = new_status
                self.store.replace(STATEFULSETS, new)

    def _delete_pod(self, sts: Obj, pods: dict[str, Obj], name: str) -> None:
        """Delete one of the set's pods (scale-down or rolling update) with the event the controller writes."""
        meta = sts["metadata"]
        gone = self.store.delete(PODS, meta["namespace"], name)
        self.deleted(PODS, gone)
        self.events.record(
            sts,
            "Normal",
            "SuccessfulDelete",
            f"delete Pod {name} in StatefulSet {meta['name']} successful",
            component="statefulset-controller",
        )
        del pods[name]
