"""Action items (``postmortem action add|list|change|done``): journalled per incident, with owners and due dates,
listed across every incident.

An item's id (``A1``, ``A2``...) is allocated under the journal's lock from the timeline as it is then
(``append_if_timeline``), so two people adding at once get two ids. An item is named ``INC-2026-004/A2`` (or the
incident and ``A2`` as two words). A due date is a day (``2026-03-21``) or a time from now (``7d``, ``2w``); the item
is due by the end of that day, UTC, and overdue from midnight on. The fold is :mod:`incidentctl.core.postmortem`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from incidentctl.core import postmortem_input as inputs
from incidentctl.core.events import (
    ActionAddedPayload,
    ActionChangedPayload,
    ActionDonePayload,
    EventKind,
    to_journal,
)
from incidentctl.core.postmortem import ActionItem, action_items, next_action_id
from incidentctl.errors import NotFoundError, UsageError
from incidentctl.exitcodes import ExitCode

if TYPE_CHECKING:
    from incidentctl.core.incident import Event, Incident
    from incidentctl.phases.context import PhaseContext


# --- requests ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AddRequest:
    incident: str
    text: str
    owner: str
    due: str
    area: str | None = None


@dataclass(frozen=True)
class ListRequest:
    #: One incident; None: every incident.
    incident: str | None = None
    owner: str | None = None
    #: Only items overdue now (the exit code is then 3 when any is listed).
    overdue: bool = False
    #: Only items not done.
    open: bool = False


@dataclass(frozen=True)
class ChangeRequest:
    #: ``INC-2026-004/A2``, or the incident with ``item`` ``A2``.
    ref: str
    item: str | None = None
    owner: str | None = None
    due: str | None = None
    text: str | None = None
    area: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class DoneRequest:
    ref: str
    item: str | None = None
    note: str | None = None


# --- results ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemView:
    """An action item as it stands at ``now``: the fold's fields, and its state then."""

    ref: str
    incident_id: str
    id: str
    text: str
    owner: str | None
    due: date | None
    due_at: datetime | None
    area: str | None
    added_at: datetime
    added_by: str
    done_at: datetime | None
    done_by: str | None
    #: open, overdue, done or done-late.
    state: str
    overdue: bool
    done_on_time: bool | None


def view(item: ActionItem, now: datetime) -> ItemView:
    if item.done_at is not None:
        state = "done-late" if item.done_on_time is False else "done"
    else:
        state = "overdue" if item.is_overdue(now) else "open"
    return ItemView(
        item.ref,
        item.incident_id,
        item.id,
        item.text,
        item.owner,
        item.due,
        item.due_at,
        item.area,
        item.added_at,
        item.added_by,
        item.done_at,
        item.done_by,
        state,
        item.is_overdue(now),
        item.done_on_time,
    )


@dataclass(frozen=True)
class ItemResult:
    """What add, change or done did to one item."""

    action: str
    item: ItemView
    #: False: nothing new was recorded (already done; nothing would change).
    recorded: bool
    #: The fields this change set (change only).
    changed: list[str] = field(default_factory=list)
    #: Said to the person, recorded anyway (a due date already past).
    warnings: list[str] = field(default_factory=list)
    exit_code: ExitCode = ExitCode.OK


@dataclass(frozen=True)
class ListResult:
    now: datetime
    items: list[ItemView]
    #: The filters given, for the words of an empty list.
    filters: list[str]
    overdue_only: bool

    @property
    def exit_code(self) -> ExitCode:
        """``--overdue`` exits 3 when it lists anything (a cron job nags on it); a list is otherwise 0."""
        return ExitCode.PROBLEMS_FOUND if self.overdue_only and self.items else ExitCode.OK


# --- the use cases ----------------------------------------------------------------------------------------


def add(ctx: PhaseContext, request: AddRequest) -> ItemResult:
    from incidentctl.core.incident import normalize_incident_id

    now = ctx.clock()
    text = inputs.free_text(request.text, "the action item's TEXT")
    owner = inputs.name(request.owner, "--owner")
    due = inputs.due_date(request.due, now)
    area = inputs.improvement_area(ctx.runbook, request.area) if request.area is not None else None
    allocated: list[str] = []

    def decide(_incident: Incident, timeline: Sequence[Event]) -> Mapping[str, Any] | None:
        item_id = next_action_id(timeline)
        allocated.append(item_id)
        extra = {"area": area} if area is not None else {}
        return to_journal(ActionAddedPayload(id=item_id, text=text, owner=owner, due=due.isoformat(), **extra))

    result = ctx.journal().append_if_timeline(normalize_incident_id(request.incident), EventKind.ACTION_ADDED, decide)
    item = _find(result.incident.id, ctx.journal().timeline(result.incident.id), allocated[-1])
    return ItemResult("added", view(item, now), True, warnings=_past(item, now))


def list_items(ctx: PhaseContext, request: ListRequest) -> ListResult:
    from incidentctl.core.incident import normalize_incident_id

    journal = ctx.journal()
    now = ctx.clock()
    if request.incident is not None:
        incidents = [journal.get(normalize_incident_id(request.incident))]
    else:
        incidents = sorted(journal.incidents(), key=lambda i: i.id)
    owner = request.owner.strip().casefold() if request.owner is not None else None
    views = []
    for incident in incidents:
        for item in action_items(incident.id, journal.timeline(incident.id)):
            if owner is not None and (item.owner or "").casefold() != owner:
                continue
            if request.open and item.done_at is not None:
                continue
            if request.overdue and not item.is_overdue(now):
                continue
            views.append(view(item, now))
    views.sort(key=lambda v: (v.due_at or datetime.max.replace(tzinfo=now.tzinfo), v.ref))
    filters = [
        f
        for f, on in (
            (f"owned by {request.owner}", owner is not None),
            ("open", request.open),
            ("overdue", request.overdue),
            (f"of {request.incident}", request.incident is not None),
        )
        if on
    ]
    return ListResult(now, views, filters, request.overdue)


def change(ctx: PhaseContext, request: ChangeRequest) -> ItemResult:
    now = ctx.clock()
    incident_id, item_id = inputs.parse_ref(request.ref, request.item)
    wanted: dict[str, str] = {}
    if request.owner is not None:
        wanted["owner"] = inputs.name(request.owner, "--owner")
    if request.due is not None:
        wanted["due"] = inputs.due_date(request.due, now).isoformat()
    if request.text is not None:
        wanted["text"] = inputs.free_text(request.text, "--text")
    if request.area is not None:
        wanted["area"] = inputs.improvement_area(ctx.runbook, request.area)
    if not wanted:
        raise UsageError("say what changes: --owner, --due, --text or --area")
    reason = inputs.optional_text(request.reason, "--reason")
    changed: list[str] = []

    def decide(_incident: Incident, timeline: Sequence[Event]) -> Mapping[str, Any] | None:
        item = _find(incident_id, timeline, item_id)
        current = {"owner": item.owner, "due": item.due.isoformat() if item.due else None, "text": item.text}
        current["area"] = item.area
        changes = {k: v for k, v in wanted.items() if current.get(k) != v}
        if not changes:
            return None
        changed.extend(changes)
        if reason is not None:
            changes["reason"] = reason
        return to_journal(ActionChangedPayload(id=item_id, **changes))

    result = ctx.journal().append_if_timeline(incident_id, EventKind.ACTION_CHANGED, decide)
    item = _find(result.incident.id, ctx.journal().timeline(result.incident.id), item_id)
    warnings = _past(item, now) if "due" in changed else []
    return ItemResult("changed", view(item, now), result.event is not None, changed, warnings)


def done(ctx: PhaseContext, request: DoneRequest) -> ItemResult:
    now = ctx.clock()
    incident_id, item_id = inputs.parse_ref(request.ref, request.item)
    note = inputs.optional_text(request.note, "--note")

    def decide(_incident: Incident, timeline: Sequence[Event]) -> Mapping[str, Any] | None:
        item = _find(incident_id, timeline, item_id)
        if item.done_at is not None:
            return None
        return to_journal(ActionDonePayload(id=item_id, note=note) if note else ActionDonePayload(id=item_id))

    result = ctx.journal().append_if_timeline(incident_id, EventKind.ACTION_DONE, decide)
    item = _find(result.incident.id, ctx.journal().timeline(result.incident.id), item_id)
    return ItemResult("done", view(item, now), result.event is not None)


#: request type -> its use case (see :mod:`incidentctl.phases.postmortem.run`)
HANDLERS: dict[type[Any], Callable[[Any, Any], Any]] = {
    AddRequest: add,
    ListRequest: list_items,
    ChangeRequest: change,
    DoneRequest: done,
}


# --- parsing what a person typed ----------------------------------------------------------------------------


def _find(incident_id: str, timeline: Sequence[Event], item_id: str) -> ActionItem:
    items = action_items(incident_id, timeline)
    for item in items:
        if item.id == item_id:
            return item
    known = ", ".join(i.id for i in items) or "none yet"
    raise NotFoundError(f"{incident_id} has no action item {item_id}", hint=f"its items: {known}")


def _past(item: ActionItem, now: datetime) -> list[str]:
    if item.due_at is not None and item.due_at <= now:
        return [f"{item.ref} is due {item.due.isoformat() if item.due else ''}, which is past: it is overdue already"]
    return []
