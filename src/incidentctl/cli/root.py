"""The root command group: global options before or after the subcommand, and errors turned into messages.

This is the one place where an exception becomes what the user sees (httpie's ``core.raw_main`` idea): a project
error becomes one line on stderr plus its exit code; anything unexpected becomes "internal error" with exit 1 and
a traceback only under ``--debug``. Click's usage errors (an unknown option or command, a bad value, a missing
argument) take the same way, and a closed stdout ends every command with 141 (see ``closedpipe``).
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import MutableMapping
from typing import Any

import typer
from typer.core import TyperGroup

from incidentctl.cli.closedpipe import is_closed_pipe, quiet_on_closed_pipe
from incidentctl.cli.globalopts import hoist_global_options, output_value
from incidentctl.cli.helpstyle import kubectl_style
from incidentctl.cli.state import AppState
from incidentctl.cli.typercompat import ClickException, Context, NoArgsIsHelpError
from incidentctl.cli.typercompat import UsageError as ClickUsageError
from incidentctl.core.urls import redact_urls
from incidentctl.errors import IncidentctlError, UsageError
from incidentctl.exitcodes import ExitCode
from incidentctl.render.formats import OutputFormat, parse_output
from incidentctl.render.printer import Printer

log = logging.getLogger("incidentctl")


class RootGroup(TyperGroup):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = (self.context_settings or {}).get("help_option_names", ["--help"])
        kubectl_style(self, list(names))

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_global_options(list(args)))

    def _main_shell_completion(
        self, ctx_args: MutableMapping[str, Any], prog_name: str, complete_var: str | None = None
    ) -> None:
        """Click's hook for a Tab press: answered on Click's protocol by ``cli.shellcomplete``, not Typer's."""
        from incidentctl.cli.shellcomplete import answer_completion_request

        answer_completion_request(self, ctx_args)

    def make_context(
        self, info_name: str | None, args: list[str], parent: Context | None = None, **extra: Any
    ) -> Context:
        """The root's own options are parsed here, before any command runs: a usage error in them (``--bogus``,
        ``-o`` without a value) is reported like every other, in the format the raw command line asks for."""
        try:
            with quiet_on_closed_pipe():  # --version and --help print while the options are parsed
                return super().make_context(info_name, args, parent, **extra)
        except ClickUsageError as err:
            if isinstance(err, NoArgsIsHelpError):  # a bare group prints its help, as Typer does
                raise
            obj = extra.get("obj")
            state = obj if isinstance(obj, AppState) else None
            with quiet_on_closed_pipe():
                code = _report_usage_error(err, output_value(list(args)), state)
            raise typer.Exit(code) from err

    def invoke(self, ctx: Context) -> Any:
        with quiet_on_closed_pipe():  # also while an error is being printed
            return self._invoke(ctx)

    def _invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except ClickUsageError as err:  # a subcommand's options, arguments or name
            if isinstance(err, NoArgsIsHelpError):
                raise
            output = ctx.find_root().params.get("output")
            if err.ctx is None:  # raised by the option parser, which knows no command: name the nearest one
                err.ctx = ctx
                if ctx.invoked_subcommand:
                    err.ctx = Context(
                        self.get_command(ctx, ctx.invoked_subcommand) or self, ctx, ctx.invoked_subcommand
                    )
            raise typer.Exit(_report_usage_error(err, output, _state(ctx))) from err
        except IncidentctlError as err:
            state = _state(ctx)
            if state is not None and state.debug:
                _print_traceback()
            _printer(ctx).error(err)
            raise typer.Exit(int(err.exit_code)) from err
        except Exception as err:
            if _is_click_error(err) or is_closed_pipe(err):
                raise
            state = _state(ctx)
            if state is not None and state.debug:
                _print_traceback()
            internal = IncidentctlError(
                f"internal error: {type(err).__name__}: {err}",
                hint="this is a bug in incidentctl; run again with --debug for the traceback and report it",
            )
            _printer(ctx).error(internal)
            raise typer.Exit(int(ExitCode.INTERNAL_ERROR)) from err


def _report_usage_error(err: ClickUsageError, output: object, state: AppState | None) -> int:
    """Print a Click usage error as incidentctl prints every error; returns its exit code (2).

    Typer would draw a box with the usage on stderr and print nothing on stdout; a script that asked for
    ``-o json`` gets the error envelope instead, and a person one ``error:`` line and where to look for usage.
    An ``-o`` value that is itself invalid (``-o xml``) falls back to the person's format.
    """
    try:
        fmt = parse_output(output, tuple(OutputFormat)) if isinstance(output, str) else OutputFormat.TABLE
    except UsageError:
        fmt = OutputFormat.TABLE
    printer = state.printer if state is not None else Printer()
    printer.format = fmt
    error = usage_error(err)
    printer.error(error)
    return int(error.exit_code)


def usage_error(err: ClickUsageError) -> UsageError:
    """Click's message on one line, in the lower-case style of incidentctl's own errors, with a usage hint."""
    message = " ".join(err.format_message().split()).replace("Value error, ", "")
    if message[:1].isupper() and message[1:2].islower():
        message = message[0].lower() + message[1:]
    hint = None
    ctx = err.ctx
    if ctx is not None and ctx.command.get_help_option(ctx) is not None:
        hint = f"see '{ctx.command_path} {ctx.help_option_names[0]}' for usage"
    return UsageError(message, hint=hint)


def _is_click_error(err: Exception) -> bool:
    """The (vendored) click's other exceptions (a file it could not open) keep click's own handling."""
    return isinstance(err, ClickException)


def _state(ctx: Context) -> AppState | None:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, AppState) else None


def _printer(ctx: Context) -> Printer:
    state = _state(ctx)
    return state.printer if state is not None else Printer()


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is now (test runners swap it), never to a stream that was closed."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


class _RedactingFormatter(logging.Formatter):
    """The last guard for ``--debug``: a URL in any log line or traceback (httpx's errors quote theirs) is shown
    without the credentials it can carry."""

    def format(self, record: logging.LogRecord) -> str:
        from incidentctl.adapters.secrets import redact_every_known

        return redact_urls(redact_every_known(super().format(record)))


def _print_traceback() -> None:
    sys.stderr.write(redact_urls(traceback.format_exc()))


def configure_logging(debug: bool) -> None:
    """``--debug`` turns on the library's own logging on stderr; secrets are masked by the adapters.

    Idempotent: one handler at most, so running the CLI many times in one process (tests, embedding) does not
    pile up handlers; without ``--debug`` the handler is removed again.
    """
    handler = _CurrentStderr()
    handler.setFormatter(_RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    # httpx's own lines (each request and its status) show what a channel did; its URLs carry tokens, which the
    # formatter masks like every other secret
    for name, level in (("incidentctl", logging.DEBUG), ("httpx", logging.INFO)):
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if isinstance(h, _CurrentStderr)]:
            logger.removeHandler(old)
        if not debug:
            logger.setLevel(logging.WARNING)
            continue
        logger.addHandler(handler)
        logger.setLevel(level)
