"""One retry policy for every channel: 429 waits for ``Retry-After`` (up to the runbook's ``longest_wait``), 5xx,
timeouts and refused connections back off exponentially, other 4xx are not retried.

tenacity does the looping (a well-kept library for exactly this); the decision is made on the error's typed
reason. The wait goes through the phase's ``sleep``, so tests and the sandbox's fast clock do not wait for real.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from incidentctl.adapters.notify.base import Delivery, DeliveryError, Outgoing, Receipt


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    #: The first back-off; doubled each attempt, capped at ``longest_wait``.
    base: float = 1.0
    longest_wait: float = 60.0


class Attempts:
    """How many attempts a delivery took (the journal records it)."""

    def __init__(self) -> None:
        self.count = 0


def deliver(
    channel: Delivery,
    message: Outgoing,
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], None],
    attempts: Attempts | None = None,
) -> Receipt:
    """Send with retries; raise the last :class:`DeliveryError` when every attempt failed or one cannot pass."""
    counter = attempts if attempts is not None else Attempts()

    def worth_retrying(error: BaseException) -> bool:
        if not isinstance(error, DeliveryError) or not error.retryable:
            return False
        # a server asking for longer than we may wait: leave the message queued instead of blocking the responder
        return error.retry_after is None or error.retry_after <= policy.longest_wait

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome is not None else None
        if isinstance(error, DeliveryError) and error.retry_after is not None:
            return min(error.retry_after, policy.longest_wait)
        return float(min(policy.base * 2 ** (state.attempt_number - 1), policy.longest_wait))

    retrying = Retrying(
        stop=stop_after_attempt(policy.attempts),
        retry=retry_if_exception(worth_retrying),
        wait=wait,
        sleep=sleep,
        reraise=True,
    )
    for attempt in retrying:
        with attempt:
            counter.count += 1
            return channel.send(message)
    raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover
