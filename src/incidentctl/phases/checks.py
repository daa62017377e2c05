"""The checks more than one phase runs: the namespace read once, a datastore's exec check, a dependency's HTTP
probe, and the guard that turns a bug in a check into a finding.

Not a phase (phases may not import each other): detect judges the whole service with these, and investigate's
datastores and dependencies views run the same checks on their own, so the two can never disagree about what
"postgres is down" means.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from incidentctl.core.checks import CheckKind, CheckResult, DatastoreObservation, Failure, Health
from incidentctl.core.workloads import pod_state
from incidentctl.errors import IncidentctlError
from incidentctl.phases.context import PhaseContext

if TYPE_CHECKING:
    import httpx

    from incidentctl.adapters.kube import KubeClient, KubeError
    from incidentctl.adapters.secrets import Secrets
    from incidentctl.runbook.model import Dependency

log = logging.getLogger(__name__)

#: The namespace reads a detect run needs; each is one paged list call.
SNAPSHOT_RESOURCES = ("deployments", "pods", "services", "endpoints", "ingresses")


class Snapshot:
    """The namespace as read once: resource -> items, or the error that kept us from reading it."""

    def __init__(self, resources: tuple[str, ...] = SNAPSHOT_RESOURCES) -> None:
        #: What was (to be) read; the namespace cannot be used at all when every one of them failed.
        self.resources = resources
        self.items: dict[str, list[dict[str, Any]]] = {}
        self.errors: dict[str, KubeError] = {}
        self.client: KubeClient | None = None
        self.client_error: IncidentctlError | None = None
        #: Set when every list came back empty and the namespace itself does not exist.
        self.namespace_error: KubeError | None = None
        #: How long the Kubernetes side took: the client's set-up (import, kubeconfig) and the list calls.
        self.seconds: float | None = None

    def missing(self, *resources: str) -> str | None:
        """Why a check that needs these resources cannot run, or None."""
        if self.client_error is not None:
            return str(self.client_error)
        for r in resources:
            if r in self.errors:
                return str(self.errors[r])
        return None


def guard(fn: Callable[[], list[CheckResult]]) -> list[CheckResult]:
    """The adapters' checks never raise; this is the last line of defence for a bug in one of them."""
    try:
        return fn()
    except Exception as e:
        log.debug("a check raised", exc_info=True)
        summary = f"check failed: {type(e).__name__}: {e}"
        return [CheckResult("internal", CheckKind.INTERNAL, "-", Health.UNKNOWN, summary, failure=Failure.INTERNAL)]


def read_snapshot(
    env: PhaseContext, namespace: str, pool: ThreadPoolExecutor, resources: tuple[str, ...] = SNAPSHOT_RESOURCES
) -> Snapshot:
    """The namespace read once: one paged list call per resource, in parallel, each error kept for the checks
    that need that resource (a 403 on one resource only blinds those)."""
    from incidentctl.adapters.kube import KubeError

    snap = Snapshot(resources)
    started = time.monotonic()
    try:
        snap.client = env.adapters.kube()
    except IncidentctlError as e:  # a kubeconfig the up-front check let through: reported with the rest
        snap.client_error = e
        return snap
    client = snap.client
    lock = threading.Lock()

    def read(resource: str) -> None:
        try:
            items = client.list(resource, namespace)
        except KubeError as e:
            with lock:
                snap.errors[resource] = e
            return
        with lock:
            snap.items[resource] = items

    for fut in [pool.submit(read, r) for r in resources]:
        fut.result()
    if not snap.errors and not any(snap.items.values()):
        snap.namespace_error = missing_namespace(client, namespace)
    snap.seconds = time.monotonic() - started
    return snap


def missing_namespace(client: KubeClient, namespace: str) -> KubeError | None:
    """The error to report when ``namespace`` does not exist, else None. An empty namespace and one that does not
    exist list the same (empty), and "no pods" or "no Warning events" there would read as fine; only asking for the
    namespace tells them apart. Asked only when a list came back empty; a refusal (many on-call users may not read
    namespaces) leaves the empty lists to speak for themselves."""
    from incidentctl.adapters.kube import KubeError, KubeNotFound

    try:
        client.get_namespace(namespace)
    except KubeNotFound:
        return KubeNotFound(
            f"namespace {namespace!r} does not exist on {client.server}",
            hint="check -n/--namespace, the runbook's cluster.namespace and --context (`kubectl get namespaces`)",
        )
    except KubeError as e:
        log.debug("cannot tell whether namespace %s exists: %s", namespace, e)
    return None


def cluster_error(snap: Snapshot) -> IncidentctlError | None:
    from incidentctl.adapters.kube import KubeUnreachable

    if snap.client_error is not None:
        return snap.client_error
    if snap.namespace_error is not None:
        return snap.namespace_error
    if snap.errors and len(snap.errors) == len(snap.resources):
        first = next(iter(snap.errors.values()))
        unreachable = [e for e in snap.errors.values() if isinstance(e, KubeUnreachable)]
        return unreachable[0] if unreachable else first
    return None


def unknown_result(check: str, kind: CheckKind, target: str, subject: str | None, why: BaseException) -> CheckResult:
    """A check that could not run, with the error that kept it from running as its typed failure."""
    from incidentctl.adapters.failures import failure_of

    return CheckResult(check, kind, target, Health.UNKNOWN, f"could not check: {why}", subject, failure=failure_of(why))


def missing_resources(snap: Snapshot, *resources: str) -> IncidentctlError | None:
    """The error that keeps a check needing these resources from running (what ``Snapshot.missing`` words)."""
    if snap.client_error is not None:
        return snap.client_error
    return next((snap.errors[r] for r in resources if r in snap.errors), None)


def datastore_check(
    ds: Any,
    snap: Snapshot,
    namespace: str,
    now: datetime,
    window: timedelta,
    *,
    exec_anyway: bool = False,
    _serving_checked: bool = False,
) -> CheckResult:
    """The runbook's ``kubectl exec -it postgres-0 -- psql ... -c "SELECT 1;"``: the pod must be serving and the
    command must succeed (and print what the runbook expects).

    DOWN is "looked, and it is broken": the pod is missing or not serving, the command failed, printed the wrong
    thing or did not finish within its timeout. A refusal or an unreachable API is UNKNOWN: the check did not run.

    ``exec_anyway``: run the command in a pod that is running but not serving too, as a responder would, for the
    datastore's own words (psql's FATAL line says why the readiness probe fails; detect only needs the verdict).
    """
    import re

    from incidentctl.adapters.failures import failure_of
    from incidentctl.adapters.kube import KubeError, KubeExecTimeout

    check, target, kind = f"datastore:{ds.name}", f"pod/{ds.pod}: {' '.join(ds.check.command)}", CheckKind.DATASTORE
    why = missing_resources(snap, "pods")
    if why is not None or snap.client is None:
        return unknown_result(check, kind, target, ds.name, why or IncidentctlError("no Kubernetes client"))
    pod = next((p for p in snap.items.get("pods", []) if p["metadata"]["name"] == ds.pod), None)
    if pod is None:
        summary = f"pod {ds.pod} not found"
        return CheckResult(check, kind, target, Health.DOWN, summary, ds.name, failure=Failure.NOT_FOUND)
    state = pod_state(pod, now=now, window=window)
    if not state.serving and not _serving_checked:
        detail = ", ".join(state.problems) or state.phase
        failure = state.failures[0] if state.failures else Failure.NOT_SERVING
        summary = f"pod {ds.pod} not serving: {detail}"
        if exec_anyway and state.phase == "Running":
            ran = datastore_check(ds, snap, namespace, now, window, exec_anyway=False, _serving_checked=True)
            return replace(ran, health=Health.DOWN, summary=f"{summary}; {ran.summary}", failure=failure)
        return CheckResult(check, kind, target, Health.DOWN, summary, ds.name, failure=failure)
    timeout = ds.check.timeout.total_seconds()
    started = time.monotonic()
    try:
        result = snap.client.exec(namespace, ds.pod, list(ds.check.command), container=ds.container, timeout=timeout)
    except KubeError as e:
        elapsed = time.monotonic() - started
        # The command had ``timeout`` to answer: a connection that was still open when that ran out is the
        # datastore not answering (a hung psql), which is a finding; a refusal, or an API that could not be
        # reached at all, says nothing about the datastore.
        if isinstance(e, KubeExecTimeout):
            health, failure = Health.DOWN, Failure.TIMEOUT
        else:
            health, failure = Health.UNKNOWN, failure_of(e)
        return CheckResult(
            check, kind, target, health, f"exec failed: {e}", ds.name, latency_s=elapsed, failure=failure
        )
    elapsed = time.monotonic() - started
    seen = DatastoreObservation(exit_code=result.exit_code, stdout=result.stdout[-500:], stderr=result.stderr[-500:])
    if result.exit_code != 0:
        last = (result.stderr or result.stdout).strip().splitlines()
        detail = last[-1] if last else "no output"
        return CheckResult(
            check,
            kind,
            target,
            Health.DOWN,
            f"exit code {result.exit_code}: {detail}",
            ds.name,
            latency_s=elapsed,
            observation=seen,
            failure=Failure.COMMAND_FAILED,
        )
    if ds.check.expect_output and not re.search(ds.check.expect_output, result.stdout):
        return CheckResult(
            check,
            kind,
            target,
            Health.DOWN,
            f"unexpected output (wanted /{ds.check.expect_output}/)",
            ds.name,
            latency_s=elapsed,
            observation=seen,
            failure=Failure.OUTPUT_MISMATCH,
        )
    return CheckResult(check, kind, target, Health.OK, "check passed", ds.name, latency_s=elapsed, observation=seen)


def dependency_check(http: httpx.Client, dep: Dependency, secrets: Secrets) -> CheckResult:
    """The runbook's ``curl -f`` of a dependency: its check URL probed and judged, the latency and the exact error
    in the result (a probe never raises)."""
    from incidentctl.adapters.http_probe import probe_http

    return probe_http(
        http, dep.check, check_id=f"dependency:{dep.name}", kind="dependency", subject=dep.name, secrets=secrets
    )
