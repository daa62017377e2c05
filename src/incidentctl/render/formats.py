"""The ``-o/--output`` formats, and which ones a command accepts."""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

from incidentctl.errors import UsageError


class OutputFormat(str, Enum):
    TABLE = "table"
    JSON = "json"
    YAML = "yaml"
    MARKDOWN = "markdown"

    @property
    def is_machine(self) -> bool:
        """json and yaml are for programs: stable envelopes, errors included, nothing decorative."""
        return self in (OutputFormat.JSON, OutputFormat.YAML)


#: What most commands accept; a command with a document to show (a timeline, a post-mortem) adds markdown.
STANDARD_FORMATS = (OutputFormat.TABLE, OutputFormat.JSON, OutputFormat.YAML)


def parse_output(value: str, allowed: Iterable[OutputFormat] = STANDARD_FORMATS) -> OutputFormat:
    """Turn the ``-o`` value into a format this command can produce, or say which ones it can."""
    allowed = tuple(allowed)
    try:
        fmt = OutputFormat(value.strip().lower())
    except ValueError:
        fmt = None
    if fmt is None or fmt not in allowed:
        choices = ", ".join(f.value for f in allowed)
        raise UsageError(f"unsupported output format {value!r} for this command (choose {choices})")
    return fmt
