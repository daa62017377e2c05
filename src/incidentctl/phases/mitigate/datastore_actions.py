"""``mitigate flush-cache``: a datastore action from the runbook (``datastores[].actions[]``), run in its pod.

The runbook says what the action is (``redis-cli flushall``), never the code; this module only finds it, looks
first and plans the exec. Looking first is the action's ``preview``, a read-only command run in the same pod while
planning (``redis-cli dbsize``), so the plan says what will be lost before anyone says yes, dry run included.

An exec has no server-side dry run: ``--dry-run`` sends nothing (the contract's ``send`` says so in its answer)
and the plan says so too. What a flush drops cannot be put back, so there is no undo, and a destructive action
needs an open incident and ``--reason`` (the contract's guardrails). The verification is the datastore's own
check and the components that use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from incidentctl.core.mitigation import Change, FieldChange, ObjectRef, Plan, Write
from incidentctl.errors import IncidentctlError, UsageError
from incidentctl.phases.mitigate.state import observed_state

if TYPE_CHECKING:
    from incidentctl.phases.mitigate.base import ActionEnv
    from incidentctl.runbook.model import Datastore, DatastoreAction, Runbook

#: How much of a preview's answer a plan keeps (one line: ``(integer) 48213``).
PREVIEW_CHARS = 200


def resolve(runbook: Runbook, action: str, datastore: str | None) -> tuple[Datastore, DatastoreAction]:
    """The datastore named (or, unnamed, the only one that has ``action``) and its runbook action."""
    having = [d for d in runbook.datastores if any(a.name == action for a in d.actions)]
    names = ", ".join(d.name for d in having)
    if datastore is None:
        if not having:
            raise UsageError(
                f"no datastore in the runbook has a {action} action",
                hint="add one under datastores[].actions in runbook.yaml",
            )
        if len(having) > 1:
            raise UsageError(f"{len(having)} datastores have a {action} action: {names}", hint="name one of them")
        store = having[0]
    else:
        found = next((d for d in runbook.datastores if d.name == datastore), None)
        if found is None:
            known = ", ".join(d.name for d in runbook.datastores) or "none"
            raise UsageError(f"the runbook has no datastore {datastore!r}", hint=f"its datastores: {known}")
        if found not in having:
            raise UsageError(
                f"datastore {datastore} has no {action} action in the runbook",
                hint=f"datastores with one: {names}" if having else "add one under datastores[].actions",
            )
        store = found
    return store, next(a for a in store.actions if a.name == action)


@dataclass(frozen=True)
class DatastoreCommand:
    """Run a datastore's runbook action (``flush-cache``) in its pod."""

    datastore: str | None = None
    #: The runbook action's name; also the mitigation's (one of :data:`incidentctl.core.mitigation.ACTIONS`).
    name: str = "flush-cache"

    def plan(self, env: ActionEnv) -> Plan:
        store, action = resolve(env.runbook, self.name, self.datastore)
        ref = ObjectRef("pods", store.pod, env.namespace)
        live = env.kube.get(ref.resource, ref.namespace, ref.name)
        command = tuple(action.command)
        shown = " ".join(command)
        before: dict[str, Any] = {ref.label: observed_state(live)}
        fields: list[FieldChange] = []
        notes: list[str] = []
        if action.preview:
            seen, said = _preview(env, store, list(action.preview))
            preview = " ".join(action.preview)
            if seen is not None:
                before[ref.label]["preview"] = {"command": preview, "output": seen}
                fields.append(FieldChange(preview, seen, None))
                notes.append(f"{store.name} now answers `{preview}` with {seen}: that is what `{shown}` drops")
            else:
                notes.append(f"the preview `{preview}` failed ({said}): what `{shown}` drops is not known")
        notes.append(f"an exec cannot be dry-run on the server: --dry-run sends nothing (and `{shown}` does not run)")
        if action.destructive:
            notes.append(f"cannot be undone: what `{shown}` drops in {store.name} is gone")
        where = f"{ref.label}" + (f" (container {store.container})" if store.container else "")
        return Plan(
            action=self.name,
            summary=f"{self.name} {store.name}: run `{shown}` in {where}",
            changes=(Change(ref, f"run `{shown}`: {action.description}", tuple(fields)),),
            writes=(Write("exec", ref, command=command, container=store.container),),
            components=tuple(store.used_by),
            datastores=(store.name,),
            destructive=action.destructive,
            notes=tuple(notes),
            before=before,
            args={"datastore": store.name, "action": self.name},
        )


def _preview(env: ActionEnv, store: Datastore, command: list[str]) -> tuple[str | None, str]:
    """The preview's answer on one line, or None and why it could not be had (then the plan says so: a missing
    count is never shown as nothing to lose)."""
    try:
        result = env.kube.exec(env.namespace, store.pod, command, container=store.container)
    except IncidentctlError as e:
        return None, str(e)
    if result.exit_code != 0:
        said = " ".join((result.stderr or result.stdout).split())[:PREVIEW_CHARS]
        return None, f"exited {result.exit_code}: {said}" if said else f"exited {result.exit_code}"
    text = " ".join(result.stdout.split())[:PREVIEW_CHARS]
    return (text, "") if text else (None, "it printed nothing")
