"""kubectl-style global options that work before *or after* the subcommand.

``incidentctl -o json incident list`` and ``incidentctl incident list -o json`` must mean the same, as they do
for kubectl (cobra's persistent flags). Click only parses a group's options before its subcommand, so the root
group lifts these options to the front of the argument list before parsing. Everything after ``--`` is left
alone, so a note that starts with ``-o`` can still be written as ``incident note ID -- "-o is broken"``.
"""

from __future__ import annotations

#: option spelling -> does it take a value
GLOBAL_OPTIONS: dict[str, bool] = {
    "--runbook": True,
    "--context": True,
    "-n": True,
    "--namespace": True,
    "--kubeconfig": True,
    "-o": True,
    "--output": True,
    "-y": False,
    "--yes": False,
    "--debug": False,
}


def hoist_global_options(args: list[str]) -> list[str]:
    """Move every global option (and its value) to the front, keeping the relative order of everything else."""
    hoisted: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        name, has_inline_value = _split(arg)
        if name is None:
            rest.append(arg)
        elif GLOBAL_OPTIONS[name] and not has_inline_value and i + 1 < len(args):
            hoisted.extend((arg, args[i + 1]))
            i += 1
        else:
            hoisted.append(arg)
        i += 1
    return hoisted + rest


def _split(arg: str) -> tuple[str | None, bool]:
    """Recognise ``--name``, ``--name=value`` and kubectl's attached ``-ojson``."""
    if arg in GLOBAL_OPTIONS:
        return arg, False
    if arg.startswith("--") and "=" in arg:
        name = arg.split("=", 1)[0]
        if GLOBAL_OPTIONS.get(name):
            return name, True
    if arg.startswith("-o") and len(arg) > 2 and arg[2:].isalpha():
        return "-o", True
    return None, False


def output_value(args: list[str]) -> str | None:
    """The ``-o`` value on a command line (the last one wins, as Click's does), read without parsing it.

    A usage error can stop Click before any option has a value, yet its message must still come in the format
    asked for: ``incidentctl -o json detect --bogus`` prints the JSON error envelope.
    """
    value: str | None = None
    i = 0
    while i < len(args) and args[i] != "--":
        arg = args[i]
        name, has_inline_value = _split(arg)
        if name in ("-o", "--output"):
            if has_inline_value:
                value = arg.split("=", 1)[1] if arg.startswith("--") else arg[2:]
            else:
                value = args[i + 1] if i + 1 < len(args) else None
        if name is not None and GLOBAL_OPTIONS[name] and not has_inline_value:
            i += 1  # skip the option's value: `--context -ojson` names a context
        i += 1
    return value
