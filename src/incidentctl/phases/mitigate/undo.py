"""``mitigate undo``: put back what a recorded mitigation changed, through the same contract.

A mitigation records how it is undone when it is planned (``undo`` in ``mitigation_planned``: an action and its
arguments, such as "scale gateway back to 2" or "revert maintenance"); undoing runs that action like any other, so
it is previewed, guarded, confirmed, journaled (with ``undoes: M2``) and verified. Actions register how they are
rebuilt from their recorded arguments in :data:`BUILDERS`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from incidentctl.core.events import EventKind
from incidentctl.errors import NotFoundError, UsageError
from incidentctl.phases.mitigate.base import MitigationRefused

if TYPE_CHECKING:
    from incidentctl.core.incident import Event
    from incidentctl.core.mitigation import Undo
    from incidentctl.phases.context import PhaseContext
    from incidentctl.phases.mitigate.base import Action, MitigateRequest, MitigateResult
    from incidentctl.runbook.model import Runbook

#: ``M2`` or ``INC-2026-004/M2``.
_ACTION_ID = re.compile(r"(?:(?P<incident>[^/\s]+)/)?(?P<id>M[0-9]+)")

#: Action name -> how it is rebuilt from the arguments a plan's ``undo`` recorded.
Builder = Callable[["Runbook", Mapping[str, Any]], "Action"]


def _builders() -> dict[str, Builder]:
    from incidentctl.phases.mitigate import restart, rollback, scale, switches

    builders: dict[str, Builder] = {
        "restart": restart.from_args,
        "scale": scale.from_args,
        "rollback": rollback.from_args,
        "maintenance": switches.builder("maintenance"),
        "circuit-breaker": switches.builder("circuit-breaker"),
        "redirect": switches.builder("redirect"),
    }
    return builders


def undo_action(runbook: Runbook, undo: Undo) -> Action:
    builder = _builders().get(undo.action)
    if builder is None:
        raise UsageError(f"this incidentctl cannot undo with {undo.action!r}", hint="undo it by hand")
    return builder(runbook, undo.args)


@dataclass(frozen=True)
class UndoTarget:
    """A recorded mitigation that can be undone, and the action that undoes it."""

    incident_id: str
    #: The mitigation undone: ``M2``.
    undoes: str
    action: Action
    summary: str


def resolve_undo(ctx: PhaseContext, action_id: str, incident: str | None = None) -> UndoTarget:
    """Which mitigation ``action_id`` names, and whether it can be undone: it applied, recorded an undo, and no
    later mitigation that undid it applied. Anything else is refused before anything is read from the cluster."""
    from incidentctl.core.incident import normalize_incident_id
    from incidentctl.core.mitigation import Undo
    from incidentctl.phases.recording import open_incident

    match = _ACTION_ID.fullmatch(action_id.strip())
    if match is None:
        raise UsageError(
            f"{action_id!r} is not a mitigation id",
            hint="they look like M2, or INC-2026-004/M2 (see incident timeline)",
        )
    named = match.group("incident")
    if named and incident and normalize_incident_id(named) != normalize_incident_id(incident):
        raise UsageError(f"{action_id} is in {named}, but --incident names {incident}")
    journal = ctx.journal()
    where = open_incident(journal, named or incident)
    if where.incident is None:
        if where.ambiguous:
            raise MitigationRefused(
                f"{len(where.ambiguous)} incidents are open and none was named: {', '.join(where.ambiguous)}",
                rule="incident",
                hint=f"name it as INC-.../{match.group('id')}, or with --incident",
            )
        raise NotFoundError(
            f"no open incident has {match.group('id')}", hint=f"name its incident: INC-.../{match.group('id')}"
        )
    incident_id = where.incident.id
    mid = match.group("id")
    timeline = journal.timeline(incident_id)
    planned = _planned(timeline, mid)
    if planned is None:
        raise NotFoundError(
            f"{incident_id} has no mitigation {mid}", hint=f"see incidentctl incident timeline {incident_id}"
        )
    refusal = why_not_undoable(timeline, mid)
    if refusal is not None:
        raise MitigationRefused(f"{incident_id}/{mid} cannot be undone: {refusal}", rule="undo")
    recorded = planned.data.get("undo") or {}
    undo = Undo(str(recorded.get("action")), dict(recorded.get("args") or {}), str(recorded.get("summary") or ""))
    return UndoTarget(incident_id, mid, undo_action(ctx.runbook, undo), undo.summary)


def why_not_undoable(timeline: Sequence[Event], mid: str) -> str | None:
    """None when ``mid`` may be undone now; else why not, in a few words (also judged under the journal's lock,
    when the undo is recorded, so two responders undoing at once undo once)."""
    planned = _planned(timeline, mid)
    if planned is None:
        return "it is not recorded"
    outcomes = {e.kind for e in timeline if e.data.get("id") == mid}
    if EventKind.MITIGATION_FAILED in outcomes:
        return f"{mid} failed; see its mitigation_failed entry for what had changed"
    if EventKind.MITIGATION_APPLIED not in outcomes:
        return f"{mid} was never applied (no outcome is recorded: its run stopped before it said)"
    if not planned.data.get("undo"):
        return f"{mid} ({planned.data.get('summary', planned.data.get('action'))}) recorded no undo"
    if planned.data["undo"].get("masked"):
        return (
            f"its undo would put back a value that is a secret the runbook names, which the journal never records; "
            f"put it back by hand ({planned.data['undo'].get('summary')})"
        )
    applied = {e.data.get("id") for e in timeline if e.kind == EventKind.MITIGATION_APPLIED}
    for event in timeline:
        undid = event.kind == EventKind.MITIGATION_PLANNED and event.data.get("undoes") == mid
        if undid and event.data.get("id") in applied:
            return f"it was already undone by {event.data.get('id')}"
    return None


def _planned(timeline: Sequence[Event], mid: str) -> Event | None:
    return next(
        (e for e in timeline if e.kind == EventKind.MITIGATION_PLANNED and e.data.get("id") == mid),
        None,
    )


def run_undo(ctx: PhaseContext, action_id: str, request: MitigateRequest) -> MitigateResult:
    """``mitigate undo``: the recorded undo, run like any mitigation (``request`` carries the responder's options;
    its action is replaced by the undo's)."""
    from incidentctl.phases.mitigate.contract import run_mitigate

    target = resolve_undo(ctx, action_id, request.incident)
    return run_mitigate(ctx, replace(request, action=target.action, incident=target.incident_id, undoes=target.undoes))
