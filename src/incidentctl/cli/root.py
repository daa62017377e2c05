"""The root command group: global options before or after the subcommand, and errors turned into messages.

This is the one place where an exception becomes what the user sees (httpie's ``core.raw_main`` idea): a project
error becomes one line on stderr plus its exit code; anything unexpected becomes "internal error" with exit 1 and
a traceback only under ``--debug``.
"""

from __future__ import annotations

import logging
import sys
import traceback
from typing import Any

import typer
from typer._click import Context
from typer.core import TyperGroup

from incidentctl.cli.globalopts import hoist_global_options
from incidentctl.cli.state import AppState
from incidentctl.core.urls import redact_urls
from incidentctl.errors import IncidentctlError
from incidentctl.exitcodes import ExitCode
from incidentctl.render.printer import Printer

log = logging.getLogger("incidentctl")


class RootGroup(TyperGroup):
    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_global_options(list(args)))

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except IncidentctlError as err:
            state = _state(ctx)
            if state is not None and state.debug:
                _print_traceback()
            _printer(ctx).error(err)
            raise typer.Exit(int(err.exit_code)) from err
        except Exception as err:
            if _is_click_error(err):
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


def _is_click_error(err: Exception) -> bool:
    """Usage errors raised by the (vendored) click parser keep click's own handling and exit code 2."""
    from typer._click.exceptions import ClickException

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
        return redact_urls(super().format(record))


def _print_traceback() -> None:
    sys.stderr.write(redact_urls(traceback.format_exc()))


def configure_logging(debug: bool) -> None:
    """``--debug`` turns on the library's own logging on stderr; secrets are masked by the adapters.

    Idempotent: one handler at most, so running the CLI many times in one process (tests, embedding) does not
    pile up handlers; without ``--debug`` the handler is removed again.
    """
    root = logging.getLogger("incidentctl")
    for handler in [h for h in root.handlers if isinstance(h, _CurrentStderr)]:
        root.removeHandler(handler)
    if not debug:
        root.setLevel(logging.WARNING)
        return
    handler = _CurrentStderr()
    handler.setFormatter(_RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
