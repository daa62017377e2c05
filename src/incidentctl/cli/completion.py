"""``incidentctl completion bash|zsh|fish``: the script that gives a shell Tab completion, as ``kubectl completion``.

The script only defines a function that asks ``incidentctl`` itself what to offer (see ``cli.shellcomplete``), so
it never goes stale: commands, options, incident ids, the runbook's names and the scenarios are read at each Tab.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer


class Shell(str, Enum):
    BASH = "bash"
    ZSH = "zsh"
    FISH = "fish"


def completion(
    ctx: typer.Context,
    shell: Annotated[Shell, typer.Argument(metavar="SHELL", help="bash, zsh or fish.", show_default=False)],
) -> None:
    """Print the shell completion script for SHELL.

    bash: source <(incidentctl completion bash), in ~/.bashrc.

    zsh: source <(incidentctl completion zsh) after compinit in ~/.zshrc, or save it as _incidentctl in $fpath.

    fish: incidentctl completion fish | source, or save it as ~/.config/fish/completions/incidentctl.fish.
    """
    from incidentctl.cli.shellcomplete import completion_script

    typer.echo(completion_script(ctx.find_root().command, shell.value), nl=False)
