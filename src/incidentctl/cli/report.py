"""``incidentctl report daily|weekly|monthly``: the runbook's incident metrics over a period, from the journal.

Parsing only: the use case is :mod:`incidentctl.phases.report`. It needs no cluster.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Optional

import typer

from incidentctl.cli.state import AppState

if TYPE_CHECKING:
    from incidentctl.phases.report.period import Period

app = typer.Typer(
    help="Incident metrics from the journal: MTTD, MTTA, MTTR, escalation rate, post-mortem and action-item "
    "completion, communication timeliness, SLA compliance; as tables and charts, JSON or a markdown document.",
    no_args_is_help=True,
)

SinceOption = Annotated[
    Optional[str],  # noqa: UP045 - Typer reads the annotation at run time on Python 3.10
    typer.Option(
        "--since",
        metavar="TIME",
        help="Start of the period: a date (2026-03-01), an RFC 3339 time, or a duration ago (30d).",
        show_default=False,
    ),
]
UntilOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--until",
        metavar="TIME",
        help="End of the period (default: now); a date includes that whole day.",
        show_default=False,
    ),
]


def _report(ctx: typer.Context, period: Period, since: str | None, until: str | None) -> None:
    from incidentctl.phases.report.run import ReportRequest, run_report
    from incidentctl.render.formats import STANDARD_FORMATS, OutputFormat
    from incidentctl.render.report import report_markdown, show_report
    from incidentctl.render.report_output import ReportOutput

    state: AppState = ctx.obj
    fmt = state.output_format((*STANDARD_FORMATS, OutputFormat.MARKDOWN))
    request = ReportRequest(period, since, until, document=fmt is OutputFormat.MARKDOWN)
    context = state.phase_context(cluster=False)
    try:
        result = run_report(context, request)
    finally:  # what the journal noticed while reading (a torn or damaged line) is said, even if the report failed
        for warning in context.journal().drain_warnings():
            state.printer.warn(warning)
    state.printer.result(
        "Report",
        ReportOutput.model_validate(result),
        table=lambda console: show_report(console, result),
        markdown=lambda: report_markdown(result),
    )
    raise typer.Exit(int(result.exit_code))


@app.command()
def daily(ctx: typer.Context, since: SinceOption = None, until: UntilOption = None) -> None:
    """The last 24 hours (or --since/--until): incident summary, response metrics, trends by the hour."""
    _report(ctx, "daily", since, until)


@app.command()
def weekly(ctx: typer.Context, since: SinceOption = None, until: UntilOption = None) -> None:
    """The last 7 days (or --since/--until): trends by the day, response metrics by severity, improvements."""
    _report(ctx, "weekly", since, until)


@app.command()
def monthly(ctx: typer.Context, since: SinceOption = None, until: UntilOption = None) -> None:
    """The last 30 days (or --since/--until): incident analysis, SLA compliance per calendar month, improvements."""
    _report(ctx, "monthly", since, until)
