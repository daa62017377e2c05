"""Where Typer keeps Click, and options whose value may be left out, as in ``detect --watch [SECONDS]``.

Typer builds on its own copy of Click, and that copy has no public name: up to Typer 0.25 it was the ``click``
package, since 0.26 it is the private ``typer._click`` (and ``click`` is no longer a dependency, so an installed
``click`` is a separate copy whose classes Typer neither builds nor raises). The command classes here subclass
Typer's and ``cli/root.py`` catches its usage errors, so they need those very classes: this module is the one
place that names them, and the others import them from here. The names below are what the declared lower bound
of ``typer`` ships (``nox -s lowest`` runs the tests on it); a Typer release that moves them is fixed here alone.
Shell completion (``cli.shellcomplete``) builds on Click's protocol classes and on the two functions that find
which command and parameter the word under the cursor belongs to; while it parses the line, :func:`raw_values`
keeps Typer from converting the values typed (Typer converts them with pydantic, whose import alone would make
every Tab press slower than ``--help``; completion only needs the words themselves).

Click (and so Typer) gives an option a value always or never. A command that wants both spellings lists the
options in ``optional_values``; a bare one is given its default before Click parses, so ``--watch``, ``-w``,
``--watch 5``, ``--watch=5`` and ``-w5`` all work.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, ClassVar

from typer._click import Command, Context, Parameter
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
from typer._click.shell_completion import CompletionItem, ShellComplete, split_arg_string
from typer._click.shell_completion import _resolve_context as resolve_completion_context
from typer._click.shell_completion import _resolve_incomplete as resolve_completion_target
from typer.core import TyperCommand, _TyperParameter

__all__ = [
    "ClickException",
    "Command",
    "CompletionItem",
    "Context",
    "NoArgsIsHelpError",
    "OptionalValueCommand",
    "Parameter",
    "ShellComplete",
    "UsageError",
    "raw_values",
    "resolve_completion_context",
    "resolve_completion_target",
    "split_arg_string",
    "with_optional_values",
]


class OptionalValueCommand(TyperCommand):
    #: option spelling -> the value a bare occurrence stands for
    optional_values: ClassVar[dict[str, str]] = {}

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, with_optional_values(args, self.optional_values))


class _Uncoerced:
    """Typer's per-parameter converter, standing in: every value stays as Click parsed it."""

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        return value


@contextlib.contextmanager
def raw_values() -> Iterator[None]:
    """Within the block, every Typer parameter keeps the value as typed (its help option, made on demand, too).

    Meant for a process that only answers a Tab press: the converter is swapped on Typer's parameter class for
    the duration of the block, and put back after it."""
    original = _TyperParameter.get_runtime_param
    uncoerced = _Uncoerced()

    def get_runtime_param(self: Any) -> Any:
        return uncoerced

    _TyperParameter.get_runtime_param = get_runtime_param  # type: ignore[method-assign]
    try:
        yield
    finally:
        _TyperParameter.get_runtime_param = original  # type: ignore[method-assign]


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
