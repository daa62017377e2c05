"""The services' signals over time: what Prometheus would have scraped, and what pod logs were made of."""

from __future__ import annotations

import bisect
from datetime import datetime

from incidentctl.sandbox.behaviour import Signals

#: keep about a day of changes; older samples fold into the first one kept
MAX_POINTS = 50000


class SignalHistory:
    def __init__(self) -> None:
        self._times: list[datetime] = []
        self._values: list[dict[str, Signals]] = []

    def record(self, when: datetime, signals: dict[str, Signals]) -> None:
        if self._values and self._values[-1] == signals:
            return
        if self._times and when <= self._times[-1]:
            self._values[-1] = signals
            return
        self._times.append(when)
        self._values.append(signals)
        if len(self._times) > MAX_POINTS:
            del self._times[: len(self._times) - MAX_POINTS]
            del self._values[: len(self._values) - MAX_POINTS]

    def at(self, component: str, when: datetime) -> Signals | None:
        index = bisect.bisect_right(self._times, when) - 1
        if index < 0:
            index = 0 if self._values else -1
        if index < 0:
            return None
        return self._values[index].get(component)

    def latest(self) -> dict[str, Signals]:
        return dict(self._values[-1]) if self._values else {}

    def window(self, component: str, start: datetime, end: datetime) -> list[tuple[datetime, Signals]]:
        """Every (time, signals) change in [start, end], starting with the value in force at ``start``."""
        out = []
        first = self.at(component, start)
        if first is not None:
            out.append((start, first))
        lo = bisect.bisect_right(self._times, start)
        hi = bisect.bisect_right(self._times, end)
        for i in range(lo, hi):
            value = self._values[i].get(component)
            if value is not None:
                out.append((self._times[i], value))
        return out
