"""The ``incidentctl`` command tree.

Only Typer lives in ``cli/``: each module parses options, calls into a phase (or the journal), and hands the
result to ``render``. Heavy libraries (kubernetes, httpx, jinja2) are imported inside the adapters that use them,
so ``incidentctl --help`` starts fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from incidentctl import __version__
from incidentctl.cli import demo as demo_cmd
from incidentctl.cli import detect as detect_cmd
from incidentctl.cli.communicate import app as communicate_app
from incidentctl.cli.completion import completion
from incidentctl.cli.escalate import app as escalate_app
from incidentctl.cli.incident import app as incident_app
from incidentctl.cli.investigate import app as investigate_app
from incidentctl.cli.journal import app as journal_app
from incidentctl.cli.mitigate import app as mitigate_app
from incidentctl.cli.postmortem import app as postmortem_app
from incidentctl.cli.report import app as report_app
from incidentctl.cli.root import RootGroup, configure_logging
from incidentctl.cli.runbook import app as runbook_app
from incidentctl.cli.sandbox import app as sandbox_app
from incidentctl.cli.schema import app as schema_app
from incidentctl.cli.state import AppState
from incidentctl.render.formats import OutputFormat, parse_output

app = typer.Typer(
    name="incidentctl",
    cls=RootGroup,
    help="Run an incident from the terminal: detect, triage, investigate, mitigate, communicate, post-mortem.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command("detect", cls=detect_cmd.DetectCommand)(detect_cmd.detect)
app.command("triage")(detect_cmd.triage)
app.command("demo")(demo_cmd.demo)
app.add_typer(runbook_app, name="runbook")
app.add_typer(incident_app, name="incident")
app.add_typer(investigate_app, name="investigate")
app.add_typer(mitigate_app, name="mitigate")
app.add_typer(communicate_app, name="communicate")
app.add_typer(escalate_app, name="escalate")
app.add_typer(postmortem_app, name="postmortem")
app.add_typer(report_app, name="report")
app.add_typer(journal_app, name="journal")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(schema_app, name="schema")
app.command("completion")(completion)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"incidentctl {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    runbook: Annotated[
        Optional[Path],  # noqa: UP045 - Typer reads the annotation at run time on Python 3.10
        typer.Option(
            "--runbook",
            metavar="PATH",
            help="Path to runbook.yaml (default: $INCIDENTCTL_RUNBOOK, then ./runbook.yaml).",
            show_default=False,
            readable=False,  # checked where the runbook is read, so the option and $INCIDENTCTL_RUNBOOK agree
        ),
    ] = None,
    context: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--context", metavar="NAME", help="The kubeconfig context to use.", show_default=False),
    ] = None,
    namespace: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "-n", "--namespace", metavar="NAMESPACE", help="Namespace (default: the runbook's).", show_default=False
        ),
    ] = None,
    kubeconfig: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--kubeconfig",
            metavar="PATH",
            help="Path to the kubeconfig file (default: $KUBECONFIG, ~/.kube/config).",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        str,
        typer.Option(
            "-o", "--output", metavar="FORMAT", help="Output format: table, json or yaml (some commands: markdown)."
        ),
    ] = "table",
    yes: Annotated[bool, typer.Option("-y", "--yes", help="Answer yes to confirmations (for scripts).")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show debug logs and tracebacks on stderr.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Global options work before or after the subcommand, as kubectl's do."""
    state = ctx.obj if isinstance(ctx.obj, AppState) else AppState()
    if runbook is not None:
        state.runbook_path = runbook
    state.context = context or state.context
    state.namespace = namespace or state.namespace
    state.kubeconfig = kubeconfig or state.kubeconfig
    state.output = output
    state.printer.format = parse_output(output, OutputFormat)  # each command narrows this further
    state.yes = yes or state.yes
    state.debug = debug or state.debug
    ctx.obj = state
    ctx.call_on_close(state.close_journal)  # the team journal's connections end with the command
    configure_logging(state.debug)
