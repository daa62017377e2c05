"""The communicate tests' fixtures; the harness itself is :mod:`tests.communicate.harness`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.communicate.harness import Comms


@pytest.fixture
def comms_factory(tmp_path: Path) -> Callable[..., Comms]:
    def make(channels: dict[str, Any], env: dict[str, str] | None = None) -> Comms:
        return Comms(tmp_path, channels, env)

    return make
