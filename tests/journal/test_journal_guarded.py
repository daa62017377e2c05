"""A guarded append whose guard sees the timeline: decided under the lock, from what is recorded at that moment."""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from datetime import datetime, timezone
from multiprocessing.synchronize import Barrier
from typing import Any

import pytest
from tests.journal.conftest import Backend, open_store

from incidentctl.core.incident import Declaration, Event, Incident

WRITERS = 8


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _first_look(_incident: Incident, timeline: Sequence[Event]) -> dict[str, Any] | None:
    return None if any(e.kind == "detected" for e in timeline) else {"signals_on": ["x"]}


def _look_worker(name: str, spec: str, incident_id: str, writer: int, barrier: Barrier) -> None:
    journal = open_store(name, spec, actor=f"writer-{writer}")
    barrier.wait()  # everyone starts together, for the most contention
    for _ in range(20):
        journal.append_if_timeline(incident_id, "detected", _first_look)
    journal.close()


def test_the_guard_sees_what_another_writer_appended(backend: Backend) -> None:
    mine = backend.open("alice")
    incident_id = mine.declare(Declaration(title="t", severity="P2")).id
    assert [e.kind for e in mine.timeline(incident_id)] == ["declared"]  # read (and cached) before the other writes
    backend.open("bob").append(incident_id, "detected", {"signals_on": ["x"]})

    seen: list[list[str]] = []

    def decide(incident: Incident, timeline: Sequence[Event]) -> dict[str, Any] | None:
        seen.append([e.actor for e in timeline])
        return _first_look(incident, timeline)

    result = mine.append_if_timeline(incident_id, "detected", decide)
    assert result.event is None
    assert seen == [["alice", "bob"]]


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="the workers are started with fork")
def test_writers_guarding_on_the_timeline_at_once_record_one_event(backend: Backend) -> None:
    incident_id = backend.open("x").declare(Declaration(title="t", severity="P2")).id
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(WRITERS)
    processes = [
        context.Process(target=_look_worker, args=(backend.name, backend.spec, incident_id, w, barrier))
        for w in range(WRITERS)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    assert [p.exitcode for p in processes] == [0] * WRITERS

    timeline = backend.open("reader").timeline(incident_id)
    assert [e.kind for e in timeline] == ["declared", "detected"]
