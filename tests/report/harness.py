"""A journal with known times for the report tests, written into the ``workdir`` the ``invoke`` fixture runs in
(the runbook's default journal folder, ``incidents/`` beside runbook.yaml), and the CLI run at a time the test
names."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from tests.conftest import Invoke
from typer.testing import Result

from incidentctl.cli.state import AppState
from incidentctl.core.events import EventKind
from incidentctl.core.incident import Declaration
from incidentctl.journal.store import Journal

NOW = datetime(2026, 3, 31, 12, 0, tzinfo=timezone.utc)


def ago(**delta: float) -> datetime:
    return NOW - timedelta(**delta)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class History:
    """Incidents written at the times a test chooses."""

    def __init__(self, workdir: Path, invoke: Invoke) -> None:
        self.clock = Clock(NOW)
        self.journal = Journal(workdir / "incidents", clock=self.clock, actor="alice")
        self._invoke = invoke

    def declare(self, when: datetime, severity: str = "P2", **fields: Any) -> str:
        self.clock.now = when
        fields.setdefault("title", "Gateway returns 502")
        return self.journal.declare(Declaration(severity=severity, **fields)).id

    def add(self, incident_id: str, when: datetime, kind: str, **data: Any) -> None:
        self.clock.now = when
        self.journal.append(incident_id, kind, data)

    def worked(
        self,
        start: datetime,
        *,
        severity: str = "P2",
        detect: float = 5,
        ack: float = 2,
        mitigate: float | None = None,
        resolve: float | None = 60,
        **fields: Any,
    ) -> str:
        """An incident whose impact started at ``start``, detected and declared ``detect`` minutes later,
        acknowledged ``ack`` minutes after that, resolved ``resolve`` minutes after detection (None: still open)."""
        detected = start + timedelta(minutes=detect)
        fields.setdefault("started_at", start)
        incident = self.declare(detected, severity, **fields)
        self.add(incident, detected, EventKind.DETECTED, health="down", summary="gateway down")
        self.add(incident, detected + timedelta(minutes=ack), EventKind.ACKNOWLEDGED)
        if mitigate is not None:  # a fix in place, being watched: the runbook's "monitoring" marks it mitigated
            self.add(incident, detected + timedelta(minutes=mitigate), EventKind.STATUS_CHANGED, to="monitoring")
        if resolve is not None:
            self.add(incident, detected + timedelta(minutes=resolve), EventKind.STATUS_CHANGED, to="resolved")
        return incident

    def run(self, *args: str, now: datetime = NOW) -> Result:
        return self._invoke(list(args), state=AppState(clock=Clock(now)))

    def json(self, *args: str, now: datetime = NOW, code: int = 0) -> dict[str, Any]:
        result = self.run(*args, "-o", "json", now=now)
        assert result.exit_code == code, result.output
        document: dict[str, Any] = json.loads(result.stdout)
        data: dict[str, Any] = document["data"]
        return data
