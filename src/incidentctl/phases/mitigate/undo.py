"""``mitigate undo``: put back what a recorded mitigation changed, through the same contract.

A mitigation records how it is undone when it is planned (``undo`` in ``mitigation_planned``: an action and its
arguments, such as "scale gateway back to 2" or "revert maintenance"); undoing runs that action like any other, so
it is previewed, guarded, confirmed, journaled (with ``undoes: M2``) and verified. Actions register how they are
rebuilt from their recorded arguments in :data:`BUILDERS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from incidentctl.errors import UsageError

if TYPE_CHECKING:
    from incidentctl.core.mitigation import Undo
    from incidentctl.phases.mitigate.base import Action
    from incidentctl.runbook.model import Runbook

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
