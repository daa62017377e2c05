"""What a check found, in one shape for every kind of check (pods, endpoints, dependencies, alerts, signals).

Detect runs many checks at once; each ends in a :class:`CheckResult`, never an exception, so one failed check
is a finding and the report is always complete. ``UNKNOWN`` means "could not tell" (a 403, a timeout of the
Kubernetes API) and always carries the reason, which is different from ``DOWN`` ("looked, and it is broken").

Decisions (is the service down, which category, DOWN or UNKNOWN) read the typed parts: the :class:`CheckKind`,
the :class:`Failure` and the kind's observation model. The summary and the reasons are for people only: they
carry cluster text (pod names, event messages, bodies) that no rule may search.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from pydantic import Field

from incidentctl.core.wire import WireModel


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


class _Text(str, Enum):
    """A str-valued enum that prints as its value, so ``f"{kind}"`` and JSON read as the plain string."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class CheckKind(_Text):
    """What was looked at. The values are the ``kind`` strings of the JSON report."""

    HTTP = "http"
    DEPENDENCY = "dependency"
    DATASTORE = "datastore"
    DEPLOYMENT = "deployment"
    PODS = "pods"
    SERVICE = "service"
    INGRESS = "ingress"
    ALERTS = "alerts"
    SIGNAL = "signal"
    #: The Kubernetes API as a whole, when it could not be used at all.
    CLUSTER = "cluster"
    #: A check that raised (a bug): the last line of defence in detect.
    INTERNAL = "internal"


class Failure(_Text):
    """What went wrong, as the checks tell it apart today. None on a result means nothing did."""

    # an HTTP probe, below HTTP
    TIMEOUT = "timeout"  # no (complete) answer within the check's timeout; also an exec that never returned
    REFUSED = "refused"
    DNS = "dns"
    TLS = "tls"
    RESET = "reset"
    PROTOCOL = "protocol"  # the server broke off the HTTP exchange
    UNREACHABLE = "unreachable"  # any other transport failure; an API (Kubernetes, Prometheus) not reachable
    INVALID_URL = "invalid_url"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    # an HTTP probe's answer
    HTTP_STATUS = "http_status"  # a status the runbook does not expect
    BODY_MISMATCH = "body_mismatch"
    SLOW = "slow"  # as expected, but slower than slow_after
    # a check that could not run
    FORBIDDEN = "forbidden"
    UNAUTHORIZED = "unauthorized"
    NOT_FOUND = "not_found"  # also: the deployment, service, pod or backend the runbook names does not exist
    API_ERROR = "api_error"  # any other refusal of an API
    NOT_CONFIGURED = "not_configured"  # a missing secret, a query the runbook cannot build
    INTERNAL = "internal"
    # deployments
    SCALED_TO_ZERO = "scaled_to_zero"
    UNAVAILABLE = "unavailable"  # no available replica
    REPLICAS_NOT_READY = "replicas_not_ready"
    ROLLOUT_STUCK = "rollout_stuck"
    # pods (kubectl's STATUS column)
    NO_PODS = "no_pods"
    CRASH_LOOP = "crash_loop"
    CRASHED = "crashed"  # a container just terminated with an error (between the crash and the back-off)
    OOM_KILLED = "oom_killed"
    IMAGE_PULL = "image_pull"
    CONTAINER_ERROR = "container_error"  # CreateContainerConfigError, CreateContainerError, RunContainerError
    UNSCHEDULABLE = "unschedulable"
    EVICTED = "evicted"
    POD_FAILED = "pod_failed"
    WAITING = "waiting"  # another waiting reason of a container
    NOT_READY = "not_ready"  # running, but the readiness probe fails
    RESTARTS = "restarts"  # serving, but restarted recently
    # services and ingresses
    NO_ENDPOINTS = "no_endpoints"
    NO_BACKENDS = "no_backends"
    # datastores
    NOT_SERVING = "not_serving"
    COMMAND_FAILED = "command_failed"
    OUTPUT_MISMATCH = "output_mismatch"
    # alerts and signals
    ALERTS_FIRING = "alerts_firing"
    THRESHOLD = "threshold"  # a runbook rule on the signal's value holds


# --- what each kind of check observed ---------------------------------------------------------------------------


class HttpObservation(WireModel):
    """An HTTP probe: the request and the answer (``status`` is None when no answer came)."""

    method: str
    status: int | None = None
    url: str | None = None
    redirects: tuple[str, ...] = ()
    requests: int = 0
    body_matches: bool | None = None
    body_excerpt: str | None = None
    error: str | None = None


class DatastoreObservation(WireModel):
    exit_code: int
    stdout: str
    stderr: str


class DeploymentObservation(WireModel):
    desired: int
    updated: int
    ready: int
    available: int
    revision: str | None = None


class PodsObservation(WireModel):
    pods: int
    ready: int
    restarts: int
    recent_restarts: int
    #: Every failure seen on any of the pods, most telling first.
    failures: tuple[Failure, ...] = ()


class ServiceObservation(WireModel):
    ready_endpoints: int


class FiringAlert(WireModel):
    name: str
    severity: str | None = None
    state: str
    starts_at: datetime | None = None
    summary: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    fingerprint: str = ""


class AlertsObservation(WireModel):
    count: int
    alerts: tuple[FiringAlert, ...] = ()


class SeriesSample(WireModel):
    labels: dict[str, str]
    raw: str


class SignalObservation(WireModel):
    """A Prometheus signal: ``value`` is the largest of the series, None without data, may be ``inf``."""

    signal: str
    unit: str
    component: str
    query: str | None = None
    value: float | None = None
    raw: str | None = None
    series: int | None = None
    samples: tuple[SeriesSample, ...] | None = None


Observation = (
    HttpObservation
    | DatastoreObservation
    | DeploymentObservation
    | PodsObservation
    | ServiceObservation
    | AlertsObservation
    | SignalObservation
)


@dataclass(frozen=True)
class CheckResult:
    #: A stable id, e.g. ``http:gateway``, ``deployment:gateway``, ``dependency:openai``, ``datastore:postgres``.
    #: Built from the fields below, for people and for matching one run against the next; never parsed.
    check: str
    kind: CheckKind
    #: What was looked at: a URL, ``deployment/gateway``, a PromQL query.
    target: str
    health: Health
    #: One line a person reads in the table: "503 Service Unavailable in 120 ms". Never read by a decision.
    summary: str
    #: Which runbook component, dependency or datastore this is about (None for namespace-wide checks).
    subject: str | None = None
    #: Further reasons, one line each ("pod gateway-7d9f-abcde: CrashLoopBackOff, 7 restarts").
    reasons: tuple[str, ...] = ()
    latency_s: float | None = None
    #: The kind's typed facts (status code, replica counts, a signal's value...), for machines and for triage.
    observation: Observation | None = None
    #: What went wrong; None when nothing did.
    failure: Failure | None = None
    #: The Kubernetes object or runbook entry the check is about, when it is not the subject itself (an
    #: ingress's name, a signal's name), and its namespace.
    name: str | None = None
    namespace: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.kind, CheckKind):  # a plain string from older callers
            object.__setattr__(self, "kind", CheckKind(self.kind))

    @property
    def observed(self) -> dict[str, Any]:
        """The observation as machine output writes it (empty when the check observed nothing)."""
        return self.observation.to_wire() if self.observation is not None else {}
