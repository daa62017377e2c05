"""Where Tab completion finds its live values: the names a runbook declares, and the incidents in its journal.

Completion runs on every Tab press, so it reads as little as it can and never fails: the runbook is found by the
commands' own rule (``--runbook`` on the partial command line, then ``$INCIDENTCTL_RUNBOOK``, then
``./runbook.yaml``; for names alone, the bundled runbook when there is none), composed as plain YAML nodes and
only the few sections that hold names are walked. That skips the full validation (pydantic and the cross-checks
cost more than ``--help`` itself), and walking nodes rather than building data means an alias bomb costs nothing.
The journal is a directory listing: folders named like an incident id (in its canonical spelling) that hold a
record. Whatever cannot be read (a broken runbook, a missing journal, a folder without permission) gives no
values; the caller then offers nothing.

Values are data the shell inserts into the command line, so :func:`is_safe_value` decides which may be offered:
a name holding a space, a quote, a newline, a control character or a shell metacharacter is left out.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from incidentctl.core.incident import format_incident_id
from incidentctl.runbook.locate import JOURNAL_ENV, locate_runbook

if TYPE_CHECKING:
    import yaml

#: What a completion value may be made of: letters, digits and punctuation that no shell gives a meaning to
#: inside a word (``=`` and ``:`` for ``COMPONENT=N`` and option values, ``/`` for ``CATEGORY/KIND``).
_SAFE_VALUE = re.compile(r"[A-Za-z0-9_@%+.,/-][A-Za-z0-9_@%+.,/:=-]{0,199}")
_INCIDENT_FOLDER = re.compile(r"INC-(\d{4})-(\d{3,9})")
_RECORD_FILES = ("timeline.jsonl", "incident.yaml")
_TIMELINE = "timeline.jsonl"
#: The journal's event kinds completion reads (``incidentctl.core.events.EventKind``, which needs pydantic).
DECLARED = "declared"
ACTION_ADDED = "action_added"
MITIGATION_PLANNED = "mitigation_planned"
#: How much of a timeline is read for the ids it records, and how many incidents get their title as help.
_MAX_TIMELINE_BYTES = 4 << 20
_MAX_TITLES = 50


def is_safe_value(value: object) -> bool:
    """Whether a value can be offered: ASCII, one word, nothing a shell would expand or execute."""
    return isinstance(value, str) and _SAFE_VALUE.fullmatch(value) is not None


@dataclass(frozen=True)
class RunbookNames:
    """The names a runbook declares, each with a one-line description (empty when it has none)."""

    #: the runbook the names came from; None when none could be read
    path: Path | None = None
    #: True when ``path`` is the user's runbook (its journal is the user's), False for the bundled one
    located: bool = False
    components: dict[str, str] = field(default_factory=dict)
    dependencies: dict[str, str] = field(default_factory=dict)
    datastores: dict[str, str] = field(default_factory=dict)
    circuit_breakers: dict[str, str] = field(default_factory=dict)
    redirects: dict[str, str] = field(default_factory=dict)
    severities: dict[str, str] = field(default_factory=dict)
    categories: dict[str, str] = field(default_factory=dict)
    stages: dict[str, str] = field(default_factory=dict)
    levels: dict[str, str] = field(default_factory=dict)
    audiences: dict[str, str] = field(default_factory=dict)
    channels: dict[str, str] = field(default_factory=dict)
    journal_dir: str | None = None


def runbook_names(explicit: Path | None, env: Mapping[str, str], cwd: Path) -> RunbookNames:
    """The names of the runbook the command line points at; empty names when it cannot be found or read."""
    try:
        return _read_names(*_runbook_path(explicit, env, cwd))
    except Exception:  # a broken runbook must not break the user's shell: no names
        return RunbookNames()


def incident_ids(names: RunbookNames, env: Mapping[str, str]) -> list[str]:
    """The incidents of the journal the commands would use, newest first; none when it cannot be listed."""
    directory = journal_dir(names, env)
    if directory is None:
        return []
    try:
        entries = os.listdir(directory)
    except OSError:
        return []
    found: list[tuple[tuple[int, int], str]] = []
    for name in entries:
        match = _INCIDENT_FOLDER.fullmatch(name)
        if match is None or format_incident_id(int(match[1]), int(match[2])) != name or int(match[2]) == 0:
            continue
        folder = directory / name
        if any(os.path.lexists(folder / record) for record in _RECORD_FILES):
            found.append(((int(match[1]), int(match[2])), name))
    return [name for _, name in sorted(found, reverse=True)]


def _runbook_path(explicit: Path | None, env: Mapping[str, str], cwd: Path) -> tuple[Path, bool]:
    from incidentctl.errors import RunbookError

    try:
        return locate_runbook(explicit, env, cwd).path, True
    except RunbookError:
        if explicit is not None or env.get("INCIDENTCTL_RUNBOOK"):
            raise  # the runbook named does not exist: its names are not the bundled one's
    from incidentctl.bundled import bundled_runbook_path

    return bundled_runbook_path(), False


def incident_titles(names: RunbookNames, env: Mapping[str, str], ids: list[str]) -> dict[str, str]:
    """Each incident's title as declared (the first line of its timeline), for the newest few; "" when unknown."""
    directory = journal_dir(names, env)
    titles = dict.fromkeys(ids, "")
    if directory is None:
        return titles
    for incident_id in ids[:_MAX_TITLES]:
        for kind, data in _events(directory / incident_id / _TIMELINE, first_only=True):
            title = data.get("title") if kind == DECLARED else None
            titles[incident_id] = title if isinstance(title, str) else ""
    return titles


def recorded_ids(names: RunbookNames, env: Mapping[str, str], incident_id: str, kind: str, prefix: str) -> list[str]:
    """The ids (``A1``, ``M2``, ...) the incident's timeline gave its events of ``kind``, in order."""
    directory = journal_dir(names, env)
    if directory is None or _INCIDENT_FOLDER.fullmatch(incident_id) is None:
        return []
    pattern = re.compile(re.escape(prefix) + r"[1-9][0-9]{0,8}")
    found: dict[str, None] = {}
    for event_kind, data in _events(directory / incident_id / _TIMELINE):
        value = data.get("id")
        if event_kind == kind and isinstance(value, str) and pattern.fullmatch(value):
            found[value] = None
    return sorted(found, key=lambda v: int(v[len(prefix) :]))


def _events(path: Path, *, first_only: bool = False) -> Iterator[tuple[object, dict[str, object]]]:
    """The kind and payload of each readable line of a timeline (a damaged line is skipped, as the journal does);
    nothing when the file cannot be read."""
    import json

    try:
        with path.open("rb") as f:
            data = f.readline(64 << 10) if first_only else f.read(_MAX_TIMELINE_BYTES)
    except OSError:
        return
    for line in data.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and isinstance(record.get("data"), dict):
            yield record.get("kind"), record["data"]


def journal_dir(names: RunbookNames, env: Mapping[str, str]) -> Path | None:
    """By the commands' rule: ``$INCIDENTCTL_JOURNAL``, else the runbook's ``journal.dir`` (relative to it), else
    ``incidents`` beside it; none without a runbook of the user's (the commands would refuse to run)."""
    if env.get(JOURNAL_ENV):
        return Path(env[JOURNAL_ENV]).expanduser()
    if names.path is None or not names.located:
        return None
    configured = Path(names.journal_dir or "incidents").expanduser()
    return configured if configured.is_absolute() else names.path.parent / configured


def _read_names(path: Path, located: bool) -> RunbookNames:
    return _names_in(path, located, _stat_key(path))


def _stat_key(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return st.st_ino, st.st_size, st.st_mtime_ns


@cache
def _names_in(path: Path, located: bool, _key: tuple[int, int, int]) -> RunbookNames:
    """Read once per file version in a process (a test or an embedding completes many times)."""
    from incidentctl.runbook.limits import read_runbook_text

    root = _compose(read_runbook_text(path))
    top = _mapping(root)
    mitigation = _mapping(top.get("mitigation"))
    communication = _mapping(top.get("communication"))
    journal = _mapping(top.get("journal")).get("dir")
    return RunbookNames(
        path=path,
        located=located,
        components=_named_list(top.get("components")),
        dependencies=_named_list(top.get("dependencies")),
        datastores=_named_list(top.get("datastores")),
        circuit_breakers=_keyed(mitigation.get("circuit_breakers"), "description"),
        redirects=_keyed(mitigation.get("redirects"), "description"),
        severities=_keyed(top.get("severities"), "name"),
        categories=_categories(top.get("categories")),
        stages=_keyed(_mapping(top.get("postmortem")).get("stages"), "description"),
        levels=_named_list(_mapping(top.get("escalation")).get("levels"), key="id", describe="role"),
        audiences=_keyed(communication.get("audiences"), "description"),
        channels=_keyed(communication.get("channels"), "description"),
        journal_dir=_scalar(journal),
    )


def _compose(text: str) -> yaml.Node | None:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.compose(text, Loader=loader)


def _mapping(node: yaml.Node | None) -> dict[str, yaml.Node]:
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return {}
    out: dict[str, yaml.Node] = {}
    for key, value in node.value:
        name = _scalar(key)
        if name is not None:
            out.setdefault(name, value)
    return out


def _scalar(node: yaml.Node | None) -> str | None:
    import yaml

    return node.value if isinstance(node, yaml.ScalarNode) and isinstance(node.value, str) else None


def _items(node: yaml.Node | None) -> Iterator[yaml.Node]:
    import yaml

    if isinstance(node, yaml.SequenceNode):
        yield from node.value


def _named_list(node: yaml.Node | None, *, key: str = "name", describe: str = "description") -> dict[str, str]:
    """``[{name: gateway, description: ...}, ...]`` -> {gateway: description}."""
    out: dict[str, str] = {}
    for item in _items(node):
        fields = _mapping(item)
        name = _scalar(fields.get(key))
        if name is not None:
            out.setdefault(name, _scalar(fields.get(describe)) or "")
    return out


def _keyed(node: yaml.Node | None, describe: str) -> dict[str, str]:
    """``{openai: {description: ...}, ...}`` -> {openai: description}."""
    return {name: _scalar(_mapping(value).get(describe)) or "" for name, value in _mapping(node).items()}


def _categories(node: yaml.Node | None) -> dict[str, str]:
    """Each category, and each of its kinds as ``CATEGORY/KIND`` (what ``--category`` takes)."""
    out: dict[str, str] = {}
    for name, value in _mapping(node).items():
        fields = _mapping(value)
        out[name] = _scalar(fields.get("description")) or ""
        for kind, text in _mapping(fields.get("kinds")).items():
            out[f"{name}/{kind}"] = _scalar(text) or ""
    return out
