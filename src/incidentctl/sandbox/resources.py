"""The API resources the sandbox serves, as discovery advertises them.

One table drives discovery, URL routing, error messages ("deployments.apps \\"web\\" not found") and storage, so
a resource kubectl can discover is always one the server can answer for (client-go fails discovery otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
READ_VERBS = ("get", "list")


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    #: served by a computed view (metrics.k8s.io), not by the object store
    virtual: bool = False

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_version(self) -> str:
        return self.api_version

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def qualified(self) -> str:
        """The name Kubernetes puts in messages: ``pods``, ``deployments.apps``."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"


def _core(plural: str, kind: str, **kw: object) -> ResourceType:
    return ResourceType("", "v1", plural, kind, **kw)  # type: ignore[arg-type]


NAMESPACES = _core(
    "namespaces",
    "Namespace",
    namespaced=False,
    short_names=("ns",),
    verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
    subresources=("status",),
)
NODES = _core("nodes", "Node", namespaced=False, short_names=("no",), subresources=("status",))
PODS = _core("pods", "Pod", short_names=("po",), categories=("all",), subresources=("log", "exec", "status"))
SERVICES = _core("services", "Service", short_names=("svc",), categories=("all",), subresources=("status",))
ENDPOINTS = _core("endpoints", "Endpoints", short_names=("ep",))
EVENTS = _core("events", "Event", short_names=("ev",))
CONFIGMAPS = _core("configmaps", "ConfigMap", short_names=("cm",))
SECRETS = _core("secrets", "Secret")
DEPLOYMENTS = ResourceType(
    "apps",
    "v1",
    "deployments",
    "Deployment",
    short_names=("deploy",),
    categories=("all",),
    subresources=("scale", "status"),
)
REPLICASETS = ResourceType(
    "apps",
    "v1",
    "replicasets",
    "ReplicaSet",
    short_names=("rs",),
    categories=("all",),
    subresources=("scale", "status"),
)
STATEFULSETS = ResourceType(
    "apps",
    "v1",
    "statefulsets",
    "StatefulSet",
    short_names=("sts",),
    categories=("all",),
    subresources=("scale", "status"),
)
INGRESSES = ResourceType(
    "networking.k8s.io", "v1", "ingresses", "Ingress", short_names=("ing",), subresources=("status",)
)
POD_METRICS = ResourceType("metrics.k8s.io", "v1beta1", "pods", "PodMetrics", verbs=READ_VERBS, virtual=True)
NODE_METRICS = ResourceType(
    "metrics.k8s.io", "v1beta1", "nodes", "NodeMetrics", namespaced=False, verbs=READ_VERBS, virtual=True
)
#: ``kubectl auth can-i`` (and a tool's permission pre-flight) asks with a SelfSubjectAccessReview
ACCESS_REVIEWS = ResourceType(
    "authorization.k8s.io",
    "v1",
    "selfsubjectaccessreviews",
    "SelfSubjectAccessReview",
    namespaced=False,
    verbs=("create",),
    virtual=True,
)

ALL: tuple[ResourceType, ...] = (
    NAMESPACES,
    NODES,
    PODS,
    SERVICES,
    ENDPOINTS,
    EVENTS,
    CONFIGMAPS,
    SECRETS,
    DEPLOYMENTS,
    REPLICASETS,
    STATEFULSETS,
    INGRESSES,
    POD_METRICS,
    NODE_METRICS,
    ACCESS_REVIEWS,
)
STORED: tuple[ResourceType, ...] = tuple(rt for rt in ALL if not rt.virtual)

#: group -> versions, in the order discovery lists them ("" is the legacy core group at /api)
GROUPS: dict[str, tuple[str, ...]] = {
    "apps": ("v1",),
    "networking.k8s.io": ("v1",),
    "metrics.k8s.io": ("v1beta1",),
    "authorization.k8s.io": ("v1",),
}

_BY_PATH = {(rt.group, rt.version, rt.plural): rt for rt in ALL}
_BY_KIND = {(rt.group, rt.kind): rt for rt in STORED}


def lookup(group: str, version: str, plural: str) -> ResourceType | None:
    return _BY_PATH.get((group, version, plural))


def by_kind(api_version: str, kind: str) -> ResourceType | None:
    group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
    return _BY_KIND.get((group, kind))


def resources_in(group: str, version: str) -> list[ResourceType]:
    return [rt for rt in ALL if rt.group == group and rt.version == version]
