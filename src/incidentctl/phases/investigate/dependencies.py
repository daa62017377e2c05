"""investigate dependencies: the runbook's dependency curls (``curl -f https://api.openai.com/...``), each with
its latency and the exact error (a timeout, a refused connection, a TLS failure, the status and body).

The same probe detect runs (:func:`incidentctl.phases.checks.dependency_check`), all at once: a hung provider
costs its own timeout, not everyone's.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from incidentctl.core.checks import CheckResult
from incidentctl.phases.checks import dependency_check, guard
from incidentctl.phases.context import PhaseContext
from incidentctl.phases.investigate.base import Rank
from incidentctl.phases.investigate.checked import ChecksResult, redacted, select
from incidentctl.phases.investigate.saving import EvidenceRequest, check_incident, keep_evidence, learn_runbook_secrets

VIEW = "dependencies"


@dataclass(frozen=True)
class DependenciesRequest:
    #: Only these dependencies (runbook names); empty: all.
    names: tuple[str, ...] = ()
    evidence: EvidenceRequest = field(default_factory=EvidenceRequest)
    concurrency: int = 8


DependenciesResult = ChecksResult


def run_dependencies(ctx: PhaseContext, request: DependenciesRequest) -> DependenciesResult:
    """Every dependency probed at once; the evidence (the checks as JSON) kept in the open incident."""
    learn_runbook_secrets(ctx)  # before anything is looked at: no secret the runbook names reaches the output
    check_incident(ctx, request.evidence)
    chosen = select(ctx.runbook.dependencies, request.names, "dependency")
    started = ctx.clock()
    if not chosen:
        result = ChecksResult(VIEW, Rank.DEPENDENCIES, started, ctx.clock(), none_defined=True)
    else:
        checks: list[CheckResult] = []
        http = ctx.adapters.http()
        try:
            with ThreadPoolExecutor(max_workers=max(1, request.concurrency), thread_name_prefix=VIEW) as pool:
                futures = [
                    pool.submit(guard, lambda d=dep: [dependency_check(http, d, ctx.secrets)])  # type: ignore[misc]
                    for dep in chosen
                ]
                for fut in futures:
                    checks.extend(fut.result())
        finally:
            http.close()
        result = ChecksResult(
            VIEW, Rank.DEPENDENCIES, started, ctx.clock(), tuple(redacted(c, ctx.secrets) for c in checks)
        )
    kept = keep_evidence(
        ctx, request.evidence, VIEW, [(VIEW, result)], findings=[f.text for f in result.findings() if f.problem]
    )
    return replace(result, kept=kept)
