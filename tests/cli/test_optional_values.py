"""``--watch [SECONDS]``: a bare option gets its default; a number after it is its value; nothing else is eaten."""

from __future__ import annotations

import pytest

from incidentctl.cli.typercompat import with_optional_values

DEFAULTS = {"--watch": "10", "-w": "10"}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--watch"], ["--watch=10"]),
        (["-w"], ["-w10"]),
        (["--watch", "5"], ["--watch", "5"]),
        (["--watch", "2.5", "-o", "json"], ["--watch", "2.5", "-o", "json"]),
        (["--watch", "-o", "json"], ["--watch=10", "-o", "json"]),
        (["-w", "--component", "gateway"], ["-w10", "--component", "gateway"]),
        (["--watch=3"], ["--watch=3"]),
        (["-w3"], ["-w3"]),
        (["--since", "1h"], ["--since", "1h"]),
        (["--", "--watch"], ["--", "--watch"]),
    ],
)
def test_bare_options_get_their_default(args: list[str], expected: list[str]) -> None:
    assert with_optional_values(args, DEFAULTS) == expected
