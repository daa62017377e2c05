"""A sandbox per test with the SarvanOM runbook pointed at it (short timeouts, so failures are quick)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.conftest import RUNBOOK, Invoke
from typer.testing import Result

from incidentctl.sandbox.sandbox import Sandbox
from incidentctl.sandbox.testing import sandbox_factory  # noqa: F401 - re-exported fixture


@dataclass
class Site:
    """A running sandbox and the runbook, kubeconfig and journal that point at it."""

    sandbox: Sandbox
    runbook: Path
    kubeconfig: Path
    journal: Path

    def args(self, *args: str) -> list[str]:
        return ["--runbook", str(self.runbook), "--kubeconfig", str(self.kubeconfig), *args]


def write_site(sb: Sandbox, directory: Path, *, timeout: str = "2s") -> Site:
    directory.mkdir(parents=True, exist_ok=True)
    kubeconfig = sb.write_kubeconfig(directory / "kubeconfig")
    rb: dict[str, Any] = yaml.safe_load(RUNBOOK.read_text())
    urls = sb.urls()
    for comp in rb["components"]:
        comp["health"] = {**comp.get("health", {}), "url": urls[f"health/{comp['name']}"], "timeout": timeout}
    for dep in rb["dependencies"]:
        dep["check"]["url"] = urls[f"deps/{dep['name']}"]
        dep["check"]["timeout"] = timeout
    rb["observability"]["prometheus"]["url"] = urls["prometheus"]
    rb["observability"]["alertmanager"]["url"] = urls["alertmanager"]
    rb["journal"]["dir"] = str(directory / "incidents")
    path = directory / "runbook.yaml"
    path.write_text(yaml.safe_dump(rb, sort_keys=False))
    return Site(sb, path, kubeconfig, directory / "incidents")


@pytest.fixture
def site_for(sandbox_factory: Callable[..., Sandbox], tmp_path: Path) -> Callable[..., Site]:  # noqa: F811
    def make(scenario: str = "healthy", **options: Any) -> Site:
        options.setdefault("dependency_hang", 3.0)
        options.setdefault("max_response_delay", 3.0)
        sb = sandbox_factory(scenario, **options)
        return write_site(sb, tmp_path / scenario)

    return make


def run(invoke: Invoke, site: Site, *args: str) -> Result:
    return invoke(site.args(*args))
