"""Mitigations against the sandbox, through the CLI: a sandbox per test, its runbook, an open incident, and a
state whose ``sleep`` moves the sandbox's clock (so a rollout that takes simulated minutes takes real seconds)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from tests.conftest import Invoke
from tests.phases.conftest import Site, site_for  # noqa: F401 - re-exported fixture
from typer.testing import Result

from incidentctl.cli.state import AppState
from incidentctl.sandbox.sandbox import Sandbox
from incidentctl.sandbox.testing import sandbox_factory  # noqa: F401 - re-exported fixture


def advancing(sb: Sandbox, **options: Any) -> AppState:
    """A state whose waits move the sandbox's simulated clock instead of sleeping."""
    return AppState(sleep=lambda seconds: sb.advance(max(seconds, 1.0)), **options)


@dataclass
class Drill:
    site: Site
    invoke: Invoke

    @property
    def sandbox(self) -> Sandbox:
        return self.site.sandbox

    def run(self, *args: str, state: AppState | None = None) -> Result:
        return self.invoke(self.site.args(*args), state=state or advancing(self.sandbox))

    def json(self, *args: str, state: AppState | None = None) -> tuple[int, dict[str, Any]]:
        result = self.run(*args, "-o", "json", state=state)
        return result.exit_code, json.loads(result.stdout)

    def declare(self, severity: str = "P2") -> str:
        result = self.run("incident", "declare", "--title", "drill", "--severity", severity, "-o", "json")
        assert result.exit_code == 0, result.output
        return str(json.loads(result.stdout)["data"]["id"])

    def timeline(self, incident: str) -> list[dict[str, Any]]:
        result = self.run("incident", "timeline", incident, "-o", "json")
        assert result.exit_code == 0, result.output
        return list(json.loads(result.stdout)["data"]["events"])

    def kinds(self, incident: str, prefix: str = "mitigation_") -> list[str]:
        return [e["kind"] for e in self.timeline(incident) if e["kind"].startswith(prefix)]


@pytest.fixture
def drill(invoke: Invoke, site_for: Callable[..., Site]) -> Callable[..., Drill]:  # noqa: F811
    def make(scenario: str = "healthy", **options: Any) -> Drill:
        return Drill(site_for(scenario, **options), invoke)

    return make


KINDS = ("deployments", "statefulsets", "configmaps", "pods", "ingresses", "services")


def resource_versions(sb: Sandbox, kinds: Sequence[str] = KINDS) -> dict[str, str]:
    """Every object's resourceVersion in the SarvanOM namespace, to prove a dry run changed nothing."""
    from incidentctl.sandbox import resources, world

    out: dict[str, str] = {}
    with sb.store.lock:
        for kind in kinds:
            rt = getattr(resources, kind.upper())
            for obj in sb.store.list(rt, world.NAMESPACE):
                out[f"{kind}/{obj['metadata']['name']}"] = obj["metadata"]["resourceVersion"]
    return out
