"""Check results as detect's checks produce them, for the SarvanOM runbook (tests/conftest.py RUNBOOK).

Kubernetes results come from the real workload functions over API-shaped objects; HTTP, datastore, dependency and
signal results copy the shapes adapters/http_probe.py, phases/detect.py and adapters/prometheus.py return.
"""

from __future__ import annotations

from tests.conftest import RUNBOOK
from tests.core import kube_objects as k

from incidentctl.core.checks import (
    CheckKind,
    CheckResult,
    DatastoreObservation,
    Failure,
    Health,
    HttpObservation,
    SignalObservation,
)
from incidentctl.core.workloads import deployment_check, pod_state, pods_check, service_check
from incidentctl.runbook.loader import load_runbook
from incidentctl.runbook.model import Runbook

COMPONENTS = ("gateway", "retrieval", "synthesis")


def runbook() -> Runbook:
    return load_runbook(RUNBOOK)


def workload(component: str, *, ready: int = 3, pods: list[k.JSON] | None = None) -> list[CheckResult]:
    """The deployment, pods and service checks of one component, from API objects."""
    if pods is None:
        pods = [k.healthy_pod(f"{component}-7d9f8c6b5-ok{i:03d}", app=component) for i in range(ready)]
        pods += [k.crashloop_pod(f"{component}-7d9f8c6b5-cr{i:03d}") for i in range(3 - ready)]
    serving = sum(pod_state(p, now=k.NOW, window=k.WINDOW).serving for p in pods)
    return [
        deployment_check(component, k.deployment(component, ready=serving), component),
        pods_check(component, pods, now=k.NOW, window=k.WINDOW),
        service_check(component, component, k.service(component), k.endpoints(component, ready=serving)),
    ]


def http(
    component: str, status: int | None = 200, *, error: str | None = None, failure: Failure | None = None
) -> CheckResult:
    """A health probe's answer, or with ``error`` (and the ``failure`` it is) a probe that got none."""
    url = "https://api.sarvanom.com/health" if component == "gateway" else f"https://{component}.sarvanom.com/health"
    if error is not None:
        assert failure is not None, "a failed probe says what failed"
        return CheckResult(
            f"http:{component}",
            CheckKind.HTTP,
            url,
            Health.DOWN,
            error,
            component,
            observation=HttpObservation(method="GET", error=error, requests=1),
            failure=failure,
        )
    line = {200: "200 OK", 503: "503 Service Unavailable", 500: "500 Internal Server Error"}[status or 200]
    health = Health.OK if status == 200 else Health.DOWN
    reasons = () if status == 200 else ("expected 200",)
    observed = HttpObservation(method="GET", status=status, url=url, requests=1)
    return CheckResult(
        f"http:{component}",
        CheckKind.HTTP,
        url,
        health,
        f"{line} in 42ms",
        component,
        reasons,
        0.042,
        observed,
        failure=None if status == 200 else Failure.HTTP_STATUS,
    )


def datastore(name: str, *, up: bool = True) -> CheckResult:
    target = {"postgres": "pod/postgres-0: psql -U sarvanom", "redis": "pod/redis-0: redis-cli ping"}[name]
    if up:
        return CheckResult(
            f"datastore:{name}",
            CheckKind.DATASTORE,
            target,
            Health.OK,
            "check passed",
            name,
            observation=DatastoreObservation(exit_code=0, stdout="1\n", stderr=""),
        )
    stderr = (
        'psql: error: connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: '
        "No such file or directory"
    )
    return CheckResult(
        f"datastore:{name}",
        CheckKind.DATASTORE,
        target,
        Health.DOWN,
        f"exit code 2: {stderr}",
        name,
        observation=DatastoreObservation(exit_code=2, stdout="", stderr=stderr),
        failure=Failure.COMMAND_FAILED,
    )


def dependency(name: str, *, up: bool = True) -> CheckResult:
    url = f"https://api.{name}.com/v1/models"
    if up:
        return CheckResult(
            f"dependency:{name}",
            CheckKind.DEPENDENCY,
            url,
            Health.OK,
            "401 Unauthorized in 180ms",
            name,
            observation=HttpObservation(method="GET", status=401, url=url, requests=1),
        )
    return CheckResult(
        f"dependency:{name}",
        CheckKind.DEPENDENCY,
        url,
        Health.DOWN,
        "no answer within 10s",
        name,
        observation=HttpObservation(method="GET", error="no answer within 10s", requests=1),
        failure=Failure.TIMEOUT,
    )


def signal(name: str, component: str, value: float | None, *, unit: str = "ratio") -> CheckResult:
    """A Prometheus signal; above the runbook's P2 threshold detect marks it degraded."""
    too_high = value is not None and ((unit == "ratio" and value > 0.1) or (unit == "seconds" and value > 30))
    return CheckResult(
        f"signal:{name}:{component}",
        CheckKind.SIGNAL,
        f"promql for {name} on {component}",
        Health.DEGRADED if too_high else Health.OK,
        f"{name} {value}",
        component,
        observation=SignalObservation(signal=name, unit=unit, component=component, value=value),
        failure=Failure.THRESHOLD if too_high else None,
        name=name,
    )


def healthy() -> list[CheckResult]:
    out: list[CheckResult] = []
    for c in COMPONENTS:
        out += workload(c)
        out.append(signal("error_rate", c, 0.001))
    out.append(http("gateway"))  # the only component the runbook gives a health URL
    out += [datastore("postgres"), datastore("redis"), dependency("openai"), dependency("anthropic")]
    return out


def replace(results: list[CheckResult], *new: CheckResult) -> list[CheckResult]:
    """``results`` with the checks of the same id swapped for ``new`` (added when absent)."""
    ids = {r.check for r in new}
    return [r for r in results if r.check not in ids] + list(new)
