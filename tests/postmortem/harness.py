"""The post-mortem harness: the repository's runbook in a temporary folder, a journal written at known times by
several people (``Journal`` with each event's clock and actor), and ``Drafts.run`` invoking the CLI in-process.

``resolved_p1`` is an incident worked from declaration to resolution: detect and triage looks, an investigate run
whose evidence names a suspect rollout and a NEW error template, an escalation, a message, a rollback verified
healthy, tagged notes, a corrected impact start, action items and a completed review stage.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner, Result

from incidentctl.cli.app import app
from incidentctl.cli.state import AppState
from incidentctl.core.events import EventKind
from incidentctl.core.incident import Declaration
from incidentctl.journal.store import Journal

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 3, 14, 14, 30, tzinfo=timezone.utc)
GOLDEN = Path(__file__).resolve().parent / "golden"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class Drafts:
    def __init__(self, root: Path, env: dict[str, str] | None = None) -> None:
        self.root = root
        self.clock = Clock()
        self.env = {"INCIDENTCTL_ACTOR": "alice", **(env or {})}
        data = yaml.safe_load((REPO / "runbook.yaml").read_text(encoding="utf-8"))
        data["journal"] = {"dir": "incidents"}
        for name, relative in data["communication"]["templates"].items():
            data["communication"]["templates"][name] = str(REPO / relative)
        self.runbook_path = root / "runbook.yaml"
        self.runbook_path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        self.journal_dir = root / "incidents"

    def state(self) -> AppState:
        return AppState(runbook_path=self.runbook_path, env=self.env, clock=self.clock, cwd=self.root)

    def run(self, *args: str) -> Result:
        return CliRunner().invoke(app, list(args), obj=self.state())

    def draft(self, incident: str, *extra: str, code: int = 0) -> dict[str, Any]:
        result = self.run("postmortem", "draft", incident, *extra, "-o", "json")
        assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
        data: dict[str, Any] = json.loads(result.stdout)["data"]
        return data

    def journal(self, actor: str, minutes: float) -> Journal:
        at = T0 + timedelta(minutes=minutes)
        return Journal(self.journal_dir, clock=lambda: at, actor=actor)

    def declare(self, minutes: float = 0, actor: str = "alice", **fields: Any) -> str:
        declaration = Declaration(
            title=fields.pop("title", "Synthesis answers 502"),
            severity=fields.pop("severity", "P1"),
            components=tuple(fields.pop("components", ("gateway", "synthesis"))),
            **fields,
        )
        return self.journal(actor, minutes).declare(declaration).id

    def add(self, incident: str, minutes: float, kind: str, /, actor: str = "alice", **data: Any) -> None:
        self.journal(actor, minutes).append(incident, kind, data)

    def path(self, incident: str) -> Path:
        return self.journal_dir / incident / "postmortem.md"

    def at(self, minutes: float) -> None:
        self.clock.now = T0 + timedelta(minutes=minutes)


DAY = 24 * 60

SUSPECT = {
    "onsets": [],
    "onset": {"time": "2026-03-14T14:21:40Z", "source": "errors", "detail": "first NEW error template"},
    "suspect": {
        "kind": "rollout",
        "component": "synthesis",
        "time": "2026-03-14T14:20:05Z",
        "onset": "2026-03-14T14:21:40Z",
        "revision": 4,
        "previousRevision": 3,
        "images": [{"container": "synthesis", "image": "registry.example.com/sarvanom/synthesis:2.5.0"}],
        "changeCause": "deploy 2.5.0",
        "who": None,
        "configmap": None,
        "usedBy": [],
        "differences": [],
    },
    "reason": "rolled out 1m35s before the onset",
}

TEMPLATES = [
    {
        "pattern": "ERROR upstream <*> timed out after <*>ms",
        "count": 412,
        "baselineCount": 0,
        "status": "new",
        "firstSeen": "2026-03-14T14:21:40Z",
        "lastSeen": "2026-03-14T14:39:58Z",
        "pods": ["synthesis-7d9f-abcde", "synthesis-7d9f-fghij"],
        "example": "ERROR upstream retrieval timed out after 3000ms",
    },
    {
        "pattern": "WARN slow query <*>",
        "count": 3,
        "baselineCount": 2,
        "status": "steady",
        "firstSeen": "2026-03-14T14:01:00Z",
        "lastSeen": "2026-03-14T14:30:00Z",
        "pods": ["postgres-0"],
        "example": "WARN slow query 812ms",
    },
]


def write_evidence(drafts: Drafts, incident: str, folder: str) -> None:
    """What an investigate run keeps: the changes view's suspect and the errors view's templates."""
    base = drafts.journal_dir / incident / folder
    (base / "changes").mkdir(parents=True)
    (base / "errors").mkdir(parents=True)
    (base / "changes" / "suspect.json").write_text(json.dumps(SUSPECT, indent=2), encoding="utf-8")
    (base / "errors" / "templates.json").write_text(json.dumps(TEMPLATES, indent=2), encoding="utf-8")


def resolved_p1(d: Drafts) -> str:
    """A P1 from its first detection to its resolution and review, at known times (minutes after 14:30 UTC)."""
    inc = d.declare(0)
    d.add(
        inc,
        1,
        EventKind.DETECTED,
        actor="detect",
        health="down",
        subjects={"gateway": "down", "synthesis": "down"},
        failing={"http:gateway": "status"},
        summary="gateway down, synthesis down",
        problems=["gateway: HTTP 502"],
    )
    d.add(inc, 2, EventKind.ACKNOWLEDGED, actor="bob")
    d.add(inc, 3, EventKind.ROLES_ASSIGNED, commander="carol", tech_lead="dave")
    d.add(
        inc,
        5,
        EventKind.TRIAGED,
        actor="bob",
        health="down",
        subjects={"gateway": "down", "synthesis": "down"},
        severity="P1",
        users_affected=1.0,
        summary="P1: complete outage",
    )
    write_evidence(d, inc, "evidence/20260314T144000Z-all")
    d.add(
        inc,
        10,
        EventKind.EVIDENCE_COLLECTED,
        actor="dave",
        folder="evidence/20260314T144000Z-all",
        views=["changes", "errors"],
        files=2,
        bytes=2048,
        findings=["synthesis revision 4, image synthesis:2.5.0, rolled out 14:20; errors began 14:21"],
    )
    d.add(inc, 12, EventKind.ESCALATED, actor="carol", level="L3", role="Engineering Manager", reason="P1 outage")
    d.add(
        inc,
        13,
        EventKind.MESSAGES_QUEUED,
        batch="update-1",
        kind="update",
        messages=[{"key": "k1", "channel": "ops-email", "channel_kind": "email", "subject": "[P1] update"}],
    )
    d.add(inc, 13.5, EventKind.MESSAGE_SENT, key="k1", channel="ops-email")
    d.add(inc, 15, EventKind.STATUS_CHANGED, actor="dave", **{"from": "investigating", "to": "identified"})
    d.add(
        inc,
        16,
        EventKind.MITIGATION_PLANNED,
        actor="dave",
        id="M1",
        action="rollback",
        summary="roll synthesis back to revision 3",
        targets=["deployment/synthesis"],
    )
    d.add(inc, 17, EventKind.MITIGATION_APPLIED, actor="dave", id="M1", summary="roll synthesis back to revision 3")
    d.add(
        inc,
        20,
        EventKind.MITIGATION_VERIFIED,
        actor="dave",
        id="M1",
        healthy=True,
        components=["gateway", "synthesis"],
    )
    d.add(inc, 21, EventKind.STATUS_CHANGED, actor="dave", **{"from": "identified", "to": "monitoring"})
    d.add(inc, 22, EventKind.NOTE, actor="dave", text="synthesis 2.5.0 halved the upstream timeout", tag="root-cause")
    d.add(inc, 40, EventKind.STATUS_CHANGED, actor="carol", **{"from": "monitoring", "to": "resolved"})
    d.add(inc, 45, EventKind.NOTE, actor="carol", text="the canary saw no traffic to the slow upstream", tag="lesson")
    d.add(inc, 46, EventKind.NOTE, actor="carol", text="release on a Friday afternoon", tag="contributing-factor")
    d.add(inc, 47, EventKind.NOTE, actor="dave", text="rolled back; 2.5.1 restores the timeout", tag="resolution")
    d.add(
        inc,
        50,
        EventKind.CORRECTED,
        actor="carol",
        started_at="2026-03-14T14:21:40Z",
        was_started_at="2026-03-14T14:30:00Z",
        reason="errors began at the rollout",
    )
    d.add(
        inc,
        60,
        EventKind.ACTION_ADDED,
        actor="carol",
        id="A1",
        text="Canary the upstream path",
        owner="dave",
        due="2026-03-21",
        area="technical/Testing",
    )
    d.add(
        inc,
        61,
        EventKind.ACTION_ADDED,
        actor="carol",
        id="A2",
        text="Page on timeout changes",
        owner="erin",
        due="2026-03-16",
    )
    d.add(inc, 20 * 60, EventKind.REVIEW_COMPLETED, actor="carol", stage="immediate-review")
    d.add(inc, 2 * DAY, EventKind.ACTION_DONE, actor="dave", id="A1", note="canary covers it")
    return inc
