"""The one safety contract every mitigation goes through, in this order and nowhere else:

1. **where**: the kubeconfig context and the namespace are ones the runbook allows (before anything is read);
2. **plan**: the action reads what it would change and says how, as a diff (:class:`~incidentctl.core.mitigation.Plan`);
3. **guardrails**: an open incident to record in, the actions its severity allows, replica bounds, a reason for
   what cannot be undone (:mod:`incidentctl.core.guardrails`); a breach is refused, recorded, and nothing changes;
4. **dry-run**: with ``--dry-run`` every write is sent with ``dryRun=All`` and the server's answer shown; nothing
   changes and nothing is recorded;
5. **confirmation**: the plan is shown and the responder says yes, unless ``--yes``; no terminal and no ``--yes``
   is a refusal (a script must say ``--yes``);
6. **journal, before**: ``mitigation_planned`` with the diff and the state before, under the journal's lock, which
   also refuses a second responder's mitigation of the same object while the first is being sent;
7. **writes**: each carries the resourceVersion it was planned against; a 409 Conflict re-reads the plan and shows
   it again (with ``--yes`` it stops and says what changed: two responders rolling back at once roll back once);
8. **journal, after**: ``mitigation_applied`` with the state the server answered, or ``mitigation_failed`` with the
   error and what had already been changed;
9. **verification**: the rollouts awaited, the components' checks re-run (:mod:`.verify`), ``mitigation_verified``;
   with ``--auto-undo`` a change that did not make things healthy is reverted, through this same contract.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from incidentctl.core.events import EventKind
from incidentctl.core.guardrails import Breach, check_plan, check_where
from incidentctl.core.times import format_rfc3339
from incidentctl.errors import IncidentctlError, JournalError
from incidentctl.exitcodes import ExitCode
from incidentctl.phases.mitigate.base import (
    ActionEnv,
    MitigateRequest,
    MitigateResult,
    MitigationRefused,
    NotConfirmed,
    PlanChanged,
)
from incidentctl.phases.recording import open_incident

if TYPE_CHECKING:
    from incidentctl.adapters.kube import KubeClient
    from incidentctl.adapters.secrets import Secrets
    from incidentctl.core.incident import Event, Incident
    from incidentctl.core.mitigation import Plan, Undo, Write
    from incidentctl.journal.base import JournalStore
    from incidentctl.phases.context import PhaseContext

#: A planned mitigation with no outcome recorded is "being sent" for this long; after that its run is taken to
#: have died (a crash between the plan and the outcome) and it no longer blocks the object.
IN_FLIGHT = timedelta(seconds=60)

#: Diff lines kept in the journal per mitigation: enough for any template, bounded for a huge manifest.
MAX_DIFF_LINES = 400

#: How many times a plan is re-read after a 409 before giving up (each time shown and confirmed again).
MAX_REPLANS = 3


class MitigationFailed(IncidentctlError):
    """A write failed after the plan was recorded; carries the underlying error's exit code and says what had
    already been changed (a partial change is the thing a responder must not miss)."""

    reason = "MitigationFailed"

    def __init__(self, message: str, cause: IncidentctlError, *, applied: Sequence[str] = ()) -> None:
        super().__init__(message, hint=cause.hint)
        self.exit_code = cause.exit_code
        self.cause = cause
        self.applied = tuple(applied)


def run_mitigate(ctx: PhaseContext, request: MitigateRequest) -> MitigateResult:
    """Plan, guard, (dry-run | confirm, record, write, record), verify: see the module's docstring."""
    from incidentctl.phases.context import learn_runbook_secrets

    rb = ctx.runbook
    namespace = ctx.settings.namespace.value
    learn_runbook_secrets(ctx)  # before anything is read: no secret the runbook names is recorded or shown
    breach = check_where(rb, ctx.kube_context, [namespace])
    if breach is not None:
        raise _refusal(breach)
    journal = ctx.journal()
    incident = _incident(journal, request)
    kube = ctx.adapters.kube()
    try:
        env = ActionEnv(rb, namespace, kube, ctx.clock, ctx.runbook_dir)
        plan, undo = _planned(ctx, request, env)
        if request.show is not None:
            request.show(plan)
        breach = check_where(rb, ctx.kube_context, sorted({w.ref.namespace for w in plan.writes}))
        if plan.nothing_to_do:
            return MitigateResult(plan, "unchanged", incident_id=incident.id if incident else None, incident=incident)
        if breach is None and (not request.dry_run or incident is not None):
            undoing = request.undoes is not None or plan.restores
            breach = check_plan(rb, plan, incident, request.reason, undoing=undoing)
        if breach is not None:
            if incident is not None and incident.status.is_open and not request.dry_run:
                _record_refused(journal, incident.id, plan, breach.rule, breach.message)
            raise _refusal(breach)
        if request.dry_run:
            from incidentctl.phases.mitigate.state import redacted

            objects = {k: redacted(v) for k, v in _send_all(kube, plan.writes, dry_run=True, done=[]).items()}
            return MitigateResult(
                plan,
                "dry-run",
                incident_id=incident.id if incident else None,
                dry_run_objects=ctx.secrets.redact_data(objects),
                incident=incident,
            )
        assert incident is not None  # check_plan refuses a plan without an open incident
        _confirm(request, plan, journal, incident.id)
        return _apply(ctx, request, env, kube, journal, incident, plan, undo)
    finally:
        kube.close()


def _planned(ctx: PhaseContext, request: MitigateRequest, env: ActionEnv) -> tuple[Plan, Undo | None]:
    """The action's plan as it is shown, recorded and returned (every secret the runbook names masked; the writes
    as they are sent), and its undo as planned (for ``--auto-undo``, which runs in memory and records nothing)."""
    plan = request.action.plan(env)
    return _masked(ctx.secrets, plan), plan.undo


def _masked(secrets: Secrets, plan: Plan) -> Plan:
    from incidentctl.core.mitigation import Undo

    redact, data = secrets.redact, secrets.redact_data
    undo = plan.undo
    if undo is not None:
        args = data(dict(undo.args))
        undo = Undo(undo.action, args, redact(undo.summary), masked=undo.masked or args != dict(undo.args))
    return replace(
        plan,
        summary=redact(plan.summary),
        changes=tuple(
            replace(
                c,
                summary=redact(c.summary),
                fields=tuple(replace(f, before=data(f.before), after=data(f.after)) for f in c.fields),
                diff=tuple(redact(line) for line in c.diff),
            )
            for c in plan.changes
        ),
        notes=tuple(redact(n) for n in plan.notes),
        before=data(dict(plan.before)),
        after=data(dict(plan.after)),
        args=data(dict(plan.args)),
        undo=undo,
    )


def _incident(journal: JournalStore, request: MitigateRequest) -> Incident | None:
    target = open_incident(journal, request.incident)
    if target.incident is None and target.ambiguous:
        raise MitigationRefused(
            f"{len(target.ambiguous)} incidents are open and none was named: {', '.join(target.ambiguous)}",
            rule="incident",
            hint="name the one this mitigation belongs to with --incident",
        )
    return target.incident


def _refusal(breach: Breach) -> MitigationRefused:
    return MitigationRefused(
        f"refused by the runbook's guardrail {breach.rule}: {breach.message}", rule=breach.rule, hint=breach.hint
    )


def _confirm(request: MitigateRequest, plan: Plan, journal: JournalStore, incident_id: str) -> None:
    if request.yes:
        return
    if request.confirm is None:
        _record_refused(journal, incident_id, plan, "not-confirmed", "no terminal to confirm on and no --yes")
        raise NotConfirmed(
            "not confirmed: there is no terminal to ask on",
            rule="not-confirmed",
            hint="review the plan with --dry-run, then pass --yes",
        )
    if not request.confirm(plan):
        _record_refused(journal, incident_id, plan, "not-confirmed", "the responder said no")
        raise NotConfirmed("not confirmed: nothing was changed", rule="not-confirmed")


def _apply(
    ctx: PhaseContext,
    request: MitigateRequest,
    env: ActionEnv,
    kube: KubeClient,
    journal: JournalStore,
    incident: Incident,
    plan: Plan,
    undo: Undo | None,
) -> MitigateResult:
    from incidentctl.adapters.kube import KubeConflict, KubeError

    replans = 0
    messages: list[str] = []
    while True:
        action_id = _record_planned(ctx, journal, incident.id, plan, request)
        done: list[str] = []
        try:
            answers = _send_all(kube, plan.writes, dry_run=False, done=done)
        except KubeConflict as e:
            _record_failed(journal, incident.id, action_id, e, done, plan, ctx.secrets)
            if done:  # part of it went through: never re-plan over a half-made change
                raise MitigationFailed(ctx.secrets.redact(_partial(plan, done, e)), e, applied=done) from e
            fresh, fresh_undo = _planned(ctx, request, env)
            what = _what_changed(journal, incident.id, plan, action_id)
            if fresh.nothing_to_do:
                messages.append(f"{', '.join(plan.targets)} changed since the plan was read{what}; nothing left to do")
                return MitigateResult(
                    fresh, "unchanged", incident_id=incident.id, messages=tuple(messages), incident=incident
                )
            if replans >= MAX_REPLANS or request.yes or request.confirm is None:
                raise PlanChanged(
                    f"{', '.join(plan.targets)} changed since the plan was read{what}: nothing was written over it",
                    rule="conflict",
                    hint="run the command again to plan against what is there now, and review the new plan",
                ) from e
            replans += 1
            message = f"{', '.join(plan.targets)} changed since the plan was read{what}; this is the plan now"
            messages.append(message)
            if request.replanned is not None:
                request.replanned(fresh, message)
            if not request.confirm(fresh):
                _record_refused(
                    journal, incident.id, fresh, "not-confirmed", "the responder said no to the re-read plan"
                )
                raise NotConfirmed("not confirmed: nothing was changed", rule="not-confirmed") from e
            plan, undo = fresh, fresh_undo
            continue
        except KubeError as e:
            failure = _failure(ctx, journal, incident.id, action_id, plan, e, done)
            if failure is e:
                raise
            raise failure from e
        try:
            verifying = _verifies(request, plan)
            _record_applied(journal, incident.id, action_id, answers, plan, ctx.secrets, verifying=verifying)
        except JournalError as e:  # the change is made: the one thing the responder must not be told is "failed"
            raise JournalError(
                f"{action_id} was applied ({', '.join(w.describe for w in plan.writes)}) but the journal could not "
                f"record it: {e}",
                hint=f"note it by hand: incidentctl incident note {incident.id} ...",
            ) from e
        break
    result = MitigateResult(
        plan,
        "applied",
        action_id=action_id,
        incident_id=incident.id,
        replanned=replans,
        messages=tuple(messages),
        incident=incident,
    )
    if not _verifies(request, plan):
        return result  # nothing to verify: "healthy" would be a claim without evidence
    from incidentctl.phases.mitigate.verify import record_verification, verify_plan

    verification = verify_plan(ctx, kube, plan, request)
    record_verification(journal, incident.id, action_id, verification, redact=ctx.secrets.redact_data)
    result = replace(result, verification=verification)
    if verification.healthy or not request.auto_undo:
        return result
    if undo is None:
        return replace(result, messages=(*result.messages, f"--auto-undo: {plan.action} cannot be undone"))
    from incidentctl.phases.mitigate.undo import undo_action

    undo_request = replace(
        request,
        action=undo_action(ctx.runbook, undo),
        yes=True,
        auto_undo=False,
        undoes=action_id,
        incident=incident.id,
        reason=f"--auto-undo: {action_id} did not make things healthy",
    )
    return replace(result, undone_by=run_mitigate(ctx, undo_request))


def _send_all(kube: KubeClient, writes: Sequence[Write], *, dry_run: bool, done: list[str]) -> dict[str, Any]:
    """Send each write in order; ``done`` collects what the server took, for the journal when one fails."""
    answers: dict[str, Any] = {}
    for write in writes:
        answers[write.ref.label] = send(kube, write, dry_run=dry_run)
        done.append(write.describe)
    return answers


def send(kube: KubeClient, write: Write, *, dry_run: bool) -> Any:
    """One write, with its preconditions; the only place a mitigation's request is made."""
    ref = write.ref
    if write.verb == "patch":
        body = write.body
        if write.resource_version and write.patch_type in ("merge", "strategic", "apply") and isinstance(body, dict):
            # the version it was planned against: a change since is a 409, never a write over it
            meta = dict(body.get("metadata") or {})
            meta["resourceVersion"] = write.resource_version
            body = {**body, "metadata": meta}
        elif write.resource_version and write.patch_type == "json" and isinstance(body, list):
            # the patched object then carries the planned version, which the server holds against the current one
            body = [*body, {"op": "replace", "path": "/metadata/resourceVersion", "value": write.resource_version}]
        return kube.patch(
            ref.resource,
            ref.namespace,
            ref.name,
            body,
            patch_type=write.patch_type,
            subresource=write.subresource,
            dry_run=dry_run,
            field_manager=write.field_manager,
        )
    if write.verb == "create":
        return kube.create(ref.resource, ref.namespace, write.body, dry_run=dry_run, field_manager=write.field_manager)
    if write.verb == "delete":
        return kube.delete(
            ref.resource,
            ref.namespace,
            ref.name,
            uid=write.uid,
            resource_version=write.resource_version,
            dry_run=dry_run,
        )
    if write.verb == "exec":
        if dry_run:  # an exec has no server-side dry run: nothing is sent
            return {
                "dryRun": "an exec cannot be dry-run on the server; it was not sent",
                "command": list(write.command),
            }
        result = kube.exec(ref.namespace, ref.name, list(write.command), container=write.container)
        if result.exit_code != 0:
            from incidentctl.adapters.kube import KubeApiError

            said = " ".join((result.stderr or result.stdout).split())[:200]
            failed = KubeApiError(f"{write.describe}: exited {result.exit_code}: {said}")
            # the command ran and said no: a refused change (exit 5), not a bug in incidentctl
            failed.exit_code, failed.reason = ExitCode.REFUSED, "CommandFailed"
            raise failed
        return {"exitCode": result.exit_code, "stdout": result.stdout[-2000:]}
    raise ValueError(f"unknown write verb {write.verb!r}")


# --- the journal ------------------------------------------------------------------------------------------------


def _mitigation_events(timeline: Sequence[Event]) -> dict[str, list[Event]]:
    by_id: dict[str, list[Event]] = {}
    kinds = {
        EventKind.MITIGATION_PLANNED,
        EventKind.MITIGATION_APPLIED,
        EventKind.MITIGATION_FAILED,
        EventKind.MITIGATION_VERIFIED,
    }
    for event in timeline:
        if event.kind in kinds and isinstance(event.data.get("id"), str):
            by_id.setdefault(event.data["id"], []).append(event)
    return by_id


def _next_id(timeline: Sequence[Event]) -> str:
    numbers = [
        int(e.data["id"][1:])
        for e in timeline
        if e.kind == EventKind.MITIGATION_PLANNED
        and isinstance(e.data.get("id"), str)
        and e.data["id"][:1] == "M"
        and e.data["id"][1:].isdigit()
    ]
    return f"M{max(numbers, default=0) + 1}"


def _record_planned(
    ctx: PhaseContext, journal: JournalStore, incident_id: str, plan: Plan, request: MitigateRequest
) -> str:
    """``mitigation_planned``, decided under the journal's lock: the next ``M<n>``, or a refusal when another
    mitigation of one of the same objects is being sent right now."""
    allocated: list[str] = []
    now = ctx.clock()
    settings = ctx.runbook.mitigation.verify
    verifying_for = settings.timeout + settings.settle

    def decide(_incident: Incident, timeline: Sequence[Event]) -> Mapping[str, Any]:
        if request.undoes:  # judged again here: two responders undoing M2 at once undo it once
            from incidentctl.phases.mitigate.undo import why_not_undoable

            why = why_not_undoable(timeline, request.undoes)
            if why is not None:
                raise MitigationRefused(f"{incident_id}/{request.undoes} cannot be undone: {why}", rule="undo")
        for other_id, events in _mitigation_events(timeline).items():
            if other_id == request.undoes:  # undoing a change that is making things worse is never blocked by it
                continue
            busy = _busy(events, now, verifying_for)
            if busy is None:
                continue
            planned, doing = busy
            overlap = set(planned.data.get("targets") or []) & set(plan.targets)
            if overlap:
                raise MitigationRefused(
                    f"{other_id} by {planned.actor} is {doing} {', '.join(sorted(overlap))} right now "
                    f"({planned.data.get('summary', '')}); nothing was sent",
                    rule="in-flight",
                    hint=f"see incidentctl incident timeline {incident_id}; run again once it is "
                    f"{'applied' if doing == 'changing' else 'verified'}, or revert it: incidentctl mitigate undo "
                    f"{incident_id}/{other_id}",
                )
        allocated.append(_next_id(timeline))
        data: dict[str, Any] = {
            "id": allocated[-1],
            "action": plan.action,
            "summary": plan.summary,
            "args": dict(plan.args),
            "targets": list(plan.targets),
            "changes": [c.summary for c in plan.changes],
            "diff": [line for c in plan.changes for line in c.diff][:MAX_DIFF_LINES],
            "before": dict(plan.before),
            "after": dict(plan.after),
            "destructive": plan.destructive,
            "versions": {w.ref.label: w.resource_version for w in plan.writes if w.resource_version},
        }
        if request.reason:
            data["reason"] = request.reason
        if plan.undo is not None:
            data["undo"] = {"action": plan.undo.action, "args": dict(plan.undo.args), "summary": plan.undo.summary}
            if plan.undo.masked:
                data["undo"]["masked"] = True
        if request.undoes:
            data["undoes"] = request.undoes
        return dict(ctx.secrets.redact_data(data))

    journal.append_if_timeline(incident_id, EventKind.MITIGATION_PLANNED, decide)
    return allocated[-1]


def _verifies(request: MitigateRequest, plan: Plan) -> bool:
    """Whether a verification follows the writes: asked for, and something to verify (a plan with nothing to
    verify is never reported healthy)."""
    return request.verify and bool(plan.components or plan.datastores or plan.rollouts)


def _busy(events: Sequence[Event], now: datetime, verifying_for: timedelta) -> tuple[Event, str] | None:
    """Whether a mitigation still has its objects in hand: planned and not yet answered (being sent, for
    :data:`IN_FLIGHT` at most: after that its run is taken to have died), or applied and being verified (for as
    long as a verification can take). Its planned event and what it is doing, or None."""
    kinds = [e.kind for e in events]
    planned = next((e for e in events if e.kind == EventKind.MITIGATION_PLANNED), None)
    if planned is None or EventKind.MITIGATION_FAILED in kinds or EventKind.MITIGATION_VERIFIED in kinds:
        return None
    applied = next((e for e in events if e.kind == EventKind.MITIGATION_APPLIED), None)
    if applied is None:
        return (planned, "changing") if now - planned.time < IN_FLIGHT else None
    if applied.data.get("verifying") and now - applied.time < verifying_for:
        return planned, "verifying its change to"
    return None


def _record_applied(
    journal: JournalStore,
    incident_id: str,
    action_id: str,
    answers: Mapping[str, Any],
    plan: Plan,
    secrets: Secrets,
    *,
    verifying: bool,
) -> None:
    from incidentctl.phases.mitigate.state import observed_state

    journal.append(
        incident_id,
        EventKind.MITIGATION_APPLIED,
        {
            "id": action_id,
            "summary": plan.summary,
            "after": secrets.redact_data({label: observed_state(obj) for label, obj in answers.items()}),
            "writes": len(plan.writes),
            "verifying": verifying,
        },
    )


def _failure(
    ctx: PhaseContext,
    journal: JournalStore,
    incident_id: str,
    action_id: str,
    plan: Plan,
    error: IncidentctlError,
    done: Sequence[str],
) -> IncidentctlError:
    """Record a write that failed, and the error the command ends with: what had been changed and what may have
    been, without a secret the server quoted back; the server's own error when there is nothing to add."""
    # no answer (a timeout, a 5xx from a proxy): the server may have applied the write it was sent
    uncertain = [plan.writes[len(done)].describe] if _unanswered(error) and len(done) < len(plan.writes) else []
    _record_failed(journal, incident_id, action_id, error, done, plan, ctx.secrets, uncertain)
    if done or uncertain:
        return MitigationFailed(ctx.secrets.redact(_partial(plan, done, error, uncertain)), error, applied=done)
    said = ctx.secrets.redact(str(error))
    if said != str(error):  # the server quoted a value back (a 422 names it): say it without the secret
        return MitigationFailed(said, error)
    return error


def _unanswered(error: IncidentctlError) -> bool:
    from incidentctl.adapters.kube import KubeServerError, KubeTimeout

    return isinstance(error, (KubeTimeout, KubeServerError))


def _record_failed(
    journal: JournalStore,
    incident_id: str,
    action_id: str,
    error: IncidentctlError,
    done: Sequence[str],
    plan: Plan,
    secrets: Secrets,
    uncertain: Sequence[str] = (),
) -> None:
    sent = set(done) | set(uncertain)
    journal.append(
        incident_id,
        EventKind.MITIGATION_FAILED,
        {
            "id": action_id,
            "summary": plan.summary,
            "error": secrets.redact(str(error)) or type(error).__name__,
            "reason": error.reason,
            "applied": list(done),
            "not_applied": [w.describe for w in plan.writes if w.describe not in sent],
            "uncertain": list(uncertain),
        },
    )


def _record_refused(journal: JournalStore, incident_id: str, plan: Plan, rule: str, message: str) -> None:
    journal.append(
        incident_id,
        EventKind.MITIGATION_REFUSED,
        {"action": plan.action, "summary": plan.summary, "rule": rule, "message": message},
    )


def _what_changed(journal: JournalStore, incident_id: str, plan: Plan, own_id: str) -> str:
    """Who changed the objects meanwhile, when this journal knows (a responder on another laptop it cannot)."""
    timeline = journal.timeline(incident_id)
    planned = {
        e.data["id"]: e
        for e in timeline
        if e.kind == EventKind.MITIGATION_PLANNED and isinstance(e.data.get("id"), str)
    }
    targets = set(plan.targets)
    for event in reversed(timeline):
        if event.kind != EventKind.MITIGATION_APPLIED or event.data.get("id") == own_id:
            continue
        other = planned.get(event.data.get("id"))
        if other is not None and targets & set(other.data.get("targets") or []):
            when = format_rfc3339(event.time, "seconds")
            return f" (by {event.data.get('id')}, {other.actor} at {when}: {other.data.get('summary')})"
    return ""


def _partial(plan: Plan, done: Sequence[str], error: IncidentctlError, uncertain: Sequence[str] = ()) -> str:
    rest = [w.describe for w in plan.writes if w.describe not in set(done) | set(uncertain)]
    parts = [str(error)]
    if done:
        parts.append(f"already applied: {', '.join(done)}")
    if uncertain:
        parts.append(f"may have been applied: {', '.join(uncertain)}")
    parts.append(f"not applied: {', '.join(rest) or 'nothing'}")
    return "; ".join(parts)
