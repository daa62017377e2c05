"""Every option that takes a duration reads it in the same grammar, and refuses the same junk the same way."""

from __future__ import annotations

import pytest
from tests.conftest import Invoke

COMMANDS = [
    ["detect", "--since"],
    ["triage", "--since"],
    ["incident", "list", "--since"],
    ["incident", "declare", "-t", "Gateway slow", "-s", "P2", "--started-at"],
]
IDS = [" ".join(c) for c in COMMANDS]


@pytest.mark.parametrize("value", ["90s", "1.5h", "500ms", "1h 30m", "2w", "1w2d3h4m5s", "0"])
@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_every_spelling_of_the_grammar_is_accepted_everywhere(invoke: Invoke, command: list[str], value: str) -> None:
    result = invoke([*command, value])
    option = command[-1]
    # detect and triage go on to look for a cluster (there is none here); the option itself was read.
    assert option not in result.stderr, result.stderr
    assert "duration" not in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("\u0663m", "digits 0-9"),  # ARABIC-INDIC DIGIT THREE: not three minutes
        ("\uff11h", "digits 0-9"),  # FULLWIDTH DIGIT ONE
        ("30m1h", "largest to smallest"),
        ("1h1h", "largest to smallest"),
        ("-5m", "negative"),
        ("24H", "lower case"),
        ("1y", "unknown unit 'y'"),
        ("30", "needs a unit"),
        ("0.0000001s", "microsecond"),
        ("9" * 5000 + "s", "10 years"),
    ],
)
@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_junk_is_one_usage_error_line_everywhere(invoke: Invoke, command: list[str], value: str, says: str) -> None:
    result = invoke([*command, value])
    assert result.exit_code == 2, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"error: {command[-1]}"), lines
    assert says in lines[0], lines
    assert "Traceback" not in result.stderr
