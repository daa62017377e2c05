"""Command-line interface (Typer only)."""

from __future__ import annotations

import atexit
import contextlib
import gc
import os
import sys
from typing import NoReturn


def run() -> int:
    """Run the command in ``sys.argv`` in this interpreter and return its exit code (for embedding and tests)."""
    from incidentctl.cli.app import app
    from incidentctl.cli.closedpipe import flush_or_closed_pipe, identity, silenced_by_rich
    from incidentctl.exitcodes import ExitCode

    stdout = identity(sys.stdout)
    try:
        app()
    except SystemExit as e:
        code = _exit_code(e.code)
    else:
        code = 0
    # output still buffered when the command returned (json, yaml) meets a closed pipe only now
    if flush_or_closed_pipe() or (code == 1 and silenced_by_rich(sys.stdout, stdout)):
        return int(ExitCode.BROKEN_PIPE)
    return code


def main() -> NoReturn:
    """Console-script entry point.

    A command lives well under a second, so two pieces of interpreter housekeeping are pure overhead: the cyclic
    garbage collector walking the import-time objects (the Kubernetes client alone creates tens of thousands), and
    the module-by-module teardown at exit. Together they are about a fifth of a ``detect`` run. The collector is
    off while the command starts (long-running commands such as ``detect --watch`` and ``sandbox up`` turn it back
    on), and once the command has finished the process flushes its streams, runs the ``atexit`` handlers (the
    Kubernetes client's temporary certificate files, logging) and exits without the teardown. Every file the
    command writes (journal, JUnit) is closed and synced before the command returns.
    """
    gc.disable()
    code = run()  # flushes stdout and stderr: a closed pipe (`incidentctl ... | head -1`) is exit 141
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()  # what atexit handlers printed
    atexit._run_exitfuncs()
    os._exit(code)


def _exit_code(code: object) -> int:
    """``SystemExit``'s code as the process's: None is success, an int is itself, a message is printed and 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    sys.stderr.write(f"{code}\n")
    return 1
