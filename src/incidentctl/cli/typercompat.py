"""Options whose value may be left out, as in ``detect --watch [SECONDS]``.

Click (and so Typer) gives an option a value always or never. A command that wants both spellings lists the
options in ``optional_values``; a bare one is given its default before Click parses, so ``--watch``, ``-w``,
``--watch 5``, ``--watch=5`` and ``-w5`` all work.
"""

from __future__ import annotations

from typing import ClassVar

from typer._click import Context
from typer.core import TyperCommand


class OptionalValueCommand(TyperCommand):
    #: option spelling -> the value a bare occurrence stands for
    optional_values: ClassVar[dict[str, str]] = {}

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, with_optional_values(args, self.optional_values))


def with_optional_values(args: list[str], defaults: dict[str, str]) -> list[str]:
    """Give each bare optional-value option its default: one not followed by a number is bare."""
    out: list[str] = []
    for i, arg in enumerate(args):
        if arg == "--":
            return out + args[i:]
        if arg in defaults and not (i + 1 < len(args) and _is_number(args[i + 1])):
            out.append(f"{arg}={defaults[arg]}" if arg.startswith("--") else f"{arg}{defaults[arg]}")
        else:
            out.append(arg)
    return out


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
