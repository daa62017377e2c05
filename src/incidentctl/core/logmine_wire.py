"""The mined templates as machine output: the one shape ``investigate errors -o json`` prints and the evidence
folder keeps (``data.templates[]`` is read by later phases and CI, so it stays stable)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field

from incidentctl.core.wire import WireModel


class TemplateOutput(WireModel):
    """One error template: its lines in the window, and in the baseline window just before it."""

    model_config = ConfigDict(from_attributes=True, json_schema_serialization_defaults_required=True)

    pattern: str = Field(description="The line with what varies masked as <*>.")
    count: int
    baseline_count: int | None = Field(description="Lines of the template in the baseline; null: no baseline read.")
    status: Literal["new", "grew", "steady"] | None = Field(
        description="new: absent from the baseline; grew: more than twice as often; null: no baseline read."
    )
    first_seen: datetime | None
    last_seen: datetime | None
    pods: list[str]
    example: str = Field(description="One real line of the template (secrets of the runbook masked).")
