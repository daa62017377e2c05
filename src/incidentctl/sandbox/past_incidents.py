"""A journal of realistic past incidents, so a newcomer can read a monthly report without living through a quarter.

``incidentctl sandbox history --incidents 200 --days 90`` writes it. Every incident is written through the real
journal store (:class:`~incidentctl.journal.store.Journal`: ``declare`` and ``append``) with the store's clock set
to each event's time, so its files are byte for byte what real runs of triage, detect, communicate, escalate,
mitigate and postmortem write, and every reader (``incident list``, ``postmortem status``, ``report``) reads them
as it reads a real journal. Nothing here writes an event itself; the finished journal is only copied into place.

What the incidents are like, in the runbook's terms (severities, categories, components, channels, escalation
levels, review stages and improvement areas all come from the runbook given):

- severities in the proportions a service like SarvanOM sees (few P1, mostly P3 and P4), apportioned exactly so
  that a count can be relied on; categories and components drawn from the runbook;
- the impact begins before anyone notices (minutes for a P1, up to hours for a P4); triage declares most, people
  the rest; some declared impact starts are set right later with a ``corrected`` event, as a post-mortem does;
- acknowledgement mostly within the severity's response time, sometimes beyond it; escalations where the
  severity's rule calls for one, and by hand now and then;
- status identified, a mitigation planned, applied and verified, monitoring, resolved; a few reopened;
- the initial message, updates on the severity's interval (mostly on time, some late), the resolution message;
- for severities that need a post-mortem: tagged notes, the meeting, action items with owners and due dates (done
  on time, done late, or still open and overdue), review stages completed for most of them;
- events that would fall after ``now`` are not written, so the last incidents are still open, and so are the
  action items and review stages not yet due.

Deterministic: one :class:`random.Random` seeded with ``seed`` decides everything, and the journal's clock is the
plan's, so the same seed, count, days and ``now`` write the same bytes.
"""

from __future__ import annotations

import dataclasses
import os
import random
import shutil
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from incidentctl.core.events import EventKind
from incidentctl.core.incident import Declaration, format_timestamp
from incidentctl.errors import JournalError, UsageError

if TYPE_CHECKING:
    from incidentctl.journal.store import Journal
    from incidentctl.runbook.model import Runbook

#: The most incidents one run writes (each costs a few milliseconds of fsynced appends).
MAX_INCIDENTS = 10_000
#: The longest history one run spreads them over: ten years.
MAX_DAYS = 3650

#: The share of each severity, most severe first; a runbook's severities beyond these share the last weight.
SEVERITY_SHARES = (0.05, 0.20, 0.40, 0.35)
#: How often a category group is the cause (the runbook's own groups; others weigh 1).
CATEGORY_WEIGHTS = {"application": 6.0, "infrastructure": 3.5, "security": 0.5}

ENGINEERS = ("alice", "bob", "carol", "dmitri", "erin", "farah", "gustavo", "hana", "ivan", "jun")
#: Who declares what triage finds (the actor of an automated triage run).
TRIAGE_ACTOR = "triage-bot"
DETECT_ACTOR = "detect-cron"

REASONS_LATE_START = (
    "the first errors in the gateway's logs are earlier than the alert",
    "the error budget graph shows the drop began before the alert fired",
    "customer reports put the start earlier than the first alert",
)
ROOT_CAUSES = (
    "a configuration change shipped without the new setting",
    "the connection pool was too small for the traffic after the release",
    "a retry storm against the LLM provider exhausted the rate limit",
    "a schema migration locked the sources table",
    "the cache eviction policy dropped hot keys under memory pressure",
    "a dependency's TLS certificate expired",
)
CONTRIBUTING = (
    "the alert threshold was too high to fire early",
    "the runbook step for this component was out of date",
    "the canary stage was skipped for this release",
    "the on-call engineer was paged on a personal phone without the app",
)
LESSONS = (
    "dashboards for this component need the saturation panel",
    "rolling back first and investigating after saved time",
    "the status page update template needs the workaround section",
)
MITIGATIONS = (
    ("rollback", "roll back deployment/{c} to the previous revision"),
    ("restart", "restart deployment/{c}"),
    ("scale", "scale deployment/{c} from 2 to 5 replicas"),
    ("flush-cache", "flush the redis cache used by {c}"),
    ("circuit-breaker", "open the circuit breaker in front of {c}'s provider"),
)


@dataclass(frozen=True)
class History:
    """What was written: the counts a person checks the report against."""

    directory: Path
    incidents: int
    events: int
    open: int
    reopened: int
    corrected: int
    escalated: int
    by_severity: dict[str, int]
    first: datetime
    last: datetime
    #: The end of the history: nothing after it was written.
    now: datetime


@dataclass
class _Planned:
    time: datetime
    actor: str
    kind: str
    data: dict[str, Any]


@dataclass
class _Incident:
    """One incident's events before they are written, in the order they happen."""

    start: datetime
    declared_at: datetime
    actor: str
    declaration: Declaration
    #: The declared start is later than the real one, and a post-mortem corrects it.
    late_start: bool
    still_open: bool
    events: list[_Planned] = field(default_factory=list)

    def add(self, time: datetime, actor: str, kind: str, data: Mapping[str, Any]) -> None:
        self.events.append(_Planned(time, actor, kind, dict(data)))


def check_request(incidents: int, days: int) -> None:
    """Refuse what cannot make a history: no incidents, no days, or more than one run should write."""
    if not 1 <= incidents <= MAX_INCIDENTS:
        raise UsageError(f"--incidents {incidents}: give a count from 1 to {MAX_INCIDENTS:,}")
    if not 1 <= days <= MAX_DAYS:
        raise UsageError(f"--days {days}: give a number of days from 1 to {MAX_DAYS:,}")


def write_history(runbook: Runbook, directory: Path, *, incidents: int, days: int, seed: int, now: datetime) -> History:
    """Write ``incidents`` past incidents over the ``days`` before ``now`` into the journal at ``directory``.

    The journal must have no incident yet: generated incidents mixed into a real journal would pass for real ones
    in every report, so a journal that has any is refused (UsageError) before anything is written.

    The store writes into a staging folder in memory (``/dev/shm`` where there is one), and the finished journal
    is copied into ``directory`` and synced once: the same files, without an fsync per event (which costs more than
    the rest of the work on a busy disk), and an interrupted run leaves no half-written history behind.
    """
    from incidentctl.journal.store import Journal

    check_request(incidents, days)
    existing = Journal(directory, clock=lambda: now, actor=TRIAGE_ACTOR).ids()
    if existing:
        raise UsageError(
            f"the journal {directory} already has {len(existing)} incident(s) ({existing[0]}...): generated "
            "incidents are written only into an empty journal, never mixed with real ones",
            hint="point INCIDENTCTL_JOURNAL (or --journal) at a new folder, or remove that folder first",
        )
    _writable(directory)
    shm = Path("/dev/shm")
    staging = Path(tempfile.mkdtemp(prefix="incidentctl-history-", dir=shm if shm.is_dir() else None))
    try:
        history = _generate(runbook, staging / "incidents", incidents, days, seed, now)
        _publish(staging / "incidents", directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return dataclasses.replace(history, directory=directory)


def _writable(directory: Path) -> None:
    """The journal folder, made now: a folder that cannot be written is said before any work is done."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = Path(tempfile.mkstemp(dir=directory, prefix=".history.", suffix=".tmp")[1])
        probe.unlink()
    except OSError as e:
        raise JournalError(
            f"cannot write the journal directory {directory}: {e.strerror or e}",
            hint="point INCIDENTCTL_JOURNAL (or --journal) at a folder you can write",
        ) from e


def _publish(staged: Path, directory: Path) -> None:
    """Copy the staged journal into ``directory`` (no incident folder there may exist) and sync it to disk."""
    try:
        for entry in sorted(staged.iterdir()):
            target = directory / entry.name
            if entry.is_dir():
                os.mkdir(target)  # FileExistsError: an incident declared meanwhile, which is never overwritten
                for file in sorted(entry.iterdir()):
                    shutil.copyfile(file, target / file.name)
                    _fsync(target / file.name)
                _fsync(target)
            elif not target.exists():
                shutil.copyfile(entry, target)
                _fsync(target)
        _fsync(directory)
    except FileExistsError as e:
        raise JournalError(
            f"{e.filename} appeared while the history was written: the journal is no longer empty",
            hint="the incidents copied so far are generated ones; remove the folder and run it again",
        ) from e
    except OSError as e:
        raise JournalError(f"cannot write the journal directory {directory}: {e.strerror or e}") from e


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _generate(runbook: Runbook, directory: Path, incidents: int, days: int, seed: int, now: datetime) -> History:
    from incidentctl.journal.store import Journal

    now = now.astimezone(timezone.utc).replace(microsecond=0)
    clock = _Clock(now)
    # one store for every writer, its actor set before each write: its reader follows each timeline as it
    # grows, where one store per actor would read every timeline again
    ids = random.Random(f"{seed}/event-ids")  # apart from the plan's draws, so ids never change the history
    store = Journal(
        directory,
        clock=clock,
        actor=TRIAGE_ACTOR,
        event_ids=lambda: str(uuid.UUID(int=ids.getrandbits(128), version=4)),
    )

    def as_actor(actor: str) -> Journal:
        store.actor = actor
        return store

    plan = _Plan(runbook, random.Random(seed), now, days)
    starts = plan.start_times(incidents)
    severities = plan.severities(incidents)
    written = open_ = reopened = corrected = escalated = 0
    by_severity: dict[str, int] = {}
    for index, (start, severity) in enumerate(zip(starts, severities, strict=True)):
        incident = plan.incident(start, severity, still_open=index >= incidents - plan.open_tail(incidents))
        clock.now = incident.declared_at
        folded = as_actor(incident.actor).declare(incident.declaration)
        events = [e for e in plan.finish(folded.id, incident) if e.time <= now]
        for event in events:
            clock.now = event.time
            folded = as_actor(event.actor).append(folded.id, event.kind, event.data).incident
        written += 1 + len(events)
        by_severity[severity] = by_severity.get(severity, 0) + 1
        open_ += folded.is_open
        reopened += folded.reopened
        corrected += any(e.kind == EventKind.CORRECTED for e in events)
        escalated += any(e.kind == EventKind.ESCALATED for e in events)
    return History(
        directory=directory,
        incidents=incidents,
        events=written,
        open=open_,
        reopened=reopened,
        corrected=corrected,
        escalated=escalated,
        by_severity={s: by_severity[s] for s in runbook.severities if s in by_severity},
        first=starts[0],
        last=starts[-1],
        now=now,
    )


class _Clock:
    """The journal's clock: the time of the event being written, never the machine's."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class _Plan:
    """Decides every incident from one seeded random generator, in a fixed order of draws."""

    def __init__(self, runbook: Runbook, rng: random.Random, now: datetime, days: int) -> None:
        self.runbook = runbook
        self.rng = rng
        self.now = now
        self.days = days
        self.components = [c.name for c in runbook.components]
        self.subjects = sorted(
            [c.name for c in runbook.components]
            + [d.name for d in runbook.dependencies]
            + [d.name for d in runbook.datastores]
        )
        self.categories = [
            (f"{group}/{kind}", phrases)
            for group, category in runbook.categories.items()
            for kind, phrases in category.kinds.items()
        ]
        self.category_weights = [CATEGORY_WEIGHTS.get(name.split("/")[0], 1.0) for name, _ in self.categories]
        self.rules = {rule.severity: rule for rule in reversed(runbook.triage.rules)}

    # --- the whole history ------------------------------------------------------------------------------------

    def start_times(self, count: int) -> list[datetime]:
        """When each impact began, oldest first, spread over the window (whole seconds, as the journal writes)."""
        span = self.days * 86_400
        offsets = sorted(self.rng.randrange(span) for _ in range(count))
        begin = self.now - timedelta(seconds=span)
        return [begin + timedelta(seconds=o) for o in offsets]

    def severities(self, count: int) -> list[str]:
        """The severities, apportioned by :data:`SEVERITY_SHARES` (largest remainder) and then shuffled."""
        names = list(self.runbook.severities)
        shares = [SEVERITY_SHARES[min(i, len(SEVERITY_SHARES) - 1)] for i in range(len(names))]
        total = sum(shares)
        exact = [count * s / total for s in shares]
        counts = [int(e) for e in exact]
        for i in sorted(range(len(names)), key=lambda i: exact[i] - counts[i], reverse=True)[: count - sum(counts)]:
            counts[i] += 1
        chosen = [name for name, n in zip(names, counts, strict=True) for _ in range(n)]
        self.rng.shuffle(chosen)
        return chosen

    @staticmethod
    def open_tail(count: int) -> int:
        """How many of the newest incidents are left open on purpose (besides those the window's end cuts)."""
        return min(3, max(1, count // 50)) if count > 1 else 0

    # --- one incident ------------------------------------------------------------------------------------------

    def incident(self, start: datetime, severity: str, *, still_open: bool) -> _Incident:
        rng = self.rng
        level = list(self.runbook.severities).index(severity)
        detect_minutes = rng.lognormvariate(1.2 + 0.7 * level, 0.6)  # P1: ~3 min, P4: ~25 min, long tails
        declared_at = start + timedelta(seconds=max(30, round(detect_minutes * 60)))
        declared_at = min(declared_at, self.now)
        category, phrases = rng.choices(self.categories, weights=self.category_weights)[0]
        component = rng.choice(self.components)
        components = [component] + ([c for c in self.components if c != component][:1] if rng.random() < 0.2 else [])
        phrase = rng.choice([p.strip() for p in phrases.split(",") if p.strip()] or [category])
        phrase = phrase if phrase[:2].isupper() else phrase[0].lower() + phrase[1:]  # "DNS issues" stays
        title = f"{component}: {phrase}"
        by_triage = rng.random() < 0.7
        # the declared start: the true one, or (for some) a later one that a post-mortem corrects
        late_start = rng.random() < 0.15
        declared_start = start + timedelta(seconds=round((declared_at - start).total_seconds() * rng.uniform(0.3, 0.9)))
        rule = self.rules.get(severity)
        commander = rng.choice(ENGINEERS)
        declaration = Declaration(
            title=title,
            severity=severity,
            category=category,
            components=tuple(components),
            summary=f"{severity}: {phrase} on {component}" + (f" (rule {rule.id})" if by_triage and rule else ""),
            started_at=declared_start if late_start else start,
            commander=None if by_triage else commander,
            severity_rule=rule.id if by_triage and rule else None,
        )
        actor = TRIAGE_ACTOR if by_triage else commander
        return _Incident(start, declared_at, actor, declaration, late_start=late_start, still_open=still_open)

    def finish(self, incident_id: str, incident: _Incident) -> list[_Planned]:
        """Every event after the declaration, in time order (the draws need the id the journal allocated)."""
        rng = self.rng
        start, late_start = incident.start, incident.late_start
        d = incident.declaration
        severity = d.severity
        level = self.runbook.severities[severity]
        index = list(self.runbook.severities).index(severity)
        t = incident.declared_at
        if incident.actor == TRIAGE_ACTOR:
            self._triaged(incident, index)
        responder = d.commander or rng.choice(ENGINEERS)  # who declared by hand leads it
        lead = rng.choice([e for e in ENGINEERS if e != responder])
        response = level.response_time.total_seconds()
        ack_after = response * (rng.uniform(0.1, 0.9) if rng.random() < 0.85 else rng.uniform(1.1, 3.0))
        acked = t + timedelta(seconds=round(ack_after))
        incident.add(acked, responder, EventKind.ACKNOWLEDGED, {})
        if index <= 1:
            incident.add(acked, responder, EventKind.ROLES_ASSIGNED, {"commander": responder, "tech_lead": lead})
        messages = _Messages(self, incident, incident_id, severity)
        messages.send(acked + timedelta(seconds=rng.randint(20, 240)), responder, "initial")
        # how long it takes: severe incidents are worked hardest, and are short; the tails are long
        minutes = rng.lognormvariate(3.4 + 0.45 * index, 0.7)
        identified = acked + timedelta(minutes=minutes * rng.uniform(0.25, 0.5))
        mitigated = acked + timedelta(minutes=minutes * rng.uniform(0.6, 0.85))
        resolved = acked + timedelta(minutes=minutes) + timedelta(minutes=rng.uniform(10, 45))
        self._escalations(incident, severity, t, resolved, responder)
        raised = list(self.runbook.severities)[index - 1] if index > 0 and rng.random() < 0.1 else None
        if raised is not None:
            incident.add(
                identified - timedelta(minutes=2),
                responder,
                EventKind.SEVERITY_CHANGED,
                {"from": severity, "to": raised, "message": "more users affected than first thought"},
            )
        status = _Status(incident, (responder, lead))
        status.severity = raised or severity
        status.to(identified, responder, "identified", rng.choice(ROOT_CAUSES))
        action, summary = rng.choice(MITIGATIONS)
        self._mitigation(
            incident, "M1", identified + (mitigated - identified) / 3, mitigated, responder, action, summary, d
        )
        status.to(mitigated + timedelta(seconds=30), responder, "monitoring", "the fix is in place; watching it")
        incident.add(
            mitigated + timedelta(minutes=2),
            DETECT_ACTOR,
            EventKind.DETECTED,
            {**self._look(d.components, "ok"), "summary": "all components healthy", "duration_s": 1.2},
        )
        messages.updates_until(mitigated, responder)
        if incident.still_open:  # stopped somewhere between the fix and the resolution
            ordered = _in_order(incident.events)
            return ordered[: len(ordered) - rng.randint(0, 3)]
        status.to(resolved, lead, "resolved", "error rate back to normal for 30 minutes")
        messages.send(resolved + timedelta(seconds=rng.randint(30, 300)), lead, "resolution")
        end = self._reopen(incident, status, messages, resolved) if rng.random() < 0.05 else resolved
        if status.severity in self.runbook.postmortem.required_for:
            self._postmortem(incident, end, responder, lead, start, late_start)
        elif late_start and d.started_at is not None:
            self._correct(incident, end + timedelta(hours=rng.uniform(1, 30)), lead, start, d.started_at)
        return _in_order(incident.events)

    # --- parts of an incident --------------------------------------------------------------------------------

    def _triaged(self, incident: _Incident, index: int) -> None:
        """The look triage recorded when it declared the incident."""
        d = incident.declaration
        component = d.components[0]
        health = "down" if index == 0 else "degraded"
        affected = self.rng.uniform(0.5, 1.0) if index == 0 else self.rng.uniform(0.01, 0.4)
        incident.add(
            incident.declared_at,
            TRIAGE_ACTOR,
            EventKind.TRIAGED,
            {
                **self._look(d.components, health),
                "summary": d.summary,
                "severity": d.severity,
                "reason": d.summary,
                "rule": d.severity_rule,
                "category": d.category,
                "components": list(d.components),
                "users_affected": round(affected, 2),
                "evidence": [f"{component}: {health}"],
                "incident_severity": d.severity,
                "decision": "declared",
                "impact_start": {
                    "at": format_timestamp(d.started_at or incident.start),
                    "source": "alert",
                    "basis": f"oldest firing alert on {component}",
                },
            },
        )

    def _reopen(self, incident: _Incident, status: _Status, messages: _Messages, resolved: datetime) -> datetime:
        """The errors came back after the resolution: a second fix, a second resolution (returned)."""
        rng = self.rng
        d = incident.declaration
        responder, lead = status.people
        back = resolved + timedelta(hours=rng.uniform(1, 20))
        status.to(back, responder, "investigating", "the errors are back")
        action, summary = rng.choice(MITIGATIONS)
        fixed = back + timedelta(minutes=rng.uniform(20, 90))
        status.to(back + timedelta(minutes=10), responder, "identified", "the first fix did not hold")
        self._mitigation(incident, "M2", back + timedelta(minutes=12), fixed, responder, action, summary, d)
        status.to(fixed + timedelta(seconds=30), responder, "monitoring", "second fix in place")
        end = fixed + timedelta(minutes=rng.uniform(20, 60))
        status.to(end, lead, "resolved", "stable since the second fix")
        messages.send(end + timedelta(seconds=rng.randint(30, 300)), lead, "resolution")
        return end

    def _look(self, components: Sequence[str], health: str) -> dict[str, Any]:
        subjects = {s: (health if s in components else "ok") for s in self.subjects}
        failing = {f"deployment:{c}": health for c in components} if health != "ok" else {}
        signals = (["service_down"] if health == "down" else ["components_degraded", "error_rate"]) if failing else []
        return {"health": health, "subjects": subjects, "failing": failing, "signals_on": signals}

    def _escalations(
        self, incident: _Incident, severity: str, declared: datetime, resolved: datetime, who: str
    ) -> None:
        rng = self.rng
        rule = self.runbook.severities[severity].escalation
        roles = {level.id: level.role for level in self.runbook.escalation.levels}
        if rule.level is not None and rule.within is not None and declared + rule.within < resolved:
            at = declared + rule.within + timedelta(seconds=rng.randint(5, 120))
            incident.add(
                at,
                TRIAGE_ACTOR,
                EventKind.ESCALATED,
                {
                    "level": rule.level,
                    "role": roles.get(rule.level),
                    "rule": f"severity:{severity}",
                    "reason": rule.description,
                    "automatic": True,
                },
            )
        elif self.runbook.escalation.rules.manual and rng.random() < 0.08:
            manual = rng.choice(self.runbook.escalation.rules.manual)
            at = declared + (resolved - declared) * rng.uniform(0.2, 0.6)
            incident.add(
                at,
                who,
                EventKind.ESCALATED,
                {
                    "level": manual.escalate_to,
                    "role": roles.get(manual.escalate_to),
                    "rule": manual.id,
                    "reason": manual.description,
                },
            )

    def _mitigation(
        self,
        incident: _Incident,
        number: str,
        planned: datetime,
        verified: datetime,
        who: str,
        action: str,
        summary: str,
        d: Declaration,
    ) -> None:
        component = d.components[0]
        target = f"deployment/{component}"
        said = summary.format(c=component)
        incident.add(
            planned,
            who,
            EventKind.MITIGATION_PLANNED,
            {"id": number, "action": action, "summary": said, "targets": [target], "changes": [f"{target}: {said}"]},
        )
        incident.add(
            planned + timedelta(seconds=20),
            who,
            EventKind.MITIGATION_APPLIED,
            {"id": number, "summary": said, "writes": 1, "verifying": True},
        )
        incident.add(
            verified,
            who,
            EventKind.MITIGATION_VERIFIED,
            {
                "id": number,
                "healthy": True,
                "components": list(d.components),
                "rollouts": [f"{target}: rolled out"],
                "seconds": round((verified - planned).total_seconds(), 1),
            },
        )

    def _correct(self, incident: _Incident, at: datetime, who: str, start: datetime, declared: datetime) -> None:
        incident.add(
            at,
            who,
            EventKind.CORRECTED,
            {
                "started_at": format_timestamp(start),
                "was_started_at": format_timestamp(declared),
                "reason": self.rng.choice(REASONS_LATE_START),
            },
        )

    def _postmortem(
        self, incident: _Incident, resolved: datetime, responder: str, lead: str, start: datetime, late_start: bool
    ) -> None:
        rng = self.rng
        d = incident.declaration
        notes = [("root-cause", rng.choice(ROOT_CAUSES)), ("contributing-factor", rng.choice(CONTRIBUTING))]
        notes += [("lesson", rng.choice(LESSONS))] if rng.random() < 0.6 else []
        for i, (tag, text) in enumerate(notes):
            incident.add(resolved + timedelta(hours=2 + i), lead, EventKind.NOTE, {"text": text, "tag": tag})
        meeting = (resolved + timedelta(hours=rng.randint(18, 40))).replace(minute=0, second=0, microsecond=0)
        incident.add(
            resolved + timedelta(hours=3),
            lead,
            EventKind.POSTMORTEM_SCHEDULED,
            {"at": format_timestamp(meeting), "duration_s": 3600, "where": "war room", "attendees": [responder, lead]},
        )
        if late_start and d.started_at is not None:
            self._correct(incident, meeting + timedelta(minutes=30), lead, start, d.started_at)
        areas = [
            f"{area}/{item}" for area, items in self.runbook.postmortem.improvement_areas.items() for item in items
        ]
        for n in range(1, rng.randint(1, 4) + 1):
            added = meeting + timedelta(minutes=40 + n)
            due_day = (added + timedelta(days=rng.randint(7, 28))).date()
            owner = rng.choice(ENGINEERS)
            data: dict[str, Any] = {
                "id": f"A{n}",
                "text": rng.choice(_ACTION_TEXTS).format(c=d.components[0]),
                "owner": owner,
                "due": due_day.isoformat(),
            }
            if areas:
                data["area"] = rng.choice(areas)
            incident.add(added, lead, EventKind.ACTION_ADDED, data)
            end_of_due = datetime(due_day.year, due_day.month, due_day.day, tzinfo=timezone.utc) + timedelta(days=1)
            fate = rng.random()
            if fate < 0.1:
                new_owner = rng.choice([e for e in ENGINEERS if e != owner])
                incident.add(
                    added + timedelta(days=2),
                    lead,
                    EventKind.ACTION_CHANGED,
                    {"id": f"A{n}", "owner": new_owner, "reason": f"{owner} moved to another team"},
                )
                owner = new_owner
            if fate < 0.6:  # on time
                done = added + (end_of_due - added) * rng.uniform(0.3, 0.95)
                incident.add(done, owner, EventKind.ACTION_DONE, {"id": f"A{n}"})
            elif fate < 0.8:  # late
                done = end_of_due + timedelta(days=rng.uniform(1, 14))
                incident.add(done, owner, EventKind.ACTION_DONE, {"id": f"A{n}", "note": "done after the due date"})
            # else: still open, and overdue once its day is over
        if rng.random() < 0.85:  # most post-mortems go through every stage, most of them on time
            for stage, review in self.runbook.postmortem.stages.items():
                late = rng.random() < 0.15
                within = review.within.total_seconds()
                at = resolved + timedelta(
                    seconds=round(within * (rng.uniform(1.05, 1.8) if late else rng.uniform(0.6, 0.95)))
                )
                incident.add(at, lead, EventKind.REVIEW_COMPLETED, {"stage": stage})


_ACTION_TEXTS = (
    "Add an alert on {c}'s error rate at 5%",
    "Write the runbook step for a failed {c} rollout",
    "Load-test {c} at twice the peak traffic",
    "Add a canary stage to {c}'s release pipeline",
    "Set resource limits and a PodDisruptionBudget for {c}",
    "Document the rollback procedure in the on-call guide",
)


class _Status:
    """Status changes with the ``from`` each one had when it was made."""

    def __init__(self, incident: _Incident, people: tuple[str, str]) -> None:
        self.incident = incident
        self.current = "investigating"
        #: The responder and the technical lead.
        self.people = people
        self.severity = incident.declaration.severity

    def to(self, at: datetime, who: str, status: str, message: str) -> None:
        self.incident.add(at, who, EventKind.STATUS_CHANGED, {"from": self.current, "to": status, "message": message})
        self.current = status


class _Messages:
    """The outbox as communicate writes it: a batch queued per kind, each channel's message sent moments later."""

    def __init__(self, plan: _Plan, incident: _Incident, incident_id: str, severity: str) -> None:
        self.plan = plan
        self.incident = incident
        self.id = incident_id
        self.severity = severity
        channels = plan.runbook.communication.channels
        self.channels = [
            (name, channels[name].kind) for name in plan.runbook.severities[severity].notify if name in channels
        ]
        self.counts: dict[str, int] = {}
        self.last: datetime | None = None

    def send(self, at: datetime, who: str, kind: str) -> None:
        if not self.channels:
            return
        rng = self.plan.rng
        self.counts[kind] = self.counts.get(kind, 0) + 1
        batch = f"{kind}-{self.counts[kind]}"
        d = self.incident.declaration
        subject = (
            f"[{self.severity}] {d.title}" + {"initial": "", "update": " (update)", "resolution": " (resolved)"}[kind]
        )
        messages = [
            {
                "key": f"{self.id}/{batch}/{name}",
                "channel": name,
                "channel_kind": channel_kind,
                "subject": subject,
                "text": f"{subject}\nStatus: see the incident channel.",
            }
            for name, channel_kind in self.channels
        ]
        self.incident.add(at, who, EventKind.MESSAGES_QUEUED, {"batch": batch, "kind": kind, "messages": messages})
        for i, (name, channel_kind) in enumerate(self.channels):
            sent = at + timedelta(seconds=1 + i + rng.randint(0, 3))
            key = f"{self.id}/{batch}/{name}"
            self.incident.add(sent, who, EventKind.MESSAGE_SENT, _sent(key, name, channel_kind, sent, self.id))
        self.last = at

    def updates_until(self, until: datetime, who: str) -> None:
        """An update every ``update_interval`` while the impact lasts: mostly a little early, sometimes late."""
        if self.last is None:
            return
        interval = self.plan.runbook.severities[self.severity].update_interval
        rng = self.plan.rng
        for _ in range(12):
            due = self.last + interval
            if due >= until:
                return
            early = rng.random() < 0.85
            at = due - interval * rng.uniform(0.05, 0.3) if early else due + interval * rng.uniform(0.1, 0.8)
            if at >= until:
                return
            self.send(at.replace(microsecond=0), who, "update")


def _sent(key: str, channel: str, kind: str, at: datetime, incident_id: str) -> dict[str, Any]:
    """A message_sent line with the receipt the channel's kind answers with."""
    stamp = int(at.timestamp())
    receipt: dict[str, str] = {
        "slack": {"channel_id": "C0INCIDENTS", "ts": f"{stamp}.000100"},
        "email": {"message_id": f"<{stamp}.{incident_id}@incidentctl>", "to": "engineering@sarvanom.com"},
        "statuspage": {"incident_id": f"sp-{incident_id.lower()}"},
        "pagerduty": {"dedup_key": incident_id},
    }.get(kind, {})
    data: dict[str, Any] = {"key": key, "channel": channel, "receipt": receipt}
    if kind == "manual":
        data["by_hand"] = True
    return data


def _in_order(events: list[_Planned]) -> list[_Planned]:
    """By time, whole seconds (the journal's resolution), keeping the order of events at the same second."""
    for event in events:
        event.time = event.time.replace(microsecond=0)
    return sorted(events, key=lambda e: e.time)
