"""How ``investigate logs`` shows lines: ``pod container text``, as stern does.

On a terminal the pod name is coloured and the container name in the paler shade of the same colour, chosen by
the FNV-1 hash of the pod's name (stern's rule), so a pod keeps its colour from one run to the next and between
``--follow`` sessions. Piped, the same text comes without colour (rich honours ``NO_COLOR`` and non-terminals),
and with ``-o json`` each line is one envelope (NDJSON). The log text itself always passes
:func:`incidentctl.core.text.one_line`: a container's colour codes, a cursor move or a window-title sequence in
its log are dropped and other control characters shown escaped, so a log line never reaches the terminal raw.

Notes on what joins and leaves (``+ pod › container``, ``- pod › container``) and on logs that could not be read go
to stderr: stdout carries only the log.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from incidentctl.core.text import one_line
from incidentctl.core.times import format_rfc3339
from incidentctl.render.envelope import dumps, envelope
from incidentctl.render.formats import OutputFormat
from incidentctl.render.investigate_logs_output import LogProblemOutput

if TYPE_CHECKING:
    from incidentctl.phases.investigate.logs import LogLine, LogSource, SourceError
    from incidentctl.render.printer import Printer

#: (pod, container) colours, stern's list.
PALETTE = (
    ("bright_cyan", "cyan"),
    ("bright_green", "green"),
    ("bright_magenta", "magenta"),
    ("bright_yellow", "yellow"),
    ("bright_blue", "blue"),
    ("bright_red", "red"),
)


def fnv1_32(text: str) -> int:
    """FNV-1, 32 bits (Go's ``hash/fnv.New32``): stable across runs, unlike Python's salted ``hash``."""
    value = 0x811C9DC5
    for byte in text.encode():
        value = ((value * 0x01000193) & 0xFFFFFFFF) ^ byte
    return value


def pod_colours(pod: str) -> tuple[str, str]:
    return PALETTE[fnv1_32(pod) % len(PALETTE)]


class LogWriter:
    """Writes lines in the chosen format; ``flush_each`` for ``--follow`` (a reader sees each line at once)."""

    def __init__(self, printer: Printer, *, timestamps: bool = False, flush_each: bool = False) -> None:
        self.printer = printer
        self.timestamps = timestamps
        self.flush_each = flush_each
        self.format = printer.format
        self._colour = not printer.format.is_machine and printer.out.is_terminal and not printer.out.no_color
        self.count = 0

    def line(self, line: LogLine) -> None:
        self.count += 1
        if self.format.is_machine:
            self._document("LogLine", line)  # LogLineOutput reads it by attribute
            return
        stamp = format_rfc3339(line.time, "milliseconds") + " " if self.timestamps and line.time is not None else ""
        marker = " (previous)" if line.previous else ""
        text = one_line(line.text)
        if self._colour:
            from rich.text import Text

            pod_style, container_style = pod_colours(line.pod)
            rendered = Text.assemble(
                (stamp, "dim"), (one_line(line.pod), pod_style), " ", (one_line(line.container), container_style)
            )
            rendered.append(f"{marker} ")
            rendered.append(text)
            self.printer.out.print(rendered)
        else:
            sys.stdout.write(f"{stamp}{one_line(line.pod)} {one_line(line.container)}{marker} {text}\n")
        if self.flush_each:
            sys.stdout.flush()

    def problem(self, component: str, source: LogSource | None, problem: str, message: str) -> None:
        """A log that is not there: a warning for people (a note when it is expected), a document for machines."""
        if self.format.is_machine:
            data = LogProblemOutput(
                component=component,
                pod=source.pod if source is not None else None,
                container=source.container if source is not None else None,
                previous=source.previous if source is not None else False,
                problem=problem,
                message=message,
            )
            self._document("LogProblem", data)
        if problem in ("no-previous", "not-started"):
            self.printer.note(message)
        else:
            self.printer.warn(message)

    def source_error(self, err: SourceError) -> None:
        self.problem(err.source.component, err.source, err.problem.value, err.message)

    def joined(self, source: LogSource) -> None:
        self._marker("+", "bright_green", source)

    def left(self, source: LogSource, error: Exception | None = None) -> None:
        if error is not None:
            self.problem(source.component, source, "failed", f"{source.label}: {error}")
        self._marker("-", "bright_red", source)

    def _marker(self, sign: str, style: str, source: LogSource) -> None:
        if self.format.is_machine:
            return
        from rich.markup import escape

        pod_style, container_style = pod_colours(source.pod)
        self.printer.err.print(
            f"[bold {style}]{sign}[/] [{pod_style}]{escape(one_line(source.pod))}[/] › "
            f"[{container_style}]{escape(one_line(source.container))}[/]"
        )

    def _document(self, kind: str, data: Any) -> None:
        fmt = self.format
        doc = envelope(kind, data)
        sys.stdout.write(dumps(doc, "json", compact=True) if fmt is OutputFormat.JSON else "---\n" + dumps(doc, "yaml"))
        if self.flush_each:
            sys.stdout.flush()

    def close(self) -> None:
        sys.stdout.flush()
