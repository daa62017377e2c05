"""The ``postmortem`` use cases on the phase contract: ``run_postmortem(ctx, request) -> result``.

Each request type belongs to one module (:mod:`.draft`, :mod:`.review`, :mod:`.actions`), which lists the
requests it handles in its ``HANDLERS``; this function only finds the handler.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from incidentctl.phases.context import PhaseContext


def run_postmortem(ctx: PhaseContext, request: object) -> Any:
    from incidentctl.phases.postmortem import actions, draft, review

    for module in (draft, review, actions):
        handler = module.HANDLERS.get(type(request))
        if handler is not None:
            return handler(ctx, request)
    raise TypeError(f"postmortem has no use case for {type(request).__name__}")
