"""``incidentctl investigate changes``: the rollout history and ConfigMap changes against the onset of errors."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from incidentctl.cli.investigate_common import IncidentOption, NoSaveOption, evidence_request, finish, say_kept
from incidentctl.cli.state import AppState
from incidentctl.errors import UsageError


def changes(
    ctx: typer.Context,
    components: Annotated[
        Optional[list[str]],  # noqa: UP045 - Typer reads the annotation at run time on Python 3.10
        typer.Argument(metavar="[COMPONENT]...", help="Only these components (default: all).", show_default=False),
    ] = None,
    since: Annotated[
        str, typer.Option("--since", metavar="DURATION", help="Look this far back for the onset and ConfigMap changes.")
    ] = "6h",
    window: Annotated[
        str,
        typer.Option(
            "--window", metavar="DURATION", help="A change at most this long before the onset can be the suspect."
        ),
    ] = "1h",
    onset: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--onset",
            metavar="TIME",
            help="Errors seen to begin then (RFC 3339 or a duration ago), besides the 5xx ratio and crashes.",
            show_default=False,
        ),
    ] = None,
    incident: IncidentOption = None,
    no_save: NoSaveOption = False,
) -> None:
    """Rollout history (revision, time, images, change-cause, who) and ConfigMap changes on one time axis with
    the onset of errors; names the suspect change and what it changed. Exit 3 when a suspect is named or part
    of the look could not be read."""
    from incidentctl.core.times import parse_duration, parse_point_in_time
    from incidentctl.phases.investigate.changes import ChangesRequest, run_changes
    from incidentctl.render.investigate_changes import changes_table
    from incidentctl.render.investigate_changes_output import changes_output

    state: AppState = ctx.obj
    state.output_format()
    durations = {}
    for option, text in (("--since", since), ("--window", window)):
        try:
            durations[option] = parse_duration(text)
        except ValueError as e:
            raise UsageError(f"{option}: {e}") from e
        if durations[option].total_seconds() <= 0:
            raise UsageError(f"{option}: must be longer than 0s, not {text!r}")
    errors_onset = None
    if onset is not None:
        try:
            errors_onset = parse_point_in_time(onset, state.clock())
        except ValueError as e:
            raise UsageError(f"--onset: {e}") from e
    names = tuple(n.strip() for raw in components or [] for n in raw.split(",") if n.strip())
    request = ChangesRequest(
        components=names,
        since=durations["--since"],
        window=durations["--window"],
        errors_onset=errors_onset,
        errors_detail="errors seen (--onset)" if errors_onset is not None else None,
        evidence=evidence_request(ctx, incident, no_save),
    )
    result = run_changes(state.phase_context(), request)
    state.printer.result(
        "InvestigateChanges", changes_output(result), table=lambda console: changes_table(console, result)
    )
    say_kept(state, result.kept, in_document=False)
    finish(state, result.kept, result.exit_code)
