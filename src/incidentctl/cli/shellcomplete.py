"""Tab completion for bash, zsh and fish, on Click's completion protocol.

The script a shell loads (``incidentctl completion SHELL``) runs ``incidentctl`` itself on every Tab press with
``_INCIDENTCTL_COMPLETE=bash_complete`` (or ``zsh_complete``, ``fish_complete``) and the words typed so far
(``COMP_WORDS``, ``COMP_CWORD``); the answer is one value a line, with its type (``plain``, ``file``, ``dir``)
and, for zsh and fish, a short help. The scripts are Click's own, with one change of substance: they read the
answer as data (``mapfile``, ``compadd -a``, ``string split``) and never evaluate it, unlike Typer's zsh script,
which runs ``eval`` on whatever the program printed. The values themselves are checked here
(:func:`incidentctl.cli.completion_sources.is_safe_value`) so that nothing a shell would expand or execute is
ever inserted into a command line, and a request that fails for any reason answers nothing, silently: a broken
runbook must never print a traceback into someone's prompt.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
from collections.abc import MutableMapping
from typing import Any, ClassVar

from incidentctl.cli.completers import completions
from incidentctl.cli.completion_sources import is_safe_value
from incidentctl.cli.typercompat import (
    Command,
    CompletionItem,
    ShellComplete,
    raw_values,
    resolve_completion_context,
    resolve_completion_target,
    split_arg_string,
)

PROG_NAME = "incidentctl"
COMPLETE_VAR = "_INCIDENTCTL_COMPLETE"

_BASH = """\
# incidentctl completion for bash: source <(incidentctl completion bash)
%(complete_func)s() {
    local IFS=$'\\n'
    local -a response
    local line type value
    mapfile -t response < <(env COMP_WORDS="${COMP_WORDS[*]}" COMP_CWORD="$COMP_CWORD" \\
        %(complete_var)s=bash_complete "$1" 2>/dev/null)
    COMPREPLY=()
    for line in "${response[@]}"; do
        type=${line%%%%,*}
        value=${line#*,}
        case $type in
            plain)
                COMPREPLY+=("$value")
                [[ $value == *[=/] ]] && compopt -o nospace
                ;;
            dir) compopt -o dirnames ;;
            file) compopt -o default ;;
        esac
    done
    return 0
}

complete -o nosort -F %(complete_func)s %(prog_name)s
"""

_ZSH = """\
#compdef %(prog_name)s
# incidentctl completion for zsh: source <(incidentctl completion zsh) after compinit,
# or save it as _%(prog_name)s in a folder of $fpath.

%(complete_func)s() {
    local -a completions completions_with_descriptions completions_without_space response
    local type key descr
    (( ! $+commands[%(prog_name)s] )) && return 1

    response=("${(@f)$(env COMP_WORDS="${words[*]}" COMP_CWORD=$((CURRENT-1)) \\
        %(complete_var)s=zsh_complete %(prog_name)s 2>/dev/null)}")

    for type key descr in "${response[@]}"; do
        if [[ "$type" == "plain" ]]; then
            if [[ "$key" == *[=/] ]]; then
                completions_without_space+=("$key")
            elif [[ "$descr" == "_" ]]; then
                completions+=("$key")
            else
                completions_with_descriptions+=("$key:$descr")
            fi
        elif [[ "$type" == "dir" ]]; then
            _path_files -/
        elif [[ "$type" == "file" ]]; then
            _path_files -f
        fi
    done

    if [ -n "$completions_with_descriptions" ]; then
        _describe -V unsorted completions_with_descriptions -U
    fi
    if [ -n "$completions" ]; then
        compadd -U -V unsorted -a completions
    fi
    if [ -n "$completions_without_space" ]; then
        compadd -U -V unsorted -S '' -a completions_without_space
    fi
}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    %(complete_func)s "$@"
else
    compdef %(complete_func)s %(prog_name)s
fi
"""

_FISH = """\
# incidentctl completion for fish: incidentctl completion fish | source
function %(complete_func)s
    set -l response (env %(complete_var)s=fish_complete COMP_WORDS=(commandline -cp) \\
        COMP_CWORD=(commandline -t) %(prog_name)s 2>/dev/null)
    for completion in $response
        set -l metadata (string split -m 1 "," -- $completion)
        if test "$metadata[1]" = dir
            __fish_complete_directories $metadata[2]
        else if test "$metadata[1]" = file
            __fish_complete_path $metadata[2]
        else if test "$metadata[1]" = plain
            printf '%%s\\n' $metadata[2]
        end
    end
end

complete --no-files --keep-order --command %(prog_name)s --arguments "(%(complete_func)s)"
"""

_UNPRINTABLE = re.compile(r"[^\x20-\x7e]+")


def _words_before_cursor() -> tuple[list[str], str]:
    """bash's and zsh's request: the words before the one at COMP_CWORD (without the program), and that word."""
    words = split_arg_string(os.environ["COMP_WORDS"])
    cword = int(os.environ["COMP_CWORD"])
    return words[1:cword], words[cword] if cword < len(words) else ""


class _Shell(ShellComplete):
    """What the three shells share: how a request is answered (the protocol of each is in its subclass)."""

    def source_vars(self) -> dict[str, Any]:
        return {"complete_func": self.func_name, "complete_var": self.complete_var, "prog_name": self.prog_name}

    def get_completions(self, args: list[str], incomplete: str) -> list[CompletionItem]:
        with raw_values():
            ctx = resolve_completion_context(self.cli, self.ctx_args, self.prog_name, args)
            target, incomplete = resolve_completion_target(ctx, args, incomplete)
            return [item for item in completions(ctx, target, incomplete) if _safe(item)]

    def complete(self) -> str:
        args, incomplete = self.get_completion_args()
        return "".join(f"{self.format_completion(item)}\n" for item in self.get_completions(args, incomplete))


class BashComplete(_Shell):
    name = "bash"
    source_template: ClassVar[str] = _BASH

    def get_completion_args(self) -> tuple[list[str], str]:
        args, incomplete = _words_before_cursor()
        # bash splits `--incident=INC` at the `=` (it is in COMP_WORDBREAKS): the value's option is the word before
        if args and args[-1] == "=":
            args.pop()
        return args, incomplete

    def format_completion(self, item: CompletionItem) -> str:
        return f"{item.type},{_value(item)}"


class ZshComplete(_Shell):
    name = "zsh"
    source_template: ClassVar[str] = _ZSH

    def get_completion_args(self) -> tuple[list[str], str]:
        return _words_before_cursor()

    def format_completion(self, item: CompletionItem) -> str:
        value = _value(item).replace(":", r"\:")  # _describe splits VALUE:HELP at the first bare colon
        return f"{item.type}\n{value}\n{_help(item) or '_'}"


class FishComplete(_Shell):
    name = "fish"
    source_template: ClassVar[str] = _FISH

    def get_completion_args(self) -> tuple[list[str], str]:
        words = split_arg_string(os.environ["COMP_WORDS"])
        incomplete = os.environ.get("COMP_CWORD", "")
        if incomplete:
            incomplete = split_arg_string(incomplete)[0] if split_arg_string(incomplete) else ""
        args = words[1:]
        # fish gives the word being completed both in COMP_WORDS and in COMP_CWORD
        if incomplete and args and args[-1] == incomplete:
            args.pop()
        return args, incomplete

    def format_completion(self, item: CompletionItem) -> str:
        text = _help(item)
        return f"{item.type},{_value(item)}\t{text}" if text else f"{item.type},{_value(item)}"


SHELLS: dict[str, type[_Shell]] = {"bash": BashComplete, "zsh": ZshComplete, "fish": FishComplete}


def completion_script(cli: Command, shell: str) -> str:
    """The script ``incidentctl completion SHELL`` prints."""
    return SHELLS[shell](cli, {}, PROG_NAME, COMPLETE_VAR).source()


def answer_completion_request(cli: Command, ctx_args: MutableMapping[str, Any]) -> None:
    """Answer a Tab press and exit, when ``$_INCIDENTCTL_COMPLETE`` says this run is one; else return.

    Whatever goes wrong while the line is parsed or the values are read (a usage error the root group would print,
    an unreadable runbook, a bug) ends in an empty answer and exit 0: the shell offers nothing and shows nothing.
    """
    instruction = os.environ.get(COMPLETE_VAR)
    if not instruction:
        return
    shell, _, action = instruction.partition("_")
    cls = SHELLS.get(shell)
    answer = ""
    if cls is not None and action == "complete":
        with contextlib.suppress(Exception), _silenced():
            answer = cls(cli, dict(ctx_args), PROG_NAME, COMPLETE_VAR).complete()
    elif cls is not None and action == "source":
        answer = cls(cli, dict(ctx_args), PROG_NAME, COMPLETE_VAR).source()
    sys.stdout.write(answer)
    sys.stdout.flush()
    sys.exit(0)


@contextlib.contextmanager
def _silenced() -> Any:
    """Nothing but the answer reaches the shell: what parsing prints (the root group reports usage errors) is
    dropped, and so is a ``SystemExit`` from a parameter callback."""
    sink = io.StringIO()
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            yield
    except SystemExit:
        pass


def _safe(item: CompletionItem) -> bool:
    if item.type in ("file", "dir"):
        return True  # the shell completes from the disk itself; the value is only the prefix typed
    return item.type == "plain" and is_safe_value(item.value)


def _value(item: CompletionItem) -> str:
    """A plain value is safe by now; a file or dir item carries the prefix typed, passed on only when it is too."""
    return str(item.value) if is_safe_value(item.value) else ""


def _help(item: CompletionItem) -> str:
    """The help as one short line of printable ASCII (Typer's markup and any control character dropped)."""
    text = item.help if isinstance(item.help, str) else ""
    text = " ".join(_UNPRINTABLE.sub(" ", text).split())
    return text if len(text) <= 80 else text[:77] + "..."
