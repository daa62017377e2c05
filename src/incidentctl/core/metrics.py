"""Incident metrics from timelines alone: impact windows, the SLO's error budget, and (later in this module) the
runbook's response metrics over many incidents.

Every number here is computed from the journal (an incident's fold and its timeline), never from what a person
typed into a report, so the post-mortem and ``report`` agree with ``incident timeline`` to the second. A
corrected impact start (``incident correct --started-at``) is the fold's ``started_at``, so it counts everywhere.

Pure: no I/O; ``now`` is always given (an open incident's impact lasts until now).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from incidentctl.core.events import Milestone, milestones

if TYPE_CHECKING:
    from collections.abc import Sequence

    from incidentctl.core.incident import Event, Incident


@dataclass(frozen=True)
class ImpactWindow:
    """From the impact's start until the service was back (mitigated, else resolved); ``end`` None: it lasts."""

    start: datetime
    end: datetime | None

    def duration(self, now: datetime) -> timedelta:
        """How long it has lasted (until now while it lasts); never negative."""
        end = self.end if self.end is not None else now
        return max(end - self.start, timedelta(0))


def impact_window(incident: Incident, timeline: Sequence[Event]) -> ImpactWindow:
    reached = milestones(timeline)
    back = reached.get(Milestone.MITIGATED) or incident.resolved_at
    if back is not None and back < incident.started_at:  # a correction moved the start after the fix: no impact
        back = incident.started_at
    return ImpactWindow(incident.started_at, back)


@dataclass(frozen=True)
class SlaImpact:
    """What a downtime costs against the SLO (``slo.availability`` over ``slo.window``)."""

    downtime: timedelta
    window: timedelta
    #: The SLO's target share, e.g. 0.999.
    target: float
    #: The downtime as a share of the window (0.001 = 0.1 % availability lost).
    availability_lost: float
    #: The window's allowance of bad time: ``window * (1 - target)``.
    budget: timedelta
    #: The downtime as a share of the budget (1.0 = all of it; may be above 1).
    budget_consumed: float


def sla_impact(downtime: timedelta, target: float, window: timedelta) -> SlaImpact:
    window_s = window.total_seconds()
    budget = window * (1 - target)
    budget_s = budget.total_seconds()
    down_s = downtime.total_seconds()
    return SlaImpact(
        downtime=downtime,
        window=window,
        target=target,
        availability_lost=down_s / window_s if window_s > 0 else 0.0,
        budget=budget,
        budget_consumed=down_s / budget_s if budget_s > 0 else (float("inf") if down_s > 0 else 0.0),
    )
