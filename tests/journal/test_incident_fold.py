"""The incident is whatever its timeline folds to; these are the folding rules and what commands may record."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from incidentctl.core.incident import (
    Catalogue,
    Damage,
    Declaration,
    Event,
    Incident,
    IncidentStatus,
    TimelineError,
    check_declaration,
    fold,
    format_incident_id,
    format_timestamp,
    normalize_category,
    normalize_components,
    normalize_incident_id,
    normalize_severity,
    parse_timestamp,
    recover,
    replay,
    should_acknowledge,
    should_change_severity,
    should_change_status,
)
from incidentctl.errors import UsageError

T0 = datetime(2026, 3, 14, 14, 30, tzinfo=timezone.utc)

CATALOGUE = Catalogue(
    severities={"P1": "Critical", "P2": "High", "P3": "Medium", "P4": "Low"},
    categories={"infrastructure": ["network", "database"], "security": ["authentication"]},
    components=["gateway", "retrieval", "synthesis"],
)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def ev(minutes: int, kind: str, actor: str = "alice", **data: Any) -> Event:
    return Event(time=at(minutes), actor=actor, kind=kind, data=data)


def declared(**overrides: Any) -> Event:
    data: dict[str, Any] = {
        "id": "INC-2026-004",
        "title": "Database connection failure",
        "severity": "P1",
        "status": "investigating",
        "components": ["gateway", "retrieval"],
    }
    data.update(overrides)
    return Event(time=T0, actor="alice", kind="declared", data=data)


def test_a_declaration_alone_is_an_open_investigation() -> None:
    incident = fold([declared(category="infrastructure/database", commander="carol")])
    assert incident.id == "INC-2026-004"
    assert incident.status is IncidentStatus.INVESTIGATING
    assert incident.is_open
    assert incident.components == ("gateway", "retrieval")
    assert incident.category == "infrastructure/database"
    assert incident.commander == "carol"
    assert incident.declared_by == "alice"
    assert incident.declared_at == incident.started_at == incident.updated_at == T0
    assert (incident.acknowledged_at, incident.resolved_at) == (None, None)
    assert (incident.notes, incident.events) == (0, 1)


def test_started_at_records_when_the_impact_began() -> None:
    incident = fold([declared(started_at="2026-03-14T14:05:00Z")])
    assert incident.started_at == T0 - timedelta(minutes=25)
    assert incident.declared_at == T0


def test_notes_are_counted_and_move_updated_at() -> None:
    incident = fold([declared(), ev(3, "note", text="restarted gateway"), ev(9, "note", text="no change")])
    assert incident.notes == 2
    assert incident.events == 3
    assert incident.updated_at == at(9)


def test_only_the_first_acknowledgement_counts() -> None:
    incident = fold([declared(), ev(4, "acknowledged", actor="bob"), ev(6, "acknowledged", actor="carol")])
    assert incident.acknowledged_at == at(4)
    assert incident.acknowledged_by == "bob"


def test_resolving_sets_resolved_at_and_reopening_clears_it() -> None:
    events = [
        declared(),
        ev(10, "status_changed", **{"from": "investigating", "to": "identified"}),
        ev(40, "status_changed", **{"from": "identified", "to": "resolved"}),
    ]
    resolved = fold(events)
    assert resolved.status is IncidentStatus.RESOLVED
    assert not resolved.is_open
    assert resolved.resolved_at == at(40)

    reopened = fold([*events, ev(55, "status_changed", **{"from": "resolved", "to": "investigating"})])
    assert reopened.is_open
    assert reopened.resolved_at is None
    assert reopened.reopened == 1

    again = fold([*events, ev(55, "status_changed", to="monitoring"), ev(70, "status_changed", to="resolved")])
    assert again.resolved_at == at(70)
    assert again.reopened == 1


def test_severity_changes_are_folded() -> None:
    incident = fold([declared(), ev(5, "severity_changed", **{"from": "P1", "to": "P2"})])
    assert incident.severity == "P2"


def test_unknown_kinds_are_skipped_but_counted() -> None:
    """A journal written by a newer incidentctl (with kinds such as 'mitigation') still folds."""
    incident = fold([declared(), ev(7, "mitigation", action="rollback", deployment="gateway"), ev(8, "note")])
    assert incident.status is IncidentStatus.INVESTIGATING
    assert incident.events == 3
    assert incident.notes == 1
    assert incident.updated_at == at(8)


@pytest.mark.parametrize(
    ("events", "index", "fragment"),
    [
        ([], 0, "empty"),
        ([ev(0, "note", text="hi")], 0, "not 'declared'"),
        ([declared(), ev(1, "declared", id="INC-2026-004")], 1, "declared a second time"),
        ([declared(), ev(1, "status_changed", to="fixed")], 1, "'fixed' is not an incident status"),
        ([declared(title="")], 0, "'title'"),
        ([declared(started_at="yesterday")], 0, "started_at"),
    ],
)
def test_timelines_that_cannot_be_replayed_say_which_event(events: list[Event], index: int, fragment: str) -> None:
    with pytest.raises(TimelineError) as caught:
        fold(events)
    assert caught.value.index == index
    assert fragment in str(caught.value)


def _replay(*events: Event) -> Incident | None:
    """What a reader does: every event that can be replayed, and the state before any that cannot."""
    incident: Incident | None = None
    for event in events:
        try:
            incident = replay(incident, event, incident_id="INC-2026-004")
        except TimelineError:
            continue
    return incident


def test_a_damaged_timeline_with_its_declaration_folds_the_readable_events() -> None:
    folded = _replay(declared(), ev(1, "status_changed", to="fixed"), ev(2, "acknowledged"), ev(3, "note"))
    problem = Damage("INC-2026-004/timeline.jsonl:2", "cannot replay")
    incident = recover("INC-2026-004", folded, [problem], snapshot=None, since=at(9))
    assert (incident.damaged, incident.problems, incident.state_from) == (True, (problem,), "timeline")
    assert (incident.title, incident.acknowledged_at, incident.notes) == ("Database connection failure", at(2), 1)


def test_a_timeline_without_its_declaration_uses_the_snapshot_as_it_is() -> None:
    """The snapshot was written after the last append: replaying the events again would count them twice."""
    snapshot = _incident(ev(1, "note"), ev(2, "note"))
    folded = _replay(ev(1, "note"), ev(2, "note"))
    incident = recover("INC-2026-004", folded, [Damage("x", "y")], snapshot=snapshot, since=at(9))
    assert (incident.state_from, incident.title, incident.notes) == ("snapshot", snapshot.title, 2)


def test_without_declaration_or_snapshot_the_events_replay_onto_an_open_placeholder() -> None:
    folded = _replay(ev(3, "acknowledged", actor="bob"), ev(4, "severity_changed", to="P1"))
    incident = recover("INC-2026-004", folded, [Damage("x", "y")], snapshot=None, since=at(9))
    assert incident.state_from == "events"
    assert incident.status is IncidentStatus.INVESTIGATING  # unknown is open, never resolved
    assert (incident.declared_at, incident.acknowledged_by, incident.severity) == (at(3), "bob", "P1")
    nothing = recover("INC-2026-004", None, [Damage("x", "y")], snapshot=None, since=at(9))
    assert (nothing.declared_at, nothing.is_open, nothing.damaged) == (at(9), True, True)


def test_the_id_is_always_the_folders() -> None:
    folded = _replay(declared(id="INC-2026-001"))
    assert recover("INC-2026-004", folded, [Damage("x", "y")], since=at(9)).id == "INC-2026-004"


def _incident(*events: Event) -> Incident:
    return fold([declared(), *events])


def test_acknowledging_twice_records_nothing_the_second_time() -> None:
    assert should_acknowledge(_incident()) is True
    assert should_acknowledge(_incident(ev(1, "acknowledged"))) is False


def test_acknowledging_a_resolved_incident_is_refused_with_a_way_out() -> None:
    with pytest.raises(UsageError) as caught:
        should_acknowledge(_incident(ev(1, "status_changed", to="resolved")))
    assert "resolved" in caught.value.message
    assert caught.value.hint is not None
    assert "incident status INC-2026-004 investigating" in caught.value.hint


def test_status_changes_are_recorded_unless_already_there() -> None:
    incident = _incident(ev(1, "status_changed", to="resolved"))
    assert should_change_status(incident, IncidentStatus.RESOLVED) is False
    assert should_change_status(incident, IncidentStatus.INVESTIGATING) is True  # reopening is allowed
    assert should_change_severity(incident, "P1") is False
    assert should_change_severity(incident, "P2") is True


def test_severity_accepts_the_level_or_its_name_in_any_case() -> None:
    assert normalize_severity("p2", CATALOGUE) == "P2"
    assert normalize_severity("Critical", CATALOGUE) == "P1"
    with pytest.raises(UsageError) as caught:
        normalize_severity("P5", CATALOGUE)
    assert (
        caught.value.message == "unknown severity 'P5'; the runbook defines P1 (Critical), P2 (High), "
        "P3 (Medium), P4 (Low)"
    )


def test_category_and_kind_must_both_be_in_the_runbook() -> None:
    assert normalize_category("infrastructure", CATALOGUE) == "infrastructure"
    assert normalize_category("Infrastructure/Database", CATALOGUE) == "infrastructure/database"
    with pytest.raises(UsageError, match="unknown category 'infra'; the runbook defines infrastructure, security"):
        normalize_category("infra", CATALOGUE)
    with pytest.raises(UsageError, match="choose infrastructure/network, infrastructure/database"):
        normalize_category("infrastructure/dns", CATALOGUE)


def test_components_are_checked_deduplicated_and_may_be_comma_separated() -> None:
    assert normalize_components(["gateway,retrieval", "gateway"], CATALOGUE) == ("gateway", "retrieval")
    with pytest.raises(UsageError, match="unknown component 'db'; the runbook defines gateway, retrieval, synthesis"):
        normalize_components(["db"], CATALOGUE)


def test_incident_ids_are_zero_padded_and_read_forgivingly() -> None:
    assert format_incident_id(2026, 4) == "INC-2026-004"
    assert format_incident_id(2026, 1234) == "INC-2026-1234"
    assert normalize_incident_id("inc-2026-4") == "INC-2026-004"
    for bad in ("INC-26-004", "2026-004", "INC-2026-000", "INC-2026-004x"):
        with pytest.raises(UsageError, match="not an incident id"):
            normalize_incident_id(bad)


def test_timestamps_are_rfc3339_utc_and_naive_times_are_refused() -> None:
    assert format_timestamp(T0) == "2026-03-14T14:30:00Z"
    assert parse_timestamp("2026-03-14T16:30:00+02:00") == T0
    assert parse_timestamp(format_timestamp(T0 + timedelta(microseconds=5))) == T0 + timedelta(microseconds=5)
    with pytest.raises(ValueError, match="no time zone"):
        parse_timestamp("2026-03-14T14:30:00")


def test_a_declaration_needs_a_title_and_an_impact_start_in_the_past() -> None:
    check_declaration(Declaration(title="DB down", severity="P1", started_at=at(-5)), now=T0)
    with pytest.raises(UsageError, match="title is empty"):
        check_declaration(Declaration(title="  ", severity="P1"), now=T0)
    with pytest.raises(UsageError, match="in the future"):
        check_declaration(Declaration(title="DB down", severity="P1", started_at=at(5)), now=T0)


def test_the_declared_event_carries_only_what_was_given() -> None:
    data = Declaration(title="DB down", severity="P1", components=("gateway",), started_at=at(-5)).event_data(
        "INC-2026-004"
    )
    assert data == {
        "id": "INC-2026-004",
        "title": "DB down",
        "severity": "P1",
        "status": "investigating",
        "components": ["gateway"],
        "started_at": "2026-03-14T14:25:00Z",
    }
    assert fold([Event(T0, "alice", "declared", data)]).started_at == at(-5)
