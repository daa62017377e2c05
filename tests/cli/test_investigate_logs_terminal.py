"""How ``investigate logs`` writes a line: a stable colour per pod on a terminal, plain when piped, and a log
line's control characters and escape sequences never reaching the terminal raw (in any output format)."""

from __future__ import annotations

import io
import json
import re

import pytest
from rich.console import Console

from incidentctl.phases.investigate.logs import LogSource, parse_lines
from incidentctl.render.formats import OutputFormat
from incidentctl.render.investigate_logs import PALETTE, LogWriter, fnv1_32, pod_colours
from incidentctl.render.printer import Printer

HOSTILE = (
    "2026-12-01T14:29:23.211442000Z \x1b]0;pwned\x07\x1b[2J\x1b[31mERROR\x1b[0m boom\x07 \u202eevil\rover\x9b6n\n"
    "2026-12-01T14:29:23.300000000Z ok\n"
)
SOURCE = LogSource("gateway", "gateway-7d9f-abcde", "gateway")
SGR = re.compile(r"\x1b\[[0-9;]*m")


def terminal() -> tuple[Printer, io.StringIO]:
    buffer = io.StringIO()
    console = Console(file=buffer, width=200, force_terminal=True, color_system="standard")
    return Printer(OutputFormat.TABLE, out=console, err=Console(file=io.StringIO())), buffer


def test_fnv1_is_gos_hash_fnv_new32() -> None:
    assert fnv1_32("") == 0x811C9DC5
    assert fnv1_32("a") == 0x050C5D7E
    assert fnv1_32("foobar") == 0x31F0B262


def test_a_pod_keeps_its_colour_and_pods_get_different_ones() -> None:
    pods = [f"gateway-7d9f-{suffix}" for suffix in ("abcde", "fghij", "klmno", "pqrst", "uvwxy", "z1234")]
    first = [pod_colours(p) for p in pods]
    assert first == [pod_colours(p) for p in pods]
    assert len(set(first)) > 1
    assert all(colours in PALETTE for colours in first)
    colours: list[str] = []
    for _ in range(2):  # two runs: the same escape code in front of the same pod
        printer, buffer = terminal()
        writer = LogWriter(printer)
        for line in parse_lines(SOURCE, "2026-12-01T14:29:23.211442000Z hello\n"):
            writer.line(line)
        colours.append(buffer.getvalue().split("gateway-7d9f-abcde")[0])
    assert colours[0] == colours[1]
    assert SGR.fullmatch(colours[0])


def test_a_log_line_never_reaches_the_terminal_raw() -> None:
    printer, buffer = terminal()
    writer = LogWriter(printer)
    for line in parse_lines(SOURCE, HOSTILE):
        writer.line(line)
    shown = buffer.getvalue()
    assert SGR.sub("", shown).count("\x1b") == 0  # only our own colours are escape sequences
    plain = SGR.sub("", shown)
    assert "pwned" not in plain
    assert "ERROR boom\\x07" in plain
    assert "\\u202e" in plain
    assert "\r" not in plain
    assert "\x9b" not in plain
    assert plain.count("\n") == 2  # a CR inside a line does not start another


@pytest.mark.parametrize("fmt", [OutputFormat.TABLE, OutputFormat.JSON, OutputFormat.YAML])
def test_piped_output_is_plain_and_safe(capsys: pytest.CaptureFixture[str], fmt: OutputFormat) -> None:
    writer = LogWriter(Printer(fmt))
    lines = parse_lines(SOURCE, HOSTILE)
    for line in lines:
        writer.line(line)
    writer.close()
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert "\x07" not in out
    assert "\u202e" not in out
    assert "\x9b" not in out
    if fmt is OutputFormat.TABLE:
        assert out.splitlines()[1] == "gateway-7d9f-abcde gateway ok"
    if fmt is OutputFormat.JSON:
        docs = [json.loads(raw) for raw in out.splitlines()]
        assert [d["data"]["text"] for d in docs] == [line.text for line in lines]  # the original, escaped
