"""``incidentctl detect`` and ``incidentctl triage``: the runbook's first five minutes in two commands."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Optional

import typer

from incidentctl.cli.state import AppState
from incidentctl.cli.typercompat import OptionalValueCommand
from incidentctl.errors import IncidentctlError, OutputError, UsageError
from incidentctl.exitcodes import ExitCode

if TYPE_CHECKING:
    from incidentctl.phases.context import PhaseContext
    from incidentctl.phases.detect import DetectReport, DetectRequest, DetectResult

#: Seconds between ``detect --watch`` runs when none are given.
WATCH_INTERVAL = 10.0

ComponentOption = Annotated[
    Optional[list[str]],  # noqa: UP045 - Typer reads the annotation at run time on Python 3.10
    typer.Option(
        "--component", "-c", metavar="NAME", help="Only this component (repeat for more).", show_default=False
    ),
]
SelectorOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "-l",
        "--selector",
        metavar="SELECTOR",
        help="Only components whose pods match this label selector (app=gateway).",
        show_default=False,
    ),
]
SinceOption = Annotated[
    str, typer.Option("--since", metavar="DURATION", help="Restarts within this window count as recent.")
]
IncidentOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--incident",
        metavar="ID",
        help="Record in this incident's timeline (default: the only open incident, if there is one).",
        show_default=False,
    ),
]


class DetectCommand(OptionalValueCommand):
    """``--watch [SECONDS]``: a bare ``--watch`` (or ``-w``) watches every ``WATCH_INTERVAL`` seconds."""

    optional_values: ClassVar[dict[str, str]] = {"--watch": f"{WATCH_INTERVAL:g}", "-w": f"{WATCH_INTERVAL:g}"}


def detect(
    ctx: typer.Context,
    component: ComponentOption = None,
    selector: SelectorOption = None,
    since: SinceOption = "1h",
    junit: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--junit", metavar="FILE", help="Also write a JUnit XML report (for CI).", show_default=False),
    ] = None,
    watch: Annotated[
        Optional[float],  # noqa: UP045
        typer.Option(
            "-w",
            "--watch",
            metavar="[SECONDS]",
            help=f"Check again every SECONDS (default {WATCH_INTERVAL:g}) in a live view until Ctrl-C.",
            min=1.0,
            max=86400.0,  # a day; beyond what time.sleep can take lies an OverflowError
            show_default=False,
        ),
    ] = None,
    incident: IncidentOption = None,
) -> None:
    """Check every component, dependency and datastore at once. Exit 0 healthy, 3 problems, 4 unreachable."""
    state: AppState = ctx.obj
    state.output_format()
    if junit is not None:  # an output that cannot be written is said before any check runs, not after all
        from incidentctl.render.detect import check_output_path

        check_output_path("--junit", junit)
    request = _detect_request(component, selector, since, incident)
    phase = state.phase_context()
    if watch is not None:
        raise typer.Exit(_watch(state, phase, request, junit, watch))
    from incidentctl.phases.detect import run_detect

    result = run_detect(phase, request)
    report = result.report
    _say_recorded(state, result)
    if junit is not None:
        from incidentctl.render.detect import write_junit

        write_junit(junit, report)
    if report.cluster_error is not None:  # what could be seen, then the error that kept the rest from view
        from incidentctl.render.detect import show_incomplete

        show_incomplete(state.printer, report, report.cluster_error)
        raise typer.Exit(int(result.exit_code))
    with _writing_output(result.recorded_in):
        _show_report(state, report)
    raise typer.Exit(int(result.exit_code))


def triage(
    ctx: typer.Context,
    declare: Annotated[bool, typer.Option("--declare", help="Open the incident (or update the open one).")] = False,
    title: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "-t",
            "--title",
            metavar="TEXT",
            help="Title when declaring (default: from the findings).",
            show_default=False,
        ),
    ] = None,
    component: ComponentOption = None,
    selector: SelectorOption = None,
    since: SinceOption = "1h",
    incident: IncidentOption = None,
    force_severity: Annotated[
        bool,
        typer.Option(
            "--force-severity",
            help="With --declare: set the severity the rules choose even if that lowers one a person set.",
        ),
    ] = False,
) -> None:
    """Classify what detect sees with the runbook's rules: severity with the reason, impact, who to tell by when."""
    from incidentctl.phases.detect import run_detect
    from incidentctl.phases.triage import TriageRequest, run_triage
    from incidentctl.render.detect import triage_data, triage_table

    state: AppState = ctx.obj
    state.output_format()
    if force_severity and not declare:
        raise UsageError("--force-severity only applies with --declare (without it triage records nothing)")
    detect_request = replace(_detect_request(component, selector, since, incident), record=False)
    phase = state.phase_context()
    report = run_detect(phase, detect_request).report
    request = TriageRequest(report, declare=declare, title=title, force_severity=force_severity, incident=incident)
    outcome = run_triage(phase, request)
    _say_ambiguous(state, outcome.ambiguous)
    for warning in phase.journal().drain_warnings():
        state.printer.warn(warning)
    if outcome.action == "declared" and outcome.incident is not None and not state.printer.format.is_machine:
        state.printer.note(f"declared {outcome.incident.id}")
    data = triage_data(outcome, report)
    with _writing_output(outcome.incident.id if outcome.recorded and outcome.incident is not None else None):
        state.printer.result("Triage", data, table=lambda console: triage_table(console, outcome, report))
    raise typer.Exit(int(outcome.exit_code))


# --- shared -------------------------------------------------------------------------------------------------------


def _detect_request(
    component: list[str] | None, selector: str | None, since: str, incident: str | None
) -> DetectRequest:
    """The options detect and triage share, parsed: ``-c a,b -c c`` is three components."""
    from incidentctl.core.times import parse_duration
    from incidentctl.phases.detect import DetectRequest

    try:
        window = parse_duration(since)
    except ValueError as e:
        raise UsageError(f"--since: {e}") from e
    names = tuple(n.strip() for raw in component or [] for n in raw.split(",") if n.strip())
    return DetectRequest(components=names, label_selector=selector, window=window, incident=incident)


def _show_report(state: AppState, report: DetectReport) -> None:
    from incidentctl.render.detect import report_data, report_table

    state.printer.result("DetectReport", report_data(report), table=lambda console: report_table(console, report))


def _say_recorded(state: AppState, result: DetectResult) -> None:
    """For people: where the look went, or why it went nowhere."""
    _say_ambiguous(state, result.ambiguous)
    recorded = result.recorded
    if recorded is None or state.printer.format.is_machine:
        return
    if recorded.event is not None:
        state.printer.note(f"recorded in {result.incident_id}")
    elif recorded.previous is not None:
        at = recorded.previous.time.strftime("%H:%M:%S %Z").strip()
        state.printer.note(f"{result.incident_id}: no change since the look recorded at {at}; nothing recorded")


def _say_ambiguous(state: AppState, open_ids: tuple[str, ...]) -> None:
    if open_ids:
        ids = ", ".join(open_ids[:5])
        state.printer.note(f"{len(open_ids)} incidents are open ({ids}); name one with --incident to record there")


@contextlib.contextmanager
def _writing_output(recorded_in: str | None) -> Iterator[None]:
    """The journal is written before the report is printed (what was seen is the record, and a full disk under
    stdout must not lose it); a report that cannot be written is then one error line that says what was recorded.
    A closed pipe (``| head``) is not an error of this kind and is left to the usual handling."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as e:
        recorded = f"; {recorded_in} has it recorded in its timeline" if recorded_in else ""
        raise OutputError(f"cannot write the output to stdout: {e.strerror or e}{recorded}") from e


def _watch(state: AppState, phase: PhaseContext, request: DetectRequest, junit: Path | None, interval: float) -> int:
    """A live view until Ctrl-C; the exit code is the last round's.

    The journal gets an entry only when what detect sees changes. A cluster that cannot be reached is shown (and
    retried) rather than ending the watch: an outage of the API is exactly when one is watching. On a terminal the
    view is redrawn in place; elsewhere (``| tee watch.log``) each round is printed after the last, and machine
    formats print one document per round: a compact JSON line with ``-o json``, ``---`` separated with yaml.
    """
    import gc

    from incidentctl.adapters.kube import KubeError
    from incidentctl.phases.detect import run_detect
    from incidentctl.render.detect import write_junit

    gc.enable()  # runs for hours: collect garbage as usual (the entry point starts with it off)
    view = _WatchView(state, interval)
    code = int(ExitCode.OK)
    last: str | None = None
    try:
        while True:
            result = run_detect(phase, replace(request, unchanged_from=last))
            err = result.report.cluster_error
            if err is not None and not isinstance(err, KubeError):
                raise err
            code = int(result.exit_code)
            if err is not None:  # the cluster could not be used at all (detect's only error after start-up)
                view.error(err)
            else:
                last = result.summary
                _say_recorded(state, result)
                if junit is not None:
                    write_junit(junit, result.report)
                view.report(result.report)
            state.sleep(interval)
    except KeyboardInterrupt:
        return code
    finally:
        view.close()


class _WatchView:
    """Where ``detect --watch`` shows each round: a live view on a terminal, else one round after another.

    The live view is fitted to the terminal's height with the verdict line on top (rich would cut a view taller
    than the terminal at the bottom, hiding the verdict). Off a terminal an outage prints the last picture once,
    then one line a round until the cluster answers again: a log of a long outage stays readable.
    """

    def __init__(self, state: AppState, interval: float) -> None:
        self._state = state
        self._interval = interval
        self._last: DetectReport | None = None
        self._outage: IncidentctlError | None = None
        self._live: Any = None
        if not state.printer.format.is_machine and state.printer.out.is_terminal:
            from rich.live import Live

            self._live = Live(console=state.printer.out, auto_refresh=False, transient=False)
            self._live.start()

    def report(self, report: DetectReport) -> None:
        from incidentctl.render.detect import finding_lines, fit_height, report_data, report_renderable
        from incidentctl.render.envelope import envelope

        self._last, self._outage = report, None
        if self._state.printer.format.is_machine:
            self._emit(envelope("DetectReport", report_data(report)))
        elif self._live is not None:
            console = self._state.printer.out
            view = fit_height(
                console,
                lambda findings: report_renderable(report, findings=findings, headline_first=True),
                finding_lines(report),
            )
            self._show(view)
        else:
            self._show(report_renderable(report))

    def error(self, err: IncidentctlError) -> None:
        from incidentctl.render.detect import finding_lines, fit_height, still_unreachable, unreachable_renderable
        from incidentctl.render.envelope import error_envelope

        previous, self._outage = self._outage, err
        now = self._state.clock()
        if self._state.printer.format.is_machine:
            self._emit(error_envelope(err))
        elif self._live is not None:
            last = self._last
            view = fit_height(
                self._state.printer.out,
                lambda findings: unreachable_renderable(err, now, self._interval, last, findings=findings),
                finding_lines(last) if last is not None else 0,
            )
            self._show(view)
        elif previous is not None:
            self._state.printer.out.print(still_unreachable(err, now, previous))
        else:
            self._show(unreachable_renderable(err, now, self._interval, self._last))

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()

    def _show(self, renderable: Any) -> None:
        if self._live is not None:
            self._live.update(renderable, refresh=True)
        else:
            self._state.printer.out.print(renderable)
            self._state.printer.out.print()

    def _emit(self, doc: dict[str, Any]) -> None:
        import sys

        from incidentctl.render.envelope import dumps

        fmt = self._state.printer.format.value
        if fmt == "json":  # one compact line per round, for line-oriented readers
            sys.stdout.write(dumps(doc, fmt, compact=True))
        else:
            sys.stdout.write("---\n" + dumps(doc, fmt))
        sys.stdout.flush()
