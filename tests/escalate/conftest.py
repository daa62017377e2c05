"""The escalate tests' fixtures; the harness itself is :mod:`tests.escalate.harness`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.escalate.harness import Escalations

HOOK = "https://hooks.example.com/escalations/T0KEN-s3cr3t"


@pytest.fixture
def escalations_factory(tmp_path: Path) -> Callable[..., Escalations]:
    def make(
        channels: dict[str, Any] | None = None,
        env: dict[str, str] | None = None,
        notify: dict[str, list[str]] | None = None,
    ) -> Escalations:
        chosen = channels or {"hook": {"kind": "webhook", "url": {"env": "HOOK_URL"}}}
        return Escalations(tmp_path, chosen, {"HOOK_URL": HOOK, **(env or {})}, notify)

    return make


@pytest.fixture
def esc(escalations_factory: Callable[..., Escalations]) -> Escalations:
    """No level tells anyone: the tests of the rules alone."""
    return escalations_factory()
