"""The communicate harness (the ``comms_factory`` fixture is in conftest.py): the repository's runbook with the
channels a test names, a temporary journal, a clock the test moves, and ``Comms.run`` invoking the CLI in-process
as a responder would.

``Comms.stop_after_send(channel)`` makes the next delivery on that channel stop the process right after the
channel took the message and before the journal records it (a ``BaseException``, as a kill would: nothing after
it runs), so a test can see what the next flush does with a message in doubt.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner, Result

from incidentctl.cli.app import app
from incidentctl.cli.state import AppState

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 3, 14, 14, 30, tzinfo=timezone.utc)


class Killed(BaseException):
    """Stands for SIGKILL between sending and recording: not an Exception, so no handler records anything."""


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Comms:
    def __init__(self, root: Path, channels: dict[str, Any], env: dict[str, str] | None = None) -> None:
        self.root = root
        self.clock = Clock()
        self.env = {"INCIDENTCTL_ACTOR": "alice", **(env or {})}
        self.sleeps: list[float] = []
        self._stop_on: set[str] = set()
        data = yaml.safe_load((REPO / "runbook.yaml").read_text(encoding="utf-8"))
        data["communication"]["channels"] = channels
        names = set(channels)
        data["communication"]["audiences"] = {
            k: [c for c in v if c in names] for k, v in data["communication"]["audiences"].items()
        }
        data["communication"]["audiences"] = {k: v for k, v in data["communication"]["audiences"].items() if v}
        for level in data["severities"].values():
            level["notify"] = [c for c in level.get("notify", []) if c in names] or sorted(names)[:1]
        for step in data["escalation"]["levels"]:
            step["notify"] = [c for c in step.get("notify", []) if c in names]
        data["journal"] = {"dir": "incidents"}
        for template in data["communication"]["templates"]:
            data["communication"]["templates"][template] = str(REPO / data["communication"]["templates"][template])
        self.runbook_path = root / "runbook.yaml"
        self.runbook_path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")

    def state(self) -> AppState:
        return AppState(
            runbook_path=self.runbook_path,
            env=self.env,
            clock=self.clock,
            sleep=self.sleeps.append,
            cwd=self.root,
        )

    def run(self, *args: str) -> Result:
        state = self.state()
        if self._stop_on:
            context = state.phase_context(cluster=False)
            opener = context.adapters.channel
            stop_on = self._stop_on

            def opening(config: Any, deps: Any) -> Any:
                delivery = opener(config, deps)
                if deps.name not in stop_on:
                    return delivery
                stop_on.discard(deps.name)
                return _StopsAfterSend(delivery)

            state._context = dataclasses.replace(
                context, adapters=dataclasses.replace(context.adapters, channel=opening)
            )
        return CliRunner().invoke(app, list(args), obj=state)

    def ok(self, *args: str) -> Result:
        result = self.run(*args)
        assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
        return result

    def json(self, *args: str, code: int = 0) -> dict[str, Any]:
        result = self.run(*args, "-o", "json")
        assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
        document: dict[str, Any] = json.loads(result.stdout)
        return document

    def declare(self, title: str = "Gateway returns 502", severity: str = "P2") -> str:
        return self.ok("incident", "declare", "--title", title, "--severity", severity).stdout.strip()

    def stop_after_send(self, channel: str) -> None:
        self._stop_on.add(channel)

    def timeline(self, incident: str) -> list[dict[str, Any]]:
        lines = (self.root / "incidents" / incident / "timeline.jsonl").read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]


class _StopsAfterSend:
    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.can_tell = inner.can_tell

    def send(self, message: Any) -> Any:
        self._inner.send(message)
        raise Killed()

    def find(self, message: Any) -> Any:
        return self._inner.find(message)
