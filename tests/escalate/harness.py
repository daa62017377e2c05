"""The escalate harness: the communicate harness's runbook, journal and clock (:mod:`tests.communicate.harness`),
with each escalation level's ``notify`` list pointed at the channels a test names, and looks recorded in the
journal the way detect records them (``detection_event`` of a report, appended only when new), at the times the
test's clock says."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml
from tests.communicate.harness import Comms

from incidentctl.core.checks import Health
from incidentctl.core.looks import DETECTED, detection_event
from incidentctl.core.report import DetectReport, SubjectStatus
from incidentctl.core.rules import SignalValue
from incidentctl.phases.recording import record_look

#: A healthy look: every signal the seed's rules use, at a harmless value.
CALM: dict[str, list[SignalValue]] = {
    "service_down": [SignalValue("service_down", "bool", False, "gateway")],
    "error_rate": [SignalValue("error_rate", "ratio", 0.01, "gateway", source="prometheus")],
    "response_time": [SignalValue("response_time", "seconds", 0.4, "gateway", source="prometheus")],
    "security_breach": [SignalValue("security_breach", "bool", False, None, source="declared by hand")],
}


class Escalations(Comms):
    def __init__(
        self,
        root: Path,
        channels: dict[str, Any],
        env: dict[str, str] | None = None,
        notify: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(root, channels, env)
        data = yaml.safe_load(self.runbook_path.read_text(encoding="utf-8"))
        for level in data["escalation"]["levels"]:
            level["notify"] = (notify or {}).get(level["id"], [])
        self.runbook_path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")

    def look(self, incident: str, **signals: list[SignalValue]) -> bool:
        """Record a detect run that saw ``signals`` (the rest calm) now; True when it was new, as detect does."""
        state = self.state()
        rb = state.runbook()
        seen = {**CALM, **signals}
        down = any(sv.value for sv in seen["service_down"])
        health = Health.DOWN if down else Health.OK
        report = DetectReport(
            namespace="sarvanom-production",
            server=None,
            started_at=self.clock.now,
            finished_at=self.clock.now,
            subjects=(SubjectStatus("gateway", "component", health, (), ("http:gateway",)),),
            results=(),
            signals=seen,
        )
        recorded = record_look(state.journal(), incident, DETECTED, detection_event(rb, report))
        return recorded.event is not None

    def check(self, incident: str | None = None, *extra: str, code: int) -> dict[str, Any]:
        args = ["escalate", "check", *([incident] if incident else []), *extra]
        document = self.json(*args, code=code)
        data: dict[str, Any] = document["data"]
        return data

    def rules(self, incident: str | None = None, *, code: int) -> dict[str, dict[str, Any]]:
        return {r["rule"]: r for r in self.check(incident, code=code)["assessment"]["rules"]}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)
