"""Scale-downs of a Deployment, from what the cluster records of them: a scale to zero takes a service down as
surely as a bad rollout, and ``kubectl rollout history`` never shows it.

Kubernetes keeps no history of a Deployment's replicas. The deployment controller records each scale of one of
its ReplicaSets as a Normal event on the Deployment, reason ``ScalingReplicaSet``, source
``deployment-controller``, and the counts are only in the message, in the controller's fixed format
(``pkg/controller/deployment/sync.go``: "Scaled down replica set gateway-7c9d to 0 from 3"; before Kubernetes
1.28 "Scaled down replica set gateway-7c9d to 0"). The message is matched whole against those formats: a message
of any other shape (another writer's, an edited one, one with control characters) is no scale change.

Which scales are the Deployment's own: in a rollout the controller scales the new ReplicaSet up and the old ones
down, the Deployment's size unchanged; a scale of the Deployment down (``kubectl scale``, a cleanup job) scales
down the ReplicaSet it runs now, which no rollout does. So a scale-down is one of the current ReplicaSet, from an
event about this Deployment (kind, name, and uid: a Deployment deleted and made again under its name is another
object). Scale-ups are left out: the new ReplicaSet of every rollout is scaled up too, and the events cannot tell
that from ``kubectl scale`` up; adding capacity is also an answer to an incident more often than its cause.

Events live an hour (the API server's TTL). With none left, a Deployment at zero replicas is dated by the last
write of its ``spec.replicas`` in managedFields (``kubectl scale`` writes through the scale subresource), the
count before it unknown. Who scaled is that write's manager, when one falls at the event's time.

Pure functions over the API's objects as plain dicts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from incidentctl.core.times import parse_rfc3339_or_none
from incidentctl.core.warning_events import event_fact

JSON = Mapping[str, Any]

REASON = "ScalingReplicaSet"
CONTROLLER = "deployment-controller"

#: The field selector that asks the API server for those events only (``reason`` and ``involvedObject.kind`` are
#: fields the Event kind indexes), so a namespace with thousands of events costs a page, not all of them.
FIELD_SELECTOR = f"involvedObject.kind=Deployment,reason={REASON}"

#: The newest scale changes kept per Deployment: an autoscaler that flaps leaves many; the suspect is recent.
MAX_SCALES = 20

#: How far a managedFields write of ``spec.replicas`` may lie from the controller's event and still be its cause
#: (both are stamped in whole seconds, and the controller acts within moments of the write).
WRITER_SLACK = timedelta(minutes=2)

_NAME = r"[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?"
_FORMATS = (
    re.compile(rf"Scaled (?P<dir>up|down) replica set (?P<rs>{_NAME}) to (?P<to>\d{{1,9}}) from (?P<from>\d{{1,9}})"),
    re.compile(rf"Scaled (?P<dir>up|down) replica set (?P<rs>{_NAME}) from (?P<from>\d{{1,9}}) to (?P<to>\d{{1,9}})"),
    re.compile(rf"Scaled (?P<dir>up|down) replica set (?P<rs>{_NAME}) to (?P<to>\d{{1,9}})"),
)

#: Managers that write on a controller's behalf, never a person's or a job's change.
_CONTROLLERS = frozenset({"kube-controller-manager", "kube-scheduler", "kubelet"})


@dataclass(frozen=True)
class ScaleDown:
    """One scale-down of a component's Deployment."""

    component: str
    deployment: str
    time: datetime
    replicas: int
    #: None when the count before is not recorded (the older message format, or only managedFields left).
    previous_replicas: int | None
    #: The ReplicaSet the controller scaled (None when read from managedFields).
    replicaset: str | None
    who: str | None
    #: ``event`` (the deployment controller's ScalingReplicaSet) or ``managedFields``.
    source: str
    #: How often the controller recorded this very scale (the event's count).
    count: int = 1


def _meta(obj: JSON) -> JSON:
    meta = obj.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


def _replicas_writes(deployment: JSON) -> list[tuple[datetime, str]]:
    """(when, manager) of every managedFields entry that owns ``spec.replicas``, other than a controller's."""
    out = []
    for entry in _meta(deployment).get("managedFields") or []:
        if not isinstance(entry, Mapping):
            continue
        manager = str(entry.get("manager") or "")
        if not manager or manager in _CONTROLLERS or entry.get("subresource") not in (None, "scale"):
            continue
        spec = (entry.get("fieldsV1") or {}).get("f:spec") or {}
        when = parse_rfc3339_or_none(entry.get("time"))
        if isinstance(spec, Mapping) and "f:replicas" in spec and when is not None:
            out.append((when, manager))
    return sorted(out)


def _writer(writes: list[tuple[datetime, str]], at: datetime) -> str | None:
    near = [(abs((when - at).total_seconds()), manager) for when, manager in writes if abs(when - at) <= WRITER_SLACK]
    return min(near)[1] if near else None


def _about(event: JSON, deployment: JSON) -> bool:
    involved = event.get("involvedObject") or event.get("regarding") or {}
    meta = _meta(deployment)
    if not isinstance(involved, Mapping) or involved.get("kind") != "Deployment":
        return False
    if involved.get("name") != meta.get("name"):
        return False
    uid, mine = involved.get("uid"), meta.get("uid")
    return not (uid and mine and uid != mine)


def scale_downs(
    component: str, deployment: JSON, events: Iterable[JSON], current_replicaset: str | None
) -> tuple[ScaleDown, ...]:
    """The scale-downs of ``deployment`` (of its current ReplicaSet), oldest first, the newest :data:`MAX_SCALES`."""
    name = str(_meta(deployment).get("name") or component)
    writes = _replicas_writes(deployment)
    found: list[ScaleDown] = []
    for event in events:
        if not isinstance(event, Mapping) or not _about(event, deployment):
            continue
        fact = event_fact(event)
        if fact.reason != REASON or fact.type != "Normal" or fact.source != CONTROLLER or fact.last_seen is None:
            continue
        match = next((m for f in _FORMATS if (m := f.fullmatch(fact.message))), None)
        if match is None or match["dir"] != "down" or current_replicaset is None or match["rs"] != current_replicaset:
            continue
        before = match.groupdict().get("from")
        found.append(
            ScaleDown(
                component=component,
                deployment=name,
                time=fact.last_seen,
                replicas=int(match["to"]),
                previous_replicas=int(before) if before is not None else None,
                replicaset=match["rs"],
                who=_writer(writes, fact.last_seen),
                source="event",
                count=fact.count,
            )
        )
    replicas = (deployment.get("spec") or {}).get("replicas")
    if not found and replicas == 0 and writes:
        when, manager = writes[-1]
        found.append(ScaleDown(component, name, when, 0, None, None, manager, "managedFields"))
    found.sort(key=lambda s: s.time)
    return tuple(found[-MAX_SCALES:])
