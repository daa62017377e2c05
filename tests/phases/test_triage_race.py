"""Two people triaging one incident at once: every decision that depends on what the journal records is made on
the journal as it is at the moment of writing, not as it was read before detect ran."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.conftest import RUNBOOK
from tests.core import results as R
from tests.phases.test_triage_records import NOW, p2_results, report, triage

from incidentctl.core.incident import Event, Incident
from incidentctl.journal.base import AppendResult
from incidentctl.journal.store import Journal
from incidentctl.phases.recording import record_detection
from incidentctl.runbook.loader import load_runbook
from incidentctl.runbook.model import Runbook


@pytest.fixture
def rb(tmp_path: Path) -> Runbook:
    """The SarvanOM runbook with one rule that depends on the journal's memory: errors above 10% for 15m are P1."""
    data: dict[str, Any] = yaml.safe_load(RUNBOOK.read_text(encoding="utf-8"))
    sustained = {
        "id": "p1-errors-sustained",
        "severity": "P1",
        "description": "Error rates > 10% for 15 minutes",
        "when": [{"signal": "error_rate", "op": ">", "threshold": "10%", "for": "15m"}],
    }
    data["triage"]["rules"].insert(0, sustained)
    path = tmp_path / "runbook.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return load_runbook(path)


class Meanwhile(Journal):
    """A journal where someone else writes just before this one's first guarded append: what a second engineer
    does while this triage is between its reads and its write."""

    def __init__(self, directory: Path, *, clock: Callable[[], datetime], actor: str) -> None:
        super().__init__(directory, clock=clock, actor=actor)
        self.meanwhile: Callable[[], None] | None = None

    def append_if_timeline(
        self,
        incident_id: str,
        kind: str,
        decide: Callable[[Incident, Sequence[Event]], Mapping[str, Any] | None],
        *,
        event_id: str | None = None,
    ) -> AppendResult:
        hook, self.meanwhile = self.meanwhile, None
        if hook is not None:
            hook()
        return super().append_if_timeline(incident_id, kind, decide, event_id=event_id)


def test_a_severity_raised_on_a_streak_that_broke_meanwhile_is_re_decided(rb: Runbook, tmp_path: Path) -> None:
    """alice's triage read the timeline: errors above 10% since her first triage 16 minutes ago, so P1. Before she
    wrote, bob's detect saw the error rate back under 10% and recorded it: the streak the P1 stood on is broken.
    Decided again on what the journal holds when alice writes, the incident stays P2."""
    now = [NOW]
    alice = Meanwhile(tmp_path / "incidents", clock=lambda: now[0], actor="alice")
    first = triage(rb, alice, report(rb, p2_results()))
    assert first.incident is not None
    assert first.incident.severity == "P2"

    def bob_sees_it_recover() -> None:
        bob = Journal(alice.directory, clock=lambda: NOW + timedelta(minutes=15), actor="bob")
        assert first.incident is not None
        assert record_detection(rb, report(rb, R.healthy()), bob, first.incident.id).event is not None

    now[0] = NOW + timedelta(minutes=16)
    alice.meanwhile = bob_sees_it_recover
    later = triage(rb, alice, report(rb, p2_results()), now=now[0])

    assert later.severity is not None
    assert (later.severity.action, later.severity.severity) == ("unchanged", "P2")
    assert later.triage.decided_by == "p2-error-rate"
    assert alice.get(first.incident.id).severity == "P2"


def test_without_anyone_else_the_streak_raises_the_severity(rb: Runbook, tmp_path: Path) -> None:
    """The same triage with nobody writing meanwhile: 16 minutes above 10% is the P1 the rule says."""
    journal = Journal(tmp_path / "incidents", clock=lambda: NOW, actor="alice")
    first = triage(rb, journal, report(rb, p2_results()))
    assert first.incident is not None
    later_now = NOW + timedelta(minutes=16)
    later = triage(rb, journal, report(rb, p2_results()), now=later_now)
    assert later.severity is not None
    assert (later.severity.action, later.severity.severity) == ("raised", "P1")
    assert journal.get(first.incident.id).severity == "P1"
