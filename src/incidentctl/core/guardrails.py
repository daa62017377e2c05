"""The runbook's guardrails on mitigations, as pure rules: each breach names its rule, says what and how to proceed.

Judged before anything is sent, and never overridden by ``--yes``: ``--yes`` means "do not ask me", not "ignore
the runbook". A breach ends the command with exit 5 and nothing changed.

Rules (``mitigation.guardrails`` in runbook.yaml):

``contexts``          the kubeconfig context is one the runbook allows (empty list: any)
``namespaces``        every write goes to an allowed namespace (empty list: the runbook's own namespace only)
``incident``          a mitigation is recorded in an open incident: a change nobody can find later is how an
                      outage gets a second cause
``severity-actions``  the incident's severity allows the action (a severity not listed allows every action);
                      undoing a mitigation is always allowed, since it puts back what was there
``replica-bounds``    a scale stays within the component's ``scale: {min, max}`` (when the runbook sets them)
``destructive``       an action that drops data or state (a cache flush, a datastore restart) needs a reason
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from incidentctl.core.incident import Incident
    from incidentctl.core.mitigation import Plan
    from incidentctl.runbook.model import Runbook


@dataclass(frozen=True)
class Breach:
    rule: str
    message: str
    hint: str | None = None


def check_where(runbook: Runbook, context: str | None, namespaces: Sequence[str]) -> Breach | None:
    """The context and namespaces a mitigation would write to (known before anything is read)."""
    rails = runbook.mitigation.guardrails
    if rails.contexts and context not in rails.contexts:
        shown = f"context {context!r}" if context else "a cluster whose context is not known (no kubeconfig context)"
        return Breach(
            "contexts",
            f"mitigations may not write to {shown}",
            hint=f"the runbook's mitigation.guardrails.contexts allows: {', '.join(rails.contexts)}",
        )
    allowed = rails.namespaces or [runbook.cluster.namespace]
    for namespace in namespaces:
        if namespace not in allowed:
            return Breach(
                "namespaces",
                f"mitigations may not write to namespace {namespace!r}",
                hint=f"the runbook's mitigation.guardrails.namespaces allows: {', '.join(allowed)}",
            )
    return None


def check_plan(
    runbook: Runbook, plan: Plan, incident: Incident | None, reason: str | None, *, undoing: bool = False
) -> Breach | None:
    """Whether this plan may be sent in this incident, with this reason."""
    if incident is None:
        return Breach(
            "incident",
            "a mitigation is recorded in an open incident, and none is open",
            hint="declare one first (incidentctl triage --declare, or incident declare), or name it with --incident",
        )
    if not incident.status.is_open:
        return Breach(
            "incident",
            f"{incident.id} is {incident.status.value}: mitigations are recorded in an open incident",
            hint=f"reopen it (incidentctl incident status {incident.id} investigating) or declare a new one",
        )
    allowed = runbook.mitigation.guardrails.severity_actions.get(incident.severity)
    if not undoing and allowed is not None and plan.action not in allowed:
        return Breach(
            "severity-actions",
            f"a {incident.severity} incident does not allow {plan.action}",
            hint=f"{incident.severity} allows: {', '.join(allowed) or 'nothing'} "
            "(the runbook's mitigation.guardrails.severity_actions)",
        )
    for change in plan.replicas:
        bounds = _bounds(runbook, change.component)
        if bounds is not None and not bounds[0] <= change.new <= bounds[1]:
            return Breach(
                "replica-bounds",
                f"{change.component} may run {bounds[0]} to {bounds[1]} replicas, not {change.new}",
                hint=f"the runbook's components[{change.component}].scale sets the bounds",
            )
    if plan.destructive and not (reason and reason.strip()):
        what = ", ".join(plan.datastores) or ", ".join(plan.targets) or plan.action
        return Breach(
            "destructive",
            f"{plan.action} on {what} cannot be undone and needs a reason",
            hint="say why with --reason TEXT; it is recorded in the incident's timeline",
        )
    return None


def _bounds(runbook: Runbook, component: str) -> tuple[int, int] | None:
    """The component's ``scale: {min, max}``; None when the runbook sets none (then no bound is judged)."""
    for comp in runbook.components:
        if comp.name == component and comp.scale is not None:
            return comp.scale.min, comp.scale.max
    return None
