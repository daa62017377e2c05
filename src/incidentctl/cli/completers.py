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

from incidentctl.cli.completion_sources import (
    ACTION_ADDED,
    MITIGATION_PLANNED,
    RunbookNames,
    incident_ids,
    incident_titles,
    recorded_ids,
    runbook_names,
)
from incidentctl.cli.typercompat import Command, CompletionItem, Context, Parameter

#: (the command's context, the word typed so far) -> {value: one-line help ("" for none)}
Values = Callable[[Context, str], Mapping[str, str]]

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


def _incidents(ctx: Context, incomplete: str) -> Mapping[str, str]:
    """The journal's incidents, newest first, each with its title (zsh and fish show it)."""
    names = _names(ctx)
    prefix = incomplete.casefold()
    ids = [i for i in incident_ids(names, os.environ) if i.casefold().startswith(prefix)]
    return incident_titles(names, os.environ, ids)


def _canonical(text: object) -> str | None:
    """An incident id as typed (``inc-2026-4``) in the journal's spelling (``INC-2026-004``); None if not one."""
    from incidentctl.core.incident import format_incident_id, parse_incident_id

    parsed = parse_incident_id(text) if isinstance(text, str) else None
    return format_incident_id(*parsed) if parsed is not None else None


def _recorded(ctx: Context, incident: object, kind: str, prefix: str) -> list[str]:
    canonical = _canonical(incident)
    return recorded_ids(_names(ctx), os.environ, canonical, kind, prefix) if canonical is not None else []


def _action_refs(ctx: Context, incomplete: str) -> Mapping[str, str]:
    """``INC-2026-004/A2``: the incident first, then its action items once the ``/`` is typed."""
    incident, slash, _ = incomplete.partition("/")
    if not slash:
        return _incidents(ctx, incomplete)
    return {f"{incident}/{item}": "" for item in _recorded(ctx, incident, ACTION_ADDED, "A")}


def _action_items(ctx: Context, _: str) -> Mapping[str, str]:
    """``postmortem action done INC-2026-004 A2``: the items of the incident named just before."""
    return dict.fromkeys(_recorded(ctx, ctx.params.get("ref"), ACTION_ADDED, "A"), "")


def _mitigation_refs(ctx: Context, incomplete: str) -> Mapping[str, str]:
    """``mitigate undo M2`` with ``--incident``, else ``INC-2026-004/M2``: the incident, a ``/``, its mitigations."""
    incident, slash, _ = incomplete.partition("/")
    if slash:
        return {f"{incident}/{m}": "" for m in _recorded(ctx, incident, MITIGATION_PLANNED, "M")}
    chosen = ctx.params.get("incident")
    if chosen is not None:
        return dict.fromkeys(_recorded(ctx, chosen, MITIGATION_PLANNED, "M"), "")
    return {f"{i}/": title for i, title in _incidents(ctx, incomplete).items()}


def _components(ctx: Context, _: str) -> Mapping[str, str]:
    return _names(ctx).components


def _restart_targets(ctx: Context, _: str) -> Mapping[str, str]:
    names = _names(ctx)
    return {**names.components, **names.datastores}


def _scale_counts(ctx: Context, _: str) -> Mapping[str, str]:
    """``COMPONENT=N``: the component and its ``=``; the count is the responder's."""
    return {f"{name}=": text for name, text in _names(ctx).components.items()}


def _dependencies(ctx: Context, _: str) -> Mapping[str, str]:
    return _names(ctx).dependencies


def _circuit_breakers(ctx: Context, _: str) -> Mapping[str, str]:
    return _names(ctx).circuit_breakers


def _datastores(ctx: Context, _: str) -> Mapping[str, str]:
    return _names(ctx).datastores


def _redirects(ctx: Context, _: str) -> Mapping[str, str]:
    return _names(ctx).redirects


def _severities(ctx: Context, _: str) -> Mapping[str, str]:
    return _names(ctx).severities or dict.fromkeys(("P1", "P2", "P3", "P4"), "")


def _categories(ctx: Context, _: str) -> Mapping[str, str]:
    return _names(ctx).categories


def _stages(ctx: Context, _: str) -> Mapping[str, str]:
    return _names(ctx).stages


def _levels(ctx: Context, _: str) -> Mapping[str, str]:
    return _names(ctx).levels


def _recipients(ctx: Context, _: str) -> Mapping[str, str]:
    names = _names(ctx)
    return {**names.audiences, **names.channels}


def _statuses(_: Context, __: str) -> Mapping[str, str]:
    from incidentctl.core.incident import IncidentStatus

    return {status.value: "" for status in IncidentStatus}


def _formats(_: Context, __: str) -> Mapping[str, str]:
    from incidentctl.render.formats import OutputFormat

    return {fmt.value: "" for fmt in OutputFormat}


def _message_kinds(_: Context, __: str) -> Mapping[str, str]:
    from incidentctl.core.messages import MESSAGE_KINDS

    return dict.fromkeys(MESSAGE_KINDS, "")


def _scenarios(_: Context, __: str) -> Mapping[str, str]:
    return SCENARIOS


def _note_tags(_: Context, __: str) -> Mapping[str, str]:
    return dict.fromkeys(NOTE_TAGS, "")


def _fault_targets(_: Context, __: str) -> Mapping[str, str]:
    return dict.fromkeys(FAULT_TARGETS, "")


def _copy_destinations(_: Context, __: str) -> Mapping[str, str]:
    return {"postgres": "the folder journal into the team journal", "folder": "the team journal into --dir"}


#: parameter name -> its values, in every command
BY_NAME: dict[str, Values] = {
    "incident_id": _incidents,
    "incident": _incidents,
    "ref": _action_refs,
    "item": _action_items,
    "action_id": _mitigation_refs,
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
    (("journal", "copy"), "to"): _copy_destinations,
    (("journal", "copy"), "incident_ids"): _incidents,
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
        return lambda _, __: choices
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
                for value, text in values(ctx, incomplete).items()
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
