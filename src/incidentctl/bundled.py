"""Where the SarvanOM runbook and the templates that ship with incidentctl live.

A wheel carries them as ``incidentctl/_bundled/`` (see pyproject's force-include); a source checkout or an
editable install reads them from the repository's top level, so there is one copy of each file to edit.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path


@cache
def bundled_dir() -> Path:
    packaged = Path(__file__).resolve().parent / "_bundled"
    if (packaged / "runbook.yaml").is_file():
        return packaged
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "runbook.yaml").is_file() and (checkout / "templates").is_dir():
        return checkout
    raise FileNotFoundError("the runbook bundled with incidentctl is missing; reinstall incidentctl")


def bundled_runbook_path() -> Path:
    return bundled_dir() / "runbook.yaml"


def bundled_templates_dir() -> Path:
    return bundled_dir() / "templates"
