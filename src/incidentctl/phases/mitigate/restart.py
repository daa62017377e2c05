"""``mitigate restart``: a component's deployment, a datastore's statefulset, or one pod (``postgres-0``).

A workload is restarted as ``kubectl rollout restart`` does it (a strategic-merge patch of the pod template's
``kubectl.kubernetes.io/restartedAt`` annotation, sent as ``kubectl-rollout``), so the controller replaces the pods
one by one under its own rules. A pod is deleted with its uid as a precondition, so a pod already recreated under
the same name is not restarted twice. A paused deployment is refused, as kubectl refuses it. Restarting a datastore
drops its connections and whatever it held in memory: destructive, so the guardrails want a reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from incidentctl.core.mitigation import Change, FieldChange, ObjectRef, Plan, Undo, Write, unified_diff
from incidentctl.core.times import format_rfc3339
from incidentctl.errors import UsageError
from incidentctl.phases.mitigate.base import ActionEnv, MitigationRefused
from incidentctl.phases.mitigate.state import RESTARTED_AT, observed_state

if TYPE_CHECKING:
    from incidentctl.runbook.model import Runbook


@dataclass(frozen=True)
class RestartTarget:
    """What a name on the command line means: a component's deployment, a datastore's statefulset or pod."""

    ref_resource: str
    name: str
    component: str | None = None
    datastore: str | None = None


def resolve_target(runbook: Runbook, text: str) -> RestartTarget:
    """``synthesis`` (a component), ``postgres`` (a datastore's statefulset, else its pod), ``postgres-0`` (a
    datastore's pod), or ``deployment/NAME`` / ``statefulset/NAME`` / ``pod/NAME`` of one of them."""
    kind, _, name = text.rpartition("/")
    for comp in runbook.components:
        if (not kind and name == comp.name) or (kind in ("deployment", "deploy") and name == comp.deployment):
            return RestartTarget("deployments", comp.deployment, component=comp.name)
    for store in runbook.datastores:
        if (not kind and name == store.name) or (kind in ("statefulset", "sts") and name == store.statefulset):
            if store.statefulset:
                return RestartTarget("statefulsets", store.statefulset, datastore=store.name)
            return RestartTarget("pods", store.pod, datastore=store.name)
        if (not kind or kind in ("pod", "po")) and name == store.pod:
            return RestartTarget("pods", store.pod, datastore=store.name)
    known = [*runbook.component_names(), *(d.name for d in runbook.datastores), *(d.pod for d in runbook.datastores)]
    raise UsageError(f"nothing in the runbook is called {text!r}", hint=f"restart one of: {', '.join(known)}")


@dataclass(frozen=True)
class Restart:
    targets: tuple[str, ...]
    name: str = "restart"

    def plan(self, env: ActionEnv) -> Plan:
        resolved = [resolve_target(env.runbook, t) for t in dict.fromkeys(self.targets)]
        now = format_rfc3339(env.clock(), "seconds")
        changes: list[Change] = []
        writes: list[Write] = []
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        rollouts: list[ObjectRef] = []
        components: list[str] = []
        datastores: list[str] = []
        for target in resolved:
            ref = ObjectRef(target.ref_resource, target.name, env.namespace)
            live = env.kube.get(ref.resource, ref.namespace, ref.name)
            state = observed_state(live)
            before[ref.label] = state
            version = (live.get("metadata") or {}).get("resourceVersion")
            if target.datastore:
                datastores.append(target.datastore)
                store = next(d for d in env.runbook.datastores if d.name == target.datastore)
                components.extend(c for c in store.used_by if c not in components)
            if target.component and target.component not in components:
                components.append(target.component)
            if ref.resource == "pods":
                uid = (live.get("metadata") or {}).get("uid")
                writes.append(Write("delete", ref, uid=uid))
                changes.append(
                    Change(
                        ref, f"delete {ref.label}: its controller starts a new one", (FieldChange("uid", uid, "(new)"),)
                    )
                )
                after[ref.label] = {"uid": "(new)"}
            else:
                if (live.get("spec") or {}).get("paused"):
                    raise MitigationRefused(
                        f"{ref.label} is paused: a restart would not roll out",
                        rule="paused",
                        hint=f"resume it first: kubectl rollout resume {ref.label} -n {ref.namespace}",
                    )
                patch = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: now}}}}}
                writes.append(
                    Write(
                        "patch",
                        ref,
                        body=patch,
                        patch_type="strategic",
                        resource_version=version,
                        field_manager="kubectl-rollout",
                    )
                )
                old = state.get("restartedAt")
                diff = unified_diff(
                    {RESTARTED_AT: old} if old else {},
                    {RESTARTED_AT: now},
                    f"{ref.label} spec.template.metadata.annotations",
                )
                changes.append(
                    Change(
                        ref,
                        f"restart {ref.label}: every pod replaced, one at a time",
                        (FieldChange(RESTARTED_AT, old, now),),
                        diff,
                    )
                )
                after[ref.label] = {**state, "restartedAt": now}
                if ref.resource == "statefulsets":
                    for pod in _stalled_pods(env, live):
                        pod_ref = ObjectRef("pods", pod["metadata"]["name"], env.namespace)
                        uid = pod["metadata"].get("uid")
                        writes.append(Write("delete", pod_ref, uid=uid))
                        changes.append(
                            Change(
                                pod_ref,
                                f"delete {pod_ref.label}: it is not ready, and {ref.label}'s rolling update would "
                                "wait for it forever",
                                (FieldChange("uid", uid, "(new)"),),
                            )
                        )
                        before[pod_ref.label] = observed_state(pod)
                        after[pod_ref.label] = {"uid": "(new)"}
            rollouts.append(ref)
        labels = ", ".join(c.ref.label for c in changes)
        undo = _undo(resolved, before, env.namespace)
        return Plan(
            action="restart",
            summary=f"restart {labels}",
            changes=tuple(changes),
            writes=tuple(writes),
            components=tuple(components),
            rollouts=tuple(rollouts),
            destructive=bool(datastores),
            datastores=tuple(datastores),
            before=before,
            after=after,
            args={"targets": list(self.targets)},
            notes=tuple(f"{d} drops its connections and what it holds in memory while it restarts" for d in datastores),
            undo=undo,
        )


def _undo(resolved: list[RestartTarget], before: Mapping[str, Any], namespace: str) -> Undo | None:
    """A deployment's restart is a new revision (its template's restartedAt): rolling back to the revision it ran
    before puts that template back. A pod deleted, or a statefulset's pods replaced, cannot be put back."""
    revisions: dict[str, int] = {}
    for target in resolved:
        label = ObjectRef(target.ref_resource, target.name, namespace).label
        revision = str((before.get(label) or {}).get("revision") or "")
        if target.ref_resource != "deployments" or target.component is None or not revision.isdigit():
            return None
        revisions[target.component] = int(revision)
    words = ", ".join(f"{c} back to revision {n}" for c, n in revisions.items())
    return Undo("rollback", {"revisions": revisions}, f"roll {words} (the template before the restart)")


def _stalled_pods(env: ActionEnv, statefulset: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The set's pods that are not Ready. An ``OrderedReady`` statefulset (the default) replaces no pod while one
    is not Running and Ready, so a rolling restart of a wedged database never starts (kubernetes/kubernetes#67250);
    the workaround every operator knows is deleting the stuck pod, which the controller recreates at the new
    revision. A ``Parallel`` set replaces a broken pod by itself."""
    spec = statefulset.get("spec") or {}
    if spec.get("podManagementPolicy") == "Parallel":
        return []
    uid = (statefulset.get("metadata") or {}).get("uid")
    labels = ((spec.get("selector") or {}).get("matchLabels")) or {}
    selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or None
    stalled = []
    for pod in env.kube.list("pods", env.namespace, label_selector=selector):
        meta = pod.get("metadata") or {}
        if not any(o.get("uid") == uid for o in meta.get("ownerReferences") or []) or meta.get("deletionTimestamp"):
            continue
        conditions = (pod.get("status") or {}).get("conditions") or []
        if not any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions):
            stalled.append(pod)
    return sorted(stalled, key=lambda p: str(p["metadata"]["name"]))


def from_args(_runbook: Runbook, args: Mapping[str, Any]) -> Restart:
    return Restart(tuple(str(t) for t in args.get("targets") or []))
