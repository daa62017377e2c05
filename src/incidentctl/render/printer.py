"""One object that knows where output goes: data on stdout, diagnostics and progress on stderr.

Consoles are created on first use and bound to the *current* ``sys.stdout``/``sys.stderr`` so that test runners
that swap the streams capture everything (or given, to show a command on a terminal of a known size). rich honours
``NO_COLOR`` and only colours a terminal. Messages carry user and cluster text, so they pass ``core.text`` first.
"""

from __future__ import annotations

import errno
import sys
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

from incidentctl.core.text import for_terminal
from incidentctl.errors import IncidentctlError
from incidentctl.render.envelope import dumps, envelope, error_envelope
from incidentctl.render.formats import OutputFormat

if TYPE_CHECKING:
    from rich.console import Console

TableRenderer = Callable[["Console"], None]


class Printer:
    def __init__(
        self, fmt: OutputFormat = OutputFormat.TABLE, *, out: Console | None = None, err: Console | None = None
    ) -> None:
        self.format = fmt
        self._out: Console | None = out
        self._err: Console | None = err
        self._fixed_out = out is not None
        self._fixed_err = err is not None

    @property
    def out(self) -> Console:
        if self._out is None or (not self._fixed_out and self._out.file is not sys.stdout):
            self._out = _console(sys.stdout)
        return self._out

    @property
    def err(self) -> Console:
        if self._err is None or (not self._fixed_err and self._err.file is not sys.stderr):
            self._err = _console(sys.stderr)
        return self._err

    def result(
        self,
        kind: str,
        data: Any,
        *,
        table: TableRenderer | None = None,
        markdown: Callable[[], str] | None = None,
    ) -> None:
        """Print a command's result in the chosen format."""
        if self.format.is_machine:
            sys.stdout.write(dumps(envelope(kind, data), self.format.value))
        elif self.format is OutputFormat.MARKDOWN and markdown is not None:
            sys.stdout.write(markdown())
        elif table is not None:
            table(self.out)
        else:  # a command without a table view falls back to yaml, which people read well
            sys.stdout.write(dumps(envelope(kind, data)["data"], "yaml"))
        sys.stdout.flush()

    def error(self, err: IncidentctlError) -> None:
        """One line on stderr (plus the hint and any detail lines); the envelope on stdout for machines."""
        from rich.markup import escape

        self.err.print(f"[bold red]error:[/] {escape(for_terminal(str(err)))}")
        for line in err.shown_details():
            self.err.print(f"  {escape(for_terminal(line))}")
        if err.hint:
            self.err.print(f"[dim]hint: {escape(for_terminal(err.hint))}[/]")
        if self.format.is_machine:
            try:
                sys.stdout.write(dumps(error_envelope(err), self.format.value))
                sys.stdout.flush()
            except OSError as e:  # stdout itself may be what failed; the line above said so
                if e.errno == errno.EPIPE:
                    raise  # a reader that went away ends the command with 141, as everywhere

    def note(self, message: str) -> None:
        """A diagnostic for the human (stderr), never mixed into data."""
        from rich.markup import escape

        self.err.print(escape(for_terminal(message)))

    def warn(self, message: str) -> None:
        from rich.markup import escape

        self.err.print(f"[yellow]warning:[/] {escape(for_terminal(message))}")


def _console(file: IO[str]) -> Console:
    """A rich console that lets a closed pipe surface as ``BrokenPipeError``.

    rich's own reaction is ``SystemExit(1)``, which a script cannot tell from a failure; the CLI turns the error
    into the exit code every command uses for a reader that went away (141).
    """
    from rich.console import Console

    class _PipeConsole(Console):
        def on_broken_pipe(self) -> None:
            raise BrokenPipeError(errno.EPIPE, "the reader of this output went away")

    return _PipeConsole(file=file, highlight=False, soft_wrap=True)
