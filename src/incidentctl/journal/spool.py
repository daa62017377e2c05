"""The local spool of the team journal: events recorded while the database cannot be reached."""

from __future__ import annotations

from pathlib import Path


class Spool:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
