"""Faults a test (or a drill leader) switches on: slow answers, bursts of 5xx, 429 with Retry-After, 403 for one
verb on one resource. Stopping the server (``Sandbox.stop``) gives connection refused."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

#: what a fault can apply to: the Kubernetes API, or one of the stand-in services
TARGETS = ("kube", "health", "deps", "prometheus", "alertmanager", "slack", "statuspage", "pagerduty", "any")


@dataclass
class Fault:
    kind: str  # latency | status | forbidden
    target: str = "kube"
    seconds: float = 0.0
    status: int = 503
    retry_after: int | None = None
    verb: str | None = None
    resource: str | None = None
    path: str | None = None
    remaining: int | None = None

    def applies(self, target: str, verb: str | None, resource: str | None, path: str) -> bool:
        if self.target not in ("any", target):
            return False
        if self.path and not path.startswith(self.path):
            return False
        if self.verb and self.verb != verb:
            return False
        return not (self.resource and self.resource != resource)


@dataclass
class Decision:
    delay: float = 0.0
    status: int | None = None
    retry_after: int | None = None
    forbidden: bool = False


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        if fault.target not in TARGETS:
            raise ValueError(f"unknown fault target {fault.target!r}; one of {', '.join(TARGETS)}")
        with self._lock:
            self._faults.append(fault)
        return fault

    def latency(
        self, seconds: float, *, target: str = "kube", path: str | None = None, count: int | None = None
    ) -> Fault:
        return self.add(Fault("latency", target, seconds=seconds, path=path, remaining=count))

    def errors(
        self, status: int = 503, *, count: int | None = None, target: str = "kube", path: str | None = None
    ) -> Fault:
        """A burst of ``count`` error answers (forever when None)."""
        return self.add(Fault("status", target, status=status, path=path, remaining=count))

    def rate_limit(
        self, retry_after: int = 1, *, count: int | None = 1, target: str = "kube", path: str | None = None
    ) -> Fault:
        return self.add(Fault("status", target, status=429, retry_after=retry_after, path=path, remaining=count))

    def forbid(self, verb: str, resource: str, *, count: int | None = None) -> Fault:
        """RBAC says no to ``verb`` on ``resource`` (e.g. "list", "pods")."""
        return self.add(Fault("forbidden", "kube", verb=verb, resource=resource, remaining=count))

    def remove(self, fault: Fault) -> None:
        with self._lock:
            if fault in self._faults:
                self._faults.remove(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def allows(self, verb: str, resource: str) -> bool:
        """What a permission check (SelfSubjectAccessReview) answers, given the 403 faults; uses none up."""
        with self._lock:
            return not any(
                f.kind == "forbidden" and f.verb in (None, verb) and f.resource in (None, resource)
                for f in self._faults
            )

    def describe(self) -> list[dict[str, object]]:
        with self._lock:
            return [dict(vars(f)) for f in self._faults]

    def decide(self, target: str, verb: str | None, resource: str | None, path: str) -> Decision:
        decision = Decision()
        with self._lock:
            for fault in list(self._faults):
                if not fault.applies(target, verb, resource, path):
                    continue
                if fault.kind == "latency":
                    decision.delay += fault.seconds
                elif decision.status is None and not decision.forbidden:
                    if fault.kind == "forbidden":
                        decision.forbidden = True
                    else:
                        decision.status = fault.status
                        decision.retry_after = fault.retry_after
                else:
                    continue
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
        return decision


def sleep_unless(stopping: threading.Event, seconds: float) -> None:
    if seconds > 0:
        stopping.wait(seconds)


__all__ = ["Decision", "Fault", "Faults", "sleep_unless", "time"]
