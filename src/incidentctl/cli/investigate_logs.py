"""``incidentctl investigate logs [COMPONENT...]``: the logs of every pod, merged in time order (stern's view)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Optional

import typer

from incidentctl.cli.investigate_common import IncidentOption, NoSaveOption, evidence_request, say_kept
from incidentctl.cli.state import AppState
from incidentctl.errors import UsageError
from incidentctl.exitcodes import ExitCode

if TYPE_CHECKING:
    from incidentctl.phases.investigate.grep import LineFilter
    from incidentctl.phases.investigate.logs import LogFetch, LogsRequest
    from incidentctl.phases.investigate.saving import EvidenceRequest
    from incidentctl.render.investigate_logs import LogWriter


def logs(
    ctx: typer.Context,
    components: Annotated[
        Optional[list[str]],  # noqa: UP045 - Typer reads the annotation at run time on Python 3.10
        typer.Argument(metavar="[COMPONENT]...", help="Components of the runbook (default: all).", show_default=False),
    ] = None,
    since: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--since",
            metavar="DURATION|TIME",
            help="Only lines newer than this: a duration (1h, 15m) or an RFC 3339 time.",
            show_default=False,
        ),
    ] = None,
    tail: Annotated[
        int,
        typer.Option("--tail", metavar="N", help="The last N lines of each container (-1: all).", min=-1),
    ] = -1,
    grep: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--grep", metavar="REGEX", help="Only lines matching this regular expression.", show_default=False
        ),
    ] = None,
    ignore_case: Annotated[bool, typer.Option("-i", "--ignore-case", help="--grep ignores case.")] = False,
    previous: Annotated[
        bool,
        typer.Option(
            "-p", "--previous", help="The previous instance of each container (where a crash loop's evidence is)."
        ),
    ] = False,
    follow: Annotated[
        bool, typer.Option("-f", "--follow", help="Stream the logs; pods that start later join. Ctrl-C ends.")
    ] = False,
    timestamps: Annotated[
        bool, typer.Option("--timestamps", help="Show the kubelet's time stamp of each line.")
    ] = False,
    concurrency: Annotated[
        int, typer.Option("--concurrency", metavar="N", help="Logs read at the same time.", min=1, max=512)
    ] = 64,
    incident: IncidentOption = None,
    no_save: NoSaveOption = False,
) -> None:
    """Every container of every pod of each component, fetched at once and merged in time order.

    Exit 0 when every log was read, 3 when one could not be (or a component has no pods), 4 when the cluster
    cannot be reached. One file per container is kept in the open incident; --follow keeps nothing.
    """
    from incidentctl.phases.investigate.grep import LineFilter, compile_grep
    from incidentctl.render.investigate_logs import LogWriter

    state: AppState = ctx.obj
    state.output_format()
    pattern = compile_grep(grep, ignore_case=ignore_case) if grep is not None else None
    evidence = evidence_request(ctx, incident, no_save)
    request = _request(state, components or [], since, tail, previous, concurrency, evidence)
    writer = LogWriter(state.printer, timestamps=timestamps, flush_each=follow)
    line_filter = LineFilter(pattern) if pattern is not None else None
    try:
        state.phase_context()  # a kubeconfig that cannot work is one line before anything is read
        run = _follow if follow else _fetch
        code = run(state, request, writer, line_filter)
    except KeyboardInterrupt:
        writer.close()
        raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
    raise typer.Exit(code)


def _request(
    state: AppState,
    components: list[str],
    since: str | None,
    tail: int,
    previous: bool,
    concurrency: int,
    evidence: EvidenceRequest,
) -> LogsRequest:
    from incidentctl.core.times import parse_duration, parse_point_in_time
    from incidentctl.phases.investigate.logs import LogsRequest, Previous

    names = tuple(n.strip() for raw in components for n in raw.split(",") if n.strip())
    window = since_time = None
    if since is not None:
        try:
            window = parse_duration(since)
        except ValueError:
            try:
                since_time = parse_point_in_time(since, state.clock())
            except ValueError as e:
                raise UsageError(f"--since: {e}") from e
    return LogsRequest(
        components=names,
        since=window,
        since_time=since_time,
        tail=None if tail < 0 else tail,
        previous=Previous.ONLY if previous else Previous.CURRENT,
        concurrency=concurrency,
        evidence=evidence,
    )


def _fetch(state: AppState, request: LogsRequest, writer: LogWriter, line_filter: LineFilter | None) -> int:
    from incidentctl.phases.investigate.logs import run_logs

    fetch = run_logs(state.phase_context(), request)
    if fetch.cluster_error is not None:
        raise fetch.cluster_error
    _say_missing(fetch, writer)
    matched = _write(fetch, writer, line_filter)
    writer.close()
    if not state.printer.format.is_machine:
        if not fetch.sources:
            state.printer.note("no log was read")
        elif line_filter is not None and not matched:
            state.printer.note(f"no line of {len(fetch.sources)} log(s) matches --grep {line_filter.pattern.pattern!r}")
    say_kept(state, fetch.kept, in_document=False)
    if fetch.kept.error is not None:  # the logs were shown first: nothing seen is lost
        raise fetch.kept.error
    return fetch.exit_code


def _say_missing(fetch: LogFetch, writer: LogWriter) -> None:
    for component, why in fetch.unmatched:
        writer.problem(component, None, "no-pods", f"{component}: {why}")
    for err in fetch.errors:
        writer.source_error(err)


def _write(fetch: LogFetch, writer: LogWriter, line_filter: LineFilter | None) -> int:
    if line_filter is None:
        for line in fetch.lines:
            writer.line(line)
        return len(fetch.lines)
    matched = 0
    with line_filter.armed():
        for line in fetch.lines:
            if line_filter.matches(line.text):
                writer.line(line)
                matched += 1
    return matched


def _follow(state: AppState, request: LogsRequest, writer: LogWriter, line_filter: LineFilter | None) -> int:
    """Until Ctrl-C (exit 130); a closed pipe ends it as every command ends (141)."""
    import contextlib
    import gc

    from incidentctl.phases.investigate.logs import Joined, Left, ListFailed, LogLine, NoPods, follow_logs

    gc.enable()  # runs for hours: collect garbage as usual (the entry point starts with it off)
    armed = line_filter.armed() if line_filter is not None else contextlib.nullcontext()
    with armed:
        for event in follow_logs(state.phase_context(), request):
            if isinstance(event, LogLine):
                if line_filter is None or line_filter.matches(event.text):
                    writer.line(event)
            elif isinstance(event, Joined):
                writer.joined(event.source)
            elif isinstance(event, Left):
                writer.left(event.source, event.error)
            elif isinstance(event, NoPods):
                writer.problem(event.component, None, "no-pods", f"{event.component}: {event.why} (waiting for pods)")
            elif isinstance(event, ListFailed):
                state.printer.warn(f"cannot list the pods (trying again): {event.error}")
    return int(ExitCode.OK)
