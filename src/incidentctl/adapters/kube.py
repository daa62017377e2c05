"""The Kubernetes API: the only module that imports the official ``kubernetes`` client.

It loads credentials the way kubectl does (``--kubeconfig``, else ``$KUBECONFIG``, else ``~/.kube/config``; in-cluster
service account when there is no kubeconfig), turns every library error into one error class per kind of answer
(:mod:`incidentctl.adapters.kube_errors`) with one line that says which call failed, and returns plain JSON dicts:
the generated models validate every field on the way in, which costs seconds on a namespace with thousands of pods
and buys nothing for the reads incidentctl does.

Which calls are tried again and how long to wait is :mod:`incidentctl.adapters.kube_retry`. The names of both
modules are re-exported here, where callers import them.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import logging
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, TypeVar

import tenacity

from incidentctl.adapters.kube_errors import (
    REDACTED,
    ApiStatus,
    KubeApiError,
    KubeConflict,
    KubeError,
    KubeExecTimeout,
    KubeForbidden,
    KubeInvalid,
    KubeNotFound,
    KubeServerError,
    KubeTimeout,
    KubeTooManyRequests,
    KubeUnauthorized,
    KubeUnreachable,
    StatusCause,
    StatusDetails,
    Transport,
    error_class,
    parse_status,
    redact_headers,
)
from incidentctl.adapters.kube_logs import (
    KubeContainerNotStarted,
    KubeNoPreviousContainer,
    LogOptions,
    LogStream,
    log_error_class,
)
from incidentctl.adapters.kube_retry import (
    MAX_ATTEMPTS,
    RetryPolicy,
    StopAtBudget,
    WaitRetryAfter,
    parse_retry_after,
    retry_after,
    worth_retrying,
)
from incidentctl.adapters.kubeconfig import check_kubeconfig, kubeconfig_paths
from incidentctl.errors import KubeconfigError

__all__ = [
    "MAX_ATTEMPTS",
    "REDACTED",
    "ApiStatus",
    "ExecResult",
    "KubeApiError",
    "KubeClient",
    "KubeConflict",
    "KubeContainerNotStarted",
    "KubeError",
    "KubeExecTimeout",
    "KubeForbidden",
    "KubeInvalid",
    "KubeNoPreviousContainer",
    "KubeNotFound",
    "KubeServerError",
    "KubeTimeout",
    "KubeTooManyRequests",
    "KubeUnauthorized",
    "KubeUnreachable",
    "LogOptions",
    "LogStream",
    "RetryPolicy",
    "StatusCause",
    "StatusDetails",
    "Transport",
    "error_class",
    "iter_containers",
    "parse_retry_after",
    "parse_status",
]

log = logging.getLogger(__name__)

T = TypeVar("T")
JSON = dict[str, Any]

#: Page size for lists, as kubectl's default --chunk-size.
PAGE_SIZE = 500


@dataclass(frozen=True)
class ExecResult:
    exit_code: int
    stdout: str
    stderr: str


#: Namespaced collections incidentctl reads: resource -> API path prefix.
API_PATHS = {
    "deployments": "/apis/apps/v1",
    "statefulsets": "/apis/apps/v1",
    "replicasets": "/apis/apps/v1",
    "pods": "/api/v1",
    "services": "/api/v1",
    "endpoints": "/api/v1",
    "events": "/api/v1",
    "configmaps": "/api/v1",
    "secrets": "/api/v1",
    "ingresses": "/apis/networking.k8s.io/v1",
}


class KubeClient:
    """Raw REST calls through the official client's ``ApiClient``: it brings kubeconfig parsing, every auth
    plugin, TLS and proxies. The generated ``CoreV1Api``/``AppsV1Api`` classes are not used: importing them builds
    hundreds of pydantic models (about 1.8 s), more than a whole detect run should take."""

    #: Patch types by short name, as ``kubectl patch --type``.
    PATCH_TYPES: ClassVar[Mapping[str, str]] = MappingProxyType(
        {
            "merge": "application/merge-patch+json",
            "strategic": "application/strategic-merge-patch+json",
            "json": "application/json-patch+json",
            # server-side apply (``kubectl apply --server-side``): the body is the whole manifest
            "apply": "application/apply-patch+yaml",
        }
    )

    def __init__(
        self,
        *,
        kubeconfig: str | None = None,
        context: str | None = None,
        request_timeout: float = 10.0,
        env: dict[str, str] | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        from kubernetes.client.api_client import ApiClient

        self._timeout = request_timeout
        self.retry = retry if retry is not None else RetryPolicy()
        self.configuration = _load_configuration(kubeconfig, context, env if env is not None else dict(os.environ))
        self.configuration.retries = 0  # urllib3's own retries hide a dead API behind seconds of silent waiting
        self.configuration.connection_pool_maxsize = 16
        self.api_client = ApiClient(self.configuration)

    @property
    def server(self) -> str:
        return str(self.configuration.host)

    def close(self) -> None:
        self.api_client.close()

    # --- reads ---------------------------------------------------------------------------------------------------

    def list(
        self, resource: str, namespace: str, *, label_selector: str | None = None, field_selector: str | None = None
    ) -> builtins.list[JSON]:
        """All items of a namespaced resource (paged as kubectl pages), as plain dicts."""
        path = f"{API_PATHS[resource]}/namespaces/{namespace}/{resource}"
        items: builtins.list[JSON] = []
        token: str | None = None
        while True:
            query: builtins.list[tuple[str, str]] = [("limit", str(PAGE_SIZE))]
            if token:
                query.append(("continue", token))
            if label_selector:
                query.append(("labelSelector", label_selector))
            if field_selector:
                query.append(("fieldSelector", field_selector))
            page = self._request(f"list {resource} in namespace {namespace}", "GET", path, query)
            items.extend(page.get("items") or [])
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return items

    def get_namespace(self, name: str) -> JSON:
        """The namespace itself (a list in a namespace that does not exist is simply empty, as on any server)."""
        return self._request(f"get namespace {name}", "GET", f"/api/v1/namespaces/{name}", [])

    def get(self, resource: str, namespace: str, name: str) -> JSON:
        path = f"{API_PATHS[resource]}/namespaces/{namespace}/{resource}/{name}"
        return self._request(f"get {resource}/{name} in namespace {namespace}", "GET", path, [])

    # --- writes: the plumbing mitigate builds on; each is sent once unless it provably was not handled -------------

    def patch(
        self,
        resource: str,
        namespace: str,
        name: str,
        body: Any,
        *,
        patch_type: str = "merge",
        subresource: str | None = None,
        dry_run: bool = False,
        field_manager: str = "incidentctl",
    ) -> JSON:
        """PATCH an object (or its ``scale``/``status``) with a merge, strategic-merge or JSON patch; the reply is
        the object as the server now has it (or would have it, with ``dry_run``: server-side, nothing changes)."""
        sub = f"/{subresource}" if subresource else ""
        path = f"{API_PATHS[resource]}/namespaces/{namespace}/{resource}/{name}{sub}"
        what = f"patch {resource}/{name}{sub} in namespace {namespace}"
        query = _write_query(dry_run, field_manager)
        if patch_type == "apply":
            query.append(("force", "true"))  # as `kubectl apply --server-side --force-conflicts`: the hotfix wins
        return self._request(what, "PATCH", path, query, body=body, content_type=self.PATCH_TYPES[patch_type])

    def delete(
        self,
        resource: str,
        namespace: str,
        name: str,
        *,
        uid: str | None = None,
        resource_version: str | None = None,
        dry_run: bool = False,
    ) -> JSON:
        """DELETE an object, only if it is still the one planned for (``uid``/``resource_version`` preconditions:
        a pod recreated under the same name in between is a 409, not a second restart)."""
        path = f"{API_PATHS[resource]}/namespaces/{namespace}/{resource}/{name}"
        what = f"delete {resource}/{name} in namespace {namespace}"
        preconditions = {k: v for k, v in (("uid", uid), ("resourceVersion", resource_version)) if v}
        body: JSON = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if preconditions:
            body["preconditions"] = preconditions
        if dry_run:
            body["dryRun"] = ["All"]
        query = [("dryRun", "All")] if dry_run else []
        return self._request(what, "DELETE", path, query, body=body, content_type="application/json")

    def create(
        self, resource: str, namespace: str, body: JSON, *, dry_run: bool = False, field_manager: str = "incidentctl"
    ) -> JSON:
        """POST a new object into a namespace; an existing one is a KubeConflict with reason AlreadyExists."""
        name = (body.get("metadata") or {}).get("name", "")
        path = f"{API_PATHS[resource]}/namespaces/{namespace}/{resource}"
        what = f"create {resource}/{name} in namespace {namespace}"
        return self._request(
            what, "POST", path, _write_query(dry_run, field_manager), body=body, content_type="application/json"
        )

    def retry_on_conflict(self, read_modify_write: Callable[[], T], *, attempts: int = 5) -> T:
        """Run ``read_modify_write`` again while it ends in a 409 Conflict (client-go's ``RetryOnConflict``): the
        function must read the object afresh each time, so that its write carries the current resourceVersion.
        ``AlreadyExists`` is not retried: the object will still exist."""

        def conflicted(err: BaseException) -> bool:
            status = err.api_status if isinstance(err, KubeConflict) else None
            return isinstance(err, KubeConflict) and (status is None or status.reason != "AlreadyExists")

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(conflicted),
            stop=tenacity.stop_after_attempt(attempts),
            wait=tenacity.wait_exponential(multiplier=0.05, max=1.0),
            sleep=self.retry.sleep,
            reraise=True,
        )
        return retrying(read_modify_write)

    def exec(
        self,
        namespace: str,
        pod: str,
        command: builtins.list[str],
        *,
        container: str | None = None,
        timeout: float = 10.0,
    ) -> ExecResult:
        """Run a command in a pod (what ``kubectl exec`` does) and return its exit code and output.

        Retried as a write: a command may have side effects, so it runs again only when it cannot have run."""
        from kubernetes.stream import ws_client

        what = f"exec in pod {pod} (namespace {namespace})"
        query: builtins.list[tuple[str, Any]] = [
            ("command", command),
            ("stdout", "true"),
            ("stderr", "true"),
            ("stdin", "false"),
            ("tty", "false"),
        ]
        if container:
            query.append(("container", container))

        def run() -> ExecResult:
            _method, url, headers, _body, _post = self.api_client.param_serialize(
                method="GET",
                resource_path=f"/api/v1/namespaces/{namespace}/pods/{pod}/exec",
                header_params={},
                auth_settings=["BearerToken"],
            )
            try:
                resp = ws_client.websocket_call(
                    self.configuration,
                    "GET",
                    url,
                    query_params=query,
                    headers=headers,
                    _preload_content=False,
                    _request_timeout=timeout,
                )
            except Exception as e:  # the websocket layer wraps every failure in ApiException(status=0)
                status = int(getattr(e, "status", 0) or 0)
                if status:
                    raise
                handshake = _handshake_answer(e)
                if handshake is not None:
                    raise self._answer_error(what, *handshake) from e
                raise _transport_error(what, e, self.server, timeout, prefix=f"{what}: ") from e
            try:
                resp.run_forever(timeout=timeout)
                if resp.is_open():
                    err = KubeExecTimeout(f"{what}: no answer within {timeout:g}s")
                    err.transport = Transport.READ_TIMEOUT
                    raise err
                code = resp.returncode
                return ExecResult(code if code is not None else 0, resp.read_stdout() or "", resp.read_stderr() or "")
            finally:
                resp.close()

        return self._call(what, run, idempotent=False)

    # --- logs: the fan-out of ``investigate logs`` reads every container of every pod through these -------------

    def read_log(self, namespace: str, pod: str, container: str, options: LogOptions | None = None) -> str:
        """One container's log as text (``kubectl logs pod -c container``), by default with the kubelet's time stamp
        in front of every line. A container with no previous instance (``options.previous``) or not started yet
        ends in :class:`KubeNoPreviousContainer` or :class:`KubeContainerNotStarted`: expected answers, typed."""
        opts = options if options is not None else LogOptions()
        what = _log_what(namespace, pod, container, opts.previous)
        path = f"/api/v1/namespaces/{namespace}/pods/{pod}/log"
        query = opts.query(container)

        def once() -> str:
            resp = self._open_log(path, query, self._timeout)
            return bytes(resp.read()).decode("utf-8", errors="replace")

        with _log_outcomes(opts.previous):
            return self._call(what, once, idempotent=True)

    def stream_log(self, namespace: str, pod: str, container: str, options: LogOptions | None = None) -> LogStream:
        """A container's log followed (``kubectl logs -f``): what is there, then each line as it is written, until
        the container stops, the pod goes away or the stream is closed. The read has no timeout (a quiet service
        writes nothing for minutes); only opening it is bounded and retried."""
        opts = options if options is not None else LogOptions()
        what = _log_what(namespace, pod, container, opts.previous) + " (following)"
        path = f"/api/v1/namespaces/{namespace}/pods/{pod}/log"
        query = opts.query(container, follow=True)

        def once() -> LogStream:
            resp = self._open_log(path, query, (self._timeout, None))
            raw = resp.response

            def close() -> None:
                # urllib3's shutdown() wakes a read blocked in another thread; close() alone would wait for it
                with contextlib.suppress(Exception):
                    raw.shutdown()
                with contextlib.suppress(Exception):
                    raw.close()

            return LogStream(raw.stream(4096, decode_content=True), close)

        with _log_outcomes(opts.previous):
            return self._call(what, once, idempotent=True)

    def widen_pool(self, size: int) -> None:
        """Keep ``size`` connections open to the API server at once (a fan-out of that many reads would
        otherwise open and throw away a connection per read beyond the pool's 16)."""
        from kubernetes.client import rest

        if size > int(self.configuration.connection_pool_maxsize or 0):
            self.configuration.connection_pool_maxsize = size
            self.api_client.rest_client.pool_manager.clear()
            self.api_client.rest_client = rest.RESTClientObject(self.configuration)

    def _open_log(self, path: str, query: builtins.list[tuple[str, str]], timeout: Any) -> Any:
        from kubernetes.client.exceptions import ApiException

        method, url, headers, body, post = self.api_client.param_serialize(
            method="GET",
            resource_path=path,
            query_params=query,
            header_params={"Accept": "*/*"},
            auth_settings=["BearerToken"],
        )
        resp = self.api_client.call_api(
            method, url, header_params=headers, body=body, post_params=post, _request_timeout=timeout
        )
        if not 200 <= int(resp.status) <= 299:
            resp.read()
            raise ApiException(http_resp=resp)
        return resp

    # --- plumbing ------------------------------------------------------------------------------------------------

    def _request(
        self,
        what: str,
        method: str,
        path: str,
        query: builtins.list[tuple[str, str]],
        *,
        body: Any = None,
        content_type: str | None = None,
    ) -> JSON:
        from kubernetes.client.exceptions import ApiException

        header_params = {"Accept": "application/json"}
        if content_type is not None:
            header_params["Content-Type"] = content_type

        def once() -> JSON:
            method_, url, headers, body_, post = self.api_client.param_serialize(
                method=method,
                resource_path=path,
                query_params=query,
                header_params=header_params,
                body=body,
                auth_settings=["BearerToken"],
            )
            resp = self.api_client.call_api(
                method_, url, header_params=headers, body=body_, post_params=post, _request_timeout=self._timeout
            )
            data = resp.read()
            if not 200 <= int(resp.status) <= 299:
                raise ApiException(http_resp=resp)
            parsed: JSON = json.loads(data)
            return parsed

        return self._call(what, once, idempotent=method in ("GET", "HEAD"))

    def _call(self, what: str, fn: Callable[[], T], *, idempotent: bool) -> T:
        """Run ``fn`` with the retries that are safe for it, every failure translated into one error class."""
        policy = self.retry
        attempts = 0

        def attempt() -> T:
            nonlocal attempts
            attempts += 1
            try:
                return self._translate(what, fn)
            except KubeError as e:
                e.attempts = attempts
                raise

        def before_sleep(state: tenacity.RetryCallState) -> None:
            err = state.outcome.exception() if state.outcome is not None else None
            why = f"HTTP {err.status}" if isinstance(err, KubeError) and err.status else type(err).__name__
            log.debug("%s: %s, trying again in %.1fs", what, why, state.upcoming_sleep)

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(lambda e: worth_retrying(e, idempotent=idempotent)),
            stop=tenacity.stop_after_attempt(policy.attempts) | StopAtBudget(policy, policy.clock()),
            wait=WaitRetryAfter(policy),
            sleep=policy.sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        return retrying(attempt)

    def _translate(self, what: str, fn: Callable[[], T]) -> T:
        """One try of ``fn``, its library errors turned into the project's."""
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError as Urllib3Error

        try:
            return fn()
        except ApiException as e:
            if not int(e.status or 0):  # TLS and the websocket layer: no HTTP answer
                raise _transport_error(what, e, self.server, self._timeout) from e
            raise self._answer_error(what, int(e.status), e.headers, e.body, e.reason) from e
        except (Urllib3Error, OSError) as e:
            raise _transport_error(what, e, self.server, self._timeout) from e
        except ValueError as e:  # a body that is not JSON: not a Kubernetes API server
            raise KubeApiError(f"{what}: the server at {self.server} did not answer like a Kubernetes API") from e

    def _answer_error(
        self, what: str, status: int, raw_headers: Any, body: str | bytes | None, phrase: str | None
    ) -> KubeError:
        headers = redact_headers(raw_headers)
        api_status = parse_status(body)
        message = _one_line(api_status.message if api_status is not None and api_status.message else "")
        message = message or _one_line(phrase or "") or f"HTTP {status}"
        cls = error_class(status)
        err: KubeError
        if cls is KubeUnauthorized or cls is KubeForbidden:
            hint = (
                "your credentials were refused: check `kubectl auth can-i` for this user"
                if status == 403
                else "your credentials are missing or expired: log in to the cluster again"
            )
            err = cls(f"{what}: {message} (HTTP {status})", hint=hint)
        elif cls is KubeNotFound:
            err = cls(f"{what}: {message}")
        elif cls is KubeTooManyRequests or cls is KubeServerError:
            err = cls(f"{what}: the API server at {self.server} answered {status}: {message}")
        elif cls is KubeConflict:
            err = cls(
                f"{what}: {message} (HTTP {status})",
                hint="the object changed since it was read, or already exists: read it again before retrying",
            )
        elif cls is KubeInvalid:
            err = cls(f"{what}: {message} (HTTP {status})", hint="the API server refused the change: nothing changed")
        else:
            err = cls(f"{what}: {message} (HTTP {status})")
        err.status = status
        err.headers = headers
        err.api_status = api_status
        err.retry_after = retry_after(headers, api_status, self.retry.clock())
        return err

    # --- nodes and metrics.k8s.io (what `kubectl top` reads) -------------------------------------------------------

    def list_nodes(self) -> builtins.list[JSON]:
        """Every node (cluster-scoped: a namespace-bound user is refused, which the caller reports)."""
        return self._list_all("list nodes", "/api/v1/nodes")

    def pod_metrics(self, namespace: str) -> builtins.list[JSON]:
        """``PodMetrics`` of a namespace. A cluster without metrics-server answers 404 (KubeNotFound)."""
        path = f"/apis/metrics.k8s.io/v1beta1/namespaces/{namespace}/pods"
        return self._list_all(f"list pod metrics (metrics.k8s.io) in namespace {namespace}", path)

    def node_metrics(self) -> builtins.list[JSON]:
        """``NodeMetrics`` of every node; 404 (KubeNotFound) without metrics-server."""
        return self._list_all("list node metrics (metrics.k8s.io)", "/apis/metrics.k8s.io/v1beta1/nodes")

    def _list_all(self, what: str, path: str) -> builtins.list[JSON]:
        items: builtins.list[JSON] = []
        token: str | None = None
        while True:
            query: builtins.list[tuple[str, str]] = [("limit", str(PAGE_SIZE))]
            if token:
                query.append(("continue", token))
            page = self._request(what, "GET", path, query)
            items.extend(page.get("items") or [])
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return items


def _log_what(namespace: str, pod: str, container: str, previous: bool) -> str:
    which = "previous log" if previous else "log"
    return f"read {which} of container {container} in pod {pod} (namespace {namespace})"


@contextlib.contextmanager
def _log_outcomes(previous: bool) -> Iterator[None]:
    """A log read's expected 400s (no previous container, not started yet) as their own classes."""
    try:
        yield
    except KubeApiError as e:
        message = e.api_status.message if e.api_status is not None else ""
        cls = log_error_class(message or str(e), previous=previous) if e.status == 400 else None
        if cls is None or isinstance(e, cls):
            raise
        typed = cls(e.message, hint=e.hint, where=e.where)
        typed.status, typed.headers, typed.api_status = e.status, e.headers, e.api_status
        typed.attempts, typed.retry_after = e.attempts, e.retry_after
        raise typed from e


def _write_query(dry_run: bool, field_manager: str) -> builtins.list[tuple[str, str]]:
    query = [("fieldManager", field_manager)]
    if dry_run:
        query.append(("dryRun", "All"))
    return query


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _handshake_answer(e: BaseException) -> tuple[int, Any, bytes | None, str | None] | None:
    """The HTTP answer a websocket handshake got (a 403 for exec, a 404 pod), which the client wraps away."""
    for cause in _causes(e):
        code = getattr(cause, "status_code", None)
        if isinstance(code, int) and code >= 400:
            return code, getattr(cause, "resp_headers", None), getattr(cause, "resp_body", None), None
    return None


def _causes(e: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = e
    while current is not None and id(current) not in seen:
        yield current
        seen.add(id(current))
        nested = getattr(current, "reason", None)  # urllib3's MaxRetryError keeps the real error in .reason
        current = nested if isinstance(nested, BaseException) else (current.__cause__ or current.__context__)


def _transport(e: BaseException) -> Transport:
    """Which way the connection failed, from the exception chain (types first, words only for the TLS and
    websocket layers, which pass their errors on as text)."""
    import ssl

    from urllib3.exceptions import (
        ConnectTimeoutError,
        NameResolutionError,
        NewConnectionError,
        ProtocolError,
        ReadTimeoutError,
        SSLError,
    )

    for cause in _causes(e):
        if isinstance(cause, NameResolutionError):
            return Transport.DNS
        if isinstance(cause, NewConnectionError):  # before ConnectTimeoutError, which it subclasses
            return Transport.REFUSED if "refused" in str(cause).lower() else Transport.NO_ROUTE
        if isinstance(cause, ConnectTimeoutError):
            return Transport.CONNECT_TIMEOUT
        if isinstance(cause, ReadTimeoutError):
            return Transport.READ_TIMEOUT
        if isinstance(cause, (SSLError, ssl.SSLError)):
            return Transport.TLS
        if isinstance(cause, ConnectionRefusedError):
            return Transport.REFUSED
        if isinstance(cause, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError, ProtocolError)):
            return Transport.RESET
        if isinstance(cause, TimeoutError):  # socket.timeout too
            return Transport.READ_TIMEOUT
    text = _reason(e)
    return {
        "connection refused": Transport.REFUSED,
        "timed out": Transport.READ_TIMEOUT,
        "host name not resolved": Transport.DNS,
        "TLS certificate rejected": Transport.TLS,
    }.get(text, Transport.OTHER)


def _transport_error(what: str, e: BaseException, server: str, timeout: float, prefix: str | None = None) -> KubeError:
    """No HTTP answer. ``prefix`` replaces "cannot reach the Kubernetes API at ..." (exec says which pod instead)."""
    transport = _transport(e)
    where = prefix if prefix is not None else f"cannot reach the Kubernetes API at {server} ({what}): "
    hint = "check the cluster is up and --context/--kubeconfig point at it"
    err: KubeError
    if transport is Transport.CONNECT_TIMEOUT:
        err = KubeTimeout(f"{where}no connection within {timeout:g}s", hint=hint)
    elif transport is Transport.READ_TIMEOUT:
        said = _reason(e) if prefix is not None else f"no answer within {timeout:g}s"
        err = KubeTimeout(f"{where}{said}", hint=hint)
    else:
        err = KubeUnreachable(f"{where}{_reason(e)}", hint=hint)
    err.transport = transport
    return err


def _reason(e: BaseException) -> str:
    """The useful part of urllib3's nested errors: "connection refused", "timed out", "name not resolved"."""
    text = str(getattr(e, "reason", None) or e)
    lowered = text.lower()
    for needle, words in (
        ("refused", "connection refused"),
        ("timed out", "timed out"),
        ("timeout", "timed out"),
        ("name or service not known", "host name not resolved"),
        ("nodename nor servname", "host name not resolved"),
        ("certificate", "TLS certificate rejected"),
        ("reset by peer", "connection reset"),
        ("connection aborted", "connection reset"),
        ("remote end closed", "connection reset"),
    ):
        if needle in lowered:
            return words
    return (text.splitlines() or [type(e).__name__])[0][:200]


def _load_configuration(kubeconfig: str | None, context: str | None, env: dict[str, str]) -> Any:
    """Credentials as kubectl finds them; errors say which file and which context (``check_kubeconfig`` has
    usually said so already, before anything ran)."""
    import yaml
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException

    configuration = client.Configuration()
    paths = kubeconfig_paths(kubeconfig, env)
    if not paths and env.get("KUBERNETES_SERVICE_HOST"):
        try:
            config.load_incluster_config(client_configuration=configuration)
            return configuration
        except ConfigException as e:
            raise KubeconfigError(f"in-cluster Kubernetes configuration is incomplete: {e}") from e
    check_kubeconfig(kubeconfig, context, env)
    existing = [p for p in paths if Path(p).expanduser().is_file()]
    try:
        config.load_kube_config(
            config_file=os.pathsep.join(existing),  # KUBECONFIG=a:b merges files, as kubectl does
            context=context,
            client_configuration=configuration,
            persist_config=False,
        )
    except ConfigException as e:
        raise KubeconfigError(f"cannot use kubeconfig {', '.join(existing)}: {e}") from e
    except (OSError, ValueError, yaml.YAMLError) as e:
        raise KubeconfigError(f"cannot read kubeconfig {', '.join(existing)}: {e}") from e
    return configuration


def iter_containers(pod: JSON) -> Iterator[JSON]:
    yield from (pod.get("status") or {}).get("containerStatuses") or []
