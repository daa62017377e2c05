"""Rollout history, ConfigMap changes and the onset of errors, on one time axis: which change is the suspect.

Pure functions over the API's objects as plain dicts, so every rule here is tested without a cluster.

The history follows ``kubectl rollout history`` exactly (kubectl's ``pkg/polymorphichelpers/history.go`` and
``pkg/util/deployment``): the ReplicaSets that match the Deployment's selector *and* name it as their controller
(owner reference with ``controller: true`` and the Deployment's uid); the revision is the ReplicaSet's
``deployment.kubernetes.io/revision`` annotation (none is revision 0; one that is not a number is skipped, as
kubectl skips it with a warning); the change-cause is the ReplicaSet's ``kubernetes.io/change-cause``; when two
ReplicaSets carry one revision, the later one listed wins, as in kubectl's map. What kubectl does not show and a
responder needs: when (the ReplicaSet's creationTimestamp: the controller makes it when the rollout starts), the
images, and who, when it was recorded.

The suspect is the latest change at or before the onset of errors, within a window: a rollout, a ConfigMap write,
or a scale of a Deployment down (:mod:`incidentctl.core.scales`; a scale up adds capacity, and is an autoscaler's
or a responder's answer more often than a cause). No onset, no change in the window, or no history each says so,
and no suspect is named without that evidence.
"""

from __future__ import annotations

import json
import math
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from incidentctl.core.scales import ScaleDown
from incidentctl.core.times import parse_rfc3339_or_none
from incidentctl.core.workloads import selector_matches

JSON = Mapping[str, Any]

REVISION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE = "kubernetes.io/change-cause"
HASH_LABEL = "pod-template-hash"

#: An annotation that records who rolled a revision out: ``deployed-by`` under any prefix
#: (``sarvanom.com/deployed-by``). Kubernetes has no standard one; CI pipelines that record the author use this
#: shape, and the deployment controller copies the Deployment's annotations onto the ReplicaSet it makes.
WHO_SUFFIX = "deployed-by"

#: Managers that write on a controller's behalf, never a person's change.
CONTROLLER_MANAGERS = frozenset({"kube-controller-manager", "kube-scheduler", "kubelet"})

#: A 5xx ratio at or above this counts as errors: far above the SarvanOM services' usual 0.1-0.3 %, and below
#: the runbook's P2 line of 10 %, so the rise is placed minutes before triage would call it an incident.
RISE_THRESHOLD = 0.05

OnsetKind = Literal["5xx", "crash", "errors"]


@dataclass(frozen=True)
class ContainerImage:
    container: str
    image: str


@dataclass(frozen=True)
class Revision:
    """One line of ``kubectl rollout history``, with what kubectl leaves out."""

    component: str
    revision: int
    replicaset: str
    #: When this revision's rollout started: the ReplicaSet's creationTimestamp, or for the revision running now
    #: the later managedFields write of the Deployment's pod template (a rollback or a re-rollout of an old
    #: template reuses its old ReplicaSet, whose creation is long past).
    created: datetime | None
    change_cause: str | None
    images: tuple[ContainerImage, ...]
    who: str | None = None
    #: Where ``who`` was read: ``annotation <key>`` or ``managedFields``.
    who_source: str | None = None
    #: The revision the Deployment runs now (its pod template is this ReplicaSet's).
    current: bool = False
    #: Where ``created`` was read: ``creationTimestamp`` or ``managedFields``.
    time_source: str = "creationTimestamp"
    template: JSON = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class History:
    """A component's rollout history; ``available`` False with ``note`` saying why when it could not be had."""

    component: str
    kind: str
    name: str
    revisions: tuple[Revision, ...] = ()
    available: bool = True
    note: str | None = None
    #: ReplicaSets skipped as kubectl skips them (a revision annotation that is not a number).
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConfigKey:
    key: str
    value: str


@dataclass(frozen=True)
class ConfigChange:
    """A ConfigMap a component uses, and when it last changed."""

    name: str
    time: datetime | None
    #: ``managedFields`` (the latest write's time) or ``metadata.creationTimestamp``.
    time_source: str
    manager: str | None
    used_by: tuple[str, ...]
    #: The data keys that manager's writes set (managedFields' field set), with their values now: what the
    #: change touched. The API keeps no earlier version, so the values before are not known.
    written: tuple[ConfigKey, ...] = ()


@dataclass(frozen=True)
class Onset:
    """One signal of errors beginning; ``time`` None with ``note`` when it was not seen or could not be read."""

    kind: OnsetKind
    time: datetime | None
    subject: str | None = None
    detail: str | None = None
    note: str | None = None
    #: True when the signal could not be read (a missing metric is never "no errors").
    unreadable: bool = False


@dataclass(frozen=True)
class Difference:
    """One thing that differs between two pod templates."""

    container: str | None
    field: str
    key: str | None
    before: str | None
    after: str | None


@dataclass(frozen=True)
class Suspect:
    """The latest change before the onset, and what it changed."""

    kind: Literal["rollout", "config", "scale"]
    component: str | None
    time: datetime
    onset: datetime
    revision: int | None = None
    previous_revision: int | None = None
    images: tuple[ContainerImage, ...] = ()
    change_cause: str | None = None
    who: str | None = None
    configmap: str | None = None
    used_by: tuple[str, ...] = ()
    differences: tuple[Difference, ...] = ()
    #: A scale: the Deployment, its replicas after and (when recorded) before.
    deployment: str | None = None
    replicas: int | None = None
    previous_replicas: int | None = None


# --- history --------------------------------------------------------------------------------------------------------


def _meta(obj: JSON) -> JSON:
    return obj.get("metadata") or {}


def _annotations(obj: JSON) -> Mapping[str, str]:
    return _meta(obj).get("annotations") or {}


def controlled_by(obj: JSON, owner: JSON) -> bool:
    """``metav1.IsControlledBy``: the controller owner reference names the owner's uid."""
    uid = _meta(owner).get("uid")
    return any(
        ref.get("controller") is True and ref.get("uid") == uid for ref in _meta(obj).get("ownerReferences") or []
    )


def _without_hash(template: JSON) -> dict[str, Any]:
    """A pod template as the Deployment holds it: kubectl's ``EqualIgnoreHash`` drops the hash label."""
    copy = json.loads(json.dumps(template or {}))
    labels = (copy.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(HASH_LABEL, None)
    return copy  # type: ignore[no-any-return]


def images_of(template: JSON) -> tuple[ContainerImage, ...]:
    return tuple(ContainerImage(str(c.get("name", "")), str(c.get("image", ""))) for c in _containers(template))


def _containers(template: JSON) -> list[JSON]:
    return list((template.get("spec") or {}).get("containers") or [])


def _who(rs: JSON) -> tuple[str | None, str | None]:
    for key, value in sorted(_annotations(rs).items()):
        if (key == WHO_SUFFIX or key.endswith("/" + WHO_SUFFIX)) and value:
            return str(value), f"annotation {key}"
    return None, None


def _template_writer(deployment: JSON) -> tuple[datetime, str] | None:
    """The manager that last wrote the Deployment's pod template, and when, from managedFields (not a
    controller, not a status write): who started the rollout the Deployment runs now."""
    latest: tuple[datetime, str] | None = None
    for entry in _meta(deployment).get("managedFields") or []:
        manager = str(entry.get("manager") or "")
        if not manager or manager in CONTROLLER_MANAGERS or entry.get("subresource"):
            continue
        fields = entry.get("fieldsV1") or {}
        if "f:template" not in (fields.get("f:spec") or {}):
            continue
        when = parse_rfc3339_or_none(entry.get("time"))
        if when is not None and (latest is None or when > latest[0]):
            latest = (when, manager)
    return latest


def deployment_history(component: str, deployment: JSON, replicasets: Iterable[JSON]) -> History:
    """``kubectl rollout history deployment/<name>``, revision by revision, oldest first."""
    selector = (deployment.get("spec") or {}).get("selector")
    wanted = _without_hash(((deployment.get("spec") or {}).get("template")) or {})
    by_revision: dict[int, Revision] = {}
    skipped: list[str] = []
    owned = [
        rs
        for rs in replicasets
        if selector_matches(selector, _meta(rs).get("labels")) and controlled_by(rs, deployment)
    ]
    # kubectl's findNewReplicaSet: the oldest ReplicaSet whose template equals the Deployment's
    matching = sorted(
        (rs for rs in owned if _without_hash((rs.get("spec") or {}).get("template") or {}) == wanted),
        key=lambda rs: (str(_meta(rs).get("creationTimestamp") or ""), str(_meta(rs).get("name") or "")),
    )
    current_name = _meta(matching[0]).get("name") if matching else None
    # kubectl appends the new ReplicaSet after the old ones, so it wins a shared revision number
    ordered = [rs for rs in owned if _meta(rs).get("name") != current_name] + [
        rs for rs in owned if _meta(rs).get("name") == current_name
    ]
    for rs in ordered:
        text = _annotations(rs).get(REVISION)
        try:
            number = int(text) if text is not None else 0
        except ValueError:
            skipped.append(str(_meta(rs).get("name")))
            continue
        template = (rs.get("spec") or {}).get("template") or {}
        who, source = _who(rs)
        is_current = _meta(rs).get("name") == current_name
        created = parse_rfc3339_or_none(_meta(rs).get("creationTimestamp"))
        time_source = "creationTimestamp"
        writer = _template_writer(deployment) if is_current else None
        if writer is not None:
            if created is None or writer[0] > created:
                # rolled out again (an undo, or an old template set anew): the annotations are the old rollout's,
                # so the writer of this one is who and when
                created, time_source = writer[0], "managedFields"
                who, source = writer[1], "managedFields"
            elif who is None:
                who, source = writer[1], "managedFields"
        by_revision[number] = Revision(
            component=component,
            revision=number,
            replicaset=str(_meta(rs).get("name") or ""),
            created=created,
            time_source=time_source,
            change_cause=_annotations(rs).get(CHANGE_CAUSE) or None,
            images=images_of(template),
            who=who,
            who_source=source,
            current=is_current,
            template=template,
        )
    name = str(_meta(deployment).get("name") or component)
    revisions = tuple(by_revision[r] for r in sorted(by_revision))
    note = None if revisions else "No rollout history found."
    return History(component, "Deployment", name, revisions, note=note, skipped=tuple(skipped))


def previous_of(history: History, revision: Revision) -> Revision | None:
    """The revision rolled out before this one (the next lower number), as ``rollout undo`` would go back to."""
    earlier = [r for r in history.revisions if r.revision < revision.revision]
    return earlier[-1] if earlier else None


# --- ConfigMaps -----------------------------------------------------------------------------------------------------


def configmaps_of(template: JSON) -> set[str]:
    """Every ConfigMap a pod template mounts or reads: volumes (also projected), envFrom and env references."""
    spec = template.get("spec") or {}
    names: set[str] = set()
    for volume in spec.get("volumes") or []:
        if (volume.get("configMap") or {}).get("name"):
            names.add(volume["configMap"]["name"])
        for source in (volume.get("projected") or {}).get("sources") or []:
            if (source.get("configMap") or {}).get("name"):
                names.add(source["configMap"]["name"])
    for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        for source in container.get("envFrom") or []:
            if (source.get("configMapRef") or {}).get("name"):
                names.add(source["configMapRef"]["name"])
        for env in container.get("env") or []:
            ref = (env.get("valueFrom") or {}).get("configMapKeyRef") or {}
            if ref.get("name"):
                names.add(ref["name"])
    return names


def config_change(configmap: JSON, used_by: Sequence[str]) -> ConfigChange:
    """When the ConfigMap last changed: the latest managedFields write (the API server stamps each manager's last
    write), else the latest of its metadata times (a ConfigMap written before managedFields existed)."""
    meta = _meta(configmap)
    latest: tuple[datetime, JSON] | None = None
    for entry in meta.get("managedFields") or []:
        when = parse_rfc3339_or_none(entry.get("time"))
        if when is not None and (latest is None or when > latest[0]):
            latest = (when, entry)
    if latest is not None:
        owned = (latest[1].get("fieldsV1") or {}).get("f:data") or {}
        data = configmap.get("data") or {}
        written = tuple(
            ConfigKey(key[2:], str(data[key[2:]])) for key in sorted(owned) if key.startswith("f:") and key[2:] in data
        )
        manager = latest[1].get("manager") or None
        return ConfigChange(str(meta.get("name")), latest[0], "managedFields", manager, tuple(used_by), written)
    created = parse_rfc3339_or_none(meta.get("creationTimestamp"))
    return ConfigChange(str(meta.get("name")), created, "metadata.creationTimestamp", None, tuple(used_by))


# --- what changed between two templates ------------------------------------------------------------------------------


def _env_value(env: JSON) -> str:
    """An env var as shown: a literal value, or where it comes from; a Secret's value is never read or shown."""
    if "value" in env:
        return str(env.get("value"))
    source = env.get("valueFrom") or {}
    if "secretKeyRef" in source:
        ref = source["secretKeyRef"] or {}
        return f"secret {ref.get('name')}/{ref.get('key')}"
    if "configMapKeyRef" in source:
        ref = source["configMapKeyRef"] or {}
        return f"configmap {ref.get('name')}/{ref.get('key')}"
    if "fieldRef" in source:
        return f"field {(source['fieldRef'] or {}).get('fieldPath')}"
    if "resourceFieldRef" in source:
        return f"resource {(source['resourceFieldRef'] or {}).get('resource')}"
    return _compact(source)


def _env_from(source: JSON) -> str:
    prefix = f" (prefix {source['prefix']})" if source.get("prefix") else ""
    if "configMapRef" in source:
        return f"configmap {(source['configMapRef'] or {}).get('name')}{prefix}"
    if "secretRef" in source:
        return f"secret {(source['secretRef'] or {}).get('name')}{prefix}"
    return _compact(source)


def _compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _keyed(field_name: str, container: str, before: Mapping[str, str], after: Mapping[str, str]) -> list[Difference]:
    return [
        Difference(container, field_name, key, before.get(key), after.get(key))
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    ]


def _resources(container: JSON) -> dict[str, str]:
    res = container.get("resources") or {}
    return {
        f"{part}.{name}": str(value) for part in ("requests", "limits") for name, value in (res.get(part) or {}).items()
    }


def _argv(value: Any) -> str | None:
    return shlex.join(str(v) for v in value) if value else None


PROBES = ("readinessProbe", "livenessProbe", "startupProbe")


def template_diff(before: JSON, after: JSON) -> tuple[Difference, ...]:
    """What changed from ``before`` to ``after``, container by container: images, env (Secret references only),
    envFrom, resources, command, args and probes; a container added or removed is one difference."""
    old = {str(c.get("name")): c for c in _containers(before)}
    new = {str(c.get("name")): c for c in _containers(after)}
    out: list[Difference] = []
    for name in [*old, *(n for n in new if n not in old)]:
        a, b = old.get(name), new.get(name)
        if a is None or b is None:
            out.append(Difference(name, "container", None, "present" if a else None, "present" if b else None))
            continue
        if a.get("image") != b.get("image"):
            out.append(Difference(name, "image", None, a.get("image"), b.get("image")))
        env_a = {str(e.get("name")): _env_value(e) for e in a.get("env") or []}
        env_b = {str(e.get("name")): _env_value(e) for e in b.get("env") or []}
        out += _keyed("env", name, env_a, env_b)
        from_a = sorted(_env_from(s) for s in a.get("envFrom") or [])
        from_b = sorted(_env_from(s) for s in b.get("envFrom") or [])
        if from_a != from_b:
            out.append(Difference(name, "envFrom", None, ", ".join(from_a) or None, ", ".join(from_b) or None))
        out += _keyed("resources", name, _resources(a), _resources(b))
        for key in ("command", "args"):
            if _argv(a.get(key)) != _argv(b.get(key)):
                out.append(Difference(name, key, None, _argv(a.get(key)), _argv(b.get(key))))
        for probe in PROBES:
            pa, pb = a.get(probe), b.get(probe)
            if pa != pb:
                out.append(Difference(name, probe, None, _compact(pa) if pa else None, _compact(pb) if pb else None))
    return tuple(out)


# --- onset ----------------------------------------------------------------------------------------------------------


def first_rise(points: Sequence[tuple[datetime, float]], threshold: float = RISE_THRESHOLD) -> datetime | None:
    """The first point at or above ``threshold`` that follows one below it; a series already above it from its
    first point rose before the window and gives that first point. None: it never reached the threshold."""
    below_seen = False
    for index, (when, value) in enumerate(points):
        if math.isnan(value):  # NaN: no requests in that window, neither errors nor not
            continue
        if value >= threshold:
            if below_seen or index == 0:
                return when
        else:
            below_seen = True
    return None


def first_crash(pods: Iterable[JSON], since: datetime) -> tuple[datetime, str] | None:
    """The earliest container termination other than a clean exit after ``since``: (when, "pod/container ...").

    A pod's status keeps only its containers' last termination (``lastState.terminated``) and a current one
    (``state.terminated``); the first crash within the window is the earliest of those."""
    found: tuple[datetime, str] | None = None
    for pod in pods:
        name = _meta(pod).get("name")
        for status in (pod.get("status") or {}).get("containerStatuses") or []:
            for where in ("lastState", "state"):
                term = (status.get(where) or {}).get("terminated") or {}
                if not term or (term.get("exitCode") == 0 and term.get("reason") in (None, "Completed")):
                    continue
                when = parse_rfc3339_or_none(term.get("finishedAt"))
                if when is None or when < since:
                    continue
                detail = (
                    f"{name}/{status.get('name')} {term.get('reason') or 'terminated'} (exit {term.get('exitCode')})"
                )
                if found is None or when < found[0]:
                    found = (when, detail)
    return found


def earliest_onset(onsets: Iterable[Onset]) -> Onset | None:
    seen = [o for o in onsets if o.time is not None]
    return min(seen, key=lambda o: o.time) if seen else None  # type: ignore[arg-type,return-value]


# --- the suspect ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """The suspect, or why none is named."""

    suspect: Suspect | None
    reason: str


def name_suspect(
    histories: Sequence[History],
    configs: Sequence[ConfigChange],
    onset: Onset | None,
    window: timedelta,
    scales: Sequence[ScaleDown] = (),
) -> Verdict:
    """The latest change at or before the onset and no more than ``window`` before it.

    A revision counts at its ReplicaSet's creation, a ConfigMap at its last write, a scale down when the
    controller recorded it. A change after the onset did not cause it (a mitigation usually is one), and one long
    before it is not named on the timing alone.
    """
    if onset is None or onset.time is None:
        return Verdict(None, "no onset of errors was seen, so no change is named")
    start = onset.time
    candidates: list[tuple[datetime, int, Revision | ConfigChange | ScaleDown, History | None]] = []
    for history in histories:
        for rev in history.revisions:
            if rev.created is not None and start - window <= rev.created <= start:
                candidates.append((rev.created, 1, rev, history))
    for config in configs:
        if config.time is not None and start - window <= config.time <= start:
            candidates.append((config.time, 0, config, None))
    for scale in scales:
        if start - window <= scale.time <= start:
            candidates.append((scale.time, 2, scale, None))
    unread = [h.component for h in histories if not h.available and h.kind == "Deployment"]
    blind = f"; the rollout history of {', '.join(unread)} could not be read" if unread else ""
    if not any(h.revisions for h in histories) and not configs and not scales:
        return Verdict(None, "no rollout history and no ConfigMap could be read, so no change is named")
    if not candidates:
        return Verdict(
            None, f"no rollout, scale-down or ConfigMap change in the {_window_words(window)} before the onset{blind}"
        )
    when, _, change, owner = max(candidates, key=lambda c: (c[0], c[1]))
    if isinstance(change, ScaleDown):
        return Verdict(
            Suspect(
                "scale",
                change.component,
                when,
                start,
                who=change.who,
                deployment=change.deployment,
                replicas=change.replicas,
                previous_replicas=change.previous_replicas,
            ),
            "the latest change before the onset",
        )
    if isinstance(change, ConfigChange):
        return Verdict(
            Suspect(
                "config",
                None,
                when,
                start,
                who=change.manager,
                configmap=change.name,
                used_by=change.used_by,
                differences=tuple(Difference(None, "data", k.key, None, k.value) for k in change.written),
            ),
            "the latest change before the onset",
        )
    before = previous_of(owner, change) if owner is not None else None
    diff = template_diff(before.template, change.template) if before is not None else ()
    return Verdict(
        Suspect(
            "rollout",
            change.component,
            when,
            start,
            revision=change.revision,
            previous_revision=before.revision if before is not None else None,
            images=change.images,
            change_cause=change.change_cause,
            who=change.who,
            differences=diff,
        ),
        "the latest change before the onset",
    )


def _window_words(window: timedelta) -> str:
    from incidentctl.core.times import format_duration

    return format_duration(window)


def clock(value: datetime) -> str:
    """A time on the axis, as a responder says it: ``14:28`` (UTC)."""
    from datetime import timezone

    return value.astimezone(timezone.utc).strftime("%H:%M")


def short_image(image: str) -> str:
    """``registry.example.com/team/synthesis:2.5.0`` -> ``synthesis:2.5.0``: the part people name."""
    return image.rsplit("/", 1)[-1]


def describe(suspect: Suspect | None, onset: Onset | None, reason: str) -> str:
    """The summary line: "synthesis revision 4, image synthesis:2.5.0, rolled out 14:28; errors began 14:29"."""
    began = f"errors began {clock(onset.time)}" if onset is not None and onset.time is not None else None
    if suspect is None:
        return f"no suspect change: {reason}" + (f" ({began})" if began else "")
    if suspect.kind == "scale":
        was = f" (from {suspect.previous_replicas})" if suspect.previous_replicas is not None else ""
        return (
            f"deployment/{suspect.deployment} scaled to {suspect.replicas} replicas{was} at {clock(suspect.time)}; "
            f"{began}"
        )
    if suspect.kind == "config":
        users = f" (used by {', '.join(suspect.used_by)})" if suspect.used_by else ""
        return f"configmap {suspect.configmap}{users} changed {clock(suspect.time)}; {began}"
    images = ", ".join(short_image(i.image) for i in suspect.images)
    return f"{suspect.component} revision {suspect.revision}, image {images}, rolled out {clock(suspect.time)}; {began}"
