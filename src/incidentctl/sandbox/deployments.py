"""The Deployment controller: ReplicaSet revisions (new, or an old one reused on undo), rolling updates within
maxSurge/maxUnavailable, history cleanup, and a status with the Available and Progressing conditions that
``kubectl rollout status`` reads."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

from incidentctl.sandbox import names
from incidentctl.sandbox.clock import parse_time, rfc3339
from incidentctl.sandbox.controller_base import ControllerBase
from incidentctl.sandbox.managed_fields import stamp
from incidentctl.sandbox.objects import (
    DESIRED,
    HASH_LABEL,
    MAX_REPLICAS,
    NOT_COPIED,
    REVISION,
    REVISION_HISTORY,
    OwnerIndex,
    active,
    condition,
    int_or_percent,
    same_template,
)
from incidentctl.sandbox.resources import DEPLOYMENTS, PODS, REPLICASETS
from incidentctl.sandbox.store import Obj


class DeploymentController(ControllerBase):
    def _set_rs_replicas(self, deploy: Obj, rs: Obj, replicas: int, annotations: dict[str, str] | None = None) -> Obj:
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
            self.events.record(
                deploy,
                "Normal",
                "ScalingReplicaSet",
                # the deployment controller's own wording (pkg/controller/deployment/sync.go, Kubernetes 1.28+)
                f"Scaled {direction} replica set {rs['metadata']['name']} to {replicas} from {old}",
                component="deployment-controller",
            )
        return stored

    def _deployments(self, now: datetime) -> None:
        rs_by_owner = self._children(REPLICASETS)
        pods_by_owner = self._children(PODS)
        for deploy in self.store.list(DEPLOYMENTS):
            owned = rs_by_owner.get(deploy["metadata"]["uid"], [])
            fingerprint = (
                deploy["metadata"]["resourceVersion"],
                tuple(rs["metadata"]["resourceVersion"] for rs in owned),
                tuple(
                    p["metadata"]["resourceVersion"]
                    for rs in owned
                    for p in pods_by_owner.get(rs["metadata"]["uid"], [])
                ),
            )
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

    def _sync_deployment(  # noqa: PLR0915
        self,
        deploy: Obj,
        owned: list[Obj],
        pods_by_owner: OwnerIndex,
        now: datetime,
    ) -> None:
        spec = deploy["spec"]
        meta = deploy["metadata"]
        replicas = int(spec.get("replicas", 1))
        template = spec["template"]
        min_ready = int(spec.get("minReadySeconds", 0))
        paused = bool(spec.get("paused"))
        new_rs = next((rs for rs in owned if same_template(rs["spec"]["template"], template)), None)
        revisions = [int(rs["metadata"].get("annotations", {}).get(REVISION, "0")) for rs in owned]
        max_revision = max(revisions, default=0)
        created_new = False
        deploy_annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k not in NOT_COPIED}
        rolling = spec.get("strategy", {}).get("rollingUpdate") or {}
        surge = int_or_percent(rolling.get("maxSurge", "25%"), replicas, True)
        unavailable = int_or_percent(rolling.get("maxUnavailable", "25%"), replicas, False)
        if surge == 0 and unavailable == 0:
            unavailable = 1
        if new_rs is None and not paused:
            pod_hash = names.template_hash(template)
            rs_template = copy.deepcopy(template)
            rs_template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = pod_hash
            selector = copy.deepcopy(spec["selector"])
            selector.setdefault("matchLabels", {})[HASH_LABEL] = pod_hash
            annotations = dict(deploy_annotations)
            annotations.update(
                {REVISION: str(max_revision + 1), DESIRED: str(replicas), MAX_REPLICAS: str(replicas + surge)}
            )
            rs = {
                "metadata": {
                    "name": f"{meta['name']}-{pod_hash}",
                    "namespace": meta["namespace"],
                    "labels": dict(rs_template["metadata"]["labels"]),
                    "annotations": annotations,
                    "ownerReferences": [
                        {
                            "apiVersion": "apps/v1",
                            "kind": "Deployment",
                            "name": meta["name"],
                            "uid": meta["uid"],
                            "controller": True,
                            "blockOwnerDeletion": True,
                        }
                    ],
                },
                "spec": {"replicas": 0, "minReadySeconds": min_ready, "selector": selector, "template": rs_template},
            }
            made = self.store.prepare_new(REPLICASETS, rs)
            new_rs = self.store.create(REPLICASETS, stamp(made, "kube-controller-manager", now), prepared=True)
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
        old_rss = sorted(
            (rs for rs in owned if new_rs is None or rs["metadata"]["uid"] != new_rs["metadata"]["uid"]),
            key=lambda rs: rs["metadata"]["creationTimestamp"],
        )

        def pods_of(rs: Obj) -> list[Obj]:
            return [p for p in pods_by_owner.get(rs["metadata"]["uid"], []) if active(p)]

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
                    new_rs = self._set_rs_replicas(
                        deploy, new_rs, target, {DESIRED: str(replicas), MAX_REPLICAS: str(replicas + surge)}
                    )
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
                total_available = available(new_rs) + sum(
                    min(available(rs), int(rs["spec"].get("replicas", 0))) for rs in old_rss
                )
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

    def _deployment_status(  # noqa: PLR0915
        self,
        deploy: Obj,
        new_rs: Obj | None,
        old_rss: list[Obj],
        pods_of: Any,
        min_ready: int,
        unavailable: int,
        created_new: bool,
        now: datetime,
    ) -> None:
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
        available_cond = condition(
            "Available",
            available >= replicas - unavailable,
            "MinimumReplicasAvailable" if available >= replicas - unavailable else "MinimumReplicasUnavailable",
            "Deployment has minimum availability."
            if available >= replicas - unavailable
            else "Deployment does not have minimum availability.",
            stamp,
            old_conditions.get("Available"),
        )
        rs_name = new_rs["metadata"]["name"] if new_rs is not None else ""
        new_available = sum(1 for p in new_pods if self.pod_available(p, min_ready, now))
        complete = (
            updated == replicas
            and new_available == replicas
            and len(all_pods) == updated
            and new_rs is not None
            and int(new_rs["spec"].get("replicas", 0)) == replicas
        )
        old_prog = old_conditions.get("Progressing")
        progressed = (
            updated > int(old_status.get("updatedReplicas", 0))
            or len(all_pods) < int(old_status.get("replicas", 0))
            or ready > int(old_status.get("readyReplicas", 0))
            or available > int(old_status.get("availableReplicas", 0))
        )
        deadline = spec.get("progressDeadlineSeconds", 600)
        if spec.get("paused"):
            progressing = condition(
                "Progressing",
                True if old_prog is None else old_prog["status"] == "True",
                "DeploymentPaused",
                "Deployment is paused",
                stamp,
                old_prog,
            )
        elif complete:
            progressing = condition(
                "Progressing",
                True,
                "NewReplicaSetAvailable",
                f'ReplicaSet "{rs_name}" has successfully progressed.',
                stamp,
                old_prog,
            )
        elif created_new:
            progressing = condition(
                "Progressing", True, "NewReplicaSetCreated", f'Created new replica set "{rs_name}"', stamp, None
            )
        elif progressed or old_prog is None or old_prog.get("reason") in ("NewReplicaSetAvailable", "DeploymentPaused"):
            progressing = condition(
                "Progressing", True, "ReplicaSetUpdated", f'ReplicaSet "{rs_name}" is progressing.', stamp, old_prog
            )
            progressing["lastUpdateTime"] = stamp
        else:
            progressing = dict(old_prog)
            last = parse_time(old_prog.get("lastUpdateTime", stamp))
            if old_prog.get("reason") != "ProgressDeadlineExceeded":
                due = last + timedelta(seconds=int(deadline))
                if now >= due:
                    progressing = condition(
                        "Progressing",
                        False,
                        "ProgressDeadlineExceeded",
                        f'ReplicaSet "{rs_name}" has timed out progressing.',
                        stamp,
                        old_prog,
                    )
                else:
                    self.wake_at(due)
        status: Obj = {
            "observedGeneration": deploy["metadata"].get("generation", 1),
            "replicas": len(all_pods),
            "updatedReplicas": updated,
            "readyReplicas": ready,
            "availableReplicas": available,
            "conditions": [available_cond, progressing],
        }
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
