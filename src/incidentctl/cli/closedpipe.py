"""A reader that goes away (``incidentctl detect | head -1``) ends the command quietly with exit code 141.

141 is 128 + SIGPIPE: what a shell reports for ``yes | head -1`` and for any Unix tool that is killed by the
signal, so ``set -o pipefail`` scripts see the same code from incidentctl as from the tools around it. The signal
itself stays ignored (Python's default): with its default action a dropped HTTP connection would kill the process
mid-check, so the closed pipe is noticed as ``BrokenPipeError`` on stdout or stderr instead.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from incidentctl.exitcodes import ExitCode


def is_closed_pipe(err: BaseException) -> bool:
    return isinstance(err, OSError) and err.errno == errno.EPIPE


@contextmanager
def quiet_on_closed_pipe() -> Iterator[None]:
    """Turn a closed stdout or stderr into a quiet exit 141: no message (there is no one left to read it)."""
    try:
        yield
    except OSError as err:
        if not is_closed_pipe(err):
            raise
        discard_closed_streams()
        raise typer.Exit(int(ExitCode.BROKEN_PIPE)) from None


def flush_or_closed_pipe() -> bool:
    """Flush stdout and stderr; True if one of them has lost its reader (what was buffered is dropped)."""
    closed = False
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError as err:
            if not is_closed_pipe(err):
                raise
            closed = True
        except ValueError:  # already closed by whoever owns it
            pass
    if closed:
        discard_closed_streams()
    return closed


def discard_closed_streams() -> None:
    """Point a stream whose reader is gone at /dev/null, so the flushes still to come (ours, the interpreter's at
    exit) do not fail again and print "Exception ignored" on the way out."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:
            try:
                fd = stream.fileno()
            except (OSError, ValueError):
                continue
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, fd)
            os.close(devnull)
        except ValueError:
            pass


def identity(stream: object) -> tuple[int, int] | None:
    """Which file a stream's descriptor is (device, inode), to notice later that it was swapped for /dev/null."""
    try:
        st = os.fstat(stream.fileno())  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):  # a test runner's in-memory stream has no descriptor
        return None
    return st.st_dev, st.st_ino


def silenced_by_rich(stream: object, before: tuple[int, int] | None) -> bool:
    """Whether rich met a closed pipe while printing (Typer's help, for one): rich points the descriptor at
    /dev/null and raises ``SystemExit(1)``, so a stream that became /dev/null during the command is the sign."""
    if before is None:
        return False
    now = identity(stream)
    try:
        devnull = os.stat(os.devnull)
    except OSError:
        return False
    return now != before and now == (devnull.st_dev, devnull.st_ino)
