"""``mitigate apply [DIR]``: hotfix manifests (the runbook's ``kubectl apply -f k8s/hotfix/``), through the contract.

Each object is planned from the server's own answer, never a local guess: the live object is read (404: it is a
create), the manifest is sent as a server-side apply with ``dryRun=All``, and the diff a person reviews is live
against that answer, limited to what a manifest says (metadata labels and annotations, spec, data; never status
or managedFields). The writes are server-side applies carrying the live resourceVersion (someone's change since
the plan is a 409, not overwritten), and creates for new objects. An object the server would leave as it is gets
no write at all.

A Secret's values are never shown or recorded: its diff says which keys change, with ``***`` for every value.
An object in a namespace the runbook does not allow is not read: its write is left for the contract's
``namespaces`` guardrail to refuse. There is no undo: what each object was is in the journal (``before`` and the
diff), and a deployment goes back with ``mitigate rollback``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from incidentctl.core.mitigation import Change, FieldChange, ObjectRef, Plan, Write, unified_diff
from incidentctl.errors import UsageError
from incidentctl.phases.mitigate.manifests import Manifest, read_manifests
from incidentctl.phases.mitigate.state import LAST_APPLIED, REDACTED, observed_state

if TYPE_CHECKING:
    from incidentctl.phases.mitigate.base import ActionEnv
    from incidentctl.runbook.model import Runbook

#: Who the applied fields belong to in managedFields.
FIELD_MANAGER = "incidentctl"

#: The parts of an object a manifest sets, and so what its diff shows.
REVIEWED = ("spec", "data", "stringData", "binaryData", "type")

#: Set by the server on every write; a diff of them says nothing about the hotfix.
SERVER_ANNOTATIONS = (LAST_APPLIED, "deployment.kubernetes.io/revision")


def hotfix_folder(runbook: Runbook, runbook_dir: Any, given: Path | None) -> Path:
    """``DIR`` as given, else the runbook's ``mitigation.hotfix_dir`` relative to runbook.yaml."""
    if given is not None:
        return given
    configured = runbook.mitigation.hotfix_dir
    if not configured:
        raise UsageError(
            "no DIR given, and the runbook sets no mitigation.hotfix_dir",
            hint="name the folder of manifests (mitigate apply k8s/hotfix), or set mitigation.hotfix_dir",
        )
    path = Path(configured)
    return path if path.is_absolute() or runbook_dir is None else Path(runbook_dir) / path


@dataclass(frozen=True)
class ApplyManifests:
    #: The folder (or file) of manifests; None: the runbook's hotfix_dir.
    directory: Path | None = None
    name: str = "apply"

    def plan(self, env: ActionEnv) -> Plan:
        folder = hotfix_folder(env.runbook, env.runbook_dir, self.directory)
        manifests = read_manifests(folder)
        rails = env.runbook.mitigation.guardrails
        allowed = set(rails.namespaces or [env.runbook.cluster.namespace])
        changes: list[Change] = []
        writes: list[Write] = []
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        rollouts: list[ObjectRef] = []
        unchanged: list[str] = []
        for manifest in manifests:
            ref = ObjectRef(manifest.resource, manifest.name, manifest.namespace or env.namespace)
            body = _addressed(manifest, ref.namespace)
            if ref.namespace not in allowed:
                # not even read: the contract's namespaces guardrail refuses the write, names the rule, records it
                writes.append(Write("patch", ref, body=body, patch_type="apply", field_manager=FIELD_MANAGER))
                changes.append(Change(ref, f"apply {ref.label} in namespace {ref.namespace} ({manifest.where})"))
                continue
            live = _live(env, ref)
            answer = env.kube.patch(
                ref.resource,
                ref.namespace,
                ref.name,
                body,
                patch_type="apply",
                dry_run=True,
                field_manager=FIELD_MANAGER,
            )
            old, new = _reviewed(live), _reviewed(answer)
            if live is not None and old == new:
                unchanged.append(ref.label)
                continue
            if live is None:
                writes.append(Write("create", ref, body=body, field_manager=FIELD_MANAGER))
                summary = f"create {ref.label} ({manifest.where})"
            else:
                version = (live.get("metadata") or {}).get("resourceVersion")
                writes.append(
                    Write(
                        "patch",
                        ref,
                        body=body,
                        patch_type="apply",
                        resource_version=version,
                        field_manager=FIELD_MANAGER,
                    )
                )
                summary = f"server-side apply {ref.label} ({manifest.where})"
            shown_old, shown_new = _secret_safe(old, new)
            changes.append(
                Change(
                    ref,
                    summary,
                    _fields(observed_state(live), observed_state(answer)),
                    unified_diff(shown_old, shown_new, ref.label),
                )
            )
            before[ref.label] = observed_state(live) if live is not None else {"exists": False}
            after[ref.label] = observed_state(answer)
            if ref.resource in ("deployments", "statefulsets") and (
                live is None
                or (old or {}).get("spec", {}).get("template") != (new or {}).get("spec", {}).get("template")
            ):
                rollouts.append(ref)
        components, datastores = _owners(env.runbook, [w.ref for w in writes])
        notes = [f"unchanged (the server would leave it as it is): {label}" for label in unchanged]
        notes.append(
            "no undo: what each object was is recorded as before (and in the diff); "
            "put a deployment back with mitigate rollback"
        )
        labels = ", ".join(dict.fromkeys(w.ref.label for w in writes)) or "nothing to change"
        return Plan(
            action="apply",
            summary=f"apply {folder}: {labels}",
            changes=tuple(changes),
            writes=tuple(writes),
            components=components,
            rollouts=tuple(rollouts),
            datastores=datastores,
            before=before,
            after=after,
            notes=tuple(notes),
            args={"dir": str(folder)},
        )


def _addressed(manifest: Manifest, namespace: str) -> dict[str, Any]:
    """The manifest with its namespace written in (server-side apply wants the URL's, or none)."""
    body = copy.deepcopy(manifest.body)
    body["metadata"]["namespace"] = namespace
    return body


def _live(env: ActionEnv, ref: ObjectRef) -> dict[str, Any] | None:
    from incidentctl.adapters.kube import KubeNotFound

    try:
        return env.kube.get(ref.resource, ref.namespace, ref.name)
    except KubeNotFound:
        return None


def _reviewed(obj: dict[str, Any] | None) -> dict[str, Any] | None:
    """What a manifest sets: labels, annotations (not the server's own), spec, data; not status, managedFields,
    resourceVersion, uid or timestamps, which every write changes."""
    if obj is None:
        return None
    meta = obj.get("metadata") or {}
    out: dict[str, Any] = {}
    labels = dict(meta.get("labels") or {})
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k not in SERVER_ANNOTATIONS}
    if labels or annotations:
        out["metadata"] = {k: v for k, v in (("labels", labels), ("annotations", annotations)) if v}
    for key in REVIEWED:
        if key in obj:
            out[key] = copy.deepcopy(obj[key])
    if obj.get("kind") == "Secret":
        out["kind"] = "Secret"
    return out


def _secret_safe(old: dict[str, Any] | None, new: dict[str, Any] | None) -> tuple[Any, Any]:
    """For a Secret, every value as ``***`` (``*** (changed)`` or ``*** (new)`` on the planned side): the diff
    says which keys change and never what they hold."""
    if (new or {}).get("kind") != "Secret":
        return old, new
    old, new = copy.deepcopy(old), copy.deepcopy(new)
    for key in ("data", "stringData", "binaryData"):
        before = (old or {}).get(key) or {}
        if old is not None and key in old:
            old[key] = dict.fromkeys(before, REDACTED)
        if new is not None and key in new:
            new[key] = {
                k: REDACTED if before.get(k) == v else f"{REDACTED} ({'changed' if k in before else 'new'})"
                for k, v in (new[key] or {}).items()
            }
    for side in (old, new):
        if side is not None:
            side.pop("kind", None)
    return old, new


def _fields(old: dict[str, Any], new: dict[str, Any]) -> tuple[FieldChange, ...]:
    """The recorded fields that change (images, replicas, a ConfigMap's values), one line each."""
    out: list[FieldChange] = []
    for key in sorted(set(old) | set(new)):
        if key == "resourceVersion" or old.get(key) == new.get(key):
            continue
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) or isinstance(b, dict):
            a, b = a or {}, b or {}
            for sub in sorted(set(a) | set(b)):
                if a.get(sub) != b.get(sub):
                    out.append(FieldChange(f"{key}.{sub}", _text(a.get(sub)), _text(b.get(sub))))
        else:
            out.append(FieldChange(key, _text(a), _text(b)))
    return tuple(out)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _owners(runbook: Runbook, refs: list[ObjectRef]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The components (and datastores) whose checks verify a change of these objects; when none of them belongs
    to one (a ConfigMap, a new Service), every component: an unattributed change is no evidence of health."""
    components: list[str] = []
    datastores: list[str] = []
    for ref in refs:
        for comp in runbook.components:
            if (ref.resource == "deployments" and ref.name == comp.deployment) or (
                ref.resource == "services" and ref.name == comp.service
            ):
                components.append(comp.name)
        for store in runbook.datastores:
            if ref.resource == "statefulsets" and ref.name == store.statefulset:
                datastores.append(store.name)
                components.extend(store.used_by)
    if refs and not components:
        components = list(runbook.component_names())
    return tuple(dict.fromkeys(components)), tuple(dict.fromkeys(datastores))
