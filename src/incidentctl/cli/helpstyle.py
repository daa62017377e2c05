"""Help that reads like kubectl's: ``incident note [OPTIONS] ID TEXT...``, ``--since DURATION``, ``--yes``.

Typer's own help labels every parameter with its Python type (``--yes <bool>``, ``ID <str>``, ``<list[str]>``)
and wraps required arguments in braces (``{incident_id}``). Commands give their options a metavar that says what
the value is (``NAME``, ``DURATION``); what is left is done once for the whole command tree here: flags show no
value, an argument is named in capitals, and an option without a metavar says the kind of value (``TEXT``,
``PATH``). A test runs ``--help`` on every command so that a new one cannot bring the old style back.
"""

from __future__ import annotations

from collections.abc import Iterator

from typer.core import TyperArgument, TyperGroup, TyperOption

from incidentctl.cli.typercompat import Command, Context

#: Typer's type label -> the word kubectl-style help uses for such a value
_VALUE_WORDS = {"str": "TEXT", "path": "PATH", "int": "N", "float": "NUMBER", "list[str]": "TEXT"}


class _Option(TyperOption):
    def display_type_rich(self, ctx: Context) -> str | None:
        if self.is_flag or self.count:
            return None  # --yes, not --yes <bool>
        if self.metavar is not None:
            return self.metavar
        label = (self.display_type(ctx) or "").strip("<>")
        return _VALUE_WORDS.get(label, label)


class _Argument(TyperArgument):
    def display_type_rich(self, ctx: Context) -> str | None:
        return None  # the name (ID, SEVERITY) already says what goes there

    def get_usage_pieces(self, ctx: Context) -> list[str]:
        name = self.display_name_raw
        # a metavar that already says it is optional or repeated (``[ID]``, ``[COMPONENT]...``) is shown as written,
        # never as ``[[ID]]``
        if not self.required and not name.startswith("["):
            name = f"[{name}]"
        return [f"{name}..." if self.nargs != 1 and "..." not in name else name]


def kubectl_style(command: Command, help_option_names: list[str]) -> None:
    """Restyle the parameters of ``command`` and of every command below it (their help options too)."""
    for cmd in _walk(command):
        params = list(cmd.params)
        help_option = cmd.get_help_option(Context(cmd, help_option_names=help_option_names))
        if help_option is not None:
            params.append(help_option)
        for param in params:
            if isinstance(param, TyperArgument) and not isinstance(param, _Argument):
                if param.metavar is None and param.name:
                    param.metavar = param.name.upper()  # also how usage errors name it: missing argument 'ID'
                param.__class__ = _Argument
            elif isinstance(param, TyperOption) and not isinstance(param, _Option):
                param.__class__ = _Option


def _walk(command: Command) -> Iterator[Command]:
    yield command
    if isinstance(command, TyperGroup):
        for sub in command.commands.values():
            yield from _walk(sub)
