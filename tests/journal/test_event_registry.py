"""The one registry of journal event kinds: every kind the tool writes is registered, an old journal reads back
byte for byte, a kind from a newer incidentctl still reads, and the milestones the metrics count come from it."""

from __future__ import annotations

import ast
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from incidentctl.core import events
from incidentctl.core.events import Milestone
from incidentctl.core.incident import Declaration, Event, EventKind, fold
from incidentctl.journal.records import decode_event, encode_event
from incidentctl.journal.store import Journal
from incidentctl.phases.triage import DETECTED, TRIAGED
from incidentctl.render.incidents import describe

HERE = Path(__file__).resolve().parent
SRC = HERE.parents[1] / "src" / "incidentctl"
#: Lines as incidentctl 0.1 wrote them (declared with every option, triage, detect, ack, note, status, severity,
#: a repaired torn line): whatever the registry does, these must read back and encode to the same bytes.
OLD_TIMELINE = HERE / "data" / "timeline-v0.1.jsonl"
T0 = datetime(2026, 3, 14, 14, 30, tzinfo=timezone.utc)


def old_lines() -> list[bytes]:
    return [line + b"\n" for line in OLD_TIMELINE.read_bytes().splitlines()]


@pytest.mark.parametrize("line", old_lines(), ids=lambda line: decode_event(line).kind)
def test_an_existing_timeline_line_round_trips_byte_for_byte(line: bytes) -> None:
    event = decode_event(line)
    payload = events.parse(event.kind, event.data)  # through the kind's payload model
    again = Event(event.time, event.actor, event.kind, events.to_journal(payload))
    assert encode_event(again) == line


def test_the_old_timeline_covers_every_kind_the_tool_writes_today() -> None:
    written = {decode_event(line).kind for line in old_lines()}
    assert written >= {"declared", "triaged", "detected", "acknowledged", "note", "status_changed"}
    assert written >= {"severity_changed", "journal_repaired"}


def test_every_kind_constant_is_registered() -> None:
    constants = {v for k, v in vars(EventKind).items() if k.isupper()}
    assert constants | {DETECTED, TRIAGED} <= set(events.REGISTRY)


def test_no_module_appends_a_kind_spelled_as_a_string() -> None:
    """Every append names its kind through the registry's constants, so this test and the registry see them."""
    found = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr in ("append", "append_if", "append_if_timeline") and len(node.args) >= 2:
                kind = node.args[1]
                if isinstance(kind, ast.Constant) and isinstance(kind.value, str):
                    found.append(f"{path.relative_to(SRC)}:{node.lineno}: {kind.value!r}")
    assert found == []


def test_the_journal_refuses_to_append_a_kind_nobody_registered(tmp_path: Path) -> None:
    journal = Journal(tmp_path, clock=lambda: T0, actor="alice")
    incident = journal.declare(Declaration(title="x", severity="P2"))
    with pytest.raises(ValueError, match="'mitigation' is not an event kind this incidentctl registers"):
        journal.append(incident.id, "mitigation", {"action": "rollback"})
    assert [e.kind for e in journal.timeline(incident.id)] == ["declared"]


def test_the_journal_refuses_a_payload_its_kind_does_not_take(tmp_path: Path) -> None:
    journal = Journal(tmp_path, clock=lambda: T0, actor="alice")
    incident = journal.declare(Declaration(title="x", severity="P2"))
    with pytest.raises(ValueError, match="status_changed"):
        journal.append(incident.id, EventKind.STATUS_CHANGED, {"to": 3})
    assert [e.kind for e in journal.timeline(incident.id)] == ["declared"]


def test_a_kind_from_a_newer_incidentctl_still_reads_and_is_shown_generically(tmp_path: Path) -> None:
    journal = Journal(tmp_path, clock=lambda: T0, actor="alice")
    incident = journal.declare(Declaration(title="x", severity="P2"))
    newer = b'{"time":"2026-03-14T14:35:00Z","actor":"bot","kind":"action_applied","data":{"summary":"rolled back"}}\n'
    with (tmp_path / incident.id / "timeline.jsonl").open("ab") as handle:
        handle.write(newer)
    timeline = Journal(tmp_path, clock=lambda: T0, actor="bob").timeline(incident.id)
    assert [e.kind for e in timeline] == ["declared", "action_applied"]
    assert describe(timeline[1]) == "action applied: rolled back"
    assert events.spec("action_applied") is None
    assert fold(timeline).events == 2


def test_a_known_kind_with_a_field_from_a_newer_incidentctl_still_reads() -> None:
    note = Event(T0, "alice", EventKind.NOTE, {"text": "hi", "mood": "calm"})
    assert events.to_journal(events.parse(note.kind, note.data)) == {"text": "hi", "mood": "calm"}


def test_the_milestones_come_from_the_registry() -> None:
    def at(minutes: int, kind: str, **data: object) -> Event:
        return Event(T0 + timedelta(minutes=minutes), "alice", kind, dict(data))

    timeline = [
        at(0, EventKind.DECLARED, id="INC-2026-001", title="x", severity="P2", status="investigating", components=[]),
        at(1, TRIAGED, health="degraded", signals_on=["error_rate"]),
        at(2, DETECTED, health="down"),
        at(3, EventKind.NOTE, text="looking"),
        at(4, EventKind.ACKNOWLEDGED),
        at(5, EventKind.STATUS_CHANGED, to="identified"),
        at(9, EventKind.STATUS_CHANGED, to="monitoring"),
        at(12, EventKind.STATUS_CHANGED, to="resolved"),
        at(15, EventKind.STATUS_CHANGED, to="resolved"),
        at(16, "action_applied"),  # unknown: marks nothing
    ]
    assert events.milestones(timeline) == {
        Milestone.DECLARED: T0,
        Milestone.DETECTED: T0,  # the declaration, since nothing detected it earlier
        Milestone.ACKNOWLEDGED: T0 + timedelta(minutes=4),
        Milestone.MITIGATED: T0 + timedelta(minutes=9),
        Milestone.RESOLVED: T0 + timedelta(minutes=12),
    }


def test_a_look_before_the_declaration_is_the_detection_and_a_reopening_undoes_the_resolution() -> None:
    def at(minutes: int, kind: str, **data: object) -> Event:
        return Event(T0 + timedelta(minutes=minutes), "alice", kind, dict(data))

    timeline = [
        at(0, EventKind.DECLARED, id="INC-2026-001", title="x", severity="P2", status="investigating", components=[]),
        at(5, EventKind.STATUS_CHANGED, to="monitoring"),
        at(8, EventKind.STATUS_CHANGED, to="resolved"),
        at(20, EventKind.STATUS_CHANGED, **{"from": "resolved", "to": "investigating"}),
        at(30, EventKind.STATUS_CHANGED, to="resolved"),
    ]
    reached = events.milestones(timeline)
    assert reached[Milestone.RESOLVED] == T0 + timedelta(minutes=30)
    assert reached[Milestone.MITIGATED] == T0 + timedelta(minutes=30)  # resolved without monitoring again
    assert Milestone.ACKNOWLEDGED not in reached

    earlier = [Event(T0 - timedelta(minutes=3), "bot", DETECTED, {"health": "down"}), *timeline]
    assert events.milestones(earlier)[Milestone.DETECTED] == T0 - timedelta(minutes=3)


def test_a_healthy_look_detects_nothing() -> None:
    look = Event(T0, "bot", DETECTED, {"health": "ok"})
    assert events.milestones([look]) == {}


def test_every_registered_kind_reads_in_the_timeline() -> None:
    for kind, spec in events.REGISTRY.items():
        assert spec.kind == kind
        text = describe(Event(T0, "alice", kind, {}))
        assert text, kind
        assert "{" not in text, kind  # its own words, not the generic dump of its data


def test_the_incident_model_loads_without_the_registry_s_pydantic() -> None:
    """``incidentctl --help`` imports the incident model; the payload models (pydantic) wait for the first event."""
    import subprocess
    import sys

    code = (
        "import sys; import incidentctl.core.incident as m; "
        "assert 'pydantic' not in sys.modules, 'pydantic'; "
        "assert m.EventKind.NOTE == 'note'; assert 'incidentctl.core.events' in sys.modules"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
