"""The one registry of journal event kinds: what each kind carries, how it reads, what it changes, what it marks.

A kind is registered once, here, as an :class:`EventSpec`: its payload model (the ``data`` of a timeline line),
its one line for people (the timeline, ``incident show``, the post-mortem), how it changes the folded
:class:`~incidentctl.core.incident.Incident`, and which response milestone it marks (so MTTD, MTTA and MTTR come
from the timeline alone). Every part of the tool reads kinds through this table, so a new phase adds its kinds
here and nowhere else, and the journal refuses to append a kind that is not here (a typo would otherwise be
written for ever, and read by nothing).

Reading is forgiving where writing is strict: a kind this version does not know (written by a newer incidentctl)
is kept, shown generically and changes nothing but the incident's ``updated_at``; a payload field it does not know
is kept too (payloads allow extra fields). The journal's lines keep the spelling they have always had
(snake_case keys, ``from`` for the field ``from_``): :func:`to_journal` writes them, and a test holds every line an
older incidentctl wrote to the same bytes.

Pure: no I/O. The incident's own model lives in :mod:`incidentctl.core.incident`, which folds through this table.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar

from pydantic import ConfigDict, Field, ValidationError

from incidentctl.core.wire import WireModel

if TYPE_CHECKING:
    from incidentctl.core.incident import Event, Incident


class EventKind:
    """The kinds incidentctl writes; each is registered below. Others (from a newer version) are read and kept."""

    DECLARED = "declared"
    NOTE = "note"
    STATUS_CHANGED = "status_changed"
    ACKNOWLEDGED = "acknowledged"
    SEVERITY_CHANGED = "severity_changed"
    ROLES_ASSIGNED = "roles_assigned"
    #: A detect run's look at an open incident (only when it differs from the last look recorded).
    DETECTED = "detected"
    #: A triage run's look and conclusion.
    TRIAGED = "triaged"
    #: An investigate run kept what it looked at in the incident's ``evidence/`` folder (``data.folder``).
    EVIDENCE_COLLECTED = "evidence_collected"
    #: A mitigation about to be sent: what, where, the diff, the state before (``data.id``: ``M1``, ``M2``...).
    MITIGATION_PLANNED = "mitigation_planned"
    #: The planned mitigation was sent and the server took every write; the state after.
    MITIGATION_APPLIED = "mitigation_applied"
    #: The planned mitigation stopped: the error, and which writes had been made before it.
    MITIGATION_FAILED = "mitigation_failed"
    #: A guardrail or the responder said no; nothing was sent.
    MITIGATION_REFUSED = "mitigation_refused"
    #: The rollouts were awaited and the components' checks re-run after a mitigation (or ``mitigate verify``).
    MITIGATION_VERIFIED = "mitigation_verified"
    #: Messages journalled before they are sent, one per channel, each with its idempotency key (the outbox).
    MESSAGES_QUEUED = "messages_queued"
    #: Bookkeeping: a sender claimed one queued message for an attempt (``data.key``).
    MESSAGE_SENDING = "message_sending"
    #: The channel took the message; its receipt (a Slack ``ts``, a Statuspage incident id...).
    MESSAGE_SENT = "message_sent"
    #: Delivery failed; ``retryable`` says whether ``communicate flush`` tries it again.
    MESSAGE_FAILED = "message_failed"
    #: The incident was escalated to a level of the matrix, by a rule or by hand (``data.level``).
    ESCALATED = "escalated"
    #: A fact recorded late and set right without editing history: the impact's start (``data.started_at``).
    CORRECTED = "corrected"
    #: A post-mortem action item (``data.id``: ``A1``, ``A2``...), its owner and due date.
    ACTION_ADDED = "action_added"
    #: An action item's owner, due date or text changed (only the fields given).
    ACTION_CHANGED = "action_changed"
    #: An action item was done.
    ACTION_DONE = "action_done"
    #: ``postmortem draft`` wrote the post-mortem document (where, and what is still for a person to write).
    POSTMORTEM_DRAFTED = "postmortem_drafted"
    #: The post-mortem meeting was scheduled (``data.at``).
    POSTMORTEM_SCHEDULED = "postmortem_scheduled"
    #: A review stage of the runbook (``postmortem.stages``: immediate-review, ...) was completed.
    REVIEW_COMPLETED = "review_completed"
    #: Bookkeeping: a torn last line was closed off (``data.line`` names it).
    JOURNAL_REPAIRED = "journal_repaired"


class Milestone(Enum):
    """The moments the runbook's response metrics are measured between (``metrics.response``: from/to).

    ``started`` is not an event: it is the incident's ``started_at`` (the impact's start, often before anyone knew).
    """

    DETECTED = "detected"
    DECLARED = "declared"
    ACKNOWLEDGED = "acknowledged"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"


class PayloadError(ValueError):
    """A payload its kind does not take, or a kind nobody registered."""


# --- payloads -----------------------------------------------------------------------------------------------


class Payload(WireModel):
    """The base of every kind's ``data``.

    Extra fields are allowed and kept: a newer incidentctl may add one to a kind, and the line must still read.
    Python names are snake_case like the journal's keys; a field named after a Python keyword ends in ``_``
    (``from_``) and is written without it.
    """

    model_config = ConfigDict(extra="allow")


#: User text that means something only when it says something (a title, a severity id).
_Text = Annotated[str, Field(min_length=1)]


class DeclaredPayload(Payload):
    id: _Text
    title: _Text
    severity: _Text
    status: str = "investigating"
    components: list[str] = Field(default_factory=list)
    category: _Text | None = None
    summary: _Text | None = None
    #: RFC 3339; parsed (and refused when it is not one) by the fold, which owns the incident's times.
    started_at: str | None = None
    commander: _Text | None = None
    tech_lead: _Text | None = None
    #: The triage rule that chose the severity; absent when a person chose it.
    severity_rule: str | None = None


#: What a note may be marked as, so the post-mortem puts it in its section (``incident note --tag``).
NOTE_TAGS = ("root-cause", "contributing-factor", "lesson", "resolution", "impact")


class NotePayload(Payload):
    text: str = ""
    #: One of :data:`NOTE_TAGS`, or absent for a plain note.
    tag: str | None = None


class StatusChangedPayload(Payload):
    from_: str | None = Field(None, alias="from")
    to: str
    message: str | None = None


class AcknowledgedPayload(Payload):
    pass


class SeverityChangedPayload(Payload):
    from_: str | None = Field(None, alias="from")
    to: _Text
    message: str | None = None
    #: The triage rule that set it; absent when a person did (triage then never lowers it).
    rule: str | None = None
    forced: bool | None = None


class RolesAssignedPayload(Payload):
    """The roles this event sets. A role that is absent is left as it was; ``null`` clears it."""

    commander: str | None = None
    tech_lead: str | None = None


class LookPayload(Payload):
    """What a detect or triage run saw; the fields that say whether anything changed come first."""

    health: str | None = None
    subjects: dict[str, str] = Field(default_factory=dict)
    failing: dict[str, str] = Field(default_factory=dict)
    signals_on: list[str] = Field(default_factory=list)
    #: The automatic escalation rules that held (durations aside); absent in looks of earlier versions.
    escalations_on: list[str] = Field(default_factory=list)
    summary: str | None = None


class DetectedPayload(LookPayload):
    problems: list[str] = Field(default_factory=list)
    duration_s: float | None = None


class TriagedPayload(LookPayload):
    severity: str | None = None
    reason: str | None = None
    rule: str | None = None
    category: str | None = None
    components: list[str] = Field(default_factory=list)
    users_affected: int | float | None = None
    evidence: list[str] = Field(default_factory=list)
    incident_severity: str | None = None
    decision: str | None = None
    impact_start: dict[str, str] | None = None
    severity_decision: str | None = None


class EvidenceCollectedPayload(Payload):
    """Where an investigate run left its evidence, and what it found there (the files are the record; this line
    makes them part of the timeline the post-mortem reads)."""

    #: Relative to the incident's folder: ``evidence/20261201T142812Z-all``.
    folder: _Text
    views: list[str] = Field(default_factory=list)
    files: int = 0
    bytes: int = 0
    #: Files cut at the size cap.
    cut: list[str] = Field(default_factory=list)
    #: What could not be kept, one line each (a view that failed, a file its writer could not produce).
    problems: list[str] = Field(default_factory=list)
    #: The run's findings that are problems, as the summary screen showed them.
    findings: list[str] = Field(default_factory=list)


class MitigationPlannedPayload(Payload):
    """A mitigation as planned, recorded before anything is sent (so a crash mid-write still leaves the intent)."""

    #: The incident's mitigation number: ``M1``, ``M2``...; ``mitigate undo INC-2026-004/M2`` names it.
    id: _Text
    action: _Text
    summary: _Text
    args: dict[str, Any] = Field(default_factory=dict)
    #: The objects it writes (``deployment/synthesis``).
    targets: list[str] = Field(default_factory=list)
    #: One line per object: what changes.
    changes: list[str] = Field(default_factory=list)
    #: The unified diff a person confirmed (capped by the phase).
    diff: list[str] = Field(default_factory=list)
    before: dict[str, Any] = Field(default_factory=dict)
    after: dict[str, Any] = Field(default_factory=dict)
    reason: str | None = None
    destructive: bool = False
    #: How to revert it: ``{"action": "scale", "args": {...}, "summary": ...}``; absent when it cannot be undone.
    undo: dict[str, Any] | None = None
    #: The mitigation this one reverts (``M2``).
    undoes: str | None = None
    #: The resourceVersions it was planned against (object -> version).
    versions: dict[str, str] = Field(default_factory=dict)


class MitigationAppliedPayload(Payload):
    id: _Text
    #: The planned summary again, so the line reads on its own (absent in entries of the first versions).
    summary: str | None = None
    #: The state after, as the server answered the writes (object -> fields).
    after: dict[str, Any] = Field(default_factory=dict)
    writes: int = 0
    #: Whether a verification follows (False with ``--no-verify``): until it is recorded, the objects are still
    #: being changed, and a second responder's mitigation of them is refused.
    verifying: bool | None = None


class MitigationFailedPayload(Payload):
    id: _Text
    error: _Text
    summary: str | None = None
    #: The error's kind (``Conflict``, ``Forbidden``, ``Invalid``, ``Timeout``...).
    reason: str | None = None
    #: Writes the server took before the failure (object labels): a partial change a responder must know about.
    applied: list[str] = Field(default_factory=list)
    not_applied: list[str] = Field(default_factory=list)
    #: Writes sent without an answer (a timeout, a 5xx): the server may or may not have applied them.
    uncertain: list[str] = Field(default_factory=list)


class MitigationRefusedPayload(Payload):
    action: _Text
    summary: _Text
    #: The guardrail that refused it (``severity-actions``, ``replica-bounds``...) or ``not-confirmed``.
    rule: _Text
    message: _Text


class MitigationVerifiedPayload(Payload):
    #: The mitigation verified; absent for a ``mitigate verify`` of its own.
    id: str | None = None
    healthy: bool
    components: list[str] = Field(default_factory=list)
    #: What is still wrong, one line each (empty when healthy).
    still_wrong: list[str] = Field(default_factory=list)
    #: Each awaited rollout's outcome, one line each.
    rollouts: list[str] = Field(default_factory=list)
    timed_out: bool = False
    seconds: float | None = None


class QueuedMessage(Payload):
    key: _Text
    channel: _Text
    channel_kind: _Text
    audience: str | None = None
    subject: str = ""
    #: Exactly what will be sent (rendered when queued, secrets masked): a flush sends this, not a new render.
    text: str = ""
    payload: dict[str, Any] = Field(default_factory=dict)
    #: What a manual channel is ("Video conference - incident war room"): the checklist item's words.
    description: str | None = None


class MessagesQueuedPayload(Payload):
    #: ``update-2``: the kind and how many of it this incident has queued.
    batch: _Text
    kind: _Text
    messages: list[QueuedMessage] = Field(min_length=1)


class MessageSendingPayload(Payload):
    key: _Text
    attempt: int = 1
    #: The claiming process, so a reader on the same machine can tell a live sender from a dead one.
    host: str | None = None
    pid: int | None = None


class MessageSentPayload(Payload):
    key: _Text
    channel: str | None = None
    receipt: dict[str, str] = Field(default_factory=dict)
    attempts: int = 1
    #: Found already delivered after a sender stopped between sending and recording, not sent again.
    recovered: bool = False
    #: A person did it (a manual channel) or vouched for it (an in-doubt message they checked).
    by_hand: bool = False


class MessageFailedPayload(Payload):
    key: _Text
    channel: str | None = None
    error: str = ""
    reason: str | None = None
    retryable: bool = True
    attempts: int = 1
    status: int | None = None


class EscalatedPayload(Payload):
    level: _Text
    role: str | None = None
    #: The rule that fired: an automatic rule's id, ``severity:P2`` for a severity's time-based rule, or a
    #: manual rule's id.
    rule: str | None = None
    reason: str = ""
    automatic: bool = False
    #: The channels told (their message keys are in the batch ``notified``).
    notified: list[str] = Field(default_factory=list)
    batch: str | None = None


class CorrectedPayload(Payload):
    """A correction: the field's new value and the value it replaces, and why. Only the fields given change."""

    #: RFC 3339: when the impact really began (MTTD and the downtime count from it).
    started_at: str | None = None
    #: The value it replaces, as it was (RFC 3339), for the timeline's words.
    was_started_at: str | None = None
    reason: str | None = None


class ActionAddedPayload(Payload):
    #: ``A1``, ``A2``... per incident; ``postmortem action done INC-2026-004/A2`` names it.
    id: _Text
    text: _Text
    owner: str | None = None
    #: ``YYYY-MM-DD``: due by the end of that day (UTC).
    due: str | None = None
    #: An improvement area of the runbook (``postmortem.improvement_areas``: ``technical/Testing``).
    area: str | None = None


class ActionChangedPayload(Payload):
    id: _Text
    text: str | None = None
    owner: str | None = None
    due: str | None = None
    area: str | None = None
    reason: str | None = None


class ActionDonePayload(Payload):
    id: _Text
    note: str | None = None


class PostmortemDraftedPayload(Payload):
    #: Where the document was written, as given or defaulted (a path on the drafter's machine).
    path: _Text
    #: The sections still marked for a person to write.
    to_write: list[str] = Field(default_factory=list)
    #: Generated parts a person had edited, kept as they were (not refreshed).
    kept: list[str] = Field(default_factory=list)


class PostmortemScheduledPayload(Payload):
    #: RFC 3339.
    at: _Text
    duration_s: int | None = None
    where: str | None = None
    attendees: list[str] = Field(default_factory=list)


class ReviewCompletedPayload(Payload):
    #: A stage id of ``postmortem.stages``.
    stage: _Text
    note: str | None = None


class JournalRepairedPayload(Payload):
    line: int | None = None
    reason: str | None = None


# --- the registry -------------------------------------------------------------------------------------------

P = TypeVar("P", bound=Payload)

#: severity id -> its name (``P1`` -> ``Critical``), for the words of a declaration or a severity change
SeverityNames = Mapping[str, str]


def _marks_nothing(_payload: Any) -> Milestone | None:
    return None


def _undoes_nothing(_payload: Any) -> frozenset[Milestone]:
    return frozenset()


@dataclass(frozen=True)
class EventSpec(Generic[P]):
    kind: str
    payload: type[P]
    #: One line for people, in the runbook's words; unsanitised (the renderer makes user text safe).
    describe: Callable[[P, SeverityNames], str]
    #: The incident's fields this event changes (besides the event count and ``updated_at``). None: nothing.
    #: Raises PayloadError for an event that cannot be replayed (a status that does not exist).
    apply: Callable[[Incident, Event, P], dict[str, Any]] | None = None
    milestone: Callable[[P], Milestone | None] = _marks_nothing
    #: The milestones this event takes back (a reopening undoes the resolution).
    undoes: Callable[[P], frozenset[Milestone]] = _undoes_nothing
    #: Bookkeeping for the audit trail, left out of ``incident show`` and the post-mortem.
    internal: bool = False

    def read(self, data: Mapping[str, Any]) -> P:
        try:
            return self.payload.model_validate(dict(data))
        except ValidationError as e:
            raise PayloadError(f"{self.kind}: {_first_error(e)}") from e


REGISTRY: dict[str, EventSpec[Any]] = {}


def register(spec: EventSpec[P]) -> EventSpec[P]:
    if spec.kind in REGISTRY:
        raise ValueError(f"event kind {spec.kind!r} is registered twice")
    REGISTRY[spec.kind] = spec
    return spec


def spec(kind: str) -> EventSpec[Any] | None:
    """The kind's registration, or None for a kind from a newer incidentctl."""
    return REGISTRY.get(kind)


def parse(kind: str, data: Mapping[str, Any]) -> Payload:
    """The kind's payload model of ``data``; PayloadError for an unregistered kind or a payload it does not take."""
    found = REGISTRY.get(kind)
    if found is None:
        raise PayloadError(f"{kind!r} is not an event kind this incidentctl registers (see incidentctl.core.events)")
    payload: Payload = found.read(data)
    return payload


def to_journal(payload: Payload) -> dict[str, Any]:
    """The payload as a timeline line's ``data``: the fields that were given (plus any extra ones), in the
    model's order, with the keys the journal has always used."""
    plain = payload.model_dump(mode="json", exclude_unset=True)
    return {name.removesuffix("_") if name in type(payload).model_fields else name: v for name, v in plain.items()}


def journal_data(kind: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """What an append writes for ``kind``: ``data`` checked against its payload model (PayloadError if the kind
    is not registered or does not take it)."""
    return to_journal(parse(kind, data))


def describe(event: Event, severity_names: SeverityNames | None = None) -> str:
    """One line saying what happened; a kind this version does not know, or a payload it cannot read, is shown
    generically (its words if it has any, else its data), never as nothing."""
    found = REGISTRY.get(event.kind)
    if found is not None:
        try:
            return found.describe(found.read(event.data), severity_names or {})
        except PayloadError:
            pass
    return _describe_generic(event)


def is_internal(kind: str) -> bool:
    found = REGISTRY.get(kind)
    return found.internal if found is not None else kind.startswith("journal_")


def milestone(event: Event) -> Milestone | None:
    found = REGISTRY.get(event.kind)
    if found is None:
        return None
    try:
        return found.milestone(found.read(event.data))
    except PayloadError:
        return None


def milestones(timeline: Iterable[Event]) -> dict[Milestone, datetime]:
    """When each milestone was reached, from the timeline alone (the runbook's response metrics count between them).

    Each is the first event that marks it, with three rules of the runbook's flow: an incident a person declared
    before anything detected it was detected when it was declared; going back to investigating or identified
    undoes mitigated and resolved (a reopened incident was not resolved, its resolution is the next one); and a
    resolved incident was mitigated by then at the latest.
    """
    reached: dict[Milestone, datetime] = {}
    for event in timeline:
        found = REGISTRY.get(event.kind)
        if found is None:
            continue
        try:
            payload = found.read(event.data)
        except PayloadError:
            continue
        for undone in found.undoes(payload):
            reached.pop(undone, None)
        marked = found.milestone(payload)
        if marked is not None and marked not in reached:
            reached[marked] = event.time
    if Milestone.DECLARED in reached:
        declared = reached[Milestone.DECLARED]
        reached[Milestone.DETECTED] = min(reached.get(Milestone.DETECTED, declared), declared)
    if Milestone.RESOLVED in reached:
        reached.setdefault(Milestone.MITIGATED, reached[Milestone.RESOLVED])
    return reached


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where!r}: {first['msg']}" if where else str(first["msg"])


def _describe_generic(event: Event) -> str:
    kind = event.kind.replace("_", " ")
    for key in ("message", "text", "summary", "title"):
        if isinstance(event.data.get(key), str):
            return f"{kind}: {event.data[key]}"
    if not event.data:
        return kind
    compact = json.dumps(event.data, ensure_ascii=False, separators=(", ", ": "), sort_keys=True)
    return f"{kind}: {compact if len(compact) <= 120 else compact[:117] + '...'}"


# --- the kinds ----------------------------------------------------------------------------------------------


def _severity_label(severity: str, names: SeverityNames) -> str:
    return f"{severity} {names[severity]}" if severity in names else severity


def _with_message(text: str, message: str | None) -> str:
    return f"{text}: {message}" if message else text


def _describe_declared(p: DeclaredPayload, names: SeverityNames) -> str:
    text = f"declared {_severity_label(p.severity, names)}: {p.title}"
    return f"{text} ({', '.join(p.components)})" if p.components else text


def _describe_status(p: StatusChangedPayload, _names: SeverityNames) -> str:
    text = f"status {p.from_ or '?'} → {p.to}"
    if p.from_ == "resolved":
        text = f"reopened: {text}"
    return _with_message(text, p.message)


def _apply_status(incident: Incident, event: Event, p: StatusChangedPayload) -> dict[str, Any]:
    from incidentctl.core.incident import IncidentStatus  # the incident's module folds through this one

    try:
        status = IncidentStatus(p.to)
    except ValueError as e:
        raise PayloadError(f"{p.to!r} is not an incident status") from e
    changes: dict[str, Any] = {"status": status}
    if status is IncidentStatus.RESOLVED:
        changes["resolved_at"] = event.time
    elif incident.status is IncidentStatus.RESOLVED:
        changes["resolved_at"] = None
        changes["reopened"] = incident.reopened + 1
    return changes


def _status_milestone(p: StatusChangedPayload) -> Milestone | None:
    # monitoring is the runbook's "a fix is in place, watching it": the impact is mitigated
    return {"monitoring": Milestone.MITIGATED, "resolved": Milestone.RESOLVED}.get(p.to)


def _status_undoes(p: StatusChangedPayload) -> frozenset[Milestone]:
    if p.to in ("investigating", "identified"):
        return frozenset({Milestone.MITIGATED, Milestone.RESOLVED})
    return frozenset({Milestone.RESOLVED}) if p.to == "monitoring" else frozenset()


def _apply_acknowledged(incident: Incident, event: Event, _p: AcknowledgedPayload) -> dict[str, Any]:
    if incident.acknowledged_at is not None:  # a second one (from a racing backend) changes nothing
        return {}
    return {"acknowledged_at": event.time, "acknowledged_by": event.actor}


def _describe_severity(p: SeverityChangedPayload, _names: SeverityNames) -> str:
    return _with_message(f"severity {p.from_ or '?'} → {p.to}", p.message)


#: The roles an incident has, in the runbook's words (its notifications sign with them).
ROLE_NAMES = {"commander": "incident commander", "tech_lead": "technical lead"}


def _describe_roles(p: RolesAssignedPayload, _names: SeverityNames) -> str:
    given = p.model_fields_set & set(ROLE_NAMES)
    parts = [
        f"{ROLE_NAMES[role]} {getattr(p, role)}" if getattr(p, role) else f"no {ROLE_NAMES[role]}"
        for role in ROLE_NAMES
        if role in given
    ]
    return "roles: " + (", ".join(parts) if parts else "unchanged")


def _apply_roles(_incident: Incident, _event: Event, p: RolesAssignedPayload) -> dict[str, Any]:
    return {role: getattr(p, role) or None for role in p.model_fields_set & set(ROLE_NAMES)}


def _look_milestone(p: LookPayload) -> Milestone | None:
    return Milestone.DETECTED if p.health not in (None, "ok") else None


def _describe_detected(p: DetectedPayload, _names: SeverityNames) -> str:
    return f"detected: {p.summary}" if p.summary else "detected"


def _describe_triaged(p: TriagedPayload, _names: SeverityNames) -> str:
    return f"triaged: {p.summary}" if p.summary else "triaged"


def _describe_evidence(p: EvidenceCollectedPayload, _names: SeverityNames) -> str:
    what = f"{p.files} file{'s' if p.files != 1 else ''}"
    views = f" ({', '.join(p.views)})" if p.views else ""
    found = f"; {len(p.findings)} finding(s): {p.findings[0]}" if p.findings else ""
    return f"evidence collected: {what}{views} in {p.folder}{found}"


def _describe_planned(p: MitigationPlannedPayload, _names: SeverityNames) -> str:
    undoes = f" (undoing {p.undoes})" if p.undoes else ""
    why = f"; reason: {p.reason}" if p.reason else ""
    lasting = "; cannot be undone" if p.destructive else ""
    return f"mitigation {p.id} planned{undoes}: {p.summary}{why}{lasting}"


def _describe_applied(p: MitigationAppliedPayload, _names: SeverityNames) -> str:
    what = f": {p.summary}" if p.summary else ""
    return f"mitigation {p.id} applied{what} ({p.writes} write{'s' if p.writes != 1 else ''})"


def _describe_failed(p: MitigationFailedPayload, _names: SeverityNames) -> str:
    what = f" ({p.summary})" if p.summary else ""
    kind = f" [{p.reason}]" if p.reason else ""
    partial = f"; already changed: {', '.join(p.applied)}" if p.applied else ""
    if p.uncertain:
        partial += f"; may have been applied: {', '.join(p.uncertain)}"
    elif not p.applied:
        partial = "; nothing was changed"
    return f"mitigation {p.id} failed{what}{kind}: {p.error}{partial}"


def _describe_refused(p: MitigationRefusedPayload, _names: SeverityNames) -> str:
    if p.rule == "not-confirmed":
        return f"mitigation not confirmed: {p.summary} ({p.message}); nothing was changed"
    return f"mitigation refused by guardrail {p.rule}: {p.summary}: {p.message}; nothing was changed"


def _describe_verified(p: MitigationVerifiedPayload, _names: SeverityNames) -> str:
    judged = ", ".join(p.components) or "nothing"
    wrong = "; ".join(p.still_wrong[:3]) or ("timed out" if p.timed_out else "not healthy")
    more = f" (+{len(p.still_wrong) - 3} more)" if len(p.still_wrong) > 3 else ""
    outcome = "healthy" if p.healthy else f"still wrong: {wrong}{more}"
    if p.id:
        return f"mitigation {p.id} {'verified' if p.healthy else 'not verified'} ({judged}): {outcome}"
    return f"verified {judged}: {outcome}"


def _verified_milestone(p: MitigationVerifiedPayload) -> Milestone | None:
    # the checks that said "broken" now say "healthy": the impact is mitigated
    return Milestone.MITIGATED if p.healthy and p.components else None


def _describe_queued(p: MessagesQueuedPayload, _names: SeverityNames) -> str:
    # a manual channel's message is a person's checklist item: the timeline says so, with what the channel is
    sent = [m.channel for m in p.messages if m.channel_kind != "manual"]
    by_hand = [m for m in p.messages if m.channel_kind == "manual"]
    said = [f"{p.kind} message queued ({p.batch}) for {', '.join(sent)}"] if sent else [f"{p.kind} ({p.batch})"]
    if by_hand:
        items = ", ".join(f"{m.channel} ({m.description or m.subject})" for m in by_hand)
        said.append(f"to do by hand: {items}")
    return "; ".join(said)


def _describe_sending(p: MessageSendingPayload, _names: SeverityNames) -> str:
    return f"sending {p.key} (attempt {p.attempt})"


def _describe_sent(p: MessageSentPayload, _names: SeverityNames) -> str:
    how = " (found already delivered)" if p.recovered else " (done by hand)" if p.by_hand else ""
    return f"message {p.key} sent{how}"


def _describe_message_failed(p: MessageFailedPayload, _names: SeverityNames) -> str:
    then = "stays queued" if p.retryable else "not retried"
    kind = f" [{p.reason}]" if p.reason else ""
    return f"message {p.key} not delivered{kind}: {p.error}; {then}"


def _describe_escalated(p: EscalatedPayload, _names: SeverityNames) -> str:
    who = f" ({p.role})" if p.role else ""
    why = f": {p.reason}" if p.reason else ""
    how = f" by rule {p.rule}" if p.automatic and p.rule else ""
    return f"escalated to {p.level}{who}{how}{why}"


def _describe_note(p: NotePayload, _names: SeverityNames) -> str:
    text = p.text or "note"
    return f"{p.tag}: {text}" if p.tag else text


def _describe_corrected(p: CorrectedPayload, _names: SeverityNames) -> str:
    said = []
    if p.started_at:
        was = f" (was {p.was_started_at})" if p.was_started_at else ""
        said.append(f"impact start corrected to {p.started_at}{was}")
    why = f": {p.reason}" if p.reason else ""
    return ("; ".join(said) or "corrected") + why


def _apply_corrected(_incident: Incident, _event: Event, p: CorrectedPayload) -> dict[str, Any]:
    from incidentctl.core.times import parse_rfc3339

    if p.started_at is None:
        return {}
    try:
        return {"started_at": parse_rfc3339(p.started_at)}
    except ValueError as e:
        raise PayloadError(f"started_at {p.started_at!r} is not an RFC 3339 time") from e


def _describe_action_added(p: ActionAddedPayload, _names: SeverityNames) -> str:
    owner = f", owner {p.owner}" if p.owner else ", no owner"
    due = f", due {p.due}" if p.due else ", no due date"
    return f"action item {p.id} added: {p.text}{owner}{due}"


def _describe_action_changed(p: ActionChangedPayload, _names: SeverityNames) -> str:
    parts = [f"{name} {value}" for name, value in (("owner", p.owner), ("due", p.due), ("text", p.text)) if value]
    why = f": {p.reason}" if p.reason else ""
    return f"action item {p.id} changed: {', '.join(parts) or 'nothing'}{why}"


def _describe_action_done(p: ActionDonePayload, _names: SeverityNames) -> str:
    return f"action item {p.id} done" + (f": {p.note}" if p.note else "")


def _describe_drafted(p: PostmortemDraftedPayload, _names: SeverityNames) -> str:
    left = f"; still to write: {', '.join(p.to_write)}" if p.to_write else ""
    return f"post-mortem drafted: {p.path}{left}"


def _describe_scheduled(p: PostmortemScheduledPayload, _names: SeverityNames) -> str:
    where = f" ({p.where})" if p.where else ""
    return f"post-mortem meeting scheduled for {p.at}{where}"


def _describe_review(p: ReviewCompletedPayload, _names: SeverityNames) -> str:
    return f"review stage {p.stage} completed" + (f": {p.note}" if p.note else "")


def _describe_repaired(p: JournalRepairedPayload, _names: SeverityNames) -> str:
    line = p.line if p.line is not None else "?"
    return f"journal repaired: line {line} was torn by an interrupted write; ignored"


#: The kind that opens an incident: :mod:`incidentctl.core.incident` builds the incident from it.
DECLARED = register(
    EventSpec(
        EventKind.DECLARED,
        DeclaredPayload,
        _describe_declared,
        milestone=lambda _p: Milestone.DECLARED,
    )
)
register(
    EventSpec(
        EventKind.NOTE,
        NotePayload,
        _describe_note,
        apply=lambda incident, _event, _p: {"notes": incident.notes + 1},
    )
)
register(
    EventSpec(
        EventKind.STATUS_CHANGED,
        StatusChangedPayload,
        _describe_status,
        apply=_apply_status,
        milestone=_status_milestone,
        undoes=_status_undoes,
    )
)
register(
    EventSpec(
        EventKind.ACKNOWLEDGED,
        AcknowledgedPayload,
        lambda _p, _names: "acknowledged",
        apply=_apply_acknowledged,
        milestone=lambda _p: Milestone.ACKNOWLEDGED,
    )
)
register(
    EventSpec(
        EventKind.SEVERITY_CHANGED,
        SeverityChangedPayload,
        _describe_severity,
        apply=lambda _incident, _event, p: {"severity": p.to},
    )
)
register(EventSpec(EventKind.ROLES_ASSIGNED, RolesAssignedPayload, _describe_roles, apply=_apply_roles))
register(EventSpec(EventKind.DETECTED, DetectedPayload, _describe_detected, milestone=_look_milestone))
register(EventSpec(EventKind.TRIAGED, TriagedPayload, _describe_triaged, milestone=_look_milestone))
register(EventSpec(EventKind.EVIDENCE_COLLECTED, EvidenceCollectedPayload, _describe_evidence))
register(EventSpec(EventKind.MITIGATION_PLANNED, MitigationPlannedPayload, _describe_planned))
register(EventSpec(EventKind.MITIGATION_APPLIED, MitigationAppliedPayload, _describe_applied))
register(EventSpec(EventKind.MITIGATION_FAILED, MitigationFailedPayload, _describe_failed))
register(EventSpec(EventKind.MITIGATION_REFUSED, MitigationRefusedPayload, _describe_refused))
register(
    EventSpec(
        EventKind.MITIGATION_VERIFIED, MitigationVerifiedPayload, _describe_verified, milestone=_verified_milestone
    )
)
register(EventSpec(EventKind.MESSAGES_QUEUED, MessagesQueuedPayload, _describe_queued))
register(EventSpec(EventKind.MESSAGE_SENDING, MessageSendingPayload, _describe_sending, internal=True))
register(EventSpec(EventKind.MESSAGE_SENT, MessageSentPayload, _describe_sent))
register(EventSpec(EventKind.MESSAGE_FAILED, MessageFailedPayload, _describe_message_failed))
register(EventSpec(EventKind.ESCALATED, EscalatedPayload, _describe_escalated))
register(EventSpec(EventKind.CORRECTED, CorrectedPayload, _describe_corrected, apply=_apply_corrected))
register(EventSpec(EventKind.ACTION_ADDED, ActionAddedPayload, _describe_action_added))
register(EventSpec(EventKind.ACTION_CHANGED, ActionChangedPayload, _describe_action_changed))
register(EventSpec(EventKind.ACTION_DONE, ActionDonePayload, _describe_action_done))
register(EventSpec(EventKind.POSTMORTEM_DRAFTED, PostmortemDraftedPayload, _describe_drafted))
register(EventSpec(EventKind.POSTMORTEM_SCHEDULED, PostmortemScheduledPayload, _describe_scheduled))
register(EventSpec(EventKind.REVIEW_COMPLETED, ReviewCompletedPayload, _describe_review))
register(EventSpec(EventKind.JOURNAL_REPAIRED, JournalRepairedPayload, _describe_repaired, internal=True))
