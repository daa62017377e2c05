"""Where a template named in the runbook is found: beside runbook.yaml first, then among the bundled ones.

The fallback lets a generated runbook (the sandbox's, or one made with ``runbook init`` without copying templates)
use incidentctl's templates while a team's own copy always wins.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from incidentctl.bundled import bundled_templates_dir


def resolve_template(relative: str, base_dir: Path) -> Path | None:
    """The template's file, or None when it is missing or cannot be read (a folder, no permission).

    A team's own copy that is there but unreadable is never silently replaced by the bundled one.
    """
    candidate = Path(relative).expanduser()
    if candidate.is_absolute():
        return candidate if _present(candidate) == "readable" else None
    local = base_dir / candidate
    found = _present(local)
    if found != "missing":
        return local if found == "readable" else None
    bundled = bundled_templates_dir() / candidate.name
    return bundled if _present(bundled) == "readable" else None


def _present(path: Path) -> Literal["readable", "unreadable", "missing"]:
    """Whether a template file is there for us to read; a folder we may not search is not a PermissionError."""
    try:
        if path.is_file():
            return "readable" if os.access(path, os.R_OK) else "unreadable"
        return "unreadable" if path.exists() else "missing"
    except OSError:
        return "unreadable"
