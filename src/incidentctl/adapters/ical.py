"""The post-mortem meeting as an RFC 5545 iCalendar invitation (``postmortem schedule --ics FILE``), through the
``icalendar`` library: it folds long lines, escapes text values (commas, semicolons, line breaks) and encodes
parameter values (RFC 6868), which a hand-written file gets wrong in ways only some calendar clients notice.

One event per incident: its UID is derived from the incident, so re-scheduling sends an update of the same event
(with a higher SEQUENCE) instead of a second meeting. Times are written in UTC. The caller makes user text safe
for one line first (no control characters reach a calendar); an attendee with an e-mail address becomes an
``ATTENDEE`` with a ``mailto:`` address, as invitations need.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from incidentctl.errors import UsageError

PRODID = "-//incidentctl//post-mortem meeting//EN"


@dataclass(frozen=True)
class Invitation:
    uid: str
    sequence: int
    start: datetime
    end: datetime
    stamp: datetime
    summary: str
    description: str
    location: str | None
    #: (name or None, e-mail address)
    attendees: tuple[tuple[str | None, str], ...] = ()


def calendar_bytes(invitation: Invitation) -> bytes:
    """The invitation as a VCALENDAR with one VEVENT (METHOD:REQUEST, so mail clients offer to accept it)."""
    from icalendar import Calendar, Event, vCalAddress, vText

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "REQUEST")
    event = Event()
    event.add("uid", invitation.uid)
    event.add("sequence", invitation.sequence)
    event.add("dtstamp", invitation.stamp)
    event.add("dtstart", invitation.start)
    event.add("dtend", invitation.end)
    event.add("summary", invitation.summary)
    event.add("description", invitation.description)
    if invitation.location:
        event.add("location", invitation.location)
    for name, email in invitation.attendees:
        address = vCalAddress(f"mailto:{email}")
        if name:
            address.params["cn"] = vText(name)
        address.params["role"] = vText("REQ-PARTICIPANT")
        address.params["rsvp"] = vText("TRUE")
        event.add("attendee", address, encode=False)
    calendar.add_component(event)
    data: bytes = calendar.to_ical()
    return data


def write_calendar(path: Path, data: bytes) -> None:
    """Write the file whole or not at all (a temporary name in its folder, fsynced, renamed into place): a
    calendar client never reads half an invitation. UsageError naming the path when it cannot be written."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    except OSError as e:
        raise UsageError(f"--ics {path}: cannot write there: {e.strerror or e}") from e
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except OSError as e:
        Path(temporary).unlink(missing_ok=True)
        raise UsageError(f"--ics {path}: cannot write there: {e.strerror or e}") from e
