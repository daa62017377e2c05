"""``--grep REGEX`` over log lines, with a bound on how long one line may take.

Python's ``re`` backtracks: a pattern such as ``(.*)*X`` or ``^(\\S+\\s?)*Z$`` takes exponential time on an
ordinary 150-character log line, and a responder who types one at 3 a.m. must get an answer, not a hung terminal.
A linear-time engine (RE2) would remove the problem but is not a dependency here, and refusing patterns by shape
would refuse useful ones. So the pattern is compiled as given (an invalid or over-long one is a usage error) and
each search runs under a per-line time budget: in the main thread an interval timer (``SIGALRM``) interrupts the
search (``re`` checks for signals while it backtracks) and :class:`GrepTooSlow` says which pattern and why. Off the
main thread, where no signal can be delivered, the line searched is cut to :data:`LINE_LIMIT` characters instead.
"""

from __future__ import annotations

import re
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from incidentctl.errors import UsageError

#: A longer pattern is a paste gone wrong, and a costly one to compile.
PATTERN_LIMIT = 1000
#: Seconds one line may take to search before the pattern is judged catastrophic.
LINE_BUDGET = 0.25
#: Characters searched per line where no timer can interrupt the search.
LINE_LIMIT = 4096


class GrepTooSlow(UsageError):
    """The pattern backtracks catastrophically on a real line: the user's to simplify."""


class _Expired(Exception):
    pass


def compile_grep(pattern: str, *, ignore_case: bool = False) -> re.Pattern[str]:
    """The pattern compiled, or a one-line :class:`UsageError` that says what is wrong with it."""
    if len(pattern) > PATTERN_LIMIT:
        raise UsageError(f"--grep: the pattern is {len(pattern)} characters long (at most {PATTERN_LIMIT})")
    try:
        return re.compile(pattern, re.IGNORECASE if ignore_case else 0)
    except re.error as e:
        where = f" at position {e.pos}" if e.pos is not None else ""
        raise UsageError(
            f"--grep {pattern!r}: not a valid regular expression: {e.msg}{where}",
            hint="the pattern is a Python regular expression; escape literal characters such as ( [ + ? with \\",
        ) from e


class LineFilter:
    """``search`` with the time budget; use it inside :meth:`armed` (which installs and removes the timer)."""

    def __init__(self, pattern: re.Pattern[str], *, budget: float = LINE_BUDGET) -> None:
        self.pattern = pattern
        self.budget = budget
        self._timed = False
        self._searching = False

    @contextmanager
    def armed(self) -> Iterator[LineFilter]:
        if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
            yield self
            return

        def expire(_signum: int, _frame: FrameType | None) -> None:
            if self._searching:  # a timer that fires just after the search ended is ignored
                raise _Expired

        previous = signal.signal(signal.SIGALRM, expire)
        self._timed = True
        try:
            yield self
        finally:
            self._timed = False
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)

    def matches(self, text: str) -> bool:
        if not self._timed:
            return self.pattern.search(text[:LINE_LIMIT]) is not None
        self._searching = True
        signal.setitimer(signal.ITIMER_REAL, self.budget)
        try:
            found = self.pattern.search(text) is not None
            self._searching = False
        except _Expired:
            raise GrepTooSlow(
                f"--grep {self.pattern.pattern!r} took more than {self.budget:g}s on one line: the pattern "
                "backtracks catastrophically",
                hint="avoid nested repetition such as (a+)+ or (.*)*; a plain word or a single .* is enough",
            ) from None
        finally:
            self._searching = False
            signal.setitimer(signal.ITIMER_REAL, 0)
        return found
