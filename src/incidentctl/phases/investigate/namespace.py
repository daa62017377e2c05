"""Whether an empty namespace is empty or does not exist: a list in a namespace that does not exist is simply
empty on any API server, and "no Warning events" or "no pods" there would read as fine."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from incidentctl.adapters.kube import KubeClient, KubeError

log = logging.getLogger(__name__)


def missing_namespace(client: KubeClient, namespace: str) -> KubeError | None:
    """The error to report when ``namespace`` does not exist, else None. Asked only when a list came back empty;
    a refusal (many on-call users may not read namespaces) leaves the empty list to speak for itself."""
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
