"""The cluster's moving parts, on the sandbox clock: the scheduler, the kubelet, the ReplicaSet, Deployment,
StatefulSet and Endpoints controllers (a module each) and the garbage collector, run in that order.

Everything is driven by :meth:`Simulation.reconcile`, run after every accepted API change (controllers react at
once) and whenever time moves. Time moves in jumps: each reconcile notes the next moment something will happen
(a container starts, crashes, becomes available, a progress deadline passes), so an hour of simulated crash loop
costs a few hundred reconciles, not 3,600.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from incidentctl.sandbox.clock import rfc3339
from incidentctl.sandbox.deployments import DeploymentController
from incidentctl.sandbox.endpoints import EndpointsController
from incidentctl.sandbox.kubelet import Kubelet
from incidentctl.sandbox.objects import CHANGE_CAUSE, HASH_LABEL, REVISION, quantity
from incidentctl.sandbox.replicasets import ReplicaSetController
from incidentctl.sandbox.resources import NODES, PODS
from incidentctl.sandbox.scheduler import Scheduler
from incidentctl.sandbox.statefulsets import StatefulSetController
from incidentctl.sandbox.store import Obj

if TYPE_CHECKING:
    from incidentctl.sandbox.logs import LogInstance

__all__ = ["CHANGE_CAUSE", "HASH_LABEL", "REVISION", "Simulation", "quantity"]


class Simulation(
    Kubelet, Scheduler, ReplicaSetController, DeploymentController, StatefulSetController, EndpointsController
):
    def react(self) -> None:
        self.reconcile()

    def run_until(self, target: datetime, max_step: float = 60.0) -> None:
        """Move a frozen clock to ``target``, stopping wherever something is due to happen."""
        with self.lock:
            self.reconcile()
            guard = 0
            while self.clock.now() < target and guard < 200000:
                guard += 1
                step_end = min(target, self.clock.now() + timedelta(seconds=max_step))
                nxt = self.wakeup if self.wakeup is not None and self.wakeup < step_end else step_end
                if nxt <= self.clock.now():
                    nxt = self.clock.now() + timedelta(milliseconds=1)
                self.clock.set(nxt)
                self.reconcile()

    def advance(self, seconds: float) -> None:
        self.run_until(self.clock.now() + timedelta(seconds=seconds))

    def start_ticker(self, stopping: threading.Event, period: float = 0.25) -> None:
        """Real-time mode: reconcile a few times a second so timers fire on the wall clock, and sooner when
        something is due (a fast clock would otherwise let a rollout's steps wait a simulated period each)."""

        def pause() -> float:
            due = self.wakeup
            if due is None:
                return period
            ahead = self.clock.wall_seconds((due - self.clock.now()).total_seconds())
            return min(period, max(0.005, ahead))

        def loop() -> None:
            while not stopping.wait(pause()):
                with self.lock:
                    self.reconcile()

        self._ticker = threading.Thread(target=loop, name="sandbox-ticker", daemon=True)
        self._ticker.start()

    def reconcile(self) -> None:
        with self.lock:
            now = self.clock.now()
            self.wakeup = None
            for _ in range(8):
                before = self.store.resource_version
                self._deployments(now)
                self._replicasets(now)
                self._statefulsets(now)
                self._schedule(now)
                self._kubelet(now)
                self._endpoints()
                if self.store.resource_version == before:
                    break
            self.model.tick(self, now)
            if self.history is not None:
                self.history.record(now, self.model.signals(self))
            if self._last_expiry is None or now - self._last_expiry > timedelta(minutes=5):
                self.events.expire(now)
                self._last_expiry = now

    def log_instance(self, pod: Obj, container: str, previous: bool) -> LogInstance:
        from incidentctl.sandbox.apierrors import bad_request
        from incidentctl.sandbox.logs import LogInstance

        run = self.pods.get(pod["metadata"]["uid"])
        crun = run.containers.get(container) if run else None
        name = pod["metadata"]["name"]
        if run is None or crun is None or not crun.instances:
            reason = crun.waiting if crun is not None and crun.waiting else "ContainerCreating"
            if reason == "ErrImagePull":
                raise bad_request(
                    f'container "{container}" in pod "{name}" is waiting to start: image can\'t be pulled'
                )
            if reason == "ImagePullBackOff":
                raise bad_request(
                    f'container "{container}" in pod "{name}" is waiting to start: trying and failing to pull image'
                )
            raise bad_request(f'container "{container}" in pod "{name}" is waiting to start: {reason}')
        if previous:
            inst = crun.last_terminated()
            if inst is None:
                raise bad_request(f'previous terminated container "{container}" in pod "{name}" not found')
        else:
            inst = crun.instances[-1]
        key = inst.container_id
        cached = self._log_cache.get(key)
        if cached is None:
            cached = LogInstance(self, run, pod, crun, inst)
            self._log_cache[key] = cached
        return cached

    def pod_metrics(self, namespace: str | None) -> list[Obj]:
        now = self.clock.now()
        items = []
        for pod in self.store.list(PODS, namespace):
            run = self.pods.get(pod["metadata"]["uid"])
            if run is None or not any(c.running for c in run.containers.values()):
                continue
            containers = []
            for crun in run.containers.values():
                if not crun.running or crun.current is None:
                    continue
                cpu = self.model.cpu_millicores(self, run, pod, crun, now)
                mem = self.model.memory_bytes(self, run, pod, crun, now)
                containers.append(
                    {"name": crun.name, "usage": {"cpu": f"{int(cpu * 1e6)}n", "memory": f"{int(mem // 1024)}Ki"}}
                )
            meta = pod["metadata"]
            items.append(
                {
                    "metadata": {
                        "name": meta["name"],
                        "namespace": meta["namespace"],
                        "creationTimestamp": rfc3339(now),
                        "labels": dict(meta.get("labels") or {}),
                    },
                    "timestamp": rfc3339(now - timedelta(seconds=7)),
                    "window": "15.01s",
                    "containers": containers,
                }
            )
        return items

    def node_metrics(self) -> list[Obj]:
        now = self.clock.now()
        usage: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for pod in self.store.list(PODS):
            run = self.pods.get(pod["metadata"]["uid"])
            if run is None or not run.node:
                continue
            for crun in run.containers.values():
                if crun.running:
                    usage[run.node][0] += self.model.cpu_millicores(self, run, pod, crun, now)
                    usage[run.node][1] += self.model.memory_bytes(self, run, pod, crun, now)
        items = []
        for node in self.store.list(NODES):
            name = node["metadata"]["name"]
            cpu = usage[name][0] + 180  # system daemons and the kubelet itself
            mem = usage[name][1] + 1.4 * 1024**3
            items.append(
                {
                    "metadata": {
                        "name": name,
                        "creationTimestamp": rfc3339(now),
                        "labels": dict(node["metadata"].get("labels") or {}),
                    },
                    "timestamp": rfc3339(now - timedelta(seconds=9)),
                    "window": "20.03s",
                    "usage": {"cpu": f"{int(cpu * 1e6)}n", "memory": f"{int(mem // 1024)}Ki"},
                }
            )
        return items
