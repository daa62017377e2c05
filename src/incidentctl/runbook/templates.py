"""Where a template named in the runbook is found: beside runbook.yaml first, then among the bundled ones.

The fallback lets a generated runbook (the sandbox's, or one made with ``runbook init`` without copying templates)
use incidentctl's templates while a team's own copy always wins.
"""

from __future__ import annotations

from pathlib import Path

from incidentctl.bundled import bundled_templates_dir


def resolve_template(relative: str, base_dir: Path) -> Path | None:
    candidate = Path(relative).expanduser()
    if candidate.is_absolute():
        return candidate if candidate.is_file() else None
    local = base_dir / candidate
    if local.is_file():
        return local
    bundled = bundled_templates_dir() / candidate.name
    return bundled if bundled.is_file() else None
