"""Lets ``python -m incidentctl`` behave exactly like the ``incidentctl`` console script."""

from __future__ import annotations

from incidentctl.cli import main

if __name__ == "__main__":
    main()
