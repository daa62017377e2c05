"""The response metrics of one incident, exact to the second, from journals with known times."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.core.metrics_journal import Record, at


def test_a_resolved_incident_has_every_response_metric(tmp_path: Path) -> None:
    rec = Record(tmp_path)
    inc = rec.declare(at(10), started_at=at(0))
    rec.acknowledged(inc, at(14))
    rec.status(inc, at(40), "monitoring")
    rec.status(inc, at(55), "resolved")

    m = rec.measure(inc, now=at(120))

    assert m.durations == {
        "mttd": timedelta(minutes=10),
        "mtta": timedelta(minutes=4),
        "mttr": timedelta(minutes=45),
        "mttrec": timedelta(minutes=40),
    }
    assert (m.impact.start, m.impact.end) == (at(0), at(40))
    assert m.problems == []
