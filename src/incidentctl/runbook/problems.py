"""A runbook problem, located in the file, and the error that carries a list of them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from incidentctl.errors import RunbookError

Loc = tuple[str | int, ...]


def format_loc(loc: Loc) -> str:
    """``components[1].health.url``: the key path as people read it."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


@dataclass(frozen=True)
class Problem:
    loc: Loc
    message: str
    hint: str | None = None
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based
    #: point at the key itself (an unknown or badly named key) rather than at its value
    at_key: bool = False

    def located(self, file: Path | str) -> str:
        where = f"{file}:{self.line}:{self.column}" if self.line is not None else str(file)
        path = f"{format_loc(self.loc)}: " if self.loc else ""
        return f"{where}: {path}{self.message}"

    def as_dict(self, file: Path | str) -> dict[str, object]:
        return {
            "file": str(file),
            "line": self.line,
            "column": self.column,
            "path": format_loc(self.loc) if self.loc else None,
            "message": self.message,
            "hint": self.hint,
        }


class RunbookInvalid(RunbookError):
    """The runbook failed validation; the first problem is the message, the rest are details."""

    def __init__(self, file: Path, problems: list[Problem]) -> None:
        self.file = file
        self.problems = sorted(problems, key=lambda p: (p.line or 0, p.column or 0))
        first = self.problems[0]
        more = len(self.problems) - 1
        hint = first.hint
        if more:
            tail = f"{more} more problem{'s' if more > 1 else ''}: run `incidentctl runbook validate` to see all"
            hint = f"{hint}; {tail}" if hint else tail
        super().__init__(first.located(file), hint=hint)
        if first.line is not None:
            self.where = f"{file}:{first.line}:{first.column}"

    def __str__(self) -> str:
        return self.message  # already located: file:line:column: key path: problem

    def details(self) -> list[str]:
        return [p.located(self.file) for p in self.problems[1:]]

    def shown_details(self) -> list[str]:
        return []  # the hint points at `runbook validate`, which shows them all
