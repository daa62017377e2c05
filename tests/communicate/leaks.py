"""Looking for a secret everywhere incidentctl writes: what a command printed and the incident's files."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from typer.testing import Result


def assert_nowhere(secret: str, results: Iterable[Result], root: Path, *logs: str) -> None:
    """``secret`` is in no command's stdout or stderr, no file under ``root`` (the journal, the runbook), and
    no captured log."""
    for result in results:
        assert secret not in result.stdout
        assert secret not in result.stderr
    for path in root.rglob("*"):
        if path.is_file():
            assert secret not in path.read_text(encoding="utf-8", errors="replace"), path
    for log in logs:
        assert secret not in log
