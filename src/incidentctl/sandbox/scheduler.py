"""The scheduler: each pending pod to the least loaded node its CPU and memory requests fit, else FailedScheduling."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta

from incidentctl.sandbox.controller_base import ControllerBase
from incidentctl.sandbox.objects import quantity
from incidentctl.sandbox.resources import NODES, PODS
from incidentctl.sandbox.store import Obj


class Scheduler(ControllerBase):
    def _requests(self, pod: Obj) -> tuple[float, float]:
        cpu = mem = 0.0
        for container in pod.get("spec", {}).get("containers", []):
            req = (container.get("resources") or {}).get("requests") or {}
            cpu += quantity(req.get("cpu", 0))
            mem += quantity(req.get("memory", 0))
        return cpu, mem

    def _schedule(self, now: datetime) -> None:  # noqa: PLR0915
        pending = [p for p in self.store.list(PODS) if not p.get("spec", {}).get("nodeName")]
        if not pending:
            return
        nodes = [n for n in self.store.list(NODES) if not n.get("spec", {}).get("unschedulable")]
        used: dict[str, list[float]] = {n["metadata"]["name"]: [0.0, 0.0, 0] for n in nodes}
        for pod in self.store.list(PODS):
            node = pod.get("spec", {}).get("nodeName")
            if node in used:
                cpu, mem = self._requests(pod)
                used[node][0] += cpu
                used[node][1] += mem
                used[node][2] += 1
        for pod in pending:
            run = self._runtime(pod, now)
            cpu, mem = self._requests(pod)
            fits = []
            short_cpu = short_mem = 0
            for node in nodes:
                name = node["metadata"]["name"]
                alloc = node.get("status", {}).get("allocatable", {})
                free_cpu = quantity(alloc.get("cpu", 0)) - used[name][0]
                free_mem = quantity(alloc.get("memory", 0)) - used[name][1]
                if cpu > free_cpu + 1e-9:
                    short_cpu += 1
                if mem > free_mem + 1:
                    short_mem += 1
                if cpu <= free_cpu + 1e-9 and mem <= free_mem + 1:
                    fits.append((used[name][0] / max(quantity(alloc.get("cpu", 1)), 1e-9), used[name][2], name))
            if not fits:
                reasons = []
                if short_cpu:
                    reasons.append(f"{short_cpu} Insufficient cpu")
                if short_mem:
                    reasons.append(f"{short_mem} Insufficient memory")
                message = (
                    f"0/{len(nodes)} nodes are available: {', '.join(reasons) or 'no nodes available'}. "
                    f"preemption: 0/{len(nodes)} nodes are available: {len(nodes)} No preemption victims "
                    "found for incoming pod."
                )
                if run.last_sched_event is None or now - run.last_sched_event >= timedelta(seconds=60):
                    self.events.record(
                        pod, "Warning", "FailedScheduling", message, component="default-scheduler", new_api=True
                    )
                    run.last_sched_event = now
                self.wake_at(now + timedelta(seconds=60))
                run.conditions["PodScheduled"] = ("False", run.conditions.get("PodScheduled", ("False", now))[1])
                run.attrs["unschedulable"] = message
                self._write_pod_status(pod, run, now)
                continue
            fits.sort()
            node_name = fits[0][2]
            used[node_name][0] += cpu
            used[node_name][1] += mem
            used[node_name][2] += 1
            run.attrs.pop("unschedulable", None)
            run.node = node_name
            run.scheduled_at = now
            self._ip_counter[node_name] += 1
            node_index = next(i for i, n in enumerate(self.store.list(NODES)) if n["metadata"]["name"] == node_name)
            count = self._ip_counter[node_name]
            run.ip = f"10.244.{node_index + 1}.{count % 250 + 2}"
            new = copy.deepcopy(pod)
            new["spec"]["nodeName"] = node_name
            self.store.replace(PODS, new)
            self.events.record(
                new,
                "Normal",
                "Scheduled",
                f"Successfully assigned {pod['metadata']['namespace']}/{pod['metadata']['name']} to {node_name}",
                component="default-scheduler",
                new_api=True,
            )
            run.next_check = None
