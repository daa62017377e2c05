"""``mitigate maintenance``, ``mitigate circuit-breaker`` and ``mitigate redirect``: the runbook's switches.

What a switch does is the runbook's (``mitigation.maintenance``, ``circuit_breakers``, ``redirects``: a list of
patches to objects for ``apply``, another for ``revert``), never this module's. The action reads each object,
applies the patch locally to show the part of the object that changes, and plans one write per object that would
change, carrying the resourceVersion it was read at; objects already as the runbook wants them are left alone, so
turning on what is on is "nothing to do". Undo is the other direction of the same switch.

Maintenance mode is the one switch that takes the service away from users on purpose: while it is on, the
components' checks are expected to fail, so turning it on verifies nothing and turning it off verifies them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from incidentctl.core.mitigation import Change, FieldChange, ObjectRef, Plan, Undo, Write, unified_diff
from incidentctl.core.patches import PatchDoesNotApply, changed_part, json_patch, leaf_changes, merge_patch
from incidentctl.errors import ConfigError, NotFoundError, UsageError
from incidentctl.phases.mitigate.base import ActionEnv
from incidentctl.phases.mitigate.state import observed_state

if TYPE_CHECKING:
    from incidentctl.runbook.model import ObjectChange, Runbook, Switch

Kind = Literal["maintenance", "circuit-breaker", "redirect"]
Direction = Literal["apply", "revert"]

#: The words each command takes for turning its switch on (apply) and off (revert).
WORDS: dict[Kind, tuple[str, str]] = {
    "maintenance": ("on", "off"),
    "circuit-breaker": ("open", "close"),
    "redirect": ("on", "off"),
}
#: Where each kind of switch lives in the runbook.
SECTIONS: dict[Kind, str] = {
    "maintenance": "mitigation.maintenance",
    "circuit-breaker": "mitigation.circuit_breakers",
    "redirect": "mitigation.redirects",
}


def direction_of(kind: Kind, word: str) -> Direction:
    """``on``/``open`` is apply, ``off``/``close`` is revert; anything else is a usage error that says the words."""
    on, off = WORDS[kind]
    said = word.strip().lower()
    if said == on:
        return "apply"
    if said == off:
        return "revert"
    raise UsageError(f"{kind} takes {on} or {off}, not {word!r}")


def find_switch(runbook: Runbook, kind: Kind, name: str | None) -> Switch:
    """The runbook's definition of a switch, or a usage error naming the ones it defines."""
    mitigation = runbook.mitigation
    if kind == "maintenance":
        if mitigation.maintenance is None:
            raise UsageError(
                "the runbook defines no maintenance mode",
                hint="describe what turns it on and off in runbook.yaml under mitigation.maintenance",
            )
        return mitigation.maintenance
    defined = mitigation.circuit_breakers if kind == "circuit-breaker" else mitigation.redirects
    what = "circuit breaker" if kind == "circuit-breaker" else "redirect"
    if not defined:
        raise UsageError(
            f"the runbook defines no {what}s", hint=f"describe them in runbook.yaml under {SECTIONS[kind]}"
        )
    if name not in defined:
        raise UsageError(
            f"the runbook defines no {what} {name!r}",
            hint=f"{SECTIONS[kind]} defines: {', '.join(defined)}",
        )
    return defined[name]


def _phrase(kind: Kind, name: str | None, word: str) -> str:
    """How a person says it: "turn maintenance mode on", "open the openai circuit breaker"."""
    if kind == "circuit-breaker":
        return f"{word} the {name} circuit breaker"
    return f"turn {'maintenance mode' if kind == 'maintenance' else f'the {name} redirect'} {word}"


@dataclass(frozen=True)
class SwitchAction:
    """Turn one of the runbook's switches on (``apply``) or off (``revert``)."""

    kind: Kind
    #: The breaker's dependency or the redirect's name (None for maintenance mode).
    switch: str | None
    direction: Direction

    @property
    def name(self) -> str:
        return self.kind

    @property
    def word(self) -> str:
        on, off = WORDS[self.kind]
        return on if self.direction == "apply" else off

    def plan(self, env: ActionEnv) -> Plan:
        switch = find_switch(env.runbook, self.kind, self.switch)
        steps = switch.apply if self.direction == "apply" else switch.revert
        where = SECTIONS[self.kind] + (f".{self.switch}" if self.switch else "") + f".{self.direction}"
        changes: list[Change] = []
        writes: list[Write] = []
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        live_by_label: dict[str, Any] = {}
        for index, step in enumerate(steps):
            ref = ObjectRef(step.resource, step.name, env.namespace)
            live = live_by_label.get(ref.label)
            if live is None:
                live = _read(env, ref, f"{where}[{index}]")
            patched = _patched(live, step, ref, f"{where}[{index}]")
            live_by_label[ref.label] = patched
            if patched == live:
                continue
            before.setdefault(ref.label, observed_state(live))
            after[ref.label] = observed_state(patched)
            # a second change to the same object cannot know the version the first one makes: the first write
            # carries the precondition, the next is sent right after it
            written = any(w.ref == ref for w in writes)
            version = None if written else (live.get("metadata") or {}).get("resourceVersion")
            if step.merge is not None:
                writes.append(Write("patch", ref, body=step.merge, patch_type="merge", resource_version=version))
            else:
                writes.append(Write("patch", ref, body=_operations(step), patch_type="json", resource_version=version))
            old_part, new_part = changed_part(_content(live), _content(patched))
            fields = tuple(
                FieldChange(path, _text(old), _text(new)) for path, old, new in leaf_changes(old_part, new_part)
            )
            shown = "; ".join(f"{f.field} {f.before or '(none)'} -> {f.after or '(none)'}" for f in fields[:3])
            changes.append(
                Change(
                    ref,
                    f"set {shown}" if shown else f"patch {ref.label}",
                    fields,
                    unified_diff(old_part, new_part, ref.label),
                )
            )
        verified = tuple(switch.components)
        notes: tuple[str, ...] = (switch.description,) if writes else ()
        if self.kind == "maintenance" and self.direction == "apply":
            # the maintenance page is a 503 on purpose: judging the checks now would call the fix a failure
            verified = ()
            if switch.components and writes:
                notes += (
                    "users get the maintenance page (503) until `incidentctl mitigate maintenance off`, which "
                    f"re-runs the checks of {', '.join(switch.components)}",
                )
        undo_word = WORDS[self.kind][1 if self.direction == "apply" else 0]
        undo_args: dict[str, Any] = {"direction": "revert" if self.direction == "apply" else "apply"}
        if self.switch is not None:
            undo_args["switch"] = self.switch
        return Plan(
            action=self.kind,
            summary=_phrase(self.kind, self.switch, self.word),
            changes=tuple(changes),
            writes=tuple(writes),
            components=verified,
            undo=Undo(self.kind, undo_args, _phrase(self.kind, self.switch, undo_word)),
            restores=self.direction == "revert",
            notes=notes,
            before=before,
            after=after,
            args={"switch": self.switch, "direction": self.direction, "to": self.word}
            if self.switch is not None
            else {"direction": self.direction, "to": self.word},
        )


def _read(env: ActionEnv, ref: ObjectRef, where: str) -> dict[str, Any]:
    from incidentctl.adapters.kube import KubeNotFound

    try:
        live = env.kube.get(ref.resource, ref.namespace, ref.name)
    except KubeNotFound as e:
        raise NotFoundError(
            f"{ref.label} does not exist in namespace {ref.namespace}, and the runbook's {where} changes it",
            hint="create it first, or correct the runbook's switch",
        ) from e
    return dict(live)


def _patched(live: Mapping[str, Any], step: ObjectChange, ref: ObjectRef, where: str) -> dict[str, Any]:
    if step.merge is not None:
        return dict(merge_patch(live, step.merge))
    try:
        return dict(json_patch(live, _operations(step)))
    except PatchDoesNotApply as e:
        raise ConfigError(
            f"the runbook's {where} does not fit {ref.label}: {e}",
            hint=f"compare the JSON Patch with kubectl get {ref.label} -n {ref.namespace} -o yaml",
        ) from e


def _operations(step: ObjectChange) -> list[dict[str, Any]]:
    """The runbook's JSON Patch as RFC 6902 writes it (``from`` only where it belongs, no ``value`` on remove)."""
    out: list[dict[str, Any]] = []
    for op in step.json_patch or []:
        entry: dict[str, Any] = {"op": op.op, "path": op.path}
        if op.op in ("add", "replace", "test"):
            entry["value"] = op.value
        if op.op in ("move", "copy"):
            entry["from"] = op.from_
        out.append(entry)
    return out


def _content(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The object without what the server keeps for itself (status, managedFields, versions)."""
    meta = {
        k: v
        for k, v in (obj.get("metadata") or {}).items()
        if k not in ("managedFields", "resourceVersion", "generation", "uid", "creationTimestamp")
    }
    return {**{k: v for k, v in obj.items() if k not in ("status", "metadata")}, "metadata": meta}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        import json

        return json.dumps(value, sort_keys=True)
    return str(value)


def builder(kind: Kind) -> Callable[[Runbook, Mapping[str, Any]], SwitchAction]:
    """How ``mitigate undo`` rebuilds a switch from the arguments a plan's ``undo`` recorded."""

    def build(_runbook: Runbook, args: Mapping[str, Any]) -> SwitchAction:
        direction = args.get("direction")
        if direction not in ("apply", "revert"):
            raise UsageError(f"the recorded undo of {kind} has no direction (apply or revert): {dict(args)}")
        switch = args.get("switch")
        return SwitchAction(kind, str(switch) if switch is not None else None, direction)

    return build
