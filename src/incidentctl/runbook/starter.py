"""``runbook init``: copy the bundled runbook, its templates and its schema into a folder, never clobbering."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from incidentctl.bundled import bundled_runbook_path, bundled_templates_dir
from incidentctl.errors import RefusedError, UsageError
from incidentctl.runbook.schema import runbook_json_schema


def starter_files(directory: Path) -> dict[Path, Path | None]:
    """Destination -> source (None: generated)."""
    files: dict[Path, Path | None] = {
        directory / "runbook.yaml": bundled_runbook_path(),
        directory / "runbook.schema.json": None,
    }
    for template in sorted(bundled_templates_dir().glob("*.j2")):
        files[directory / "templates" / template.name] = template
    return files


def write_starter(directory: Path, *, force: bool) -> list[Path]:
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory} exists and is not a directory")
    files = starter_files(directory)
    existing = [p for p in files if p.exists()]
    if existing and not force:
        names = ", ".join(str(p) for p in existing[:3]) + (" ..." if len(existing) > 3 else "")
        raise RefusedError(f"not overwriting existing files: {names}", hint="pass --force to overwrite them")
    try:
        for destination, source in files.items():
            destination.parent.mkdir(parents=True, exist_ok=True)
            if source is None:
                destination.write_text(json.dumps(runbook_json_schema(), indent=2) + "\n", encoding="utf-8")
            else:
                shutil.copyfile(source, destination)
    except OSError as e:
        raise UsageError(f"cannot write the starter runbook into {directory}: {e.strerror or e}") from e
    return list(files)
