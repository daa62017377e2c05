"""Following a journal as others write to it: ``incident timeline --follow`` and ``incident list --watch``.

The store's :meth:`~incidentctl.journal.base.JournalStore.wait_for_change` is a doorbell (it may ring for nothing,
or once for many events); what is new is always decided here by re-reading and comparing event ids with what was
already handed out, so an event is never given twice nor skipped, however many arrive at once.

A team journal that goes away while following is not the end of the follow: it is reported once
(:class:`Lost`), retried with a growing pause, and reported again when it answers (:class:`Back`), after which the
re-read brings whatever was recorded in between. Anything else (a folder that cannot be read, an incident that is
not there) ends the follow with its own error, as it would end any command.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from incidentctl.core.incident import Event, Incident
from incidentctl.errors import UnreachableError
from incidentctl.journal.base import JournalStore
from incidentctl.journal.query import IncidentQuery

T = TypeVar("T")

#: How long one wait for the doorbell lasts before the follower looks again anyway (never a busy loop).
WAIT_SECONDS = 5.0

#: Pauses between attempts to reach a journal that went away: quick at first, then every few seconds.
RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0)


@dataclass(frozen=True)
class NewEvents:
    """Events not handed out before, in the timeline's order (the first one holds the timeline so far).

    Empty when the doorbell rang for nothing new (another incident's event, a torn line): still handed out, as
    the moment to report what the journal noticed while reading (:meth:`JournalStore.drain_warnings`)."""

    events: list[Event]


@dataclass(frozen=True)
class Lost:
    """The journal cannot be reached; the follower keeps trying. Nothing is claimed about events meanwhile."""

    error: UnreachableError


@dataclass(frozen=True)
class Back:
    """The journal answers again; ``seconds`` it was away. Events recorded meanwhile follow at once."""

    seconds: float


@dataclass(frozen=True)
class Incidents:
    """The incidents the query matches, each time they were read (the first one is the list so far)."""

    incidents: list[Incident]
    #: False when they are what they were at the last read (handed out anyway, as :class:`NewEvents` are).
    changed: bool = True


def follow_timeline(
    journal: JournalStore,
    incident_id: str,
    *,
    wait: float = WAIT_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
    idle: Callable[[], None] | None = None,
) -> Iterator[NewEvents | Lost | Back]:
    """The timeline so far, then each event as it is recorded by anyone, until the caller stops iterating.

    Reading the timeline at the start fails as any command does (not found, unreachable: the caller says so and
    ends); only once following does an unreachable journal become :class:`Lost` and then :class:`Back`.
    ``idle`` runs after each wait that ends without a ring (the CLI looks there for a reader that went away).
    """
    seen: set[str] = set()

    def fresh() -> NewEvents:
        events = journal.timeline(incident_id)  # all of it or an error: nothing is marked seen half-way
        new = []
        for event in events:
            if event.id not in seen:
                seen.add(event.id)
                new.append(event)
        return NewEvents(new)

    yield fresh()
    yield from _follow(journal, fresh, wait, sleep, idle=idle)


def watch_incidents(
    journal: JournalStore,
    query: Callable[[], IncidentQuery | None],
    *,
    wait: float = WAIT_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
    every_round: bool = False,
    idle: Callable[[], None] | None = None,
) -> Iterator[Incidents | Lost | Back]:
    """The incidents ``query()`` matches (asked again each time: "the last 7 days" moves on), then again each
    time the doorbell rings, or each round with ``every_round`` (a terminal's ages)."""
    last = journal.incidents(query())

    def again() -> Incidents:
        nonlocal last
        now, before = journal.incidents(query()), last
        last = now
        return Incidents(now, changed=now != before)

    yield Incidents(last)
    yield from _follow(journal, again, wait, sleep, every_round=every_round, idle=idle)


def _follow(
    journal: JournalStore,
    read: Callable[[], T],
    wait: float,
    sleep: Callable[[float], None],
    *,
    every_round: bool = False,
    idle: Callable[[], None] | None = None,
) -> Iterator[T | Lost | Back]:
    """``read()`` each time the doorbell rings (each round with ``every_round``), with the outages in between.

    While the journal is away every round re-reads (the doorbell of a store that lost only its main connection
    may still ring for nothing), and the first read that succeeds is :class:`Back` followed by what it read, so
    what came in meanwhile shows at once.
    """
    lost_at: float | None = None
    attempt = 0
    while True:
        try:
            # while away, the pause was taken after the failure: the wait only re-establishes the doorbell
            rang = journal.wait_for_change(wait if lost_at is None else 0.0)
            if not (rang or every_round or lost_at is not None):
                if idle is not None:
                    idle()
                continue
            value = read()
        except UnreachableError as err:
            if lost_at is None:
                lost_at = time.monotonic()
                yield Lost(err)
            sleep(RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)])
            attempt += 1
            continue
        if lost_at is not None:
            yield Back(time.monotonic() - lost_at)
            lost_at, attempt = None, 0
        yield value
