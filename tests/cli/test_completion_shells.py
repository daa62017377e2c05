"""The completion scripts in the real shells: bash, zsh and fish load them and complete from a real journal.

bash and zsh complete through a function the script defines, called here as the shell's completion system calls
it (bash with ``COMP_WORDS``/``COMP_CWORD``, zsh with ``words``/``CURRENT`` and its ``compadd`` recorded); fish
runs its whole completion machinery with ``complete -C``. A stand-in ``incidentctl`` that answers hostile values
shows that each script treats the answer as data: nothing is run, nothing is globbed.

The shells come from Debian (``.ci/run`` installs zsh and fish); without one these tests skip, and with
``INCIDENTCTL_REQUIRE_INTEGRATION=1`` they fail instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import Invoke


def _shell(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        reason = f"{name} is not installed (apt-get install {name})"
        if os.environ.get("INCIDENTCTL_REQUIRE_INTEGRATION") == "1":
            pytest.fail(f"{reason}; INCIDENTCTL_REQUIRE_INTEGRATION=1 makes this a failure", pytrace=False)
        pytest.skip(reason)
    return path


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    """``incidentctl`` on PATH as the code under test, whichever way it is installed."""
    folder = tmp_path / "bin"
    folder.mkdir()
    script = folder / "incidentctl"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m incidentctl "$@"\n', encoding="utf-8")
    script.chmod(0o755)
    return folder


@pytest.fixture
def incidents(invoke: Invoke) -> list[str]:
    ids = []
    for title in ("Gateway 5xx", "Slow answers"):
        result = invoke(["incident", "declare", "--title", title, "--severity", "P2"])
        assert result.exit_code == 0, result.output
        ids.append(result.stdout.strip())
    return ids


def _run(argv: list[str], bin_dir: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INCIDENTCTL_", "_INCIDENTCTL"))}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


# --- bash ----------------------------------------------------------------------------------------------------------

BASH_DRIVER = """
source <(incidentctl completion bash) || exit 9
complete -p incidentctl || exit 8
COMP_WORDS=({words})
COMP_CWORD={cword}
_incidentctl_completion incidentctl
printf '%s\\n' "${{COMPREPLY[@]}}"
"""


def _bash(words: list[str], bin_dir: Path, cwd: Path) -> tuple[list[str], str]:
    quoted = " ".join(f"'{w}'" for w in words)
    script = BASH_DRIVER.format(words=quoted, cword=len(words) - 1)
    proc = _run([_shell("bash"), "--norc", "--noprofile", "-c", script], bin_dir, cwd)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("complete "), proc.stdout
    assert lines[0].endswith(" incidentctl"), proc.stdout
    return [line for line in lines[1:] if line], proc.stderr


def test_bash_completes_commands_options_and_incident_ids(incidents: list[str], bin_dir: Path, workdir: Path) -> None:
    assert _bash(["incidentctl", "inv"], bin_dir, workdir) == (["investigate"], "")
    offered, _ = _bash(["incidentctl", "investigate", "logs", "--inc"], bin_dir, workdir)
    assert offered == ["--incident"]
    assert _bash(["incidentctl", "incident", "show", ""], bin_dir, workdir) == (list(reversed(incidents)), "")
    offered, _ = _bash(["incidentctl", "mitigate", "circuit-breaker", ""], bin_dir, workdir)
    assert offered == ["openai"]


def test_bash_completes_an_option_value_after_an_equals_sign(
    incidents: list[str], bin_dir: Path, workdir: Path
) -> None:
    # bash splits `--incident=INC` into three words at the `=` (COMP_WORDBREAKS)
    words = ["incidentctl", "investigate", "logs", "--incident", "=", incidents[0][:-1]]
    assert _bash(words, bin_dir, workdir)[0] == list(reversed(incidents))


# --- zsh -----------------------------------------------------------------------------------------------------------

ZSH_LOAD = "autoload -Uz compinit && compinit -u && source <(incidentctl completion zsh)"

#: What zsh's completion system would be given: compadd and _describe record their values instead of showing them.
ZSH_DRIVER = (
    ZSH_LOAD
    + """ || exit 9
compadd() { local name=${@[-1]}; print -rl -- "${(@P)name}" }
_describe() { print -rl -- "${(@P)3}" }
words=(__WORDS__)
CURRENT=__CURRENT__
_incidentctl_completion
"""
)


def test_zsh_loads_the_script_after_compinit_without_an_error(bin_dir: Path, workdir: Path) -> None:
    proc = _run([_shell("zsh"), "-f", "-c", f"{ZSH_LOAD} && print -r -- $_comps[incidentctl]"], bin_dir, workdir)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout.strip() == "_incidentctl_completion"


def test_zsh_loads_the_script_from_fpath(bin_dir: Path, workdir: Path, tmp_path: Path) -> None:
    functions = tmp_path / "zfunc"
    functions.mkdir()
    saved = _run(["incidentctl", "completion", "zsh"], bin_dir, workdir)
    (functions / "_incidentctl").write_text(saved.stdout, encoding="utf-8")
    script = f"fpath=({functions} $fpath); autoload -Uz compinit && compinit -u -D && print -r -- $_comps[incidentctl]"
    proc = _run([_shell("zsh"), "-f", "-c", script], bin_dir, workdir)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "_incidentctl"


def _zsh(words: list[str], bin_dir: Path, cwd: Path) -> list[str]:
    quoted = " ".join(f"'{w}'" for w in words)
    proc = _run(
        [_shell("zsh"), "-f", "-c", ZSH_DRIVER.replace("__WORDS__", quoted).replace("__CURRENT__", str(len(words)))],
        bin_dir,
        cwd,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return [line for line in proc.stdout.splitlines() if line]


def test_zsh_completes_commands_and_incident_ids(incidents: list[str], bin_dir: Path, workdir: Path) -> None:
    described = [f"{incidents[1]}:Slow answers", f"{incidents[0]}:Gateway 5xx"]
    assert _zsh(["incidentctl", "incident", "show", ""], bin_dir, workdir) == described
    described = _zsh(["incidentctl", "inv"], bin_dir, workdir)
    assert len(described) == 1
    assert described[0].startswith("investigate:Look for the cause")
    assert _zsh(["incidentctl", "mitigate", "scale", "gate"], bin_dir, workdir) == ["gateway="]


def test_zsh_runs_the_completion_entry_point_for_ids(incidents: list[str], bin_dir: Path, workdir: Path) -> None:
    env_line = "env COMP_WORDS='incidentctl incident show ' COMP_CWORD=3 _INCIDENTCTL_COMPLETE=zsh_complete"
    proc = _run([_shell("zsh"), "-f", "-c", f"{env_line} incidentctl"], bin_dir, workdir)
    assert proc.returncode == 0, proc.stderr
    titles = ["Slow answers", "Gateway 5xx"]
    expected = [line for i, t in zip(reversed(incidents), titles, strict=True) for line in ("plain", i, t)]
    assert proc.stdout.split("\n")[:-1] == expected


# --- fish ----------------------------------------------------------------------------------------------------------


def _fish(line: str, bin_dir: Path, cwd: Path) -> list[str]:
    script = f"incidentctl completion fish | source; and complete -C '{line}'"
    proc = _run([_shell("fish"), "--no-config", "-c", script], bin_dir, cwd)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return [entry.split("\t", 1)[0] for entry in proc.stdout.splitlines()]


def test_fish_completes_commands_and_incident_ids(incidents: list[str], bin_dir: Path, workdir: Path) -> None:
    assert _fish("incidentctl incident show ", bin_dir, workdir) == list(reversed(incidents))
    assert _fish("incidentctl inv", bin_dir, workdir) == ["investigate"]
    assert "--incident" in _fish("incidentctl investigate logs --", bin_dir, workdir)
    assert _fish("incidentctl sandbox inject bad-", bin_dir, workdir) == ["bad-deploy", "bad-config"]


# --- the answer is data ----------------------------------------------------------------------------------------

#: What a stand-in incidentctl answers: values that would run a command or glob if a script evaluated them.
HOSTILE = ["$(touch pwned-subst)", "`touch pwned-tick`", "*", "a;touch pwned-semi", "two words"]


@pytest.fixture
def hostile_bin(tmp_path: Path) -> Path:
    """An ``incidentctl`` whose completion answer is hostile (and whose script is the real one)."""
    folder = tmp_path / "hostile-bin"
    folder.mkdir()
    real = subprocess.run(
        [sys.executable, "-m", "incidentctl", "completion", "bash"], capture_output=True, text=True, check=True
    )
    assert real.stdout
    answers = {
        "bash_complete": "".join(f"plain,{v}\\n" for v in HOSTILE),
        "zsh_complete": "".join(f"plain\\n{v}\\n_\\n" for v in HOSTILE),
        "fish_complete": "".join(f"plain,{v}\\n" for v in HOSTILE),
    }
    cases = "".join(f"    {k}) printf '%s' '{v}' | sed 's/\\\\n/\\n/g'; exit 0 ;;\n" for k, v in answers.items())
    script = folder / "incidentctl"
    script.write_text(
        f'#!/bin/sh\ncase "$_INCIDENTCTL_COMPLETE" in\n{cases}esac\nexec "{sys.executable}" -m incidentctl "$@"\n',
        encoding="utf-8",
    )
    script.chmod(0o755)
    return folder


def test_no_shell_runs_or_globs_what_completion_answers(hostile_bin: Path, tmp_path: Path) -> None:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    (cwd / "a-file").write_text("", encoding="utf-8")
    bash_values, _ = _bash(["incidentctl", "x", ""], hostile_bin, cwd)
    assert bash_values == HOSTILE
    assert _zsh(["incidentctl", "x", ""], hostile_bin, cwd) == HOSTILE
    assert _fish("incidentctl x ", hostile_bin, cwd) == HOSTILE
    assert sorted(p.name for p in cwd.iterdir()) == ["a-file"]  # nothing was run
