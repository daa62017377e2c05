"""``incidentctl postmortem ...``: the post-mortem drafted from the journal, its review stages, its meeting and
its action items (``postmortem action ...``).

Parsing only: the use cases are :mod:`incidentctl.phases.postmortem`. None of these commands needs the cluster.
"""

from __future__ import annotations

import typer

from incidentctl.cli import postmortem_actions, postmortem_review

app = typer.Typer(
    help="Post-mortems written from the journal: draft the document, track the runbook's review deadlines, "
    "schedule the meeting, and keep action items with owners and due dates.",
    no_args_is_help=True,
)

postmortem_review.register(app)
app.add_typer(postmortem_actions.app, name="action")
