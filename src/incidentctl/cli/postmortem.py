"""``incidentctl postmortem ...``: the post-mortem drafted from the journal, its review stages, its meeting and
its action items (``postmortem action ...``).

Parsing only: the use cases are :mod:`incidentctl.phases.postmortem`. None of these commands needs the cluster.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from incidentctl.cli import postmortem_actions, postmortem_review
from incidentctl.cli.state import AppState

app = typer.Typer(
    help="Post-mortems written from the journal: draft the document, track the runbook's review deadlines, "
    "schedule the meeting, and keep action items with owners and due dates.",
    no_args_is_help=True,
)

postmortem_review.register(app)
app.add_typer(postmortem_actions.app, name="action")


@app.command()
def draft(
    ctx: typer.Context,
    incident_id: Annotated[
        Optional[str],  # noqa: UP045 - Typer reads the annotation at run time on Python 3.10
        typer.Argument(metavar="[ID]", help="The incident (default: the only open one).", show_default=False),
    ] = None,
    file: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--file",
            metavar="PATH",
            help="Where to write it (default: postmortem.md in the incident's journal folder).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Write the post-mortem from the journal and print its path; drafting again keeps what you wrote."""
    from incidentctl.phases.postmortem.draft import DraftRequest, DraftResult
    from incidentctl.phases.postmortem.run import run_postmortem
    from incidentctl.render.postmortem import show_draft
    from incidentctl.render.postmortem_output import PostmortemDraftOutput

    state: AppState = ctx.obj
    state.output_format()
    where = file if file is None or file.is_absolute() else state.working_dir / file
    result = run_postmortem(state.phase_context(cluster=False), DraftRequest(incident_id, where))
    assert isinstance(result, DraftResult)
    state.printer.result(
        "PostmortemDraft", PostmortemDraftOutput.model_validate(result), table=lambda c: show_draft(c, result)
    )
    raise typer.Exit(int(result.exit_code))
