"""Shared fixtures: the repository's runbook, an isolated journal, and a CLI runner with injected state."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from incidentctl.cli.app import app
from incidentctl.cli.state import AppState

REPO = Path(__file__).resolve().parents[1]
RUNBOOK = REPO / "runbook.yaml"


@pytest.fixture
def runbook_text() -> str:
    return RUNBOOK.read_text(encoding="utf-8")


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A folder holding a copy of the real runbook (templates resolve from the bundled ones)."""
    (tmp_path / "runbook.yaml").write_text(RUNBOOK.read_text(encoding="utf-8"), encoding="utf-8")
    return tmp_path


Invoke = Callable[..., Result]


@pytest.fixture
def invoke(workdir: Path) -> Invoke:
    """Run the CLI in-process, in ``workdir``, with a clean environment (no inherited runbook or actor)."""

    def run(
        args: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        state: AppState | None = None,
        input: str | None = None,
    ) -> Result:
        st = state or AppState()
        st.cwd = st.cwd or workdir
        st.env = {"INCIDENTCTL_ACTOR": "tester", **(env or {})}
        return CliRunner().invoke(app, list(args), obj=st, input=input)

    return run
