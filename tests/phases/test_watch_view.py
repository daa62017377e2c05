"""``detect --watch`` on a small terminal keeps its verdict in view; piped through an outage it stays short."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

from rich.console import Console
from tests.conftest import Invoke
from tests.phases.conftest import Site, run
from tests.phases.test_detect_sandbox import _Rounds

from incidentctl.cli.state import AppState
from incidentctl.render.printer import Printer

SGR = re.compile(r"\x1b\[[0-9;]*m")
#: What rich's live view writes to go back over the previous frame (erase the line, move up).
ERASE = "\x1b[2K"


def _last_frame(output: str) -> list[str]:
    """The view as the terminal shows it after the last redraw."""
    frame = output[output.rindex(ERASE) + len(ERASE) :] if ERASE in output else output
    return SGR.sub("", frame).replace("\x1b[?25h", "").replace("\x1b[?25l", "").splitlines()


def test_on_an_80x24_terminal_the_verdict_line_stays_in_view(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("bad-deploy")
    site.sandbox.advance(300)
    full = run(invoke, site, "detect").stdout.splitlines()
    assert len(full) > 24  # the whole picture does not fit the terminal
    buffer = io.StringIO()
    terminal = Console(file=buffer, width=80, height=24, force_terminal=True, color_system="standard")
    state = AppState(sleep=_Rounds(lambda: None), printer=Printer(out=terminal))
    result = invoke(site.args("detect", "--watch", "5"), state=state)
    assert result.exit_code == 3, result.output
    frame = _last_frame(buffer.getvalue())
    assert len(frame) <= 24
    assert any("problem(s) found at" in line for line in frame), frame
    assert not any(line.strip() == "..." for line in frame)  # rich's sign that it cut the view
    assert any(re.match(r"  … (\d+ more finding\(s\)|more details) \(too many", line) for line in frame), frame


def test_piped_through_an_outage_the_last_picture_is_printed_once(
    invoke: Invoke, site_for: Callable[..., Site]
) -> None:
    site = site_for("healthy")
    rounds = _Rounds(site.sandbox.stop, lambda: None, lambda: None, site.sandbox.start)
    result = invoke(site.args("detect", "--watch", "5"), state=AppState(sleep=rounds))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.count("last seen at ") == 1
    assert out.count("healthy at ") == 3  # before, the one picture during the outage, after
    still = [line for line in out.splitlines() if line.startswith("still unreachable at ")]
    assert len(still) == 2
    assert all(re.fullmatch(r"still unreachable at \d\d:\d\d:\d\d( UTC)?", line) for line in still), still
    assert out.index("error at ") < out.index("still unreachable at ") < out.rindex("healthy at ")
