"""The kubelet: pulls, starts, probes, crash back-off, OOM kills, evictions, and the pod status and events
they produce, all on the sandbox clock and as the behaviour model decides."""

from __future__ import annotations

from datetime import datetime, timedelta

from incidentctl.sandbox.clock import rfc3339
from incidentctl.sandbox.controller_base import ControllerBase
from incidentctl.sandbox.objects import MAX_BACKOFF, PROBE_PERIOD, START_DELAY, terminated_state
from incidentctl.sandbox.resources import NODES, PODS
from incidentctl.sandbox.runtime import ContainerRun, Instance, PodRun, container_id, image_id
from incidentctl.sandbox.store import Obj


class Kubelet(ControllerBase):
    def _kubelet(self, now: datetime) -> None:
        for pod in self.store.list(PODS):
            node = pod.get("spec", {}).get("nodeName")
            if not node:
                continue
            run = self._runtime(pod, now)
            if run.node is None:
                run.node = node
                run.scheduled_at = now
                self._ip_counter[node] += 1
                run.ip = f"10.244.9.{self._ip_counter[node] % 250 + 2}"
            if run.attrs.get("evicted"):
                self._write_evicted_status(pod, run)
                continue
            if run.next_check is not None and now < run.next_check:
                self.wake_at(run.next_check)
                continue
            # a pod that is fine is looked at again in an hour (a scenario that changes it calls touch_all);
            # anything in motion sooner: its own due time, or the probe period while it is not ready
            nxt = now + timedelta(seconds=PROBE_PERIOD if not run.ready() else 3600.0)
            for spec in pod["spec"].get("containers", []):
                crun = run.containers.get(spec["name"])
                if crun is None:
                    continue
                due = self._container_step(pod, run, spec, crun, now)
                if due is not None and due < nxt:
                    nxt = due
            run.next_check = nxt
            self.wake_at(nxt)
            self._write_pod_status(pod, run, now)

    def _container_step(  # noqa: PLR0915
        self,
        pod: Obj,
        run: PodRun,
        spec: Obj,
        crun: ContainerRun,
        now: datetime,
    ) -> datetime | None:
        """Advance one container through pull, start, readiness, exit and back-off up to ``now``."""
        assert run.scheduled_at is not None
        assert run.node is not None
        host = run.node
        path = f"spec.containers{{{crun.name}}}"
        due: datetime | None = None
        for _ in range(1000):  # catch up on everything that happened since the last look
            if not crun.instances and crun.next_start is None:
                if not self.model.image_pullable(spec.get("image", "")):
                    crun.pull_failures += 1
                    crun.waiting = "ErrImagePull" if crun.pull_failures == 1 else "ImagePullBackOff"
                    image = spec.get("image", "")
                    crun.waiting_message = (
                        f'Back-off pulling image "{image}"'
                        if crun.pull_failures > 1
                        else f'failed to pull and unpack image "{image}": not found'
                    )
                    if crun.pull_failures == 1:
                        self.events.record(
                            pod,
                            "Normal",
                            "Pulling",
                            f'Pulling image "{image}"',
                            component="kubelet",
                            host=host,
                            field_path=path,
                        )
                        self.events.record(
                            pod,
                            "Warning",
                            "Failed",
                            f'Failed to pull image "{image}": rpc error: '
                            f'code = NotFound desc = failed to pull and unpack image "{image}": '
                            f'failed to resolve reference "{image}": {image}: not found',
                            component="kubelet",
                            host=host,
                            field_path=path,
                        )
                        self.events.record(
                            pod,
                            "Warning",
                            "Failed",
                            "Error: ErrImagePull",
                            component="kubelet",
                            host=host,
                            field_path=path,
                        )
                    self.events.record(
                        pod,
                        "Normal",
                        "BackOff",
                        f'Back-off pulling image "{image}"',
                        component="kubelet",
                        host=host,
                        field_path=path,
                    )
                    self.events.record(
                        pod,
                        "Warning",
                        "Failed",
                        "Error: ImagePullBackOff",
                        component="kubelet",
                        host=host,
                        field_path=path,
                    )
                    return now + timedelta(seconds=min(MAX_BACKOFF, 10 * 2 ** min(crun.pull_failures, 6)))
                crun.next_start = run.scheduled_at + timedelta(seconds=START_DELAY)
                crun.waiting = "ContainerCreating"
            if crun.next_start is not None:
                if crun.next_start > now:
                    return crun.next_start
                start = crun.next_start
                index = len(crun.instances)
                inst = Instance(
                    container_id(run.uid, crun.name, index),
                    spec.get("image", ""),
                    start,
                    seed=int(container_id(run.uid, crun.name, index)[-8:], 16),
                )
                crun.instances.append(inst)
                crun.next_start = None
                crun.waiting = ""
                crun.ready_since = None
                image = spec.get("image", "")
                self.events.record(
                    pod,
                    "Normal",
                    "Pulled",
                    f'Container image "{image}" already present on machine',
                    component="kubelet",
                    host=host,
                    field_path=path,
                    when=start,
                )
                self.events.record(
                    pod,
                    "Normal",
                    "Created",
                    f"Created container: {crun.name}",
                    component="kubelet",
                    host=host,
                    field_path=path,
                    when=start,
                )
                self.events.record(
                    pod,
                    "Normal",
                    "Started",
                    f"Started container {crun.name}",
                    component="kubelet",
                    host=host,
                    field_path=path,
                    when=start,
                )
                self.model.container_started(self, run, pod, crun, inst)
                continue
            current = crun.current
            if current is None or current.finished is not None:
                return due
            inst = current
            fate = self.model.fate(self, run, pod, crun, inst)
            if fate is not None and fate[0] <= now:
                end, code, reason = fate
                inst.finished, inst.exit_code, inst.reason = end, code, reason
                crun.ready_since = None
                crun.crashes = crun.crashes + 1 if end - inst.started < timedelta(minutes=10) else 1
                if reason == "OOMKilled":
                    node = self.store.get(NODES, "", host)
                    if node is not None:
                        self.events.record(
                            node,
                            "Warning",
                            "OOMKilling",
                            f"Memory cgroup out of memory: Killed process {1000 + inst.seed % 30000} "
                            f"({self.model.process_name(run, crun)}) total-vm:2841236kB, "
                            f"anon-rss:{self.model.memory_limit_kb(pod, crun.name)}kB, "
                            "file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:2456kB "
                            "oom_score_adj:984",
                            component="kernel-monitor",
                            host=host,
                            when=end,
                        )
                if pod["spec"].get("restartPolicy", "Always") == "Never":
                    return None
                backoff = min(MAX_BACKOFF, 10.0 * 2 ** (crun.crashes - 1))
                crun.next_start = end + timedelta(seconds=backoff)
                crun.waiting = "CrashLoopBackOff"
                crun.waiting_message = (
                    f"back-off {int(backoff)}s restarting failed container={crun.name} "
                    f"pod={run.name}_{run.namespace}({run.uid})"
                )
                if crun.next_start > now:
                    self.events.record(
                        pod,
                        "Warning",
                        "BackOff",
                        f"Back-off restarting failed container {crun.name} "
                        f"in pod {run.name}_{run.namespace}({run.uid})",
                        component="kubelet",
                        host=host,
                        field_path=path,
                        when=now,
                    )
                continue
            if fate is not None:
                due = fate[0]
            ready, message = self.model.readiness(self, run, pod, crun, inst, now)
            ready_at = inst.started + timedelta(seconds=self.model.ready_delay(run, crun))
            if ready and crun.ready_since is None:
                if ready_at <= now:
                    crun.ready_since = ready_at
                else:
                    due = ready_at if due is None or ready_at < due else due
            elif not ready:
                crun.ready_since = None
                if ready_at <= now and (
                    crun.last_probe_event is None or now - crun.last_probe_event >= timedelta(seconds=PROBE_PERIOD)
                ):
                    self.events.record(
                        pod,
                        "Warning",
                        "Unhealthy",
                        f"Readiness probe failed: {message}",
                        component="kubelet",
                        host=host,
                        field_path=path,
                    )
                    crun.last_probe_event = now
            return due
        return due

    def evict(self, pod: Obj, message: str) -> None:
        """The kubelet evicts a pod (node pressure): it fails for good and its ReplicaSet replaces it."""
        now = self.clock.now()
        run = self._runtime(pod, now)
        for crun in run.containers.values():
            if crun.running and crun.current is not None:
                crun.current.finished, crun.current.exit_code, crun.current.reason = now, 137, "Error"
            crun.next_start = None
            crun.waiting = ""
            crun.ready_since = None
        run.attrs["evicted"] = message
        run.attrs["evicted_at"] = now
        self.events.record(pod, "Warning", "Evicted", message, component="kubelet", host=run.node)
        for name in run.containers:
            self.events.record(
                pod,
                "Normal",
                "Killing",
                f"Stopping container {name}",
                component="kubelet",
                host=run.node,
                field_path=f"spec.containers{{{name}}}",
            )
        self._write_evicted_status(pod, run)

    def _write_evicted_status(self, pod: Obj, run: PodRun) -> None:
        when = rfc3339(run.attrs.get("evicted_at") or self.clock.now())
        statuses = []
        for spec in pod["spec"].get("containers", []):
            crun = run.containers.get(spec["name"])
            last = crun.last_terminated() if crun else None
            state: Obj = {"terminated": terminated_state(last)} if last is not None else {}
            statuses.append(
                {
                    "name": spec["name"],
                    "state": state,
                    "lastState": {},
                    "ready": False,
                    "restartCount": crun.restart_count - 1 if crun and crun.restart_count else 0,
                    "image": spec.get("image", ""),
                    "imageID": image_id(spec.get("image", "")),
                    "started": False,
                    **({"containerID": last.container_id} if last else {}),
                }
            )
        message = str(run.attrs["evicted"])
        status = {
            "phase": "Failed",
            "reason": "Evicted",
            "message": message,
            "qosClass": "Burstable",
            "conditions": [
                {
                    "type": "DisruptionTarget",
                    "status": "True",
                    "lastProbeTime": None,
                    "lastTransitionTime": when,
                    "reason": "TerminationByKubelet",
                    "message": message,
                },
                {
                    "type": "Ready",
                    "status": "False",
                    "lastProbeTime": None,
                    "lastTransitionTime": when,
                    "reason": "PodFailed",
                },
                {
                    "type": "PodScheduled",
                    "status": "True",
                    "lastProbeTime": None,
                    "lastTransitionTime": rfc3339(run.scheduled_at or run.created),
                },
            ],
            "hostIP": (pod.get("status") or {}).get("hostIP", ""),
            "startTime": rfc3339(run.scheduled_at or run.created),
            "containerStatuses": statuses,
        }
        if status != pod.get("status"):
            new = dict(pod)
            new["metadata"] = dict(pod["metadata"])
            new["status"] = status
            self.store.replace(PODS, new)

    def _write_pod_status(self, pod: Obj, run: PodRun, now: datetime) -> None:  # noqa: PLR0915
        statuses = []
        all_running = bool(run.containers)
        for spec in pod["spec"].get("containers", []):
            crun = run.containers.get(spec["name"])
            if crun is None:
                continue
            inst = crun.current
            state: Obj
            if crun.running and inst is not None:
                state = {"running": {"startedAt": rfc3339(inst.started)}}
            elif crun.waiting:
                state = {"waiting": {"reason": crun.waiting}}
                if crun.waiting_message and crun.waiting != "ContainerCreating":
                    state["waiting"]["message"] = crun.waiting_message
                all_running = False
            elif inst is not None and inst.finished is not None:
                state = {"terminated": terminated_state(inst)}
                all_running = False
            else:
                state = {"waiting": {"reason": "ContainerCreating"}}
                all_running = False
            if not crun.running:
                all_running = False
            last = crun.last_terminated()
            if crun.running or crun.waiting == "CrashLoopBackOff":
                last_state: Obj = (
                    {"terminated": terminated_state(last)}
                    if last is not None and (not crun.running or last is not inst)
                    else {}
                )
            else:
                last_state = {}
            status: Obj = {
                "name": crun.name,
                "state": state,
                "lastState": last_state,
                "ready": crun.running and crun.ready_since is not None,
                "restartCount": crun.restart_count,
                "image": spec.get("image", ""),
                "imageID": image_id(spec.get("image", "")) if crun.instances else "",
                "started": crun.running,
            }
            if inst is not None:
                status["containerID"] = inst.container_id
            status["resources"] = spec.get("resources") or {}
            statuses.append(status)
        scheduled = run.node is not None
        ready = run.ready()
        phase = "Running" if scheduled and any(c.instances for c in run.containers.values()) else "Pending"
        if pod["spec"].get("restartPolicy") == "Never" and all(
            c.current is not None and c.current.finished is not None for c in run.containers.values()
        ):
            phase = (
                "Succeeded" if all(c.current.exit_code == 0 for c in run.containers.values() if c.current) else "Failed"
            )
        if run.phase_override:
            phase = run.phase_override

        def cond(type_: str, value: bool, reason: str | None = None, message: str | None = None) -> Obj:
            text = "True" if value else "False"
            old = run.conditions.get(type_)
            since = old[1] if old and old[0] == text else now
            run.conditions[type_] = (text, since)
            out: Obj = {"type": type_, "status": text, "lastProbeTime": None, "lastTransitionTime": rfc3339(since)}
            if reason:
                out["reason"] = reason
            if message:
                out["message"] = message
            return out

        if not scheduled:
            conditions = [cond("PodScheduled", False, "Unschedulable", run.attrs.get("unschedulable"))]
        else:
            not_ready = [c.name for c in run.containers.values() if not (c.running and c.ready_since)]
            message = f"containers with unready status: [{' '.join(not_ready)}]" if not_ready else None
            conditions = [
                cond(
                    "PodReadyToStartContainers", bool(any(c.instances for c in run.containers.values())) or all_running
                ),
                cond("Initialized", True),
                cond("Ready", ready, None if ready else "ContainersNotReady", message),
                cond("ContainersReady", ready, None if ready else "ContainersNotReady", message),
                cond("PodScheduled", True),
            ]
        status = {"phase": phase, "conditions": conditions, "qosClass": "Burstable"}
        if scheduled:
            node = self.store.get(NODES, "", run.node or "")
            host_ip = next(
                (
                    a["address"]
                    for a in (node or {}).get("status", {}).get("addresses", [])
                    if a.get("type") == "InternalIP"
                ),
                "10.0.1.10",
            )
            status.update(hostIP=host_ip, hostIPs=[{"ip": host_ip}], startTime=rfc3339(run.scheduled_at or now))
            if run.ip:
                status.update(podIP=run.ip, podIPs=[{"ip": run.ip}])
            if statuses:
                status["containerStatuses"] = statuses
        if status != pod.get("status"):
            new = dict(pod)
            new["metadata"] = dict(pod["metadata"])
            new["status"] = status
            self.store.replace(PODS, new)
