"""Text from people and from the cluster, made safe to show: the one place every output goes through.

Titles, summaries, notes, actors, component names, pod names, log lines, event messages and HTTP bodies are stored
exactly as given (the journal is evidence) and neutralised only when they are shown: on a terminal, in a table
row, in a markdown line, and later in Slack messages and email headers. A title like ``"\\x1b]0;pwned\\x07\\x1b[2J
Gateway slow"`` must not set the window title or clear the screen of the responder reading it, and a note with a
newline must not forge a second timeline line.

The characters neutralised ("unsafe"):

- C0 controls U+0000-U+001F (ESC, BEL, backspace, CR, ...), DEL U+007F and C1 controls U+0080-U+009F (U+009B is
  a one-character CSI to many terminals);
- whole terminal escape sequences: CSI ``ESC [ ... final``, OSC ``ESC ] ... BEL|ST``, DCS/SOS/PM/APC ``... ST``,
  and the two-character ``ESC x`` forms (their 8-bit C1 forms too). They are instructions to the terminal
  (colours in a pod's log, a window title in a hostile title), not text, so they are dropped whole;
- bidirectional controls U+061C, U+200E, U+200F, U+202A-U+202E and U+2066-U+2069, which reorder what is shown
  ("Trojan Source");
- zero-width and invisible formatting characters U+200B-U+200D, U+2060-U+2064 and U+FEFF, which hide text or make
  two different names look the same;
- line breaks other than ``\\n``: CR, VT, FF, NEL U+0085, and the line/paragraph separators U+2028/U+2029.

Every other unsafe character stays visible as an escape (``\\x07``, ``\\u202e``): the responder sees that
something odd was there. Everything here is pure (no I/O), so it can be tested alone and reused by every channel.
"""

from __future__ import annotations

import re

#: Line breaks that terminals, editors or parsers honour besides ``\n`` (CRLF counts as one).
_LINE_BREAKS = re.compile("\r\n|[\r\v\f\x85\u2028\u2029]")

#: Escape sequences, 7-bit (ESC ...) and 8-bit (C1 introducer). An unterminated string runs to the end of the text:
#: a terminal would swallow the rest too.
_ESCAPE_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"  # CSI: parameters, intermediates, final byte
    r"|(?:\x1b[\]PX^_]|[\x9d\x90\x98\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC, DCS, SOS, PM, APC
    r"|\x1b[\x20-\x2f]*[\x30-\x7e]?"  # two-character (and nF) sequences, or a lone ESC
)

#: Every character in the class above; ``\t`` and ``\n`` are handled by each function.
UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2028\u2029\u2060-\u2064\u2066-\u2069\ufeff]"
)

#: What a line break looks like inside one line: visible, and unlike anything a person types.
LINE_BREAK_MARK = " ⏎ "

#: CommonMark inline syntax that user text could start: emphasis, code, links, autolinks and HTML, tables.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def for_terminal(text: str) -> str:
    """Text safe for a terminal; may span lines (``\\n``) and keep tabs. Escape sequences are dropped, any
    other unsafe character is shown as an escape, every kind of line break becomes ``\\n``."""
    text = _ESCAPE_SEQUENCE.sub("", text)
    text = _LINE_BREAKS.sub("\n", text)
    return UNSAFE.sub(_visible, text)


def one_line(text: str) -> str:
    """:func:`for_terminal`, on one line: for a table cell, a timeline line, a log line or a header. Line breaks
    become a visible mark (trailing ones are dropped), tabs a space.

    Text of printable characters only (``str.isprintable``: no control, format, separator or line-break
    character, so nothing of the unsafe class) is already one safe line and is returned as it is: the common case
    of a log line, checked in one C pass instead of four regular expressions."""
    if text.isprintable():
        return text
    lines = re.split(r"[ \t]*\n\s*", for_terminal(text).replace("\t", " ").strip("\n"))
    return LINE_BREAK_MARK.join(lines)


def for_markdown(text: str) -> str:
    """:func:`one_line`, with markdown's inline syntax escaped: user text reads as written inside a markdown
    list item or table cell and cannot add links, images, HTML, emphasis or table columns."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", one_line(text))


def has_unsafe(text: str) -> bool:
    """Whether ``text`` holds a character of the class above (``\\t`` and ``\\n`` are safe)."""
    return UNSAFE.search(text) is not None


def name_key(text: str) -> str:
    """A name as a key a person may spell loosely: lower case, words joined by single spaces
    (``Security incident`` and ``security-incident`` are one key), for looking a runbook entry up by its name."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.casefold()).split())
