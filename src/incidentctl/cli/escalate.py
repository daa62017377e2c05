"""``incidentctl escalate``: the escalation matrix, a check of its rules, and an escalation by hand.

Parsing only: the use cases are :mod:`incidentctl.phases.escalate.run`. ``escalate ID --to LEVEL --reason TEXT``
(and ``escalate --to LEVEL ...`` for the only open incident) is the ``incident`` subcommand without its name: the
group routes any first word that is not one of its commands there, so ``matrix`` and ``check`` stay subcommands.
None of these commands needs the cluster.
"""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer
from typer.core import TyperGroup

from incidentctl.cli.state import AppState
from incidentctl.cli.typercompat import Context


class EscalateGroup(TyperGroup):
    """``escalate INC-2026-004 --to L3`` is ``escalate incident INC-2026-004 --to L3``."""

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["incident", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=EscalateGroup,
    help="The escalation matrix: who is due now and why, and escalations journalled once per level and "
    "told through the outbox. `escalate [ID] --to LEVEL --reason TEXT` escalates by hand.",
    no_args_is_help=True,
)

IdArgument = Annotated[
    Optional[str],  # noqa: UP045 - Typer reads the annotation at run time on Python 3.10
    typer.Argument(metavar="[ID]", help="The incident (default: the only open one).", show_default=False),
]


@app.command()
def matrix(ctx: typer.Context) -> None:
    """The levels L1-L4: role, response time, responsibilities, contacts, channels told, and what leads there."""
    from incidentctl.phases.escalate.run import MatrixRequest, MatrixResult, run_escalate
    from incidentctl.render.escalate import show_matrix
    from incidentctl.render.escalate_output import MatrixOutput

    state: AppState = ctx.obj
    state.output_format()
    result = run_escalate(state.phase_context(cluster=False), MatrixRequest())
    assert isinstance(result, MatrixResult)
    state.printer.result(
        "EscalationMatrix", MatrixOutput.model_validate(result), table=lambda c: show_matrix(c, result)
    )
    raise typer.Exit(int(result.exit_code))


@app.command()
def check(
    ctx: typer.Context,
    incident_id: IdArgument = None,
    apply: Annotated[
        bool, typer.Option("--apply", help="Record the escalation that is due and tell its level's channels.")
    ] = False,
) -> None:
    """Who is due now and why, who becomes due when, which levels are reached (exit 3: one is due)."""
    from incidentctl.phases.escalate.run import CheckRequest, CheckResult, run_escalate
    from incidentctl.render.escalate import show_check
    from incidentctl.render.escalate_output import CheckOutput

    state: AppState = ctx.obj
    state.output_format()
    result = run_escalate(state.phase_context(cluster=False), CheckRequest(incident_id, apply))
    assert isinstance(result, CheckResult)
    state.printer.result("EscalationCheck", CheckOutput.model_validate(result), table=lambda c: show_check(c, result))
    raise typer.Exit(int(result.exit_code))


@app.command("incident")
def incident(
    ctx: typer.Context,
    incident_id: IdArgument = None,
    to: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--to", metavar="LEVEL", help="The level: L1-L4 (see escalate matrix).", show_default=False),
    ] = None,
    rule: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--rule",
            metavar="RULE",
            help="A manual rule of the runbook (complex-issue, business-impact, security-incident): its level "
            "and description.",
            show_default=False,
        ),
    ] = None,
    reason: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--reason", metavar="TEXT", help="Why; a manual rule's name picks that rule.", show_default=False),
    ] = None,
) -> None:
    """Escalate by hand: journalled once per level (never downwards), and told to the level's channels."""
    from incidentctl.phases.escalate.run import EscalateRequest, Escalation, run_escalate

    state: AppState = ctx.obj
    state.output_format()
    result = run_escalate(state.phase_context(cluster=False), EscalateRequest(incident_id, to, rule, reason))
    assert isinstance(result, Escalation)
    show(state, result)


def show(state: AppState, result: Any) -> None:
    from incidentctl.render.escalate import show_escalation
    from incidentctl.render.escalate_output import EscalationOutput

    state.printer.result(
        "Escalation", EscalationOutput.model_validate(result), table=lambda c: show_escalation(c, result)
    )
    raise typer.Exit(int(result.exit_code))
