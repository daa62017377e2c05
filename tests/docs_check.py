"""Checks for the documents incidentctl writes (post-mortems, reports): their Mermaid diagrams parse with the real
Mermaid parser, and their markdown has the shape a test expects.

``mermaid_problems(text)`` sends every diagram to ``tests/mermaid/parse.mjs``: the ``mermaid`` package from the
npm registry, run in node with a jsdom window (``npm ci --prefix tests/mermaid`` installs it; ``.ci/run`` does). One
node process serves a whole test run, since starting it and loading mermaid costs about a second. Without node or
the packages a test that uses it skips, saying how to install them; under CI (``CI=true`` or
``INCIDENTCTL_REQUIRE_INTEGRATION=1``) it fails instead, so a CI run that lost the parser cannot pass unchecked.

``markdown_structure(text)`` reads markdown with markdown-it-py (CommonMark plus GitHub's tables, as GitHub and
GitLab render it) into its headings, tables and fenced blocks, each with its line.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

MERMAID_DIR = Path(__file__).resolve().parent / "mermaid"
PARSER = MERMAID_DIR / "parse.mjs"
INSTALL_HINT = f"install node and npm, then: npm ci --prefix {MERMAID_DIR}"
#: The longest one diagram may take to parse before the parser is taken to be stuck.
PARSE_TIMEOUT_SECONDS = 60.0


def mermaid_problems(text: str) -> list[str]:
    """Every problem the Mermaid parser finds, one line each; empty when every diagram parses.

    ``text`` is a markdown document (each ```` ```mermaid ```` block is checked, and a document without one is a
    problem) or, when it has no fenced block at all, one diagram.
    """
    structure = markdown_structure(text)
    if not structure.fences:
        return [f"diagram: {problem}" for problem in _parse([text])[0]]
    blocks = [f for f in structure.fences if f.info == "mermaid"]
    if not blocks:
        return ["no ```mermaid block in the document"]
    answers = _parse([b.content for b in blocks])
    return [
        f"mermaid block {n} (line {block.line}): {problem}"
        for n, (block, problems) in enumerate(zip(blocks, answers, strict=True), start=1)
        for problem in problems
    ]


def mermaid_types(text: str) -> list[str]:
    """The diagram type Mermaid detected for each ```` ```mermaid ```` block (``gantt``, ``xychart``, ``pie``), so a
    test can say which charts a document has; a block that does not parse is ``error``."""
    blocks = [f.content for f in markdown_structure(text).fences if f.info == "mermaid"]
    return [str(a.get("type")) if a.get("ok") else "error" for a in _parser().ask_all(blocks)]


# --- markdown ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    #: 1-based, as an editor shows it.
    line: int


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[list[str]]
    line: int


@dataclass(frozen=True)
class Fence:
    #: The info string's first word: ``mermaid``, ``json``, or empty.
    info: str
    content: str
    line: int


@dataclass(frozen=True)
class Structure:
    headings: list[Heading] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    fences: list[Fence] = field(default_factory=list)

    def outline(self) -> list[str]:
        """The headings as ``## Impact`` lines, to compare a document's outline in one assertion."""
        return [f"{'#' * h.level} {h.text}" for h in self.headings]

    def section_tables(self, heading: str) -> list[Table]:
        """The tables under the heading with this text, up to the next heading of its level or above."""
        found = [h for h in self.headings if h.text == heading]
        if not found:
            return []
        start = found[0]
        after = [h.line for h in self.headings if h.line > start.line and h.level <= start.level]
        end = after[0] if after else float("inf")
        return [t for t in self.tables if start.line < t.line < end]


def markdown_structure(text: str) -> Structure:
    """The document's headings, tables (header and rows, cell text as rendered inline) and fenced blocks."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    structure = Structure()
    table: dict[str, Any] | None = None
    row: list[str] | None = None
    for i, token in enumerate(tokens):
        line = token.map[0] + 1 if token.map else 0
        if token.type == "heading_open":
            structure.headings.append(Heading(int(token.tag[1:]), tokens[i + 1].content.strip(), line))
        elif token.type == "fence":
            structure.fences.append(Fence(token.info.strip().split(" ")[0], token.content, line))
        elif token.type == "table_open":
            table = {"header": [], "rows": [], "line": line, "in_head": False}
        elif token.type == "thead_open" and table is not None:
            table["in_head"] = True
        elif token.type == "thead_close" and table is not None:
            table["in_head"] = False
        elif token.type == "tr_open":
            row = []
        elif token.type == "inline" and row is not None:
            row.append(token.content.strip())
        elif token.type == "tr_close" and table is not None and row is not None:
            if table["in_head"]:
                table["header"] = row
            else:
                table["rows"].append(row)
            row = None
        elif token.type == "table_close" and table is not None:
            structure.tables.append(Table(table["header"], table["rows"], table["line"]))
            table = None
    return structure


# --- the node process -------------------------------------------------------------------------------------


def mermaid_unavailable() -> str | None:
    """Why the parser cannot run here, or None when it can."""
    node = shutil.which("node")
    if node is None:
        return f"node is not installed ({INSTALL_HINT})"
    if not (MERMAID_DIR / "node_modules" / "mermaid").is_dir() or not (MERMAID_DIR / "node_modules" / "jsdom").is_dir():
        return f"the mermaid packages are not installed in {MERMAID_DIR} ({INSTALL_HINT})"
    return None


def _required() -> bool:
    return os.environ.get("CI", "").lower() == "true" or os.environ.get("INCIDENTCTL_REQUIRE_INTEGRATION") == "1"


def require_mermaid() -> None:
    """Skip the calling test when the parser cannot run; fail it instead under CI."""
    reason = mermaid_unavailable()
    if reason is None:
        return
    if _required():
        pytest.fail(f"the Mermaid check cannot run: {reason}; under CI this is a failure", pytrace=False)
    pytest.skip(f"the Mermaid check cannot run: {reason}")


def _parse(diagrams: list[str]) -> list[list[str]]:
    return [[] if a.get("ok") else [str(a.get("error", "unknown error")).strip()] for a in _parser().ask_all(diagrams)]


class _Parser:
    """``node parse.mjs``, kept running: one diagram in per line, one answer out per line."""

    def __init__(self) -> None:
        node = shutil.which("node")
        assert node is not None
        self.process = subprocess.Popen(
            [node, str(PARSER)],
            cwd=MERMAID_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self.lock = threading.Lock()

    def ask_all(self, diagrams: list[str]) -> list[dict[str, Any]]:
        with self.lock:
            return [self._ask(d) for d in diagrams]

    def _ask(self, diagram: str) -> dict[str, Any]:
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None
        assert stdout is not None
        stdin.write(json.dumps(diagram) + "\n")
        stdin.flush()
        answer: list[str] = []
        reader = threading.Thread(target=lambda: answer.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(PARSE_TIMEOUT_SECONDS)
        if not answer or not answer[0]:
            self.close()
            stderr = self.process.stderr.read() if self.process.stderr and not reader.is_alive() else ""
            raise RuntimeError(f"the Mermaid parser stopped answering: {stderr.strip() or 'no output'}")
        result: dict[str, Any] = json.loads(answer[0])
        return result

    def close(self) -> None:
        if self.process.poll() is None:
            if self.process.stdin is not None:
                self.process.stdin.close()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


_running: list[_Parser] = []


def _parser() -> _Parser:
    require_mermaid()
    if not _running or _running[0].process.poll() is not None:
        _running[:] = [_Parser()]
        atexit.register(_running[0].close)
    return _running[0]
