"""The Endpoints controller: ready and not-ready addresses of the pods each Service selects."""

from __future__ import annotations

from incidentctl.sandbox.controller_base import ControllerBase
from incidentctl.sandbox.objects import active
from incidentctl.sandbox.resources import ENDPOINTS, PODS, SERVICES
from incidentctl.sandbox.store import Obj


class EndpointsController(ControllerBase):
    def _endpoints(self) -> None:
        for svc in self.store.list(SERVICES):
            selector = svc.get("spec", {}).get("selector")
            if not selector:
                continue
            meta = svc["metadata"]
            ready: list[Obj] = []
            not_ready: list[Obj] = []
            for pod in self.store.list(PODS, meta["namespace"]):
                labels = pod["metadata"].get("labels") or {}
                if not all(labels.get(k) == v for k, v in selector.items()):
                    continue
                run = self.pods.get(pod["metadata"]["uid"])
                if run is None or not run.ip or not active(pod):
                    continue
                address = {
                    "ip": run.ip,
                    "nodeName": run.node,
                    "targetRef": {
                        "kind": "Pod",
                        "namespace": meta["namespace"],
                        "name": pod["metadata"]["name"],
                        "uid": pod["metadata"]["uid"],
                    },
                }
                (ready if run.ready() else not_ready).append(address)
            named: dict[str, int] = {}
            for pod in self.store.list(PODS, meta["namespace"]):
                labels = pod["metadata"].get("labels") or {}
                if all(labels.get(k) == v for k, v in selector.items()):
                    for container in pod["spec"].get("containers", []):
                        for cport in container.get("ports") or []:
                            if cport.get("name"):
                                named.setdefault(cport["name"], int(cport["containerPort"]))
                    break
            ports = []
            for port in svc["spec"].get("ports") or []:
                target = port.get("targetPort", port["port"])
                number = (
                    int(target)
                    if isinstance(target, int) or str(target).isdigit()
                    else named.get(str(target), port["port"])
                )
                entry = {"port": number, "protocol": port.get("protocol", "TCP")}
                if port.get("name"):
                    entry["name"] = port["name"]
                ports.append(entry)
            subsets = []
            if ready or not_ready:
                subset: Obj = {"ports": ports}
                if ready:
                    subset["addresses"] = sorted(ready, key=lambda a: a["ip"])
                if not_ready:
                    subset["notReadyAddresses"] = sorted(not_ready, key=lambda a: a["ip"])
                subsets.append(subset)
            existing = self.store.get(ENDPOINTS, meta["namespace"], meta["name"])
            body: Obj = {
                "metadata": {
                    "name": meta["name"],
                    "namespace": meta["namespace"],
                    "labels": dict(meta.get("labels") or {}),
                }
            }
            if subsets:
                body["subsets"] = subsets
            if existing is None:
                self.store.create(ENDPOINTS, body)
            elif existing.get("subsets") != body.get("subsets"):
                new = dict(existing)
                new["metadata"] = dict(existing["metadata"])
                if subsets:
                    new["subsets"] = subsets
                else:
                    new.pop("subsets", None)
                self.store.replace(ENDPOINTS, new)
