"""``postmortem action add|list|done|change``: action items, journalled, with owners and due dates.

Parsing only: the use cases are :mod:`incidentctl.phases.postmortem.actions`.
"""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from incidentctl.cli.state import AppState

app = typer.Typer(
    help="Action items from post-mortems: add, list (every incident; --owner, --overdue), change, done.",
    no_args_is_help=True,
)

RefArgument = Annotated[
    str,
    typer.Argument(metavar="REF", help="The item: INC-2026-004/A2 (or the incident, then A2).", show_default=False),
]
ItemArgument = Annotated[
    Optional[str],  # noqa: UP045 - Typer reads the annotation at run time on Python 3.10
    typer.Argument(metavar="[ITEM]", help="A2, when REF is the incident alone.", show_default=False),
]
DUE_HELP = "Due by the end of this day (UTC): 2026-03-21, or a time from now: 7d, 2w."


@app.command()
def add(
    ctx: typer.Context,
    incident_id: Annotated[str, typer.Argument(metavar="ID", help="The incident.", show_default=False)],
    text: Annotated[str, typer.Argument(metavar="TEXT", help="What is to be done.", show_default=False)],
    owner: Annotated[str, typer.Option("--owner", metavar="NAME", help="Who does it.", show_default=False)],
    due: Annotated[str, typer.Option("--due", metavar="DATE", help=DUE_HELP, show_default=False)],
    area: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--area",
            metavar="AREA",
            help="An improvement area of the runbook: technical/Testing, or Testing.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Add an action item (its id, A1, A2..., is printed), with an owner and a due date."""
    from incidentctl.phases.postmortem.actions import AddRequest

    _item(ctx, AddRequest(incident_id, text, owner, due, area))


@app.command("list")
def list_items(
    ctx: typer.Context,
    incident_id: Annotated[
        Optional[str],  # noqa: UP045
        typer.Argument(metavar="[ID]", help="One incident (default: every incident).", show_default=False),
    ] = None,
    owner: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--owner", metavar="NAME", help="Only this owner's items (any case).", show_default=False),
    ] = None,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only items past their due day and not done (exit 3 when any).")
    ] = False,
    only_open: Annotated[bool, typer.Option("--open", help="Only items not done.")] = False,
) -> None:
    """Action items across every incident, soonest due first (exit 0; with --overdue, 3 when any is listed)."""
    from incidentctl.phases.postmortem.actions import ListRequest, ListResult
    from incidentctl.phases.postmortem.run import run_postmortem
    from incidentctl.render.postmortem_actions import show_list
    from incidentctl.render.postmortem_actions_output import ActionItemsOutput

    state: AppState = ctx.obj
    state.output_format()
    result = run_postmortem(state.phase_context(cluster=False), ListRequest(incident_id, owner, overdue, only_open))
    assert isinstance(result, ListResult)
    state.printer.result("ActionItems", ActionItemsOutput.model_validate(result), table=lambda c: show_list(c, result))
    raise typer.Exit(int(result.exit_code))


@app.command()
def change(
    ctx: typer.Context,
    ref: RefArgument,
    item: ItemArgument = None,
    owner: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--owner", metavar="NAME", help="The new owner.", show_default=False),
    ] = None,
    due: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--due", metavar="DATE", help=DUE_HELP, show_default=False),
    ] = None,
    text: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--text", metavar="TEXT", help="The new text.", show_default=False),
    ] = None,
    area: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--area", metavar="AREA", help="The new improvement area.", show_default=False),
    ] = None,
    reason: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--reason", metavar="TEXT", help="Why (kept in the timeline).", show_default=False),
    ] = None,
) -> None:
    """Change an item's owner, due date, text or area (only what is given; the timeline keeps the earlier ones)."""
    from incidentctl.phases.postmortem.actions import ChangeRequest

    _item(ctx, ChangeRequest(ref, item, owner, due, text, area, reason))


@app.command()
def done(
    ctx: typer.Context,
    ref: RefArgument,
    item: ItemArgument = None,
    note: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--note", metavar="TEXT", help="What was done (kept in the timeline).", show_default=False),
    ] = None,
) -> None:
    """Mark an item done (again: says when it was, records nothing, and succeeds)."""
    from incidentctl.phases.postmortem.actions import DoneRequest

    _item(ctx, DoneRequest(ref, item, note))


def _item(ctx: typer.Context, request: Any) -> None:
    from incidentctl.phases.postmortem.actions import ItemResult
    from incidentctl.phases.postmortem.run import run_postmortem
    from incidentctl.render.postmortem_actions import show_item
    from incidentctl.render.postmortem_actions_output import ActionItemChangeOutput

    state: AppState = ctx.obj
    state.output_format()
    result = run_postmortem(state.phase_context(cluster=False), request)
    assert isinstance(result, ItemResult)
    for warning in result.warnings:
        state.printer.warn(warning)
    state.printer.result(
        "ActionItem", ActionItemChangeOutput.model_validate(result), table=lambda c: show_item(c, result)
    )
    raise typer.Exit(int(result.exit_code))
