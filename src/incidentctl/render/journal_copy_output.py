"""What ``journal copy`` prints with ``-o json|yaml``; the models read :mod:`incidentctl.journal.copy`'s result."""

from __future__ import annotations

from pydantic import Field

from incidentctl.journal.copy import Outcome
from incidentctl.render.output_model import OutputModel


class CopyProblemOutput(OutputModel):
    where: str = Field(description="INC-2026-004/timeline.jsonl:7 (a line), or the event that was not copied.")
    problem: str


class IncidentCopyOutput(OutputModel):
    id: str
    outcome: Outcome = Field(description="copied, present (nothing new), conflict, damaged or failed.")
    events: int = Field(description="Events the source could read.")
    copied: int = Field(description="Events written (with dryRun: that would be written).")
    present: int = Field(description="Events the destination already had (by event id).")
    problems: list[CopyProblemOutput] = Field(description="What could not be read or copied.")
    reason: str | None = Field(description="Why nothing was copied (conflict, failed, no declaration).")


class JournalCopyOutput(OutputModel):
    """journal copy: each incident's outcome (copied, present, conflict, damaged, failed); exit 3 when any was not
    copied whole."""

    source: str
    destination: str = Field(description="A folder, or the team journal as postgres://host:port/db (no password).")
    dry_run: bool
    copied: int = Field(description="Events written in all (with dryRun: that would be written).")
    incidents: list[IncidentCopyOutput] = Field(description="Oldest first.")
