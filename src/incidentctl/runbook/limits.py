"""Bounds on what a runbook file may make the loader do, checked before anything is built from it.

Every command loads the runbook, so a hostile or broken file must not be able to stop them all. YAML's aliases let
a few hundred bytes stand for billions of values (anchors nested in anchors, "billion laughs"): the composed node
tree stays small because an alias shares its node, but anything that walks the tree as data (the loader, then
pydantic) expands every alias. So the expanded size is counted on the event stream, where one alias is one event,
and the file is refused at the alias that goes over the budget. The same pass refuses an alias inside the node it
names (a loop the data cannot be built from) and nesting deep enough to exhaust the recursion of the parser and
of everything after it. A size limit on the file itself comes first, so nothing huge is even read.

The limits are far above any real runbook (the SarvanOM one is 14 KB, about a thousand values, seven levels deep)
and far below what hurts.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from incidentctl.runbook.problems import Problem, RunbookInvalid

if typing.TYPE_CHECKING:
    import yaml

#: The largest runbook file read at all.
MAX_RUNBOOK_BYTES = 4 << 20
#: Values (scalars, mappings, sequences) the whole document may stand for once every alias is expanded.
MAX_EXPANDED_VALUES = 200_000
#: Mappings and sequences nested in one another.
MAX_DEPTH = 64


def read_runbook_text(path: Path) -> str:
    """The file's text, read no further than the size limit (a runbook pointed at a huge file or a device stops
    here). ``OSError`` and ``UnicodeDecodeError`` are the caller's to word."""
    with path.open("rb") as f:
        data = f.read(MAX_RUNBOOK_BYTES + 1)
    check_size(len(data), path)
    return data.decode("utf-8")


def check_size(size: int, path: Path) -> None:
    if size > MAX_RUNBOOK_BYTES:
        raise RunbookInvalid(
            path,
            [
                Problem(
                    (),
                    f"the file is larger than the {MAX_RUNBOOK_BYTES >> 20} MiB a runbook may be",
                    hint="is this the right file? a runbook is a few hundred lines of YAML",
                )
            ],
        )


@dataclass
class _Open:
    """A mapping or sequence being read: its anchor and how many values it stands for so far."""

    anchor: str | None
    size: int = 1


def check_expansion(text: str, path: Path) -> None:
    """Refuse alias bombs, alias loops and deep nesting, located at the offending alias or collection.

    libyaml reads the events fastest; where it stops at an error, the pure-Python parser (not recursive, so deep
    nesting cannot break it) reads the file again, so a file libyaml gives up on is still held to the limits
    before the composer tries it. A syntax error itself is left for the composer to report.
    """
    import yaml

    fast = getattr(yaml, "CSafeLoader", None)
    if fast is None or not _within_limits(text, path, fast):
        _within_limits(text, path, yaml.SafeLoader)


def _within_limits(text: str, path: Path, loader: Any) -> bool:
    """Raise where the document goes over a limit; False if the parser stopped at a syntax error first."""
    import yaml

    sizes: dict[str, int] = {}  # anchor -> values the anchored node stands for, once it is complete
    stack: list[_Open] = []
    total = 0  # values the document stands for so far: each scalar and collection once, each alias its node's
    aliases = False
    try:
        for event in yaml.parse(text, Loader=loader):
            if isinstance(event, yaml.AliasEvent):
                anchor, aliases = str(event.anchor), True
                if any(frame.anchor == anchor for frame in stack):
                    raise _refuse(
                        path,
                        event,
                        f"the alias *{anchor} refers to a node that contains it",
                        "an alias can only repeat a node that is complete before it",
                    )
                size = sizes.get(anchor, 1)  # an undefined alias is the composer's error to report
            elif isinstance(event, yaml.ScalarEvent):
                size = 1
                if event.anchor is not None:
                    sizes[str(event.anchor)] = 1
            elif isinstance(event, yaml.CollectionStartEvent):
                if len(stack) == MAX_DEPTH:
                    raise _refuse(
                        path,
                        event,
                        f"the runbook is nested more than {MAX_DEPTH} levels deep",
                        "a runbook needs fewer than ten levels; check the brackets and the indentation here",
                    )
                size = 1
            elif isinstance(event, yaml.CollectionEndEvent):
                done = stack.pop()
                if done.anchor is not None:
                    sizes[done.anchor] = done.size
                if stack:
                    stack[-1].size += done.size
                continue
            else:
                continue
            total += size
            if isinstance(event, yaml.CollectionStartEvent):
                stack.append(_Open(None if event.anchor is None else str(event.anchor)))
            elif stack:
                stack[-1].size += size
            if total > MAX_EXPANDED_VALUES:
                raise _refuse(
                    path,
                    event,
                    (
                        f"YAML aliases expand to more than {MAX_EXPANDED_VALUES:,} values"
                        + (f" (here *{event.anchor})" if isinstance(event, yaml.AliasEvent) else "")
                        if aliases
                        else f"the runbook holds more than {MAX_EXPANDED_VALUES:,} values"
                    ),
                    "anchors nested in anchors multiply: write the repeated parts out, or alias a node fewer times"
                    if aliases
                    else "is this the right file? a runbook is a few hundred lines of YAML",
                )
    except yaml.YAMLError:
        return False
    return True


def _refuse(path: Path, event: yaml.Event, message: str, hint: str) -> RunbookInvalid:
    mark = event.start_mark
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
    return RunbookInvalid(path, [Problem((), message, hint, line, column)])
