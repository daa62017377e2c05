"""The post-mortem harness: the repository's runbook, a temporary journal and a clock the test moves (the
communicate harness, :mod:`tests.communicate.harness`, with one webhook channel that nothing here sends to), and
helpers that walk an incident through its life at the times the test chooses."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from tests.communicate.harness import Comms

from incidentctl.core.incident import Event, Incident
from incidentctl.journal.store import Journal


class Postmortems(Comms):
    def __init__(self, root: Path) -> None:
        super().__init__(root, {"hook": {"kind": "webhook", "url": {"env": "HOOK_URL"}}}, {"HOOK_URL": HOOK})

    def at(self, text: str) -> None:
        """Move the clock to an RFC 3339 time."""
        self.clock.now = at(text)

    def fails(self, *args: str, code: int) -> str:
        """Run a command that must fail with ``code``; its stderr (one line, no traceback)."""
        result = self.run(*args)
        assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
        return result.stderr

    def resolve(self, incident: str) -> None:
        self.ok("incident", "status", incident, "resolved")

    def reopen(self, incident: str) -> None:
        self.ok("incident", "status", incident, "investigating")

    def journal(self) -> Journal:
        journal = self.state().journal()
        assert isinstance(journal, Journal)
        return journal

    def incident(self, incident: str) -> Incident:
        return self.journal().get(incident)

    def events(self, incident: str) -> list[Event]:
        return self.journal().timeline(incident)

    def kinds(self, incident: str, kind: str) -> list[dict[str, Any]]:
        return [e["data"] for e in self.timeline(incident) if e["kind"] == kind]


HOOK = "https://hooks.example.com/postmortem"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def just_before(moment: datetime) -> datetime:
    return moment - timedelta(seconds=1)
