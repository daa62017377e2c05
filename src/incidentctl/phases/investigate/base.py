"""The shape every investigate view's result shares, so that ``investigate`` can run them all, rank what they
found on one screen, and keep what was looked at as evidence, without knowing any view's insides."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import IO, Protocol


class Rank(IntEnum):
    """Where a finding goes on the summary screen: what a responder acts on first comes first."""

    SUSPECT_CHANGE = 0
    NEW_ERRORS = 1
    CRASHES = 2
    RESOURCE_PRESSURE = 3
    DATASTORES = 4
    DEPENDENCIES = 5
    EVENTS = 6
    OTHER = 7


@dataclass(frozen=True)
class Finding:
    """One line of the summary screen: "synthesis revision 5 (image synthesis:2.5.0) rolled out 14:28; errors
    began 14:29". ``text`` is for people; the view's result holds the facts."""

    rank: Rank
    text: str
    #: True for a problem, False for "looked and it is fine" (shown dim); a view that could not look says so as a
    #: problem, never as fine.
    problem: bool = True


@dataclass(frozen=True)
class Evidence:
    """One file for the incident's ``evidence/`` folder. ``path`` is relative to the run's folder
    (``logs/gateway-7d9f-abcde.log``); ``write`` streams the content to a binary file, so a large log is never
    held in memory twice. What is written has already been redacted by the view."""

    path: str
    write: Callable[[IO[bytes]], None]


class Section(Protocol):
    """What every view's result offers the umbrella command."""

    @property
    def exit_code(self) -> int: ...

    def findings(self) -> Sequence[Finding]: ...

    def evidence(self) -> Iterable[Evidence]: ...
