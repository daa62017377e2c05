"""Server-side printing: the ``meta.k8s.io/v1`` Table kubectl asks for, with the columns it prints.

The cells follow the API server's printers (``pkg/printers/internalversion``): the pod STATUS is worked out from
the container states the same way, so CrashLoopBackOff, OOMKilled or Pending show as on a real cluster.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from incidentctl.sandbox.clock import human_duration, parse_time

Obj = dict[str, Any]
Column = tuple[str, str, int, str]  # name, type, priority, description


def _age(obj: Obj, now: datetime) -> str:
    created = obj.get("metadata", {}).get("creationTimestamp")
    return human_duration(now - parse_time(created)) if created else "<unknown>"


def _since(stamp: str | None, now: datetime) -> str:
    return human_duration(now - parse_time(stamp)) if stamp else "<unknown>"


NAME: Column = ("Name", "string", 0, "Name must be unique within a namespace.")
AGE: Column = (
    "Age",
    "string",
    0,
    "CreationTimestamp is a timestamp representing the server time when this object was created.",
)


def pod_status(pod: Obj) -> tuple[str, int, int, int, str | None]:
    """(STATUS, ready containers, total containers, restarts, last restart time) as ``printPod`` computes them."""
    spec, status = pod.get("spec", {}), pod.get("status", {})
    total = len(spec.get("containers", []))
    restarts = 0
    last_restart: str | None = None
    reason = status.get("reason") or status.get("phase") or "Pending"
    ready = 0
    has_running = False
    for cs in reversed(status.get("containerStatuses") or []):
        restarts += int(cs.get("restartCount", 0))
        finished = (cs.get("lastState") or {}).get("terminated", {}).get("finishedAt")
        if finished and (last_restart is None or finished > last_restart):
            last_restart = finished
        state = cs.get("state") or {}
        if state.get("waiting", {}).get("reason"):
            reason = state["waiting"]["reason"]
        elif state.get("terminated", {}).get("reason"):
            reason = state["terminated"]["reason"]
        elif "terminated" in state:
            term = state["terminated"]
            reason = f"Signal:{term['signal']}" if term.get("signal") else f"ExitCode:{term.get('exitCode', 0)}"
        elif cs.get("ready") and "running" in state:
            has_running = True
            ready += 1
    if reason == "Completed" and has_running:
        reason = "Running"
    if pod.get("metadata", {}).get("deletionTimestamp"):
        reason = "Unknown" if status.get("reason") == "NodeLost" else "Terminating"
    return reason, ready, total, restarts, last_restart


def _pod_row(pod: Obj, now: datetime) -> list[Any]:
    reason, ready, total, restarts, last = pod_status(pod)
    restart_cell = str(restarts)
    if restarts and last:
        restart_cell = f"{restarts} ({_since(last, now)} ago)"
    status = pod.get("status", {})
    return [
        pod["metadata"]["name"],
        f"{ready}/{total}",
        reason,
        restart_cell,
        _age(pod, now),
        status.get("podIP") or "<none>",
        pod.get("spec", {}).get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        "<none>",
    ]


POD_COLUMNS: list[Column] = [
    NAME,
    ("Ready", "string", 0, "The aggregate readiness state of this pod for accepting traffic."),
    ("Status", "string", 0, "The aggregate status of the containers in this pod."),
    (
        "Restarts",
        "string",
        0,
        "The number of times the containers in this pod have been restarted and when the "
        "last container in this pod has restarted.",
    ),
    AGE,
    ("IP", "string", 1, "IP address allocated to the pod. Routable at least within the cluster."),
    ("Node", "string", 1, "NodeName is a request to schedule this pod onto a specific node."),
    ("Nominated Node", "string", 1, "nominatedNodeName is set when this pod preempts other pods on the node."),
    ("Readiness Gates", "string", 1, "If specified, all readiness gates will be evaluated for pod readiness."),
]


def _containers(obj: Obj) -> tuple[str, str]:
    containers = obj.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [])
    return ",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers)


def _selector(obj: Obj) -> str:
    labels = (obj.get("spec", {}).get("selector") or {}).get("matchLabels") or {}
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or "<none>"


def _deploy_row(obj: Obj, now: datetime) -> list[Any]:
    spec, status = obj.get("spec", {}), obj.get("status", {})
    names, images = _containers(obj)
    return [
        obj["metadata"]["name"],
        f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
        int(status.get("updatedReplicas", 0)),
        int(status.get("availableReplicas", 0)),
        _age(obj, now),
        names,
        images,
        _selector(obj),
    ]


DEPLOY_COLUMNS: list[Column] = [
    NAME,
    ("Ready", "string", 0, "Number of the pod with ready state"),
    (
        "Up-to-date",
        "string",
        0,
        "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
    ),
    (
        "Available",
        "string",
        0,
        "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
    ),
    AGE,
    ("Containers", "string", 1, "Names of each container in the template."),
    ("Images", "string", 1, "Images referenced by each container in the template."),
    ("Selector", "string", 1, "Label selector for pods."),
]


def _rs_row(obj: Obj, now: datetime) -> list[Any]:
    spec, status = obj.get("spec", {}), obj.get("status", {})
    names, images = _containers(obj)
    return [
        obj["metadata"]["name"],
        int(spec.get("replicas", 1)),
        int(status.get("replicas", 0)),
        int(status.get("readyReplicas", 0)),
        _age(obj, now),
        names,
        images,
        _selector(obj),
    ]


RS_COLUMNS: list[Column] = [
    NAME,
    ("Desired", "integer", 0, "Number of desired pods."),
    ("Current", "integer", 0, "Number of actual pods."),
    ("Ready", "integer", 0, "Number of ready pods."),
    AGE,
    ("Containers", "string", 1, "Names of each container in the template."),
    ("Images", "string", 1, "Images referenced by each container in the template."),
    ("Selector", "string", 1, "Label selector for pods."),
]


def _sts_row(obj: Obj, now: datetime) -> list[Any]:
    spec, status = obj.get("spec", {}), obj.get("status", {})
    names, images = _containers(obj)
    return [
        obj["metadata"]["name"],
        f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
        _age(obj, now),
        names,
        images,
    ]


STS_COLUMNS: list[Column] = [
    NAME,
    ("Ready", "string", 0, "Number of the pod with ready state"),
    AGE,
    ("Containers", "string", 1, "Names of each container in the template."),
    ("Images", "string", 1, "Images referenced by each container in the template."),
]


def _svc_row(obj: Obj, now: datetime) -> list[Any]:
    spec = obj.get("spec", {})
    kind = spec.get("type", "ClusterIP")
    external = ",".join(spec.get("externalIPs") or [])
    if kind == "LoadBalancer":
        ingress = (obj.get("status", {}).get("loadBalancer") or {}).get("ingress") or []
        lb = ",".join(i.get("ip") or i.get("hostname", "") for i in ingress)
        external = lb or "<pending>"
    elif kind == "ExternalName":
        external = spec.get("externalName", "")
    ports = []
    for port in spec.get("ports") or []:
        text = f"{port['port']}/{port.get('protocol', 'TCP')}"
        if port.get("nodePort"):
            text = f"{port['port']}:{port['nodePort']}/{port.get('protocol', 'TCP')}"
        ports.append(text)
    selector = ",".join(f"{k}={v}" for k, v in sorted((spec.get("selector") or {}).items())) or "<none>"
    return [
        obj["metadata"]["name"],
        kind,
        spec.get("clusterIP") or "<none>",
        external or "<none>",
        ",".join(ports) or "<none>",
        _age(obj, now),
        selector,
    ]


SVC_COLUMNS: list[Column] = [
    NAME,
    ("Type", "string", 0, "type determines how the Service is exposed."),
    ("Cluster-IP", "string", 0, "clusterIP is the IP address of the service."),
    (
        "External-IP",
        "string",
        0,
        "externalIPs is a list of IP addresses for which nodes in the cluster will also "
        "accept traffic for this service.",
    ),
    ("Port(s)", "string", 0, "The list of ports that are exposed by this service."),
    AGE,
    ("Selector", "string", 1, "Route service traffic to pods with label keys and values matching this selector."),
]


def _ing_row(obj: Obj, now: datetime) -> list[Any]:
    spec = obj.get("spec", {})
    hosts = [r.get("host", "*") for r in spec.get("rules") or []]
    ingress = (obj.get("status", {}).get("loadBalancer") or {}).get("ingress") or []
    address = ",".join(i.get("ip") or i.get("hostname", "") for i in ingress)
    ports = "80, 443" if spec.get("tls") else "80"
    return [
        obj["metadata"]["name"],
        spec.get("ingressClassName") or "<none>",
        ",".join(hosts) or "*",
        address,
        ports,
        _age(obj, now),
    ]


ING_COLUMNS: list[Column] = [
    NAME,
    ("Class", "string", 0, "The name of the IngressClass resource that should be used."),
    ("Hosts", "string", 0, "Hosts that incoming requests are matched against before the ingress rule"),
    ("Address", "string", 0, "Address is a list containing ingress points for the load-balancer"),
    ("Ports", "string", 0, "Ports of TLS configurations that open"),
    AGE,
]


def _event_row(obj: Obj, now: datetime) -> list[Any]:
    # the API server's printer: an events.k8s.io event has eventTime and series instead of the timestamps and count
    first = _since(obj.get("firstTimestamp") or obj.get("eventTime"), now)
    last = _since(obj.get("lastTimestamp"), now) if obj.get("lastTimestamp") else first
    count = int(obj.get("count") or 1)
    series = obj.get("series") or {}
    if series:
        last = _since(series.get("lastObservedTime"), now)
        count = int(series.get("count") or 1)
    if count > 1:
        last = f"{last} (x{count} over {first})"
    involved = obj.get("involvedObject", {})
    target = (
        f"{involved.get('kind', '').lower()}/{involved['name']}"
        if involved.get("name")
        else involved.get("kind", "").lower()
    )
    source = obj.get("source") or {}
    source_text = source.get("component", "") or obj.get("reportingComponent", "")
    if source.get("host"):
        source_text = f"{source_text}, {source['host']}"
    return [
        last,
        obj.get("type", ""),
        obj.get("reason", ""),
        target,
        involved.get("fieldPath", ""),
        source_text,
        (obj.get("message") or "").strip(),
        first,
        count,
        obj["metadata"]["name"],
    ]


EVENT_COLUMNS: list[Column] = [
    ("Last Seen", "string", 0, "The last time this event was observed."),
    ("Type", "string", 0, "Type of this event (Normal, Warning), new types could be added in the future."),
    ("Reason", "string", 0, "The reason for this event."),
    ("Object", "string", 0, "The object that this event is about."),
    ("Subobject", "string", 1, "The subobject that this event is about."),
    ("Source", "string", 1, "The component reporting this event."),
    ("Message", "string", 0, "A human-readable description of the status of this operation."),
    ("First Seen", "string", 1, "The first time this event was observed."),
    ("Count", "string", 1, "The number of times this event has occurred."),
    ("Name", "string", 1, "The name of this event."),
]


def _node_row(obj: Obj, now: datetime) -> list[Any]:
    status = obj.get("status", {})
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
    text = "Ready" if ready and ready.get("status") == "True" else "NotReady" if ready else "Unknown"
    if obj.get("spec", {}).get("unschedulable"):
        text += ",SchedulingDisabled"
    labels = obj.get("metadata", {}).get("labels") or {}
    roles = sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/"))
    info = status.get("nodeInfo") or {}
    addresses = {a.get("type"): a.get("address") for a in status.get("addresses") or []}
    return [
        obj["metadata"]["name"],
        text,
        ",".join(roles) or "<none>",
        _age(obj, now),
        info.get("kubeletVersion", ""),
        addresses.get("InternalIP", "<none>"),
        addresses.get("ExternalIP", "<none>"),
        info.get("osImage", ""),
        info.get("kernelVersion", ""),
        info.get("containerRuntimeVersion", ""),
    ]


NODE_COLUMNS: list[Column] = [
    NAME,
    ("Status", "string", 0, "The status of the node"),
    ("Roles", "string", 0, "The roles of the node"),
    AGE,
    ("Version", "string", 0, "Kubelet Version reported by the node."),
    ("Internal-IP", "string", 1, "List of addresses reachable to the node. Queried from cloud provider, if available."),
    ("External-IP", "string", 1, "List of addresses reachable to the node. Queried from cloud provider, if available."),
    ("OS-Image", "string", 1, "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy))."),
    ("Kernel-Version", "string", 1, "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64)."),
    (
        "Container-Runtime",
        "string",
        1,
        "Container runtime version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
    ),
]


def _ns_row(obj: Obj, now: datetime) -> list[Any]:
    return [obj["metadata"]["name"], obj.get("status", {}).get("phase", "Active"), _age(obj, now)]


NS_COLUMNS: list[Column] = [NAME, ("Status", "string", 0, "The status of the namespace"), AGE]


def _ep_row(obj: Obj, now: datetime) -> list[Any]:
    addresses = []
    for subset in obj.get("subsets") or []:
        for address in subset.get("addresses") or []:
            for port in subset.get("ports") or [{}]:
                addresses.append(f"{address['ip']}:{port.get('port')}" if port else address["ip"])
    text = ",".join(addresses[:3]) + (f" + {len(addresses) - 3} more..." if len(addresses) > 3 else "")
    return [obj["metadata"]["name"], text or "<none>", _age(obj, now)]


EP_COLUMNS: list[Column] = [NAME, ("Endpoints", "string", 0, "Endpoints of the service"), AGE]


def _cm_row(obj: Obj, now: datetime) -> list[Any]:
    return [obj["metadata"]["name"], len(obj.get("data") or {}) + len(obj.get("binaryData") or {}), _age(obj, now)]


CM_COLUMNS: list[Column] = [NAME, ("Data", "string", 0, "Number of data in the ConfigMap"), AGE]


def _default_row(obj: Obj, now: datetime) -> list[Any]:
    return [obj["metadata"]["name"], _age(obj, now)]


PRINTERS: dict[str, tuple[list[Column], Callable[[Obj, datetime], list[Any]]]] = {
    "Pod": (POD_COLUMNS, _pod_row),
    "Deployment": (DEPLOY_COLUMNS, _deploy_row),
    "ReplicaSet": (RS_COLUMNS, _rs_row),
    "StatefulSet": (STS_COLUMNS, _sts_row),
    "Service": (SVC_COLUMNS, _svc_row),
    "Ingress": (ING_COLUMNS, _ing_row),
    "Event": (EVENT_COLUMNS, _event_row),
    "Node": (NODE_COLUMNS, _node_row),
    "Namespace": (NS_COLUMNS, _ns_row),
    "Endpoints": (EP_COLUMNS, _ep_row),
    "ConfigMap": (CM_COLUMNS, _cm_row),
}


def _partial(obj: Obj) -> Obj:
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata", {})}


def table(
    kind: str, objects: list[Obj], now: datetime, *, include_object: str = "Metadata", list_meta: Obj | None = None
) -> Obj:
    columns, printer = PRINTERS.get(kind, ([NAME, AGE], _default_row))
    rows = []
    for obj in objects:
        row: Obj = {"cells": printer(obj, now)}
        if include_object == "Object":
            row["object"] = obj
        elif include_object != "None":
            row["object"] = _partial(obj)
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta or {},
        "columnDefinitions": [
            {"name": n, "type": t, "format": "name" if n == "Name" else "", "description": d, "priority": p}
            for n, t, p, d in columns
        ],
        "rows": rows,
    }
