"""What ``postmortem draft`` prints with ``-o json|yaml``. The model reads the phase's result by attribute."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field

from incidentctl.render.output_model import OutputModel


class PostmortemDraftOutput(OutputModel):
    """postmortem draft: where the post-mortem was written, what a person still has to write, what was kept."""

    incident_id: str
    path: Annotated[str, BeforeValidator(str)] = Field(description="The document's path.")
    written: bool = Field(description="False: the file was left as it was (its markers could not be read).")
    created: bool = Field(description="True: there was no file before this draft.")
    to_write: list[str] = Field(description="The sections whose 'To write' prompt a person has not replaced yet.")
    kept: list[str] = Field(description="Generated parts a person edited, kept as they were instead of refreshed.")
    inserted: list[str] = Field(description="Generated parts new in this version, inserted into the file.")
    not_refreshed: list[str] = Field(description="Generated parts not refreshed: deleted, or the markers broken.")
    problem: str | None = Field(description="Why nothing was merged: the first marker problem, with its line.")
