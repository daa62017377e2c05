"""What every investigate command shares: ``--incident`` and ``--no-save``, and saying where the evidence went."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Optional

import typer

from incidentctl.cli.state import AppState

if TYPE_CHECKING:
    from incidentctl.phases.investigate.saving import EvidenceRequest, Kept

IncidentOption = Annotated[
    Optional[str],  # noqa: UP045 - Typer reads the annotation at run time on Python 3.10
    typer.Option(
        "--incident",
        metavar="ID",
        help="Keep the evidence in this incident (default: the only open incident, if there is one).",
        show_default=False,
    ),
]
NoSaveOption = Annotated[bool, typer.Option("--no-save", help="Keep nothing: no evidence folder, no timeline event.")]


#: Where the group's own ``--incident``/``--no-save`` wait for a subcommand (``investigate --no-save logs``).
_GROUP_OPTIONS = "incidentctl.investigate.evidence"


def remember_group_options(ctx: typer.Context, incident: str | None, no_save: bool) -> None:
    ctx.meta[_GROUP_OPTIONS] = (incident, no_save)


def evidence_request(ctx: typer.Context, incident: str | None, no_save: bool) -> EvidenceRequest:
    """The subcommand's options, else the ones given before it, to the group."""
    from incidentctl.phases.investigate.saving import EvidenceRequest

    group_incident, group_no_save = ctx.meta.get(_GROUP_OPTIONS, (None, False))
    return EvidenceRequest(save=not (no_save or group_no_save), incident=incident or group_incident)


def say_kept(state: AppState, kept: Kept, *, in_document: bool = True) -> None:
    """For people, on stderr, once: where the evidence went, or why it went nowhere. ``in_document``: the
    command's -o json document says it too (then the note is not repeated on stderr)."""
    if kept.saved is not None:
        saved = kept.saved
        state.printer.note(f"evidence: {len(saved.files)} file(s) in {saved.location} (recorded in {kept.incident_id})")
        for problem in saved.problems:
            state.printer.warn(f"evidence not kept: {problem}")
    elif kept.note is not None and not (in_document and state.printer.format.is_machine):  # said in the document
        state.printer.note(kept.note)


def finish(state: AppState, kept: Kept, code: int) -> None:
    """After the result is shown: a journal that refused the evidence is the error the command ends with (the
    results were shown first, so nothing seen is lost); else the view's own exit code."""
    if kept.error is not None:
        raise kept.error
    raise typer.Exit(code)
