"""The sandbox's notion of time.

Tests freeze it and move it forward (a crash loop's back-off or a rolling update takes simulated minutes and real
milliseconds); ``sandbox up`` lets it follow the wall clock, after pre-rolling the scenario's recent history
frozen so that a drill starts with minutes of logs, events and restarts already behind it.

A running clock can also run ``speed`` times faster than the wall clock (``sandbox up --speed``, the demo): a
rolling update that takes a simulated minute then takes seconds, while everything the cluster reports (ages,
events, metrics) stays consistent with its own time. It goes on from where it was frozen and never jumps back.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

from incidentctl.core.times import format_rfc3339, parse_rfc3339


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class SimClock:
    def __init__(self, start: datetime | None = None, *, frozen: bool = True, speed: float = 1.0) -> None:
        if not speed > 0:
            raise ValueError(f"a clock's speed must be above 0, not {speed}")
        self._lock = threading.Lock()
        self._frozen: datetime | None = (start or utc_now()) if frozen else None
        #: how many simulated seconds pass in one wall-clock second once the clock runs
        self.speed = float(speed)
        #: the simulated time and the monotonic reading when a clock faster (or slower) than the wall started
        self._anchor: tuple[datetime, float] | None = None
        if not frozen and self.speed != 1.0:
            self._anchor = (utc_now(), time.monotonic())

    @property
    def frozen(self) -> bool:
        return self._frozen is not None

    def now(self) -> datetime:
        frozen = self._frozen
        if frozen is not None:
            return frozen
        anchor = self._anchor
        if anchor is None:
            return utc_now()
        return anchor[0] + timedelta(seconds=(time.monotonic() - anchor[1]) * self.speed)

    def set(self, when: datetime) -> None:
        """Move a frozen clock (never backwards)."""
        with self._lock:
            if self._frozen is None:
                raise RuntimeError("the clock follows real time; it cannot be set")
            self._frozen = max(self._frozen, when)

    def advance(self, seconds: float) -> None:
        self.set(self.now() + timedelta(seconds=seconds))

    def unfreeze(self) -> None:
        """From now on follow the wall clock (used once a pre-rolled history has caught up).

        At speed 1 the clock is the wall clock. At any other speed it starts from the later of the frozen time
        and the wall clock and runs on the monotonic clock from there, so that a system clock step cannot move
        the cluster's time backwards.
        """
        with self._lock:
            if self._frozen is None:
                return
            if self.speed != 1.0:
                self._anchor = (max(self._frozen, utc_now()), time.monotonic())
            self._frozen = None

    def wall_seconds(self, simulated: float) -> float:
        """How long a wait of ``simulated`` seconds of this clock takes on the wall clock."""
        return simulated / self.speed


def rfc3339(when: datetime) -> str:
    """``metav1.Time``: whole seconds."""
    return format_rfc3339(when, "seconds")


def rfc3339_micro(when: datetime) -> str:
    """``metav1.MicroTime`` and Alertmanager's times: always six digits."""
    return format_rfc3339(when, "microseconds")


def rfc3339_nano(when: datetime) -> str:
    """The kubelet's log time stamps: nine digits."""
    return format_rfc3339(when, "nanoseconds")


parse_time = parse_rfc3339


def human_duration(delta: timedelta) -> str:
    """Kubernetes' ``duration.HumanDuration``, the AGE column every ``kubectl get`` prints."""
    seconds = int(delta.total_seconds())
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        rem = seconds % 60
        return f"{minutes}m" if rem == 0 else f"{minutes}m{rem}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = seconds // 3600
    if hours < 8:
        rem = minutes % 60
        return f"{hours}h" if rem == 0 else f"{hours}h{rem}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rem = hours % 24
        return f"{hours // 24}d" if rem == 0 else f"{hours // 24}d{rem}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        rem = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if rem == 0 else f"{hours // 24 // 365}y{rem}d"
    return f"{hours // 24 // 365}y"
