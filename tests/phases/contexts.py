"""A phase context for tests that drive a phase directly: a runbook, a journal and a clock, and adapters that
fail the test if the phase talks to the outside world when it should not."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

from tests.conftest import RUNBOOK

from incidentctl.adapters.secrets import Secrets
from incidentctl.journal.base import JournalStore
from incidentctl.phases.context import Adapters, Flags, PhaseContext, resolve_settings
from incidentctl.runbook.model import Runbook


def _no_cluster(*_: Any) -> NoReturn:
    raise AssertionError("this phase was not expected to talk to a cluster or an endpoint")


NO_ADAPTERS = Adapters(kube=_no_cluster, http=_no_cluster, prometheus=_no_cluster, alertmanager=_no_cluster)


def phase_context(
    rb: Runbook, journal: JournalStore, clock: Callable[[], datetime], *, runbook_path: Path = RUNBOOK
) -> PhaseContext:
    return PhaseContext(
        runbook=rb,
        settings=resolve_settings(Flags(), {}, rb, runbook_path),
        clock=clock,
        journal=lambda: journal,
        adapters=NO_ADAPTERS,
        secrets=Secrets({}, base_dir=runbook_path.parent),
    )
