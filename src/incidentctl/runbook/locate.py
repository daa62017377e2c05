"""Finding runbook.yaml (the journal folder it names is resolved with the other settings, in phases.context).

Order, as the README documents: ``--runbook``, then ``$INCIDENTCTL_RUNBOOK``, then ``./runbook.yaml``. There is
deliberately no silent fallback to the bundled production runbook: a command that touches a cluster must never
guess which service it is about. ``incidentctl runbook init`` writes a starter from the bundled one.
"""

from __future__ import annotations

import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from incidentctl.errors import RunbookError

RUNBOOK_ENV = "INCIDENTCTL_RUNBOOK"
JOURNAL_ENV = "INCIDENTCTL_JOURNAL"
DEFAULT_NAME = "runbook.yaml"


@dataclass(frozen=True)
class RunbookSource:
    path: Path
    origin: Literal["option", "env", "cwd"]

    def describe(self) -> str:
        how = {"option": "--runbook", "env": f"${RUNBOOK_ENV}", "cwd": "the current directory"}[self.origin]
        return f"{self.path} (from {how})"


def locate_runbook(explicit: Path | None, env: Mapping[str, str], cwd: Path) -> RunbookSource:
    if explicit is not None:
        return _existing(RunbookSource(_absolute(explicit, cwd), "option"), "--runbook")
    if env.get(RUNBOOK_ENV):
        return _existing(RunbookSource(_absolute(Path(env[RUNBOOK_ENV]), cwd), "env"), f"${RUNBOOK_ENV}")
    candidate = cwd / DEFAULT_NAME
    if _kind(candidate, "the current directory") == "file":
        return RunbookSource(candidate, "cwd")
    raise RunbookError(
        f"no runbook: {candidate} does not exist",
        hint=f"pass --runbook PATH, set {RUNBOOK_ENV}, or create one with `incidentctl runbook init .`",
    )


def _absolute(path: Path, cwd: Path) -> Path:
    path = path.expanduser()
    return path if path.is_absolute() else cwd / path


def _existing(source: RunbookSource, named_by: str) -> RunbookSource:
    kind = _kind(source.path, named_by)
    if kind == "directory":
        inside = source.path / DEFAULT_NAME
        if _kind(inside, named_by) == "file":
            return RunbookSource(inside, source.origin)
    if kind != "file":
        raise RunbookError(
            f"runbook not found: {source.path} (named by {named_by})",
            hint="check the path, or create one with `incidentctl runbook init DIR`",
        )
    return source


def _kind(path: Path, named_by: str) -> Literal["file", "directory", "missing", "other"]:
    """What is at ``path``; a folder on the way that cannot be searched is an error that says so, not a crash."""
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return "missing"
    except OSError as e:
        raise RunbookError(
            f"cannot read runbook {path} (named by {named_by}): {e.strerror or e}",
            hint="check the permissions of the file and of the folders above it",
        ) from e
    if stat.S_ISDIR(mode):
        return "directory"
    return "file" if stat.S_ISREG(mode) else "other"
