"""What the kubelet knows about a pod that the API object only summarises: every container instance (for
``logs --previous`` and restart counts), back-off timers, readiness history, and state a scenario attaches."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class Instance:
    """One run of a container (a new one after every restart)."""

    container_id: str
    image: str
    started: datetime
    seed: int
    finished: datetime | None = None
    exit_code: int = 0
    reason: str = ""
    #: set by the scenario when the instance starts: how it will end (time, exit code, reason)
    fate: tuple[datetime, int, str] | None = None
    #: why it ended, for its last log lines ("segfault", "oom", ...)
    cause: str = ""


@dataclass
class ContainerRun:
    name: str
    image: str
    instances: list[Instance] = field(default_factory=list)
    next_start: datetime | None = None
    waiting: str = "ContainerCreating"
    waiting_message: str = ""
    ready_since: datetime | None = None
    crashes: int = 0
    last_probe_event: datetime | None = None
    pull_failures: int = 0

    @property
    def current(self) -> Instance | None:
        return self.instances[-1] if self.instances else None

    @property
    def running(self) -> bool:
        return bool(self.instances) and self.instances[-1].finished is None and self.next_start is None

    @property
    def restart_count(self) -> int:
        """Like the kubelet's: every exited instance of a container that restarts counts."""
        return sum(1 for inst in self.instances if inst.finished is not None)

    def last_terminated(self) -> Instance | None:
        for inst in reversed(self.instances):
            if inst.finished is not None:
                return inst
        return None


@dataclass
class PodRun:
    uid: str
    namespace: str
    name: str
    created: datetime
    containers: dict[str, ContainerRun]
    node: str | None = None
    scheduled_at: datetime | None = None
    ip: str = ""
    conditions: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    last_sched_event: datetime | None = None
    next_check: datetime | None = None
    phase_override: str | None = None
    #: scenario state tied to this pod (and so cleared by replacing the pod): a wedged database, a full emptyDir
    attrs: dict[str, Any] = field(default_factory=dict)

    def ready(self) -> bool:
        return bool(self.containers) and all(c.running and c.ready_since is not None for c in self.containers.values())

    def ready_since(self) -> datetime | None:
        if not self.ready():
            return None
        return max(c.ready_since for c in self.containers.values() if c.ready_since is not None)


def container_id(pod_uid: str, name: str, index: int) -> str:
    digest = hashlib.sha256(f"{pod_uid}/{name}/{index}".encode()).hexdigest()
    return f"containerd://{digest}"


def image_id(image: str) -> str:
    repo = image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image
    return f"{repo}@sha256:{hashlib.sha256(image.encode()).hexdigest()}"
