"""Every parameter that names something the tool knows completes it, for commands added later too.

The walk goes over the Click tree Typer builds, so a new command with an ``incident_id`` or a ``--component`` that
completes nothing fails here, and so does a fixed list in ``cli.completers`` that has drifted from its owner.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from typer.core import TyperGroup
from typer.main import get_command

from incidentctl.cli import completers
from incidentctl.cli.app import app
from incidentctl.cli.typercompat import Command, Parameter

#: Parameter names (or metavars) that stand for ids, names from the runbook or the journal, or fixed choices.
ID_LIKE = re.compile(
    r"incident|component|dependenc|datastore|scenario|severity|status|stage|tag$|kind$|level|target|ref$|"
    r"output|state$|category|counts|^names?$|^to$|^shell$",
    re.IGNORECASE,
)


def _params() -> Iterator[tuple[tuple[str, ...], Parameter]]:
    def walk(command: Command, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Parameter]]:
        for param in command.params:
            yield path, param
        if isinstance(command, TyperGroup):
            for name, sub in sorted(command.commands.items()):
                yield from walk(sub, (*path, name))

    yield from walk(get_command(app), ())


def _names_something(param: Parameter) -> bool:
    """An id-like name that takes a word (a flag, or a number such as ``--status CODE``, names nothing)."""
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    takes_word = not getattr(param, "is_flag", False) and annotation not in (int, float)
    return takes_word and ID_LIKE.search(param.name or "") is not None


PARAMS = list(_params())
ID_PARAMS = [(path, p) for path, p in PARAMS if _names_something(p)]


def test_the_walk_finds_the_parameters_that_name_things() -> None:
    found = {(" ".join(path), p.name) for path, p in ID_PARAMS}
    assert ("incident show", "incident_id") in found
    assert ("investigate logs", "incident") in found
    assert ("investigate logs", "components") in found
    assert ("mitigate scale", "counts") in found
    assert ("sandbox inject", "scenario") in found
    assert ("", "output") in found
    assert len(found) > 60


@pytest.mark.parametrize(("path", "param"), ID_PARAMS, ids=[f"{' '.join(p)}:{q.name}" for p, q in ID_PARAMS])
def test_every_parameter_that_names_something_has_values(path: tuple[str, ...], param: Parameter) -> None:
    descriptor = getattr(param, "type_descriptor", None)
    has_choices = bool(getattr(descriptor, "choices", None))
    if (path, param.name) in completers.NO_VALUES:
        return
    assert has_choices or completers.completer_for(path, param) is not None, (
        f"`incidentctl {' '.join(path)}` {param.name}: no completer (add it to cli/completers.py)"
    )


def test_the_scenarios_offered_are_the_sandbox_s() -> None:
    from incidentctl.sandbox.scenarios import SCENARIOS

    assert list(completers.SCENARIOS) == list(SCENARIOS)


def test_the_note_tags_offered_are_the_journal_s() -> None:
    from incidentctl.core.events import NOTE_TAGS

    assert completers.NOTE_TAGS == NOTE_TAGS


def test_the_fault_targets_offered_are_the_sandbox_s() -> None:
    from incidentctl.sandbox.faults import TARGETS

    assert completers.FAULT_TARGETS == TARGETS
