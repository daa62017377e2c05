"""Phases do not import each other, not even for a type hint: what two phases share lives in core (or in the
shared plumbing: phases.context, phases.recording, phases.wiring), and a phase gets another's result through its
request. import-linter's independence contract keeps runtime imports out; it ignores imports under
``TYPE_CHECKING`` (the project excludes them for core's sake), so this test reads the sources for those too, and
checks that the contract names every phase there is."""

from __future__ import annotations

import ast
import configparser
import re
from pathlib import Path

from tests.conftest import REPO

PHASES = REPO / "src" / "incidentctl" / "phases"


def phase_sources(name: str) -> list[Path]:
    """A phase's source files: ``phases/<name>.py``, or every module of the package ``phases/<name>/``."""
    package = PHASES / name
    return sorted(package.rglob("*.py")) if package.is_dir() else [PHASES / f"{name}.py"]


def phase_modules() -> set[str]:
    """The phases: a module ``phases/<name>.py``, or a package ``phases/<name>/``, that defines ``run_<name>``."""
    candidates = {path.stem for path in PHASES.glob("*.py")} | {
        path.name for path in PHASES.iterdir() if (path / "__init__.py").exists()
    }
    return {
        name
        for name in candidates
        if any(
            re.search(rf"^def run_{name}\(", source.read_text(encoding="utf-8"), re.MULTILINE)
            for source in phase_sources(name)
        )
    }


def imported_modules(path: Path) -> set[str]:
    """Every module a source file imports, wherever the import is (top level, TYPE_CHECKING, inside a function)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_detect_and_triage_are_phases() -> None:
    assert {"detect", "triage"} <= phase_modules()


def test_no_phase_imports_another_not_even_for_type_hints() -> None:
    phases = phase_modules()
    crossings = sorted(
        f"phases.{phase} imports {module}"
        for phase in phases
        for source in phase_sources(phase)
        for module in imported_modules(source)
        for other in phases - {phase}
        if module == f"incidentctl.phases.{other}" or module.startswith(f"incidentctl.phases.{other}.")
    )
    assert crossings == []


def test_the_independence_contract_names_every_phase() -> None:
    config = configparser.ConfigParser()
    config.read(REPO / ".importlinter", encoding="utf-8")
    contract = config["importlinter:contract:phases"]
    assert contract["type"] == "independence"
    listed = {line.strip() for line in contract["modules"].splitlines() if line.strip()}
    assert listed == {f"incidentctl.phases.{phase}" for phase in phase_modules()}
