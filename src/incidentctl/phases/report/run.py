"""The ``report`` use case on the phase contract: ``run_report(ctx, request) -> result``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from incidentctl.phases.context import PhaseContext


def run_report(ctx: PhaseContext, request: object) -> Any:
    raise NotImplementedError("report")
