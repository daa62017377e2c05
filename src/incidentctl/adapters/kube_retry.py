"""Which Kubernetes calls are tried again, and how long to wait between tries.

Through tenacity, as the HTTP probes, and only what is safe to send again. A read is retried on 429, 500/502/503/504,
a reset connection and a timeout; a write (patch, create, exec) only on 429 (the API's flow control turns a request
away before handling it) and on a connection that could not be opened in time (the request never left). Never a
409 or a 422: the same request would be refused the same way, and a conflict needs a re-read (``retry_on_conflict``).
A refused connection, an unknown host name and a TLS failure are not retried either: they do not pass in a second.
``Retry-After`` (seconds or an HTTP date, or the Status body's ``retryAfterSeconds``) is honoured up to
``RetryPolicy.max_wait``; a value that cannot be read falls back to a short exponential backoff, and no new attempt
starts once the call has used its ``budget``. Sleep and clock are injected, so tests wait for nothing.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timezone

import tenacity
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from incidentctl.adapters.kube_errors import ApiStatus, KubeError, KubeServerError, KubeTooManyRequests, Transport

#: Tries for a call that is safe to repeat (see the module's docstring for which are).
MAX_ATTEMPTS = 3
#: The statuses of a read worth another try: the API server or a proxy in front of it was briefly unwell.
RETRIED_SERVER_STATUSES = frozenset({500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How a call is retried. ``sleep`` and ``clock`` (epoch seconds, for HTTP-date Retry-After values and the
    budget) are injected so that tests move time themselves."""

    attempts: int = MAX_ATTEMPTS
    #: The longest single wait, whatever Retry-After asks: an on-call engineer is waiting.
    max_wait: float = 5.0
    #: No new attempt starts once the waits and attempts of one call would pass this many seconds: a read that
    #: timed out (10 s by default) is tried once more, not twice.
    budget: float = 15.0
    #: The first wait when the server names none; doubled each time, up to ``max_backoff``.
    backoff: float = 0.2
    max_backoff: float = 2.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time


_DELAY_SECONDS = re.compile(r"[0-9]+", re.ASCII)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (RFC 9110: a non-negative integer, or an HTTP date), or None
    when there is none or it cannot be read. Uncapped: the caller caps it. Negative numbers, fractions, NaN,
    infinities and exponents are not delay-seconds and read as None."""
    from email.utils import parsedate_to_datetime

    if value is None:
        return None
    text = value.strip(" \t")
    if _DELAY_SECONDS.fullmatch(text):
        return math.inf if len(text) > 15 else float(int(text))  # int() of a 5,000-digit string would raise
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000": UTC by RFC 5322
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - now)


def retry_after(headers: Mapping[str, str], status: ApiStatus | None, now: float) -> float | None:
    seconds = parse_retry_after(headers.get("retry-after"), now)
    if seconds is None and status is not None and status.details is not None:
        given = status.details.retry_after_seconds
        seconds = float(min(given, 10**9)) if given is not None and given >= 0 else None  # float(10**400) raises
    return seconds


def worth_retrying(err: BaseException, *, idempotent: bool) -> bool:
    """Safe to send again: always a 429 and a request that never left; for a read also what a second try fixes."""
    if not isinstance(err, KubeError):
        return False
    if isinstance(err, KubeTooManyRequests) or err.transport is Transport.CONNECT_TIMEOUT:
        return True
    if not idempotent:
        return False
    if isinstance(err, KubeServerError):
        return err.status in RETRIED_SERVER_STATUSES
    return err.transport in (Transport.READ_TIMEOUT, Transport.RESET)


class WaitRetryAfter(wait_base):
    """What the server asked for (capped), else exponential backoff."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.backoff = tenacity.wait_exponential(multiplier=policy.backoff, max=policy.max_backoff)

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        err = retry_state.outcome.exception() if retry_state.outcome is not None else None
        if isinstance(err, KubeError) and err.retry_after is not None:
            return min(err.retry_after, self.policy.max_wait)
        return float(self.backoff(retry_state))


class StopAtBudget(stop_base):
    """No new attempt once the next wait would end past the call's budget (by the injected clock)."""

    def __init__(self, policy: RetryPolicy, started: float) -> None:
        self.policy = policy
        self.started = started

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        spent = self.policy.clock() - self.started
        return spent + retry_state.upcoming_sleep > self.policy.budget
