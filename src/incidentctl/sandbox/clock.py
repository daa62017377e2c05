"""The sandbox's notion of time.

Tests freeze it and move it forward (a crash loop's back-off or a rolling update takes simulated minutes and real
milliseconds); ``sandbox up`` lets it follow the wall clock, after pre-rolling the scenario's recent history
frozen so that a drill starts with minutes of logs, events and restarts already behind it.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

from incidentctl.core.times import format_rfc3339, parse_rfc3339


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class SimClock:
    def __init__(self, start: datetime | None = None, *, frozen: bool = True) -> None:
        self._lock = threading.Lock()
        self._frozen: datetime | None = (start or utc_now()) if frozen else None

    @property
    def frozen(self) -> bool:
        return self._frozen is not None

    def now(self) -> datetime:
        frozen = self._frozen
        return frozen if frozen is not None else utc_now()

    def set(self, when: datetime) -> None:
        """Move a frozen clock (never backwards)."""
        with self._lock:
            if self._frozen is None:
                raise RuntimeError("the clock follows real time; it cannot be set")
            self._frozen = max(self._frozen, when)

    def advance(self, seconds: float) -> None:
        self.set(self.now() + timedelta(seconds=seconds))

    def unfreeze(self) -> None:
        """From now on follow the wall clock (used once a pre-rolled history has caught up)."""
        with self._lock:
            self._frozen = None


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
