"""``incidentctl report daily|weekly|monthly``: the runbook's incident metrics over a period, from the journal.

Parsing only: the use case is :mod:`incidentctl.phases.report`. It needs no cluster.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Incident metrics from the journal: MTTD, MTTA, MTTR, escalation rate, post-mortem and action-item "
    "completion, communication timeliness, SLA compliance; as tables and charts, JSON or a markdown document.",
    no_args_is_help=True,
)
