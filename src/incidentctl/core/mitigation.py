"""What a mitigation is, before anything is sent: the plan every action produces and the safety contract reads.

An action (restart, scale, rollback, flush-cache, a runbook switch such as maintenance mode, apply, undo) reads the
cluster and returns a :class:`Plan`: the :class:`Change` a person reviews for each object (a diff of the fields that
change), the :class:`Write` requests that make it happen, each carrying the ``resourceVersion`` it was planned
against, what verifies it (components whose checks are re-run, workloads whose rollout is awaited) and how it is
undone. The contract in :mod:`incidentctl.phases.mitigate.contract` then decides, in one place, whether it may be
sent (guardrails), how (dry-run, confirmation) and what is recorded; no action sends anything itself.

Pure: no I/O.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml

#: The actions ``incidentctl mitigate`` offers; guardrails (``mitigation.guardrails.severity_actions``) name them.
ACTIONS = (
    "restart",
    "scale",
    "rollback",
    "flush-cache",
    "maintenance",
    "circuit-breaker",
    "redirect",
    "apply",
)

#: The kinds of request a :class:`Write` is.
Verb = Literal["patch", "create", "delete", "exec"]

#: Resource -> the singular kubectl prints (``deployment/synthesis``).
SINGULAR = {
    "deployments": "deployment",
    "statefulsets": "statefulset",
    "replicasets": "replicaset",
    "pods": "pod",
    "services": "service",
    "configmaps": "configmap",
    "ingresses": "ingress",
    "secrets": "secret",
}


@dataclass(frozen=True)
class ObjectRef:
    """One object in the cluster."""

    resource: str
    name: str
    namespace: str

    @property
    def label(self) -> str:
        """As kubectl names it: ``deployment/synthesis``."""
        return f"{SINGULAR.get(self.resource, self.resource)}/{self.name}"


@dataclass(frozen=True)
class Write:
    """One request an action sends, exactly as planned.

    ``resource_version`` is the version of the object the plan was made from: the request carries it as a
    precondition, so a change by someone else in between is a 409 Conflict, and the contract re-reads and shows
    the plan again instead of writing over it blind.
    """

    verb: Verb
    ref: ObjectRef
    #: The patch or the new object (patch, create).
    body: Any = None
    #: ``merge``, ``strategic``, ``json`` or ``apply`` (server-side apply), as ``kubectl patch --type``.
    patch_type: str = "merge"
    subresource: str | None = None
    resource_version: str | None = None
    #: A delete's uid precondition: the pod planned for, not a new one of the same name.
    uid: str | None = None
    #: exec: the command run in the pod (a datastore action); it cannot be dry-run on the server.
    command: tuple[str, ...] = ()
    container: str | None = None
    #: Who the write is recorded as in managedFields (kubectl's own names where kubectl does the same thing).
    field_manager: str = "incidentctl"

    @property
    def describe(self) -> str:
        if self.verb == "exec":
            return f"exec in {self.ref.label}: {' '.join(self.command)}"
        sub = f"/{self.subresource}" if self.subresource else ""
        return f"{self.verb} {self.ref.label}{sub}"


@dataclass(frozen=True)
class FieldChange:
    """One field that changes: ``replicas 2 -> 5``, an image, an env value (None: absent)."""

    field: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class Change:
    """What a person reviews for one object: a one-line summary, the fields, and a unified diff."""

    ref: ObjectRef
    summary: str
    fields: tuple[FieldChange, ...] = ()
    #: Unified diff lines (``---``/``+++`` headers, ``-``/``+``/`` `` lines) of the part of the object that changes.
    diff: tuple[str, ...] = ()


@dataclass(frozen=True)
class Undo:
    """How to put back what a mitigation changed: another action with its arguments, recorded in the journal so
    ``mitigate undo`` (and ``--auto-undo``) can run it through the same contract later."""

    action: str
    args: Mapping[str, Any]
    summary: str
    #: The recorded arguments had a secret the runbook names masked out: they no longer say what to put back.
    masked: bool = False


@dataclass(frozen=True)
class ReplicaChange:
    """A scale's numbers, for the replica-bounds guardrail."""

    component: str
    current: int
    new: int


@dataclass(frozen=True)
class Plan:
    """Everything about a mitigation that is known before it is sent."""

    #: One of :data:`ACTIONS`.
    action: str
    #: One line: "roll back deployment/synthesis from revision 4 to 3".
    summary: str
    changes: tuple[Change, ...] = ()
    writes: tuple[Write, ...] = ()
    #: Components whose checks are re-run to verify it.
    components: tuple[str, ...] = ()
    #: Workloads whose rollout is awaited before the checks (deployments, statefulsets).
    rollouts: tuple[ObjectRef, ...] = ()
    #: Changes data or drops state that cannot be put back (a cache flush, a datastore restart): needs an open
    #: incident and a reason, by the runbook's guardrails.
    destructive: bool = False
    #: The runbook's datastores it touches.
    datastores: tuple[str, ...] = ()
    #: Scales, for the replica bounds.
    replicas: tuple[ReplicaChange, ...] = ()
    undo: Undo | None = None
    #: Puts back what the runbook's own state is (a switch's ``revert``: leave maintenance, close the breaker):
    #: like an undo, the severity's allowed actions never stop it, since it takes nothing further from users.
    restores: bool = False
    #: Anything a person should know before saying yes (cannot be dry-run, drops 48,213 keys...).
    notes: tuple[str, ...] = ()
    #: The relevant state of every object before, as recorded in the journal (object label -> fields).
    before: Mapping[str, Any] = field(default_factory=dict)
    #: The same fields as the plan will leave them.
    after: Mapping[str, Any] = field(default_factory=dict)
    #: The action's arguments, as recorded (so the timeline says exactly what was asked).
    args: Mapping[str, Any] = field(default_factory=dict)

    @property
    def nothing_to_do(self) -> bool:
        """True when the cluster already is as the plan would leave it (an identical template, the same count)."""
        return not self.writes

    @property
    def targets(self) -> tuple[str, ...]:
        """Every object the plan writes, once each, in order."""
        return tuple(dict.fromkeys(w.ref.label for w in self.writes))


def yaml_text(value: Any) -> str:
    return yaml.safe_dump(value, sort_keys=True, default_flow_style=False, allow_unicode=True, width=100)


def unified_diff(before: Any, after: Any, label: str) -> tuple[str, ...]:
    """The change from ``before`` to ``after`` as ``diff -u`` of their YAML: what ``kubectl diff`` shows, limited
    to the part of the object given."""
    old = yaml_text(before).splitlines() if before is not None else []
    new = yaml_text(after).splitlines() if after is not None else []
    return tuple(
        line.rstrip("\n")
        for line in difflib.unified_diff(old, new, fromfile=f"{label} (live)", tofile=f"{label} (planned)", lineterm="")
    )
