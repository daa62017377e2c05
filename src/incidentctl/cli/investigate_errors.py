"""``incidentctl investigate errors``: error templates of every pod's logs, or of saved logs, against a baseline."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Optional

import typer

from incidentctl.cli.investigate_common import IncidentOption, NoSaveOption, evidence_request, finish, say_kept
from incidentctl.cli.state import AppState
from incidentctl.errors import OutputError, UsageError

if TYPE_CHECKING:
    from datetime import timedelta

    from incidentctl.phases.investigate.errors import ErrorsResult
    from incidentctl.phases.investigate.saving import EvidenceRequest

STDIN = "-"


def errors(
    ctx: typer.Context,
    components: Annotated[
        Optional[list[str]],  # noqa: UP045 - Typer reads the annotation at run time on Python 3.10
        typer.Argument(metavar="[COMPONENT]...", help="Only these components (default: all).", show_default=False),
    ] = None,
    since: Annotated[
        str, typer.Option("--since", metavar="DURATION", help="The window mined; the baseline is as long, just before.")
    ] = "1h",
    baseline: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--baseline", metavar="DURATION", help="The baseline's length (default: as --since).", show_default=False
        ),
    ] = None,
    file: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--file", metavar="PATH", help="Mine this saved log instead (- for stdin).", show_default=False),
    ] = None,
    baseline_file: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--baseline-file",
            metavar="PATH",
            help="With --file: the saved log to compare with (- for stdin).",
            show_default=False,
        ),
    ] = None,
    incident: IncidentOption = None,
    no_save: NoSaveOption = False,
) -> None:
    """Error templates (lines with ids and times masked), NEW ones first. Exit 3 when one is new.

    The templates and the logs mined are kept in the open incident; a saved log (--file) keeps nothing.
    """
    state: AppState = ctx.obj
    state.output_format()
    if file is None:
        if baseline_file is not None:
            raise UsageError("--baseline-file only applies with --file (the cluster's baseline is read from the pods)")
        result = _from_cluster(state, components or [], since, baseline, evidence_request(ctx, incident, no_save))
    else:
        if components:
            raise UsageError("COMPONENT only applies to the cluster's logs, not with --file")
        if file == STDIN and baseline_file == STDIN:
            raise UsageError("--file and --baseline-file cannot both be stdin (-)")
        result = _from_files(file, baseline_file)
    _show(state, result)
    if file is None:
        say_kept(state, result.kept, in_document=False)
    finish(state, result.kept, int(result.exit_code))


def _duration(option: str, value: str) -> timedelta:
    from incidentctl.core.times import parse_duration

    try:
        window = parse_duration(value)
    except ValueError as e:
        raise UsageError(f"{option}: {e}") from e
    if window.total_seconds() <= 0:
        raise UsageError(f"{option}: must be longer than 0s, not {value!r}")
    return window


def _from_cluster(
    state: AppState, components: list[str], since: str, baseline: str | None, evidence: EvidenceRequest
) -> ErrorsResult:
    from incidentctl.phases.investigate.errors import ErrorsRequest, run_errors

    names = tuple(n.strip() for raw in components for n in raw.split(",") if n.strip())
    request = ErrorsRequest(
        components=names,
        window=_duration("--since", since),
        baseline=_duration("--baseline", baseline) if baseline is not None else None,
        evidence=evidence,
    )
    return run_errors(state.phase_context(), request)


def _from_files(file: str, baseline_file: str | None) -> ErrorsResult:
    from incidentctl.phases.investigate.errors import run_errors_file

    with _opened("--file", file) as stream:
        if baseline_file is None:
            return run_errors_file(stream, file)
        with _opened("--baseline-file", baseline_file) as before:
            return run_errors_file(stream, file, baseline=before, baseline_source=baseline_file)


@contextlib.contextmanager
def _opened(option: str, path: str) -> Iterator[IO[bytes]]:
    """The file as a binary stream (stdin for ``-``); one usage error line for a file that cannot be read, also
    when reading it fails half-way (a directory, a vanished mount)."""
    if path == STDIN:
        yield sys.stdin.buffer
        return
    try:
        stream = Path(path).open("rb")  # noqa: SIM115 - closed below, and its errors are told apart from ours
    except OSError as e:
        raise UsageError(f"{option}: cannot read {path}: {e.strerror or e}") from e
    try:
        yield stream
    except OSError as e:
        raise UsageError(f"{option}: cannot read {path}: {e.strerror or e}") from e
    finally:
        stream.close()


def _show(state: AppState, result: ErrorsResult) -> None:
    from incidentctl.render.investigate_errors import errors_table
    from incidentctl.render.investigate_errors_output import errors_output

    try:
        state.printer.result(
            "ErrorTemplates", errors_output(result), table=lambda console: errors_table(console, result)
        )
    except BrokenPipeError:
        raise
    except OSError as e:
        raise OutputError(f"cannot write the output to stdout: {e.strerror or e}") from e
