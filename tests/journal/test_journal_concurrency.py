"""Several engineers and CI jobs write to one journal at once: no id is handed out twice, no event is lost or torn."""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import subprocess
import sys
from collections import Counter
from datetime import datetime, timezone
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import pytest
from tests.journal.conftest import Backend, open_store

import incidentctl
from incidentctl.core.incident import Declaration, should_acknowledge

REPO = Path(__file__).resolve().parents[2]
WRITERS = 8
NOTES_PER_WRITER = 200

pytestmark = pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="the store workers are started with fork"
)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _declare_worker(name: str, spec: str, writer: int, count: int, barrier: Barrier, results: Any) -> None:
    journal = open_store(name, spec, actor=f"writer-{writer}")
    barrier.wait()  # everyone starts together, for the most contention
    ids = [journal.declare(Declaration(title=f"from {writer}", severity="P3")).id for _ in range(count)]
    journal.close()
    results.put((writer, ids))


def _note_worker(name: str, spec: str, incident_id: str, writer: int, barrier: Barrier) -> None:
    journal = open_store(name, spec, actor=f"writer-{writer}")
    barrier.wait()
    for seq in range(NOTES_PER_WRITER):
        journal.append(incident_id, "note", {"text": f"note {seq} from {writer}", "writer": writer, "seq": seq})
    journal.close()


def _ack_worker(name: str, spec: str, incident_id: str, writer: int, barrier: Barrier) -> None:
    journal = open_store(name, spec, actor=f"writer-{writer}")
    barrier.wait()
    journal.append_if(incident_id, "acknowledged", lambda i: {} if should_acknowledge(i) else None)
    journal.close()


def _run(processes: list[multiprocessing.process.BaseProcess]) -> None:
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    assert [p.exitcode for p in processes] == [0] * len(processes)


def test_writers_declaring_at_once_get_distinct_consecutive_ids(backend: Backend) -> None:
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(WRITERS)
    results = context.Queue()
    per_writer = 5
    _run(
        [
            context.Process(target=_declare_worker, args=(backend.name, backend.spec, w, per_writer, barrier, results))
            for w in range(WRITERS)
        ]
    )
    told = dict(results.get(timeout=10) for _ in range(WRITERS))
    handed_out = [incident_id for ids in told.values() for incident_id in ids]

    year = utc_now().year
    assert len(handed_out) == len(set(handed_out)) == WRITERS * per_writer
    assert sorted(handed_out) == [f"INC-{year}-{n:03d}" for n in range(1, WRITERS * per_writer + 1)]
    # every id is a complete incident, declared by the writer that was told it got it
    declared_by = {i.id: i.declared_by for i in backend.open("reader").incidents()}
    assert declared_by == {i: f"writer-{w}" for w, ids in told.items() for i in ids}


def test_writers_appending_at_once_leave_every_event_intact(backend: Backend) -> None:
    incident_id = backend.open("setup").declare(Declaration(title="everyone writes here", severity="P1")).id
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(WRITERS)
    _run(
        [
            context.Process(target=_note_worker, args=(backend.name, backend.spec, incident_id, w, barrier))
            for w in range(WRITERS)
        ]
    )

    reader = backend.open("reader")
    timeline = reader.timeline(incident_id)
    notes = [e for e in timeline if e.kind == "note"]
    assert len(timeline) == 1 + WRITERS * NOTES_PER_WRITER
    assert len({e.id for e in timeline}) == len(timeline)
    pairs = Counter((n.data["writer"], n.data["seq"]) for n in notes)
    assert set(pairs) == {(w, s) for w in range(WRITERS) for s in range(NOTES_PER_WRITER)}
    assert set(pairs.values()) == {1}
    for writer in range(WRITERS):  # each writer's events are in the order it wrote them
        mine = [n for n in notes if n.data["writer"] == writer]
        assert [n.data["seq"] for n in mine] == list(range(NOTES_PER_WRITER))
        assert [n.data["text"] for n in mine] == [f"note {s} from {writer}" for s in range(NOTES_PER_WRITER)]
        assert {n.actor for n in mine} == {f"writer-{writer}"}
    assert reader.get(incident_id).notes == WRITERS * NOTES_PER_WRITER
    assert reader.drain_warnings() == []

    if backend.name == "folder":  # and on disk, every line is whole JSON
        raw = (Path(backend.spec) / incident_id / "timeline.jsonl").read_bytes()
        assert raw.endswith(b"\n")
        assert len([json.loads(line) for line in raw.decode("utf-8").splitlines()]) == len(timeline)


def test_people_acknowledging_at_once_record_one_acknowledgement(backend: Backend) -> None:
    """The decision to record is taken under the lock, from the state at that moment."""
    incident_id = backend.open("setup").declare(Declaration(title="paged everyone", severity="P1")).id
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(WRITERS)
    _run(
        [
            context.Process(target=_ack_worker, args=(backend.name, backend.spec, incident_id, w, barrier))
            for w in range(WRITERS)
        ]
    )

    timeline = backend.open("reader").timeline(incident_id)
    acknowledgements = [e for e in timeline if e.kind == "acknowledged"]
    assert len(acknowledgements) == 1


def test_cli_processes_declaring_at_once_get_distinct_ids(backend: Backend, tmp_path: Path) -> None:
    """The real thing: eight ``incidentctl incident declare`` processes, as eight CI jobs would run them."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(Path(incidentctl.__file__).parents[1]), os.environ.get("PYTHONPATH", "")]),
        "INCIDENTCTL_RUNBOOK": str(REPO / "runbook.yaml"),
        "NO_COLOR": "1",
    }
    if backend.name == "folder":
        env["INCIDENTCTL_JOURNAL"] = backend.spec
    else:
        runbook = tmp_path / "runbook.yaml"
        runbook.write_text(
            (REPO / "runbook.yaml")
            .read_text(encoding="utf-8")
            .replace(
                "journal:\n  dir: incidents\n",
                "journal:\n  dir: incidents\n  backend: postgres\n  dsn: {env: INCIDENTCTL_JOURNAL_DSN}\n"
                "  spool: spool\n",
            ),
            encoding="utf-8",
        )
        env.update(INCIDENTCTL_RUNBOOK=str(runbook), INCIDENTCTL_JOURNAL_DSN=backend.spec)
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "incidentctl",
                "incident",
                "declare",
                "--title",
                f"job {n} failed",
                "--severity",
                "P3",
                "--component",
                "gateway",
            ],
            env={**env, "INCIDENTCTL_ACTOR": f"ci-job-{n}"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(WRITERS)
    ]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0] * WRITERS, [err for _, err in outputs]

    ids = [out.strip() for out, _ in outputs]  # the id alone on stdout
    assert all(re.fullmatch(r"INC-\d{4}-\d{3}", i) for i in ids), ids
    assert len(set(ids)) == WRITERS
    assert sorted(int(i.rsplit("-", 1)[1]) for i in ids) == list(range(1, WRITERS + 1))
    declared_by = {i.id: i.declared_by for i in backend.open("reader").incidents()}
    assert declared_by == {incident_id: f"ci-job-{n}" for n, incident_id in enumerate(ids)}
