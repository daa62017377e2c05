"""Decision code (``core`` and ``phases``) never decides by searching a message or by taking an id apart.

A check's summary and reasons are for people: they are reworded at will and carry cluster text (pod names, event
messages, response bodies) that can say anything. An exception's text is the same. Check ids are built from the
fields a :class:`~incidentctl.core.checks.CheckResult` carries, so nothing needs to split one. This test reads the
source and fails on the patterns that did exactly that: ``"timed out" in r.summary``, ``"memory" in text``,
``"no answer within" in str(e)``, ``r.check.split(":")``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "incidentctl"
DECISION_CODE = ("core", "phases")
#: Modules whose job is text itself: sanitising it for output, parsing URLs, label selectors, times and durations,
#: and mining log lines (which are text, and nothing else).
#: ``core/postmortem_input.py`` parses what a person typed into the post-mortem commands (names, due days, refs).
TEXT_MODULES = {
    "core/text.py",
    "core/urls.py",
    "core/labels.py",
    "core/times.py",
    "core/logmine.py",
    "core/postmortem_input.py",
}

#: Where people's words live: attributes and names no decision may search.
TEXT_ATTRIBUTES = {"summary", "reasons", "problems"}
TEXT_NAMES = {"text", "lowered", "message", "summary", "reason", "why"}
SEARCHING_METHODS = {"startswith", "endswith", "find", "rfind", "index", "rindex", "count", "lower", "casefold"}
SPLITTING_METHODS = {"split", "rsplit", "partition", "rpartition"}
ID_NAMES = {"check", "check_id"}


def _is_str_call(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("str", "repr", "format")


def _words(node: ast.AST) -> bool:
    """Whether an expression is (or is built from) a message's words."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Attribute) and sub.attr in TEXT_ATTRIBUTES:
            return True
        if isinstance(sub, ast.Name) and sub.id in TEXT_NAMES:
            return True
        if _is_str_call(sub):
            return True
    return False


def _an_id(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr in ID_NAMES) or (
        isinstance(node, ast.Name) and node.id in ID_NAMES
    )


def _searches(method: str, target: ast.expr, args: list[ast.expr]) -> bool:
    """``r.summary.startswith(...)``, ``re.search(pattern, r.summary)``."""
    if method in SEARCHING_METHODS and _words(target):
        return True
    return isinstance(target, ast.Name) and target.id == "re" and any(_words(a) for a in args[1:])


def _bound_to_words(tree: ast.AST) -> set[str]:
    """Names a comprehension binds to the items of a message's words (``for p in state.problems``)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.comprehension) and _words(node.iter):
            names.update(n.id for n in ast.walk(node.target) if isinstance(n, ast.Name))
    return names


def offences(tree: ast.AST) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    items = _bound_to_words(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for op, right in zip(node.ops, node.comparators, strict=True):
                item = isinstance(right, ast.Name) and right.id in items
                if isinstance(op, (ast.In, ast.NotIn)) and (_words(right) or item):
                    found.append((node.lineno, f"searches text: {ast.unparse(node)}"))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            method, target = node.func.attr, node.func.value
            first = node.args[0] if node.args else None
            colon = isinstance(first, ast.Constant) and first.value == ":"
            if method in SPLITTING_METHODS and (colon or _an_id(target)):
                found.append((node.lineno, f"takes an id apart: {ast.unparse(node)}"))
            elif _searches(method, target, node.args):
                found.append((node.lineno, f"searches text: {ast.unparse(node)}"))
    return found


def _sources() -> list[Path]:
    files = [p for part in DECISION_CODE for p in sorted((SRC / part).rglob("*.py"))]
    return [p for p in files if p.relative_to(SRC).as_posix() not in TEXT_MODULES]


def test_decision_code_reads_no_message_text_and_splits_no_id() -> None:
    problems = [
        f"{path.relative_to(SRC.parent)}:{line}: {what}"
        for path in _sources()
        for line, what in offences(ast.parse(path.read_text(), filename=str(path)))
    ]
    assert not problems, "decide on CheckResult.kind/.failure/.observation instead:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    "code",
    [
        'if "no answer within" in r.summary: pass',
        'down = "timed out" not in result.summary',
        'x = any("memory" in text for r in rs)',
        'if "no answer within" in str(e): pass',
        'text = " ".join((r.summary, *r.reasons)).lower()',
        'ok = r.summary.startswith("200")',
        'kind = r.check.split(":")[0]',
        'kind, _, name = check_id.partition(":")',
        'parts = key.split(":")',
        'import re\nhit = re.search("OOM", r.summary)',
        'bad = any("OOMKilled" in p for p in state.problems)',
    ],
)
def test_the_patterns_are_caught(code: str) -> None:
    assert offences(ast.parse(code)), code


@pytest.mark.parametrize(
    "code",
    [
        "if r.failure is Failure.TIMEOUT: pass",
        "if r.kind in _CAPACITY_KINDS: pass",
        'line = f"{r.check}: {r.summary}"',
        'ok = "security_breach" in declared',
        "if isinstance(e, KubeUnreachable): pass",
    ],
)
def test_decisions_on_data_pass(code: str) -> None:
    assert offences(ast.parse(code)) == [], code
