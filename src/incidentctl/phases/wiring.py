"""Building the real adapters a phase talks to, from the command line's options and the runbook.

Kept apart from the phases so tests can hand a phase other adapters, and from the CLI so it never imports a
client library.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from incidentctl.phases.detect import DetectEnv

if TYPE_CHECKING:
    import httpx

    from incidentctl.adapters.kube import KubeClient
    from incidentctl.runbook.model import Runbook


def detect_env(
    rb: Runbook,
    *,
    kubeconfig: str | None,
    context: str | None,
    env: Mapping[str, str],
    clock: Callable[[], datetime],
    runbook_dir: Path,
    concurrency: int = 16,
) -> DetectEnv:
    """The adapters detect uses, built when first needed; the kubeconfig is checked here, at once, so that a
    kubeconfig that cannot work is one line before any check runs rather than an error after all of them."""
    from incidentctl.adapters.kubeconfig import check_kubeconfig
    from incidentctl.adapters.secrets import Secrets

    source = "the runbook's cluster.context" if not context and rb.cluster.context else None
    context = context or rb.cluster.context
    check_kubeconfig(kubeconfig, context, env, context_source=source)

    def kube() -> KubeClient:
        from incidentctl.adapters.kube import KubeClient

        return KubeClient(kubeconfig=kubeconfig, context=context, env=dict(env))

    def http() -> httpx.Client:
        from incidentctl.adapters.http_client import new_http_client

        return new_http_client(concurrency, ca_file=rb.tls.ca_path(runbook_dir))

    return DetectEnv(kube=kube, http=http, secrets=Secrets(env, base_dir=runbook_dir), clock=clock)
