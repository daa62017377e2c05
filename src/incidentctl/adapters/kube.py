"""The Kubernetes API: the only module that imports the official ``kubernetes`` client.

It loads credentials the way kubectl does (``--kubeconfig``, else ``$KUBECONFIG``, else ``~/.kube/config``; in-cluster
service account when there is no kubeconfig), turns every library error into the project's own (unreachable,
forbidden, not found) with one line that says which call failed, and returns plain JSON dicts: the generated
models validate every field on the way in, which costs seconds on a namespace with thousands of pods and buys
nothing for the reads incidentctl does.
"""

from __future__ import annotations

import builtins
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from incidentctl.adapters.kubeconfig import check_kubeconfig, kubeconfig_paths
from incidentctl.errors import IncidentctlError, KubeconfigError, NotFoundError, UnauthorizedError, UnreachableError

log = logging.getLogger(__name__)

T = TypeVar("T")
JSON = dict[str, Any]

#: Page size for lists, as kubectl's default --chunk-size.
PAGE_SIZE = 500
#: Tries for 429 and 5xx answers (transient by definition); connection errors are not retried: a dead API is dead.
MAX_ATTEMPTS = 3


class KubeError(IncidentctlError):
    """Base of the errors a Kubernetes call ends in; ``status`` is the HTTP status when there was one."""

    status: int | None = None


class KubeUnreachable(UnreachableError, KubeError):
    pass


class KubeForbidden(UnauthorizedError, KubeError):
    pass


class KubeNotFound(NotFoundError, KubeError):
    pass


class KubeApiError(KubeError):
    """Any other answer the API gave (a 500 after retries, a 422)."""


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
    "ingresses": "/apis/networking.k8s.io/v1",
}


class KubeClient:
    """Raw REST calls through the official client's ``ApiClient``: it brings kubeconfig parsing, every auth
    plugin, TLS and proxies. The generated ``CoreV1Api``/``AppsV1Api`` classes are not used: importing them builds
    hundreds of pydantic models (about 1.8 s), more than a whole detect run should take."""

    def __init__(
        self,
        *,
        kubeconfig: str | None = None,
        context: str | None = None,
        request_timeout: float = 10.0,
        env: dict[str, str] | None = None,
    ) -> None:
        from kubernetes.client.api_client import ApiClient

        self._timeout = request_timeout
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

    def list(self, resource: str, namespace: str, *, label_selector: str | None = None) -> builtins.list[JSON]:
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
            page = self._get(f"list {resource} in namespace {namespace}", path, query)
            items.extend(page.get("items") or [])
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return items

    def get_namespace(self, name: str) -> JSON:
        """The namespace itself (a list in a namespace that does not exist is simply empty, as on any server)."""
        return self._get(f"get namespace {name}", f"/api/v1/namespaces/{name}", [])

    def get(self, resource: str, namespace: str, name: str) -> JSON:
        path = f"{API_PATHS[resource]}/namespaces/{namespace}/{resource}/{name}"
        return self._get(f"get {resource}/{name} in namespace {namespace}", path, [])

    def exec(
        self,
        namespace: str,
        pod: str,
        command: builtins.list[str],
        *,
        container: str | None = None,
        timeout: float = 10.0,
    ) -> ExecResult:
        """Run a command in a pod (what ``kubectl exec`` does) and return its exit code and output."""
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
                raise KubeUnreachable(f"{what}: {_reason(e)}") from e
            try:
                resp.run_forever(timeout=timeout)
                if resp.is_open():
                    raise KubeUnreachable(f"{what}: no answer within {timeout:g}s")
                code = resp.returncode
                return ExecResult(code if code is not None else 0, resp.read_stdout() or "", resp.read_stderr() or "")
            finally:
                resp.close()

        return self._translate(what, run)

    # --- plumbing ------------------------------------------------------------------------------------------------

    def _get(self, what: str, path: str, query: builtins.list[tuple[str, str]]) -> JSON:
        from kubernetes.client.exceptions import ApiException

        def once() -> JSON:
            method, url, headers, body, post = self.api_client.param_serialize(
                method="GET",
                resource_path=path,
                query_params=query,
                header_params={"Accept": "application/json"},
                auth_settings=["BearerToken"],
            )
            resp = self.api_client.call_api(
                method, url, header_params=headers, body=body, post_params=post, _request_timeout=self._timeout
            )
            data = resp.read()
            if not 200 <= int(resp.status) <= 299:
                raise ApiException(http_resp=resp)
            parsed: JSON = json.loads(data)
            return parsed

        return self._translate(what, once)

    def _translate(self, what: str, fn: Callable[[], T]) -> T:
        """Run ``fn`` with retries for 429/5xx (honouring Retry-After) and one error class for every failure."""
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError as Urllib3Error

        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                return fn()
            except ApiException as e:
                status = int(e.status or 0)
                if (status == 429 or status >= 500) and attempt < MAX_ATTEMPTS:
                    delay = _retry_after(e, attempt)
                    log.debug("%s: HTTP %s, retrying in %.1fs", what, status, delay)
                    time.sleep(delay)
                    continue
                if status == 0:
                    raise KubeUnreachable(f"{what}: {_reason(e)}") from e
                raise _api_error(what, e, self.server) from e
            except (Urllib3Error, OSError) as e:
                raise KubeUnreachable(
                    f"cannot reach the Kubernetes API at {self.server} ({what}): {_reason(e)}",
                    hint="check the cluster is up and --context/--kubeconfig point at it",
                ) from e
            except ValueError as e:  # a body that is not JSON: not a Kubernetes API server
                raise KubeApiError(f"{what}: the server at {self.server} did not answer like a Kubernetes API") from e
        raise AssertionError("unreachable")


def _retry_after(e: Any, attempt: int) -> float:
    headers = getattr(e, "headers", None) or {}
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    try:
        return min(float(value), 5.0) if value is not None else 0.2 * attempt
    except ValueError:
        return 0.2 * attempt


def _status_message(e: Any) -> str:
    try:
        body = json.loads(e.body or "{}")
    except (TypeError, ValueError):
        body = {}
    message = body.get("message") if isinstance(body, dict) else None
    return str(message or e.reason or f"HTTP {e.status}")


def _api_error(what: str, e: Any, server: str) -> KubeError:
    status = int(e.status or 0)
    message = _status_message(e)
    err: KubeError
    if status in (401, 403):
        hint = (
            "your credentials were refused: check `kubectl auth can-i` for this user"
            if status == 403
            else "your credentials are missing or expired: log in to the cluster again"
        )
        err = KubeForbidden(f"{what}: {message} (HTTP {status})", hint=hint)
    elif status == 404:
        err = KubeNotFound(f"{what}: {message}")
    elif status in (429, 500, 502, 503, 504):
        err = KubeUnreachable(f"{what}: the API server at {server} answered {status}: {message}")
    else:
        err = KubeApiError(f"{what}: {message} (HTTP {status})")
    err.status = status
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
    ):
        if needle in lowered:
            return words
    return text.splitlines()[0][:200]


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
