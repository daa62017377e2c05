"""The post-mortem meeting (``postmortem schedule ID --at TIME``): journalled as ``postmortem_scheduled``, and
optionally written as an iCalendar invitation to send (:mod:`incidentctl.adapters.ical`).

Re-scheduling records the new time and, in the file, updates the same event: its UID comes from the incident and
its SEQUENCE counts the earlier schedules in the journal, so a calendar moves the meeting instead of adding one.
Scheduling what is recorded already records nothing (the file is still written, so a lost file can be made
again). A time in the past is allowed (a meeting that happened is recorded after it) and said; a time before the
incident was declared is refused, since no meeting can review an outage before anyone knew of it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from incidentctl.core import postmortem_input as inputs
from incidentctl.core.events import EventKind, PostmortemScheduledPayload, to_journal
from incidentctl.core.text import one_line
from incidentctl.core.times import DurationError, format_rfc3339, parse_duration, parse_rfc3339
from incidentctl.errors import UsageError
from incidentctl.exitcodes import ExitCode

if TYPE_CHECKING:
    from incidentctl.core.incident import Event, Incident
    from incidentctl.phases.context import PhaseContext

#: A meeting longer than a working day is a typo (``--duration 1d`` meant ``1h``).
MAX_DURATION = timedelta(hours=12)
#: How far ahead a meeting may be scheduled.
MAX_AHEAD = timedelta(days=366)
DEFAULT_DURATION = timedelta(hours=1)

#: An e-mail address as invitations take it: no spaces, no brackets, one @, a dotted domain.
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+")
#: ``Alice Smith <alice@example.com>``
_NAMED_EMAIL = re.compile(r"(.*?)\s*<([^<>]+)>")


@dataclass(frozen=True)
class ScheduleRequest:
    incident: str
    at: str
    duration: str | None = None
    where: str | None = None
    attendees: tuple[str, ...] = ()
    ics: Path | None = None


@dataclass(frozen=True)
class Attendee:
    name: str | None
    email: str | None

    def __str__(self) -> str:
        if self.name and self.email:
            return f"{self.name} <{self.email}>"
        return self.email or self.name or ""


@dataclass(frozen=True)
class ScheduleResult:
    incident_id: str
    at: datetime
    end: datetime
    duration_s: int
    where: str | None
    attendees: list[str]
    #: False: this schedule was recorded already; nothing new was written to the journal.
    recorded: bool
    #: How many times the meeting was scheduled before this one (the invitation's SEQUENCE).
    sequence: int
    uid: str
    #: Where the invitation was written; None without --ics.
    ics: str | None
    #: The meeting's time is before now: recorded as one that happened.
    past: bool
    warnings: list[str] = field(default_factory=list)
    exit_code: ExitCode = ExitCode.OK


def schedule(ctx: PhaseContext, request: ScheduleRequest) -> ScheduleResult:
    from incidentctl.core.incident import normalize_incident_id

    now = ctx.clock()
    start = _time(request.at)
    length = _duration(request.duration)
    if start - now > MAX_AHEAD:
        raise UsageError(f"--at {format_rfc3339(start)} is more than a year ahead")
    end = start + length
    where = inputs.optional_name(request.where, "--where")
    attendees = _attendees(request.attendees)
    data = to_journal(
        PostmortemScheduledPayload(
            at=format_rfc3339(start),
            duration_s=int(length.total_seconds()),
            where=where,
            attendees=[str(a) for a in attendees],
        )
    )
    if where is None:
        data.pop("where", None)
    earlier: list[int] = []

    def decide(incident: Incident, timeline: Sequence[Event]) -> Mapping[str, Any] | None:
        if start < incident.declared_at:
            raise UsageError(
                f"--at {format_rfc3339(start)} is before {incident.id} was declared "
                f"({format_rfc3339(incident.declared_at)})",
                hint="give the meeting's time (RFC 3339, e.g. 2026-03-16T10:00:00Z)",
            )
        scheduled = [e for e in timeline if e.kind == EventKind.POSTMORTEM_SCHEDULED]
        if scheduled and dict(scheduled[-1].data) == data:
            earlier.append(len(scheduled) - 1)
            return None
        earlier.append(len(scheduled))
        return data

    journal = ctx.journal()
    result = journal.append_if_timeline(normalize_incident_id(request.incident), EventKind.POSTMORTEM_SCHEDULED, decide)
    incident = result.incident
    sequence = earlier[0]
    uid = meeting_uid(journal.location, incident.id)
    warnings = []
    if start < now:
        warnings.append(f"{format_rfc3339(start)} is in the past: recorded as a meeting that happened")
    written = None
    if request.ics is not None:
        from incidentctl.adapters.ical import Invitation, calendar_bytes, write_calendar

        invitation = Invitation(
            uid=uid,
            sequence=sequence,
            start=start,
            end=end,
            stamp=now,
            summary=one_line(f"Post-mortem: {incident.id} {incident.title}"),
            description=_description(incident, journal.timeline(incident.id), attendees),
            location=where,
            attendees=tuple((a.name, a.email) for a in attendees if a.email),
        )
        try:
            write_calendar(request.ics, calendar_bytes(invitation))
        except UsageError as e:
            recorded = "the meeting is recorded in the journal" if result.event is not None else "nothing was lost"
            raise UsageError(f"{e.message} ({recorded})", hint="run the same command again with another --ics") from e
        written = str(request.ics)
    return ScheduleResult(
        incident.id,
        start,
        end,
        int(length.total_seconds()),
        where,
        [str(a) for a in attendees],
        result.event is not None,
        sequence,
        uid,
        written,
        start < now,
        warnings,
    )


def meeting_uid(journal_location: str, incident_id: str) -> str:
    """The same for every schedule of one incident in one journal, and unlike any other journal's (two teams'
    INC-2026-004 are two meetings in one calendar)."""
    token = uuid.uuid5(uuid.NAMESPACE_URL, f"incidentctl:{journal_location}/{incident_id}")
    return f"{incident_id.lower()}-postmortem-{token}@incidentctl"


def _time(text: str) -> datetime:
    try:
        return parse_rfc3339(text)
    except ValueError as e:
        raise UsageError(f"--at: {e}", hint="an RFC 3339 time with its zone, e.g. 2026-03-16T10:00:00Z") from e


def _duration(text: str | None) -> timedelta:
    if text is None:
        return DEFAULT_DURATION
    try:
        length = parse_duration(text)
    except DurationError as e:
        raise UsageError(f"--duration: {e}") from e
    if length <= timedelta(0) or length > MAX_DURATION:
        raise UsageError(f"--duration {text!r}: a meeting lasts more than nothing and at most 12h")
    if length % timedelta(seconds=1):
        raise UsageError(f"--duration {text!r}: give whole seconds")
    return length


def _attendees(values: Sequence[str]) -> list[Attendee]:
    """Each ``--attendee``: an e-mail address, ``Name <address>``, or a name alone (listed in the description:
    an invitation can only be sent to an address). Duplicates (any case) are dropped."""
    found: list[Attendee] = []
    seen: set[str] = set()
    for raw in values:
        text = inputs.name(raw, "--attendee")
        named = _NAMED_EMAIL.fullmatch(text)
        name, address = (named[1].strip() or None, named[2].strip()) if named else (None, text)
        if "@" in address or named:
            if not _EMAIL.fullmatch(address):
                raise UsageError(f"--attendee {text!r} is not an e-mail address", hint="e.g. alice@example.com")
            attendee = Attendee(name, address)
        else:
            attendee = Attendee(text, None)
        key = (attendee.email or attendee.name or "").casefold()
        if key not in seen:
            seen.add(key)
            found.append(attendee)
    return found


def _description(incident: Incident, timeline: Sequence[Event], attendees: Sequence[Attendee]) -> str:
    from incidentctl.core.events import describe, is_internal

    lines = [
        f"Post-mortem of {incident.id} ({incident.severity}): {one_line(incident.title)}",
        f"Impact began {format_rfc3339(incident.started_at, 'seconds')}"
        + (f", resolved {format_rfc3339(incident.resolved_at, 'seconds')}" if incident.resolved_at else ", still open"),
        f"Timeline: incidentctl incident timeline {incident.id}",
        "",
    ]
    shown = [e for e in timeline if not is_internal(e.kind)]
    for event in shown[:15]:
        lines.append(f"{format_rfc3339(event.time, 'seconds')} {one_line(describe(event))}"[:200])
    if len(shown) > 15:
        lines.append(f"... and {len(shown) - 15} more events")
    names = [a.name for a in attendees if a.name and not a.email]
    if names:
        lines += ["", f"Also invited: {', '.join(names)}"]
    return "\n".join(lines)
