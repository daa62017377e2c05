"""Which values Tab offers for each parameter, decided in one place by the parameter's name.

Every command names its parameters the same way (``incident_id`` and ``--incident`` for an incident, ``component``
and ``components`` for the runbook's components, ``scenario`` for a sandbox scenario, ...), so the completer is
chosen by that name here rather than attached to each declaration: a new command that takes an ``incident_id``
completes ids without anyone remembering to ask for it (``tests/cli/test_completion_tree.py`` walks the command
tree and fails on an id-like parameter with no completer). Where one name means different things in different
commands (``names`` of ``investigate datastores`` and of ``investigate dependencies``), the command's path decides.

The values come from the runbook and the journal (:mod:`incidentctl.cli.completion_sources`) or are fixed choices
of the tool. Anything slow stays out: no cluster, no network, no pydantic model; the few fixed lists owned by
modules that are slow to import or out of bounds (the scenarios, the note tags, the sandbox's fault targets)
are repeated here and a test keeps them equal.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path

from incidentctl.cli.completion_sources import RunbookNames, incident_ids, runbook_names
from incidentctl.cli.typercompat import Command, CompletionItem, Context, Parameter

#: param -> {value: one-line help ("" for none)}
Values = Callable[[Context], Mapping[str, str]]

#: ``incidentctl.sandbox.scenarios.SCENARIOS``: that module builds the simulated world when imported, far too slow
#: for a key press.
SCENARIOS = {
    "healthy": "everything works: a baseline",
    "bad-deploy": "a new synthesis revision crashes",
    "db-outage": "postgres runs out of connection slots",
    "dependency-outage": "the OpenAI API stops answering",
    "memory-leak": "retrieval's pods are OOMKilled",
    "traffic-spike": "traffic triples, the gateway saturates",
    "bad-config": "a bad synthesis-config edit",
    "cache-corruption": "corrupt entries in redis",
    "total-outage": "the gateway scaled to zero",
    "credential-stuffing": "a flood of failed logins",
}

#: ``incidentctl.core.events.NOTE_TAGS`` (that module needs pydantic).
NOTE_TAGS = ("root-cause", "contributing-factor", "lesson", "resolution", "impact")

#: ``incidentctl.sandbox.faults.TARGETS`` (only the sandbox and demo commands may import the sandbox).
FAULT_TARGETS = ("kube", "health", "deps", "prometheus", "alertmanager", "slack", "statuspage", "pagerduty", "any")


def _names(ctx: Context) -> RunbookNames:
    """The runbook's names, found as the command would find it (``--runbook`` may be anywhere on the line)."""
    explicit = ctx.find_root().params.get("runbook")
    return runbook_names(Path(explicit) if isinstance(explicit, (str, Path)) else None, os.environ, Path.cwd())


def _incidents(ctx: Context) -> Mapping[str, str]:
    return dict.fromkeys(incident_ids(_names(ctx), os.environ), "")


def _components(ctx: Context) -> Mapping[str, str]:
    return _names(ctx).components


def _restart_targets(ctx: Context) -> Mapping[str, str]:
    names = _names(ctx)
    return {**names.components, **names.datastores}


def _scale_counts(ctx: Context) -> Mapping[str, str]:
    """``COMPONENT=N``: the component and its ``=``; the count is the responder's."""
    return {f"{name}=": text for name, text in _names(ctx).components.items()}


def _dependencies(ctx: Context) -> Mapping[str, str]:
    return _names(ctx).dependencies


def _circuit_breakers(ctx: Context) -> Mapping[str, str]:
    return _names(ctx).circuit_breakers


def _datastores(ctx: Context) -> Mapping[str, str]:
    return _names(ctx).datastores


def _redirects(ctx: Context) -> Mapping[str, str]:
    return _names(ctx).redirects


def _severities(ctx: Context) -> Mapping[str, str]:
    return _names(ctx).severities or dict.fromkeys(("P1", "P2", "P3", "P4"), "")


def _categories(ctx: Context) -> Mapping[str, str]:
    return _names(ctx).categories


def _stages(ctx: Context) -> Mapping[str, str]:
    return _names(ctx).stages


def _levels(ctx: Context) -> Mapping[str, str]:
    return _names(ctx).levels


def _recipients(ctx: Context) -> Mapping[str, str]:
    names = _names(ctx)
    return {**names.audiences, **names.channels}


def _statuses(_: Context) -> Mapping[str, str]:
    from incidentctl.core.incident import IncidentStatus

    return {status.value: "" for status in IncidentStatus}


def _formats(_: Context) -> Mapping[str, str]:
    from incidentctl.render.formats import OutputFormat

    return {fmt.value: "" for fmt in OutputFormat}


def _message_kinds(_: Context) -> Mapping[str, str]:
    from incidentctl.core.messages import MESSAGE_KINDS

    return dict.fromkeys(MESSAGE_KINDS, "")


def _scenarios(_: Context) -> Mapping[str, str]:
    return SCENARIOS


def _note_tags(_: Context) -> Mapping[str, str]:
    return dict.fromkeys(NOTE_TAGS, "")


def _fault_targets(_: Context) -> Mapping[str, str]:
    return dict.fromkeys(FAULT_TARGETS, "")


#: parameter name -> its values, in every command
BY_NAME: dict[str, Values] = {
    "incident_id": _incidents,
    "incident": _incidents,
    "ref": _incidents,  # INC-2026-004, then the item (A2) as its own word
    "component": _components,
    "components": _components,
    "targets": _components,
    "counts": _scale_counts,
    "dependency": _circuit_breakers,
    "datastore": _datastores,
    "scenario": _scenarios,
    "severity": _severities,
    "level": _severities,
    "status": _statuses,
    "new_status": _statuses,
    "stage": _stages,
    "tag": _note_tags,
    "output": _formats,
    "category": _categories,
    "to": _recipients,
    "kind": _message_kinds,
}

#: (command path, parameter name) -> its values, where the path changes what the name means
BY_COMMAND: dict[tuple[tuple[str, ...], str], Values] = {
    (("investigate", "datastores"), "names"): _datastores,
    (("investigate", "dependencies"), "names"): _dependencies,
    (("mitigate", "restart"), "targets"): _restart_targets,
    (("mitigate", "redirect"), "name"): _redirects,
    (("escalate", "incident"), "to"): _levels,
    (("sandbox", "fault"), "target"): _fault_targets,
}

#: (command path, parameter name) whose values no completer can know (free text, or the schema kinds, whose
#: module builds every output model); the tree test accepts these without a completer
NO_VALUES: frozenset[tuple[tuple[str, ...], str]] = frozenset({(("schema", "output"), "kind")})

#: A metavar that lists the choices itself: ``open|close``, ``on|off``.
_METAVAR_CHOICES = re.compile(r"[a-z]+(\|[a-z]+)+")


def completer_for(path: tuple[str, ...], param: Parameter) -> Values | None:
    """The values of ``param`` in the command at ``path`` (``("mitigate", "scale")``); None: no live values."""
    name = param.name or ""
    if (path, name) in NO_VALUES:
        return None
    found = BY_COMMAND.get((path, name)) or BY_NAME.get(name)
    if found is not None:
        return found
    metavar = getattr(param, "metavar", None)
    if isinstance(metavar, str) and _METAVAR_CHOICES.fullmatch(metavar):
        choices = dict.fromkeys(metavar.split("|"), "")
        return lambda _: choices
    return None


def command_path(ctx: Context) -> tuple[str, ...]:
    """The subcommand names from the root down to ``ctx``'s command."""
    names: list[str] = []
    current: Context | None = ctx
    while current is not None and current.parent is not None:
        names.append(current.info_name or "")
        current = current.parent
    return tuple(reversed(names))


def completions(ctx: Context, target: Command | Parameter, incomplete: str) -> list[CompletionItem]:
    """What Tab offers for ``incomplete`` at ``target`` (a command: its subcommands and options; a parameter:
    its values), each still to be checked by the caller before it reaches a shell. A value never starts with a
    dash: a runbook name like ``-rf`` would be read as an option."""
    if isinstance(target, Parameter):
        values = completer_for(command_path(ctx), target)
        if values is not None:
            given = _given(ctx, target)
            prefix = incomplete.casefold()
            return [
                CompletionItem(value, help=text or None)
                for value, text in values(ctx).items()
                if value.casefold().startswith(prefix) and value not in given and not value.startswith("-")
            ]
        kind = _path_kind(target)
        if kind is not None:
            return [CompletionItem(incomplete, type=kind)]
    return list(target.shell_complete(ctx, incomplete))


def _given(ctx: Context, param: Parameter) -> set[str]:
    """Values already on the line for a parameter that takes several (``investigate logs gateway <Tab>``)."""
    if not (param.multiple or param.nargs == -1):
        return set()
    value = ctx.params.get(param.name or "")
    return {v for v in value if isinstance(v, str)} if isinstance(value, (list, tuple)) else set()


def _path_kind(param: Parameter) -> str | None:
    """``file`` or ``dir`` for a parameter that takes a path: the shell completes it from the disk."""
    metavar = (getattr(param, "metavar", None) or "").upper()
    descriptor = getattr(param, "type_descriptor", None)
    is_path = bool(getattr(descriptor, "is_path", False)) or metavar.startswith(("PATH", "FILE", "DIR"))
    if not is_path:
        return None
    return "dir" if metavar.startswith("DIR") else "file"
