"""``mitigate scale COMPONENT=N...``: more (or fewer) replicas of a component's deployment, within the runbook's
bounds.

The count is written as ``kubectl scale`` writes it, a merge patch of the deployment's ``scale`` subresource, but
carrying the resourceVersion the plan read (``kubectl scale --resource-version``), so a count someone else set in
between is a 409 and never silently overwritten. The bounds (``components[].scale: {min, max}``) are judged by the
contract's replica-bounds guardrail from :attr:`Plan.replicas`, so a breach is refused and recorded like any other;
what is not a count at all (``five``, ``-1``, beyond the API's int32) is a usage error before anything is read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from incidentctl.core.mitigation import Change, FieldChange, ObjectRef, Plan, ReplicaChange, Undo, Write, unified_diff
from incidentctl.errors import UsageError
from incidentctl.phases.mitigate.state import observed_state

if TYPE_CHECKING:
    from incidentctl.phases.mitigate.base import ActionEnv
    from incidentctl.runbook.model import Component, Runbook

#: ``spec.replicas`` is an int32 in the API: a larger number is not a count the server could take.
MAX_REPLICAS = 2**31 - 1


def parse_counts(runbook: Runbook, words: Sequence[str]) -> tuple[tuple[str, int], ...]:
    """``gateway=5`` or ``gateway`` (the runbook's ``scale.surge``), each component once."""
    counts: dict[str, int] = {}
    for word in words:
        name, sep, text = word.partition("=")
        name = name.strip()
        if not name:
            raise UsageError(f"{word!r}: no component named before '='", hint="write COMPONENT=N, e.g. gateway=5")
        comp = _component(runbook, name)
        count = _count(comp, text.strip(), word) if sep else _surge(comp)
        if counts.get(comp.name, count) != count:
            raise UsageError(f"{comp.name} is given two counts: {counts[comp.name]} and {count}")
        counts[comp.name] = count
    if not counts:
        raise UsageError("nothing to scale", hint="name a component and a count, e.g. gateway=5")
    return tuple(counts.items())


def _component(runbook: Runbook, name: str) -> Component:
    for comp in runbook.components:
        if name in (comp.name, f"deployment/{comp.deployment}"):
            return comp
    raise UsageError(
        f"nothing in the runbook is called {name!r} that can be scaled",
        hint=f"scale one of the components: {', '.join(runbook.component_names())}",
    )


def _count(comp: Component, text: str, word: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise UsageError(
            f"{word!r}: the replica count {text!r} is not a whole number of 0 or more", hint=f"e.g. {comp.name}=5"
        )
    count = int(text)
    if count > MAX_REPLICAS and comp.scale is None:  # within bounds the replica-bounds guardrail judges (and records)
        raise UsageError(f"{word!r}: {count} replicas is more than the API can hold (at most {MAX_REPLICAS})")
    return count


def _surge(comp: Component) -> int:
    if comp.scale is None or comp.scale.surge is None:
        raise UsageError(
            f"the runbook sets no scale.surge for {comp.name}, so there is no count to scale it to",
            hint=f"give one: {comp.name}=N",
        )
    return comp.scale.surge


def _bounds(comp: Component) -> str:
    if comp.scale is None:
        return "the runbook sets no bounds"
    return f"bounds {comp.scale.min}-{comp.scale.max}"


@dataclass(frozen=True)
class Scale:
    #: (component, replicas), in the order given.
    counts: tuple[tuple[str, int], ...]
    name: str = "scale"

    def plan(self, env: ActionEnv) -> Plan:
        changes: list[Change] = []
        writes: list[Write] = []
        replicas: list[ReplicaChange] = []
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        previous: dict[str, int] = {}
        for component, count in self.counts:
            comp = _component(env.runbook, component)
            ref = ObjectRef("deployments", comp.deployment, env.namespace)
            live = env.kube.get(ref.resource, ref.namespace, ref.name)
            state = observed_state(live)
            current = int((live.get("spec") or {}).get("replicas", 1))
            before[ref.label] = state
            after[ref.label] = {**state, "replicas": count}
            replicas.append(ReplicaChange(comp.name, current, count))
            if current == count:
                continue
            previous[comp.name] = current
            version = (live.get("metadata") or {}).get("resourceVersion")
            writes.append(
                Write(
                    "patch",
                    ref,
                    body={"spec": {"replicas": count}},
                    patch_type="merge",
                    subresource="scale",
                    resource_version=version,
                    field_manager="kubectl-scale",
                )
            )
            changes.append(
                Change(
                    ref,
                    f"scale {ref.label} from {current} to {count} replicas ({_bounds(comp)})",
                    (FieldChange("replicas", str(current), str(count)),),
                    unified_diff({"replicas": current}, {"replicas": count}, f"{ref.label} spec"),
                )
            )
        wanted = ", ".join(f"{c}={n}" for c, n in self.counts)
        undo = None
        if previous:
            back = ", ".join(f"{c} back to {n}" for c, n in previous.items())
            undo = Undo("scale", {"replicas": previous}, f"scale {back} replicas")
        return Plan(
            action="scale",
            summary=f"scale {wanted}",
            changes=tuple(changes),
            writes=tuple(writes),
            components=tuple(c for c, _ in self.counts),
            rollouts=tuple(w.ref for w in writes),
            replicas=tuple(replicas),
            undo=undo,
            before=before,
            after=after,
            args={"replicas": dict(self.counts)},
            notes=tuple(f"{c} to 0 replicas: it stops serving" for c, n in self.counts if n == 0),
        )


def from_args(runbook: Runbook, args: Mapping[str, Any]) -> Scale:
    """Rebuilt from a recorded plan's ``undo``: ``{"replicas": {"gateway": 3}}``."""
    recorded = args.get("replicas") or {}
    return Scale(tuple((str(name), int(count)) for name, count in recorded.items()))
