"""The post-mortem tests' fixtures; the harness itself is :mod:`tests.postmortem.harness`."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.postmortem.harness import Postmortems


@pytest.fixture
def pm(tmp_path: Path) -> Postmortems:
    return Postmortems(tmp_path)
