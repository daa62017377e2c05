"""What a check found, in one shape for every kind of check (pods, endpoints, dependencies, alerts, signals).

Detect runs many checks at once; each ends in a :class:`CheckResult`, never an exception, so one failed check
is a finding and the report is always complete. ``UNKNOWN`` means "could not tell" (a 403, a timeout of the
Kubernetes API) and always carries the reason, which is different from ``DOWN`` ("looked, and it is broken").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Health(Enum):
    OK = "ok"
    DEGRADED = "degraded"
    DOWN = "down"
    UNKNOWN = "unknown"

    @property
    def rank(self) -> int:
        """Worse is higher: a component shows its worst check. UNKNOWN ranks below DOWN: a known outage
        outweighs a check that could not run, but above DEGRADED, since not knowing is not fine."""
        return {"ok": 0, "degraded": 1, "unknown": 2, "down": 3}[self.value]

    @staticmethod
    def worst(values: list[Health]) -> Health:
        return max(values, key=lambda h: h.rank, default=Health.OK)


@dataclass(frozen=True)
class CheckResult:
    #: A stable id, e.g. ``http:gateway``, ``deployment:gateway``, ``dependency:openai``, ``datastore:postgres``.
    check: str
    #: http, dependency, datastore, deployment, pods, service, ingress, alerts, signal
    kind: str
    #: What was looked at: a URL, ``deployment/gateway``, a PromQL query.
    target: str
    health: Health
    #: One line a person reads in the table: "503 Service Unavailable in 120 ms".
    summary: str
    #: Which runbook component, dependency or datastore this is about (None for namespace-wide checks).
    subject: str | None = None
    #: Further reasons, one line each ("pod gateway-7d9f-abcde: CrashLoopBackOff, 7 restarts").
    reasons: tuple[str, ...] = ()
    latency_s: float | None = None
    #: Raw facts for machines and for triage (status code, replica counts, a signal's value...).
    observed: dict[str, Any] = field(default_factory=dict)
