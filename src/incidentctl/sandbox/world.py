"""The SarvanOM production cluster the sandbox starts with: nodes, the namespace, the three services and their
datastores, with months of deployment history behind them.

Objects are created with creation times in the past and old ReplicaSets already scaled to zero, so
``kubectl rollout history`` shows several revisions and ``kubectl get`` shows realistic ages from the first
request on.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from incidentctl.sandbox import managed_fields, names, resources
from incidentctl.sandbox.objects import CHANGE_CAUSE, HASH_LABEL, REVISION
from incidentctl.sandbox.simulation import Simulation
from incidentctl.sandbox.store import Obj

NAMESPACE = "sarvanom-production"
REGISTRY = "registry.sarvanom.com/sarvanom"


@dataclass(frozen=True)
class Release:
    version: str
    change_cause: str
    age: timedelta
    #: who rolled it out (the ``sarvanom.com/deployed-by`` annotation the deploy pipeline sets)
    author: str = ""


#: the annotation the deploy pipeline records the author in; the deployment controller copies it to the ReplicaSet
DEPLOYED_BY = "sarvanom.com/deployed-by"
#: the manager managedFields records for each kind of writer
DEPLOY_MANAGER = "kubectl-set"
CONTROLLER_MANAGER = "kube-controller-manager"
APPLY_MANAGER = "kubectl-client-side-apply"


@dataclass(frozen=True)
class Component:
    name: str
    kind: str  # Deployment | StatefulSet
    image: str  # repository without tag
    releases: tuple[Release, ...]
    replicas: int
    port: int
    requests: dict[str, str]
    limits: dict[str, str]
    #: typical use per pod when healthy
    cpu_m: float
    memory_mi: float
    #: requests per second the whole service handles, error ratio and p95 latency (seconds) on a good day
    request_rate: float = 0.0
    error_rate: float = 0.0
    p95: float = 0.0
    env: tuple[tuple[str, str], ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def image_at(self, version: str) -> str:
        return f"{self.image}:{version}"

    @property
    def current(self) -> Release:
        return self.releases[-1]


DAY = timedelta(days=1)

GATEWAY = Component(
    "gateway",
    "Deployment",
    f"{REGISTRY}/gateway",
    (
        Release("1.12.0", "deploy gateway 1.12.0: request tracing", 61 * DAY, "lena.okafor"),
        Release("1.13.1", "deploy gateway 1.13.1: per-tenant rate limits", 34 * DAY, "tomas.berg"),
        Release("1.14.0", "deploy gateway 1.14.0: streaming answers", 12 * DAY, "lena.okafor"),
        Release("1.14.2", "deploy gateway 1.14.2: fix stream cancellation leak", 4 * DAY, "ci-deploy"),
    ),
    replicas=3,
    port=8080,
    requests={"cpu": "500m", "memory": "256Mi"},
    limits={"cpu": "1", "memory": "512Mi"},
    cpu_m=180,
    memory_mi=210,
    request_rate=42.0,
    error_rate=0.002,
    p95=0.2,
    env=(("UPSTREAM_RETRIEVAL", "http://retrieval"), ("UPSTREAM_SYNTHESIS", "http://synthesis")),
)
RETRIEVAL = Component(
    "retrieval",
    "Deployment",
    f"{REGISTRY}/retrieval",
    (
        Release("3.7.0", "deploy retrieval 3.7.0: hybrid BM25 + vector search", 48 * DAY, "ravi.menon"),
        Release("3.8.0", "deploy retrieval 3.8.0: on-disk index cache", 20 * DAY, "ravi.menon"),
        Release("3.8.1", "deploy retrieval 3.8.1: tune cache eviction", 9 * DAY, "ci-deploy"),
    ),
    replicas=3,
    port=8080,
    requests={"cpu": "500m", "memory": "512Mi"},
    limits={"cpu": "1", "memory": "1Gi"},
    cpu_m=260,
    memory_mi=420,
    request_rate=38.0,
    error_rate=0.001,
    p95=0.24,
    env=(
        ("DATABASE_URL", "postgresql://sarvanom@postgres:5432/sarvanom_production"),
        ("REDIS_URL", "redis://redis:6379/0"),
    ),
)
SYNTHESIS = Component(
    "synthesis",
    "Deployment",
    f"{REGISTRY}/synthesis",
    (
        Release("2.3.0", "deploy synthesis 2.3.0: citations in answers", 55 * DAY, "mei.tanaka"),
        Release("2.4.0", "deploy synthesis 2.4.0: anthropic fallback provider", 27 * DAY, "mei.tanaka"),
        Release("2.4.3", "deploy synthesis 2.4.3: shorter provider timeouts", 6 * DAY, "ci-deploy"),
    ),
    replicas=3,
    port=8080,
    requests={"cpu": "500m", "memory": "512Mi"},
    limits={"cpu": "1", "memory": "1Gi"},
    cpu_m=150,
    memory_mi=350,
    request_rate=36.0,
    error_rate=0.003,
    p95=1.9,
    env=(("REDIS_URL", "redis://redis:6379/1"),),
)
POSTGRES = Component(
    "postgres",
    "StatefulSet",
    "docker.io/library/postgres",
    (Release("16.4", "", 90 * DAY),),
    replicas=1,
    port=5432,
    requests={"cpu": "1", "memory": "2Gi"},
    limits={"cpu": "2", "memory": "4Gi"},
    cpu_m=120,
    memory_mi=1240,
    env=(
        ("POSTGRES_DB", "sarvanom_production"),
        ("POSTGRES_USER", "sarvanom"),
        ("PGDATA", "/var/lib/postgresql/data/pgdata"),
    ),
)
REDIS = Component(
    "redis",
    "StatefulSet",
    "docker.io/library/redis",
    (Release("7.4.1", "", 90 * DAY),),
    replicas=1,
    port=6379,
    requests={"cpu": "250m", "memory": "512Mi"},
    limits={"cpu": "500m", "memory": "1Gi"},
    cpu_m=40,
    memory_mi=310,
)

SERVICES = (GATEWAY, RETRIEVAL, SYNTHESIS)
COMPONENTS = (GATEWAY, RETRIEVAL, SYNTHESIS, POSTGRES, REDIS)
BY_NAME = {c.name: c for c in COMPONENTS}

#: the revision bad-deploy rolls out: segfaults in the new tokenizer under real traffic
BAD_SYNTHESIS = Release(
    "2.5.0", "deploy synthesis 2.5.0: faster tokenizer (tokenizers 0.22)", timedelta(0), "jonas.weber"
)
BROKEN_IMAGES = {SYNTHESIS.image_at(BAD_SYNTHESIS.version)}

#: the setting bad-config breaks: a provider timeout below the provider's own p95 (1.9 s)
TIMEOUT_KEY = "LLM_TIMEOUT_SECONDS"
GOOD_TIMEOUT = "30"
BAD_TIMEOUT = "2"

#: every image the registry has (a typo in a tag gives ErrImagePull, as it would)
KNOWN_IMAGES = {c.image_at(r.version) for c in COMPONENTS for r in c.releases} | BROKEN_IMAGES

#: the gateway's own settings (``envFrom``; the app reloads them): MAINTENANCE_MODE "on" serves the maintenance page
GATEWAY_CONFIG = "gateway-config"
MAINTENANCE_KEY = "MAINTENANCE_MODE"
#: a number N: the gateway answers a client address that failed to log in more than N times in a minute with 429,
#: before any password check (the credential-stuffing drill's fix); unset or 0: no throttle
LOGIN_THROTTLE_KEY = "LOGIN_THROTTLE_PER_MINUTE"
LOGIN_PATH = "/v1/auth/login"
#: the few addresses the credential-stuffing drill's flood comes from (documentation ranges, RFC 5737)
ATTACKERS = ("198.51.100.23", "198.51.100.77", "203.0.113.195")
#: the standby region's gateway, reached from the cluster as an ExternalName Service (the redirect's target)
STANDBY_SERVICE = "gateway-standby"
STANDBY_HOST = "api.standby.europe-west4.sarvanom.com"

NODES = ("sarvanom-pool-a-7f3k", "sarvanom-pool-a-9m2x", "sarvanom-pool-b-4q8n")
INGRESS_HOST = "api.sarvanom.com"
INGRESS_IP = "203.0.113.10"


def image_pullable(image: str) -> bool:
    return not image.startswith(REGISTRY) or image in KNOWN_IMAGES


def component_of(pod: Obj) -> str:
    labels = pod.get("metadata", {}).get("labels") or {}
    return str(
        labels.get("app.kubernetes.io/name")
        or labels.get("app")
        or labels.get("k8s-app")
        or pod["metadata"].get("name", "")
    )


def _labels(name: str) -> dict[str, str]:
    return {"app": name, "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "sarvanom"}


def pod_template(component: Component, version: str, annotations: dict[str, str] | None = None) -> Obj:
    container: Obj = {
        "name": component.name,
        "image": component.image_at(version),
        "imagePullPolicy": "IfNotPresent",
        "ports": [
            {
                "name": "http" if component.kind == "Deployment" else component.name,
                "containerPort": component.port,
                "protocol": "TCP",
            }
        ],
        "env": [{"name": k, "value": v} for k, v in component.env],
        "resources": {"requests": dict(component.requests), "limits": dict(component.limits)},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
    }
    if component.kind == "Deployment":
        # readiness is shallow (the process serves); /health also checks downstreams, for people and monitors
        container["readinessProbe"] = {
            "httpGet": {"path": "/health/ready", "port": "http", "scheme": "HTTP"},
            "periodSeconds": 10,
            "timeoutSeconds": 2,
            "successThreshold": 1,
            "failureThreshold": 3,
        }
        container["livenessProbe"] = {
            "httpGet": {"path": "/health/live", "port": "http", "scheme": "HTTP"},
            "periodSeconds": 20,
            "timeoutSeconds": 2,
            "successThreshold": 1,
            "failureThreshold": 3,
        }
    elif component.name == "postgres":
        container["readinessProbe"] = {
            "exec": {"command": ["psql", "-U", "sarvanom", "-d", "sarvanom_production", "-c", "SELECT 1;"]},
            "periodSeconds": 10,
            "timeoutSeconds": 5,
            "successThreshold": 1,
            "failureThreshold": 3,
        }
    else:
        container["readinessProbe"] = {
            "exec": {"command": ["redis-cli", "ping"]},
            "periodSeconds": 10,
            "timeoutSeconds": 2,
            "successThreshold": 1,
            "failureThreshold": 3,
        }
    spec: Obj = {
        "containers": [container],
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "schedulerName": "default-scheduler",
        "securityContext": {},
    }
    if component.name == "retrieval":
        container["volumeMounts"] = [{"name": "index-cache", "mountPath": "/var/cache/retrieval"}]
        spec["volumes"] = [{"name": "index-cache", "emptyDir": {"medium": "Memory"}}]
    if component.name == "synthesis":
        container["envFrom"] = [{"configMapRef": {"name": "synthesis-config"}}]
    if component.name == "gateway":
        container["envFrom"] = [{"configMapRef": {"name": GATEWAY_CONFIG}}]
    if component.kind == "StatefulSet":
        container["volumeMounts"] = [
            {"name": "data", "mountPath": "/var/lib/postgresql/data" if component.name == "postgres" else "/data"}
        ]
        spec["volumes"] = [{"name": "data", "emptyDir": {}}]
    template: Obj = {"metadata": {"labels": _labels(component.name)}, "spec": spec}
    if annotations:
        template["metadata"]["annotations"] = annotations
    return template


def _deployment(component: Component, created: datetime) -> Obj:
    spec: Obj = {
        "replicas": component.replicas,
        "selector": {"matchLabels": {"app": component.name}},
        "template": pod_template(component, component.current.version),
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
        "revisionHistoryLimit": 10,
        "progressDeadlineSeconds": 600,
    }
    if component.name == "synthesis":
        # three replicas: one may be down and one extra may start during a rollout
        spec["strategy"]["rollingUpdate"] = {"maxSurge": 1, "maxUnavailable": 1}
        spec["minReadySeconds"] = 30  # a pod must stay ready for 30 s before the rollout moves on
    return {
        "metadata": {
            "name": component.name,
            "namespace": NAMESPACE,
            "labels": _labels(component.name),
            "annotations": _release_annotations(component.current),
        },
        "spec": spec,
    }


def _release_annotations(release: Release) -> dict[str, str]:
    out = {CHANGE_CAUSE: release.change_cause}
    if release.author:
        out[DEPLOYED_BY] = release.author
    return out


def _older_release(component: Component, deploy: Obj) -> Obj:
    """The deployment as it was before its current release: what the last ``kubectl set image`` changed."""
    old = copy.deepcopy(deploy)
    if len(component.releases) > 1:
        old["spec"]["template"] = pod_template(component, component.releases[-2].version)
        old["metadata"]["annotations"] = _release_annotations(component.releases[-2])
    return old


def _old_replicasets(component: Component, deploy: Obj) -> list[Obj]:
    out = []
    for revision, release in enumerate(component.releases, start=1):
        template = pod_template(component, release.version)
        pod_hash = names.template_hash(template)
        template["metadata"]["labels"][HASH_LABEL] = pod_hash
        meta = deploy["metadata"]
        out.append(
            {
                "metadata": {
                    "name": f"{component.name}-{pod_hash}",
                    "namespace": NAMESPACE,
                    "labels": dict(template["metadata"]["labels"]),
                    "annotations": {
                        REVISION: str(revision),
                        **_release_annotations(release),
                        "deployment.kubernetes.io/desired-replicas": str(component.replicas),
                        "deployment.kubernetes.io/max-replicas": str(component.replicas + 1),
                    },
                    "ownerReferences": [
                        {
                            "apiVersion": "apps/v1",
                            "kind": "Deployment",
                            "name": meta["name"],
                            "uid": meta["uid"],
                            "controller": True,
                            "blockOwnerDeletion": True,
                        }
                    ],
                },
                "spec": {
                    "replicas": component.replicas if revision == len(component.releases) else 0,
                    "minReadySeconds": deploy["spec"].get("minReadySeconds", 0),
                    "selector": {"matchLabels": {"app": component.name, HASH_LABEL: pod_hash}},
                    "template": template,
                },
                "status": {"replicas": 0, "observedGeneration": 2},
            }
        )
    return out


def _statefulset(component: Component) -> Obj:
    return {
        "metadata": {"name": component.name, "namespace": NAMESPACE, "labels": _labels(component.name)},
        "spec": {
            "replicas": 1,
            "serviceName": component.name,
            "selector": {"matchLabels": {"app": component.name}},
            "template": pod_template(component, component.current.version),
            "podManagementPolicy": "OrderedReady",
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
            "revisionHistoryLimit": 10,
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
        },
    }


def _service(name: str, port: int, target: int | str, cluster_ip: str, headless: bool = False) -> Obj:
    return {
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": _labels(name)},
        "spec": {
            "type": "ClusterIP",
            "clusterIP": "None" if headless else cluster_ip,
            "clusterIPs": ["None" if headless else cluster_ip],
            "selector": {"app": name},
            "ports": [{"name": "http" if port == 80 else name, "port": port, "targetPort": target, "protocol": "TCP"}],
            "sessionAffinity": "None",
            "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack",
            "internalTrafficPolicy": "Cluster",
        },
        "status": {"loadBalancer": {}},
    }


def _standby_service() -> Obj:
    """The standby region's gateway as a name in this cluster: what the redirect points the ingress at."""
    return {
        "metadata": {"name": STANDBY_SERVICE, "namespace": NAMESPACE, "labels": _labels(STANDBY_SERVICE)},
        "spec": {
            "type": "ExternalName",
            "externalName": STANDBY_HOST,
            "ports": [{"name": "http", "port": 80, "targetPort": 80, "protocol": "TCP"}],
            "sessionAffinity": "None",
        },
        "status": {"loadBalancer": {}},
    }


def node(name: str, index: int) -> Obj:
    return {
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "node.kubernetes.io/instance-type": "e2-standard-4",
                "topology.kubernetes.io/zone": f"europe-west1-{'bcd'[index % 3]}",
                "cloud.google.com/gke-nodepool": name.rsplit("-", 1)[0].removeprefix("sarvanom-"),
            },
        },
        "spec": {
            "podCIDR": f"10.244.{index + 1}.0/24",
            "podCIDRs": [f"10.244.{index + 1}.0/24"],
            "providerID": f"gce://sarvanom-prod/europe-west1-{'bcd'[index % 3]}/{name}",
        },
        "status": {
            "capacity": {"cpu": "4", "memory": "16393208Ki", "pods": "110", "ephemeral-storage": "98831908Ki"},
            "allocatable": {"cpu": "3920m", "memory": "13349880Ki", "pods": "110", "ephemeral-storage": "47060071478"},
            "conditions": [
                {
                    "type": t,
                    "status": "False",
                    "reason": r,
                    "message": m,
                    "lastHeartbeatTime": None,
                    "lastTransitionTime": None,
                }
                for t, r, m in (
                    ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                    ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                    ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                )
            ]
            + [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "KubeletReady",
                    "message": "kubelet is posting ready status",
                    "lastHeartbeatTime": None,
                    "lastTransitionTime": None,
                }
            ],
            "addresses": [
                {"type": "InternalIP", "address": f"10.132.{index // 200}.{11 + index % 200}"},
                {"type": "ExternalIP", "address": f"34.77.{40 + index % 200}.{100 + index % 150}"},
                {"type": "Hostname", "address": name},
            ],
            "nodeInfo": {
                "machineID": f"{index:032x}",
                "systemUUID": f"{index:08x}-0000-0000-0000-000000000000",
                "bootID": f"{index + 7:08x}-0000-0000-0000-000000000000",
                "kernelVersion": "6.6.56+",
                "osImage": "Container-Optimized OS from Google",
                "containerRuntimeVersion": "containerd://2.0.4",
                "kubeletVersion": "v1.37.1",
                "kubeProxyVersion": "",
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        },
    }


def build(sim: Simulation, now: datetime, *, extra_nodes: int = 0) -> None:
    """Create the SarvanOM production cluster as it stands at ``now``."""
    store = sim.store
    founded = now - 120 * DAY
    for index, name in enumerate(NODES + tuple(f"sarvanom-pool-c-{i:04d}" for i in range(extra_nodes))):
        obj = node(name, index)
        for cond in obj["status"]["conditions"]:
            cond["lastHeartbeatTime"] = _stamp(now - timedelta(seconds=20))
            cond["lastTransitionTime"] = _stamp(now - 30 * DAY)
        store.create(resources.NODES, obj, created=now - 30 * DAY)
    for ns in ("default", "kube-system", "kube-public", "kube-node-lease", NAMESPACE):
        obj = {
            "metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}},
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"},
        }
        store.create(resources.NAMESPACES, obj, created=founded)
        store.create(
            resources.CONFIGMAPS,
            {
                "metadata": {"name": "kube-root-ca.crt", "namespace": ns},
                "data": {"ca.crt": "-----BEGIN CERTIFICATE-----\n(sandbox)\n-----END CERTIFICATE-----\n"},
            },
            created=founded,
        )
    store.create(
        resources.SERVICES,
        {
            "metadata": {
                "name": "kubernetes",
                "namespace": "default",
                "labels": {"component": "apiserver", "provider": "kubernetes"},
            },
            "spec": {
                "type": "ClusterIP",
                "clusterIP": "10.96.0.1",
                "clusterIPs": ["10.96.0.1"],
                "ports": [{"name": "https", "port": 443, "targetPort": 6443, "protocol": "TCP"}],
            },
            "status": {"loadBalancer": {}},
        },
        created=founded,
    )
    config = store.prepare_new(
        resources.CONFIGMAPS,
        {
            "metadata": {"name": "synthesis-config", "namespace": NAMESPACE, "labels": _labels("synthesis")},
            "data": {
                "LLM_PROVIDER": "openai",
                "LLM_FALLBACK_PROVIDER": "anthropic",
                TIMEOUT_KEY: GOOD_TIMEOUT,
                "CIRCUIT_BREAKER": "closed",
            },
        },
        created=now - 6 * DAY,
    )
    store.create(resources.CONFIGMAPS, managed_fields.stamp(config, APPLY_MANAGER, now - 6 * DAY), prepared=True)
    gateway_config = store.prepare_new(
        resources.CONFIGMAPS,
        {
            "metadata": {"name": GATEWAY_CONFIG, "namespace": NAMESPACE, "labels": _labels("gateway")},
            "data": {MAINTENANCE_KEY: "off"},
        },
        created=now - GATEWAY.releases[0].age,
    )
    store.create(
        resources.CONFIGMAPS,
        managed_fields.stamp(gateway_config, APPLY_MANAGER, now - GATEWAY.releases[0].age),
        prepared=True,
    )
    for component in (GATEWAY, RETRIEVAL, SYNTHESIS):
        deploy = _deployment(component, now)
        new = store.prepare_new(resources.DEPLOYMENTS, deploy, created=now - component.releases[0].age)
        sim.defaults(resources.DEPLOYMENTS, new)
        new["metadata"]["generation"] = len(component.releases) + 1
        # created by an apply long ago, each later release set by the pipeline's `kubectl set image`
        managed_fields.stamp(new, APPLY_MANAGER, now - component.releases[0].age)
        managed_fields.stamp(new, DEPLOY_MANAGER, now - component.current.age, old=_older_release(component, new))
        for rs, release in zip(_old_replicasets(component, new), component.releases, strict=True):
            made = store.prepare_new(resources.REPLICASETS, rs, created=now - release.age)
            store.create(
                resources.REPLICASETS, managed_fields.stamp(made, CONTROLLER_MANAGER, now - release.age), prepared=True
            )
        store.create(resources.DEPLOYMENTS, new, prepared=True)
    for component in (POSTGRES, REDIS):
        sts = store.prepare_new(resources.STATEFULSETS, _statefulset(component), created=founded)
        sim.defaults(resources.STATEFULSETS, sts)
        store.create(resources.STATEFULSETS, sts, prepared=True)
    for index, component in enumerate(SERVICES):
        store.create(
            resources.SERVICES,
            _service(component.name, 80, "http", f"10.96.{40 + index}.{17 + index}"),
            created=founded,
        )
    store.create(resources.SERVICES, _service("postgres", 5432, 5432, "", headless=True), created=founded)
    store.create(resources.SERVICES, _service("redis", 6379, 6379, "10.96.52.9"), created=founded)
    store.create(resources.SERVICES, _standby_service(), created=founded)
    store.create(
        resources.INGRESSES,
        {
            "metadata": {
                "name": "sarvanom",
                "namespace": NAMESPACE,
                "labels": _labels("gateway"),
                "annotations": {"nginx.ingress.kubernetes.io/proxy-read-timeout": "60"},
            },
            "spec": {
                "ingressClassName": "nginx",
                "tls": [{"hosts": [INGRESS_HOST], "secretName": "api-sarvanom-tls"}],
                "rules": [
                    {
                        "host": INGRESS_HOST,
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "backend": {"service": {"name": "gateway", "port": {"number": 80}}},
                                }
                            ]
                        },
                    }
                ],
            },
            "status": {"loadBalancer": {"ingress": [{"ip": INGRESS_IP}]}},
        },
        created=founded,
    )
    _kube_system(sim, founded)


def _kube_system(sim: Simulation, created: datetime) -> None:
    store = sim.store
    for name, image, replicas, cpu, mem in (
        ("coredns", "registry.k8s.io/coredns/coredns:v1.12.1", 2, "100m", "70Mi"),
        ("metrics-server", "registry.k8s.io/metrics-server/metrics-server:v0.8.0", 1, "100m", "200Mi"),
    ):
        labels = {"k8s-app": name}
        deploy = {
            "metadata": {"name": name, "namespace": "kube-system", "labels": dict(labels)},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": dict(labels)},
                "template": {
                    "metadata": {"labels": dict(labels)},
                    "spec": {
                        "containers": [
                            {"name": name, "image": image, "resources": {"requests": {"cpu": cpu, "memory": mem}}}
                        ],
                        "priorityClassName": "system-cluster-critical",
                    },
                },
            },
        }
        new = store.prepare_new(resources.DEPLOYMENTS, deploy, created=created)
        sim.defaults(resources.DEPLOYMENTS, new)
        store.create(resources.DEPLOYMENTS, new, prepared=True)


def add_bulk(sim: Simulation, deployments: int, replicas: int, namespace: str = "bulk") -> None:
    """Many small deployments (for benchmarks: 200 x 10 = 2,000 pods)."""
    store = sim.store
    now = sim.clock.now()
    if store.get(resources.NAMESPACES, "", namespace) is None:
        store.create(
            resources.NAMESPACES, {"metadata": {"name": namespace}, "status": {"phase": "Active"}}, created=now - DAY
        )
    for i in range(deployments):
        name = f"svc-{i:03d}"
        labels = {"app": name}
        deploy = {
            "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": dict(labels)},
                "template": {
                    "metadata": {"labels": dict(labels)},
                    "spec": {
                        "containers": [
                            {
                                "name": "app",
                                "image": "docker.io/library/nginx:1.27",
                                "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
                            }
                        ]
                    },
                },
            },
        }
        new = store.prepare_new(resources.DEPLOYMENTS, copy.deepcopy(deploy), created=now - DAY)
        sim.defaults(resources.DEPLOYMENTS, new)
        store.create(resources.DEPLOYMENTS, new, prepared=True)


def _stamp(when: datetime) -> str:
    from incidentctl.sandbox.clock import rfc3339

    return rfc3339(when)
