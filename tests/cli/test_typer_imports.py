"""Typer keeps its copy of Click in a private package whose name and place have changed between releases
(``click`` up to 0.25, ``typer._click`` since 0.26). One module, ``cli/typercompat.py``, names it; every other
module takes Click's classes from there, so a Typer upgrade is one file to fix and ``nox -s lowest`` proves the
declared lower bound has what that file names.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import typer
from typer.core import TyperCommand, TyperGroup

from incidentctl.cli import typercompat

SRC = Path(__file__).resolve().parents[2] / "src" / "incidentctl"
COMPAT = SRC / "cli" / "typercompat.py"


def _imported_modules(tree: ast.AST) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _is_private_click(module: str) -> bool:
    """``typer._anything`` (Typer's internals, its vendored Click among them) or ``click`` itself, which Typer
    no longer depends on (a separate copy whose classes are not the ones Typer raises and builds)."""
    parts = module.split(".")
    return parts[0] == "click" or (parts[0] == "typer" and len(parts) > 1 and parts[1].startswith("_"))


def test_only_typercompat_reaches_into_typers_private_modules() -> None:
    offenders = {
        f"{path.relative_to(SRC)}: {module}"
        for path in sorted(SRC.rglob("*.py"))
        if path != COMPAT
        for module in _imported_modules(ast.parse(path.read_text(encoding="utf-8")))
        if _is_private_click(module)
    }
    assert offenders == set()


def test_the_scanner_sees_every_spelling_of_a_private_import() -> None:
    """The check above cannot pass by not looking: each way of writing the import is found."""
    spellings = [
        "import typer._click",
        "from typer._click import Context",
        "from typer import _click",
        "from typer._click.exceptions import UsageError",
        "import click",
        "from click.exceptions import UsageError",
    ]
    for source in spellings:
        assert any(_is_private_click(m) for m in _imported_modules(ast.parse(source))), source
    assert not any(_is_private_click(m) for m in _imported_modules(ast.parse("from typer.core import TyperGroup")))


def test_typercompat_names_the_classes_typer_itself_builds_and_raises() -> None:
    """Not a look-alike from a separate Click install: subclassing and ``except`` work only with Typer's own."""
    assert issubclass(typer.Context, typercompat.Context)
    assert issubclass(TyperCommand, typercompat.Command)
    assert issubclass(TyperGroup, typercompat.Command)
    assert issubclass(typer.BadParameter, typercompat.UsageError)
    assert issubclass(typercompat.UsageError, typercompat.ClickException)
    assert issubclass(typercompat.NoArgsIsHelpError, typercompat.UsageError)
