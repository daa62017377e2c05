"""``one_line``'s shortcut for printable text gives what the full treatment gives, for every character."""

from __future__ import annotations

import re

from incidentctl.core.text import LINE_BREAK_MARK, for_terminal, one_line


def full(text: str) -> str:
    lines = re.split(r"[ \t]*\n\s*", for_terminal(text).replace("\t", " ").strip("\n"))
    return LINE_BREAK_MARK.join(lines)


def test_every_character_of_the_basic_plane_and_beyond() -> None:
    for code in [*range(0x10000), 0x1F600, 0xE0001, 0x10FFFD]:
        if 0xD800 <= code <= 0xDFFF:
            continue
        text = f"a {chr(code)} b"
        assert one_line(text) == full(text), hex(code)


def test_escape_sequences_still_go() -> None:
    assert one_line("\x1b]0;pwned\x07\x1b[2Jok") == "ok"
    assert one_line("ERROR boom") == "ERROR boom"
