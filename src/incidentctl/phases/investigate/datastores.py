"""investigate datastores: the runbook's exec checks (``kubectl exec postgres-0 -- psql -c "SELECT 1;"``,
``redis-cli ping``), each with its latency and the exact error.

The same check detect runs (:func:`incidentctl.phases.checks.datastore_check`), on a snapshot of the pods
only: a datastore is judged by its pod and by the command's answer, nothing else in the namespace.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING

from incidentctl.core.checks import CheckResult
from incidentctl.phases.checks import cluster_error, datastore_check, guard, read_snapshot
from incidentctl.phases.context import PhaseContext
from incidentctl.phases.investigate.base import Rank
from incidentctl.phases.investigate.checked import ChecksResult, redacted, select
from incidentctl.phases.investigate.saving import EvidenceRequest, check_incident, keep_evidence, learn_runbook_secrets

if TYPE_CHECKING:
    from incidentctl.runbook.model import Datastore

VIEW = "datastores"


@dataclass(frozen=True)
class DatastoresRequest:
    #: Only these datastores (runbook names); empty: all.
    names: tuple[str, ...] = ()
    #: Restarts of a datastore's pod within this window count as recent.
    window: timedelta = timedelta(hours=1)
    evidence: EvidenceRequest = field(default_factory=EvidenceRequest)
    concurrency: int = 8


DatastoresResult = ChecksResult


def run_datastores(ctx: PhaseContext, request: DatastoresRequest) -> DatastoresResult:
    """Every datastore's exec check at once; the evidence (the checks as JSON) kept in the open incident."""
    learn_runbook_secrets(ctx)  # before anything is looked at: no secret the runbook names reaches the output
    check_incident(ctx, request.evidence)
    chosen = select(ctx.runbook.datastores, request.names, "datastore")
    namespace = ctx.settings.namespace.value
    started = ctx.clock()
    if not chosen:
        result = ChecksResult(VIEW, Rank.DATASTORES, started, ctx.clock(), none_defined=True)
    else:
        checks: list[CheckResult] = []
        with ThreadPoolExecutor(max_workers=max(1, request.concurrency), thread_name_prefix=VIEW) as pool:
            snapshot = read_snapshot(ctx, namespace, pool, resources=("pods",))
            error = cluster_error(snapshot)
            if error is None:
                now = ctx.clock()

                def one(ds: Datastore) -> list[CheckResult]:
                    return [datastore_check(ds, snapshot, namespace, now, request.window, exec_anyway=True)]

                futures = [pool.submit(guard, partial(one, ds)) for ds in chosen]
                for fut in futures:
                    checks.extend(fut.result())
        if snapshot.client is not None:
            snapshot.client.close()
        result = ChecksResult(
            VIEW, Rank.DATASTORES, started, ctx.clock(), tuple(redacted(c, ctx.secrets) for c in checks), error
        )
    kept = keep_evidence(
        ctx, request.evidence, VIEW, [(VIEW, result)], findings=[f.text for f in result.findings() if f.problem]
    )
    return replace(result, kept=kept)
