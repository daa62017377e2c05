"""``mitigate rollback COMPONENT [--to-revision N]``: ``kubectl rollout undo``, planned and shown before it is sent.

The semantics are kubectl's (``pkg/polymorphichelpers/rollback.go``), so that a responder who knows ``rollout undo``
gets no surprise: the target is ``--to-revision`` or else the second-highest revision in the history (not "the one
before the current": after a rollback the highest is the rollback itself); the revision is looked up first, then a
paused deployment is refused, then a target whose template is the one running is "skipped rollback". The write is
kubectl's JSON patch, replacing ``/spec/template`` (the target ReplicaSet's, without its ``pod-template-hash``) and
``/metadata/annotations`` (the deployment's own revision/last-applied/desired-replicas ones kept, the rest, such as
the change-cause, from the target ReplicaSet), and the contract appends the resourceVersion it was planned against:
a second responder's rollback in between is a 409, never a second rollback back to the bad revision.

What kubectl does not show and a responder should see before saying yes: what the rollback changes (images, env,
resources, args, probes: :func:`incidentctl.core.rollouts.template_diff`) and the whole pod template as a diff.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from incidentctl.core.mitigation import Change, FieldChange, ObjectRef, Plan, Undo, Write, unified_diff
from incidentctl.core.rollouts import CHANGE_CAUSE, HASH_LABEL, History, Revision, deployment_history, previous_of
from incidentctl.core.rollouts import template_diff as rollout_template_diff
from incidentctl.errors import UsageError
from incidentctl.phases.mitigate.base import MitigationRefused, NoSuchRevision
from incidentctl.phases.mitigate.state import observed_state

if TYPE_CHECKING:
    from incidentctl.core.rollouts import Difference
    from incidentctl.phases.mitigate.base import ActionEnv
    from incidentctl.runbook.model import Component, Runbook

#: The earlier revisions a ReplicaSet ran as, when its template was rolled out again (a rollback reuses it).
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"

#: The deployment's own annotations, kept through a rollback rather than taken from the ReplicaSet (kubectl's
#: ``annotationsToSkip``).
KEPT_ANNOTATIONS = (
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
    REVISION_HISTORY,
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
)


def component_of(runbook: Runbook, name: str) -> Component:
    """A component by its name, or ``deployment/NAME`` of one."""
    for comp in runbook.components:
        if name in (comp.name, f"deployment/{comp.deployment}", f"deploy/{comp.deployment}"):
            return comp
    raise UsageError(
        f"nothing in the runbook is called {name!r} that can be rolled back",
        hint=f"roll back one of the components: {', '.join(runbook.component_names())}",
    )


def target_revision(history: History, deployment: str, to_revision: int | None) -> Revision:
    """kubectl's ``deploymentRevision``: the named revision, or the second-highest."""
    if to_revision is not None and to_revision != 0:
        found = next((r for r in history.revisions if r.revision == to_revision), None)
        if found is None:
            raise NoSuchRevision(
                f"unable to find specified revision {to_revision} in history",
                hint=f"see the revisions with: incidentctl investigate changes, or kubectl rollout history "
                f"deployment/{deployment}",
            )
        return found
    latest = history.revisions[-1] if history.revisions else None
    previous = previous_of(history, latest) if latest is not None else None
    if previous is None:
        raise MitigationRefused(
            f'no rollout history found for deployment "{deployment}": there is no earlier revision to roll back to',
            rule="no-history",
        )
    return previous


def _field(d: Difference) -> str:
    key = f" {d.key}" if d.key else ""
    return f"{d.container}: {d.field}{key}" if d.container else f"{d.field}{key}"


def _without_hash(template: Mapping[str, Any]) -> dict[str, Any]:
    copied: dict[str, Any] = copy.deepcopy(dict(template))
    labels = (copied.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(HASH_LABEL, None)
    return copied


@dataclass(frozen=True)
class _Planned:
    """One deployment's part of a rollback plan."""

    component: str
    label: str
    summary: str
    before: Mapping[str, Any]
    after: Mapping[str, Any]
    change: Change | None = None
    write: Write | None = None
    #: The revision running now, which undoing goes back to (None: not in the history).
    running: int | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rollback:
    #: (component, revision to roll back to; None: the previous one, as ``rollout undo``).
    targets: tuple[tuple[str, int | None], ...]
    name: str = "rollback"

    def plan(self, env: ActionEnv) -> Plan:
        parts = [_plan_one(env, component, to_revision) for component, to_revision in self.targets]
        writes = tuple(p.write for p in parts if p.write is not None)
        back = {p.component: p.running for p in parts if p.write is not None and p.running is not None}
        undo = None
        if back and len(back) == len(writes):
            words = ", ".join(f"{c} to revision {n}" for c, n in back.items())
            undo = Undo("rollback", {"revisions": back}, f"roll {words} again")
        return Plan(
            action="rollback",
            summary="; ".join(p.summary for p in parts),
            changes=tuple(p.change for p in parts if p.change is not None),
            writes=writes,
            components=tuple(p.component for p in parts),
            rollouts=tuple(w.ref for w in writes),
            undo=undo,
            notes=tuple(n for p in parts for n in p.notes),
            before={p.label: p.before for p in parts},
            after={p.label: p.after for p in parts},
            args={"revisions": dict(self.targets)},
        )


def _plan_one(env: ActionEnv, component: str, to_revision: int | None) -> _Planned:
    comp = component_of(env.runbook, component)
    ref = ObjectRef("deployments", comp.deployment, env.namespace)
    live = env.kube.get(ref.resource, ref.namespace, ref.name)
    replicasets = env.kube.list("replicasets", env.namespace)
    history = deployment_history(comp.name, live, replicasets)
    target = target_revision(history, comp.deployment, to_revision)
    meta = live.get("metadata") or {}
    if (live.get("spec") or {}).get("paused"):
        raise MitigationRefused(
            f"{ref.label} is paused: you cannot roll back a paused deployment",
            rule="paused",
            hint=f"resume it first with: kubectl rollout resume {ref.label} -n {ref.namespace}",
        )
    state = observed_state(live)
    current = next((r for r in history.revisions if r.current), None)
    if target.current:
        return _Planned(
            comp.name,
            ref.label,
            f"roll back {ref.label} to revision {target.revision}",
            state,
            state,
            notes=(f"skipped rollback: the current template already matches revision {target.revision}",),
        )
    template = _without_hash(target.template)
    running = _without_hash((live.get("spec") or {}).get("template") or {})
    own = meta.get("annotations") or {}
    annotations = {k: own[k] for k in KEPT_ANNOTATIONS if k in own}
    for key, value in _annotations_of(replicasets, target).items():
        if key not in KEPT_ANNOTATIONS:
            annotations[key] = value
    write = Write(
        "patch",
        ref,
        body=[
            {"op": "replace", "path": "/spec/template", "value": template},
            {"op": "replace", "path": "/metadata/annotations", "value": annotations},
        ],
        patch_type="json",
        resource_version=meta.get("resourceVersion"),
        field_manager="kubectl-rollout",
    )
    fields = [FieldChange(_field(d), d.before, d.after) for d in rollout_template_diff(running, template)]
    if own.get(CHANGE_CAUSE) != annotations.get(CHANGE_CAUSE):
        fields.append(FieldChange(f"annotation {CHANGE_CAUSE}", own.get(CHANGE_CAUSE), annotations.get(CHANGE_CAUSE)))
    from_words = f"from revision {current.revision} " if current is not None else ""
    summary = f"roll back {ref.label} {from_words}to {target.revision}"
    change = Change(
        ref,
        f"{summary}: the pod template of revision {target.revision}, rolled out as a new revision",
        tuple(fields),
        unified_diff(running, template, f"{ref.label} spec.template"),
    )
    notes: list[str] = []
    if current is None:
        notes.append(f"the revision {ref.label} runs now is not in its history: the rollback cannot be undone")
    elif not to_revision:  # 0 is the previous revision too, as in kubectl
        notes.extend(_undoing_a_rollback(replicasets, current, target))
    return _Planned(
        comp.name,
        ref.label,
        summary,
        state,
        {**state, "images": {i.container: i.image for i in target.images}},
        change=change,
        write=write,
        running=current.revision if current is not None else None,
        notes=tuple(notes),
    )


def _undoing_a_rollback(replicasets: Sequence[Mapping[str, Any]], current: Revision, target: Revision) -> list[str]:
    """What ``rollout undo`` twice does: when the revision running is itself a rollback (its ReplicaSet ran before
    under older numbers, kept in ``revision-history``), "the previous revision" is the one rolled back from."""
    earlier = _annotations_of(replicasets, current).get(REVISION_HISTORY)
    if not earlier:
        return []
    return [
        f"revision {current.revision} is itself a rollback (it ran before as revision {earlier}): rolling back "
        f"again returns to revision {target.revision}, the one it replaced; name the revision with --to-revision "
        "if that is not what you mean"
    ]


def _annotations_of(replicasets: Sequence[Mapping[str, Any]], revision: Revision) -> dict[str, str]:
    """The target ReplicaSet's annotations (its change-cause, who deployed it), as kubectl copies them back."""
    for rs in replicasets:
        meta = rs.get("metadata") or {}
        if meta.get("name") == revision.replicaset:
            return {str(k): str(v) for k, v in (meta.get("annotations") or {}).items()}
    return {}


def from_args(_runbook: Runbook, args: Mapping[str, Any]) -> Rollback:
    """Rebuilt from a recorded plan's ``undo``: ``{"revisions": {"synthesis": 4}}``."""
    recorded = args.get("revisions") or {}
    return Rollback(tuple((str(c), None if r is None else int(r)) for c, r in recorded.items()))
