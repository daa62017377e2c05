"""Building the phase context with the real adapters, from the resolved settings and the runbook.

Kept apart from the phases so tests can hand a phase other adapters, and from the CLI so it never imports a
client library. Every adapter is a factory: nothing is imported or connected before a phase needs it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from incidentctl.phases.context import Adapters, PhaseContext, Settings

if TYPE_CHECKING:
    import httpx

    from incidentctl.adapters.alertmanager import AlertmanagerClient
    from incidentctl.adapters.kube import KubeClient
    from incidentctl.adapters.prometheus import PrometheusClient
    from incidentctl.journal.base import JournalStore
    from incidentctl.runbook.model import Alertmanager, Prometheus, Runbook


def build_context(
    rb: Runbook,
    settings: Settings,
    *,
    env: Mapping[str, str],
    clock: Callable[[], datetime],
    journal: Callable[[], JournalStore],
    runbook_dir: Path,
    concurrency: int = 16,
    sleep: Callable[[float], None] | None = None,
    cluster: bool = True,
) -> PhaseContext:
    """The context the cluster-facing phases run in. The kubeconfig is checked here, at once, so that a kubeconfig
    that cannot work is one line before any check runs rather than an error after all of them. ``cluster=False``
    (communicate: a message must go out when the cluster, or the laptop's kubeconfig, is what is broken) skips
    the check; the kube factory still fails cleanly if a phase calls it."""
    from incidentctl.adapters.kubeconfig import check_kubeconfig
    from incidentctl.adapters.secrets import Secrets

    context = settings.context.value
    source = "the runbook's cluster.context" if settings.context.source == "runbook" else None
    kube_context = check_kubeconfig(settings.kubeconfig, context, env, context_source=source) if cluster else None
    secrets = Secrets(env, base_dir=runbook_dir)

    def kube() -> KubeClient:
        from incidentctl.adapters.kube import KubeClient

        return KubeClient(kubeconfig=settings.kubeconfig, context=context, env=dict(env))

    def http() -> httpx.Client:
        from incidentctl.adapters.http_client import new_http_client

        return new_http_client(concurrency, ca_file=rb.tls.ca_path(runbook_dir))

    def prometheus(client: httpx.Client, config: Prometheus) -> PrometheusClient:
        from incidentctl.adapters.prometheus import PrometheusClient

        return PrometheusClient(client, config, secrets=secrets)

    def alertmanager(client: httpx.Client, config: Alertmanager) -> AlertmanagerClient:
        from incidentctl.adapters.alertmanager import AlertmanagerClient

        return AlertmanagerClient(client, config, secrets=secrets)

    return PhaseContext(
        runbook=rb,
        settings=settings,
        clock=clock,
        journal=journal,
        adapters=Adapters(kube=kube, http=http, prometheus=prometheus, alertmanager=alertmanager),
        secrets=secrets,
        sleep=sleep if sleep is not None else time.sleep,
        runbook_dir=runbook_dir,
        kube_context=kube_context,
    )
