"""``postmortem draft``: the post-mortem document written from the journal, and re-drafted without losing edits.

The document is the runbook's post-mortem template (``communication.templates.post_mortem``) rendered with the
incident's sections (:mod:`incidentctl.runbook.postmortem_view`) and what its investigate runs kept as evidence
(the suspect change, the NEW error templates). Its generated parts are sealed with their hashes
(:mod:`incidentctl.core.postmortem_doc`), so a second draft after new events refreshes what nobody touched and
keeps what a person wrote. Every draft that writes is recorded (``postmortem_drafted``: where, what is still to
write, what was kept), so the timeline shows when the document last followed the journal.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from incidentctl.core.events import EventKind, PostmortemDraftedPayload, to_journal
from incidentctl.core.postmortem_doc import MarkersUnreadable, merge, seal
from incidentctl.errors import RunbookError
from incidentctl.exitcodes import ExitCode
from incidentctl.phases.recording import require_incident

if TYPE_CHECKING:
    from incidentctl.core.incident import Event
    from incidentctl.phases.context import PhaseContext
    from incidentctl.runbook.postmortem_view import Found

#: The document's name in the incident's folder when no ``--file`` is given.
DEFAULT_NAME = "postmortem.md"

#: A section heading, and the line the template marks a person's part with.
_HEADING = re.compile(r"## (.+)")
_TO_WRITE = "**To write:**"


@dataclass(frozen=True)
class DraftRequest:
    incident: str | None = None
    #: Where to write; None: ``<journal>/<ID>/postmortem.md``. A relative path is the caller's to resolve.
    file: Path | None = None


@dataclass(frozen=True)
class DraftResult:
    incident_id: str
    path: Path
    #: False: the file was left as it was (its markers could not be read; see ``problem``).
    written: bool
    #: True: there was no file before this draft.
    created: bool
    #: The sections whose "To write" prompt is still there.
    to_write: list[str] = field(default_factory=list)
    #: Generated parts a person edited, kept as they were.
    kept: list[str] = field(default_factory=list)
    #: Parts new in this version, inserted into the person's file.
    inserted: list[str] = field(default_factory=list)
    #: Parts not refreshed: deleted by the person, or every part when the markers could not be read.
    not_refreshed: list[str] = field(default_factory=list)
    problem: str | None = None

    @property
    def exit_code(self) -> ExitCode:
        """3 when the file could not be refreshed (its markers are broken: a person must look), else 0."""
        return ExitCode.PROBLEMS_FOUND if not self.written else ExitCode.OK


def run_draft(ctx: PhaseContext, request: DraftRequest) -> DraftResult:
    from incidentctl.adapters.templates import render_template
    from incidentctl.journal.documents import read_document, write_document
    from incidentctl.phases.context import learn_runbook_secrets
    from incidentctl.runbook.postmortem_view import postmortem_view
    from incidentctl.runbook.templates import template_context

    journal = ctx.journal()
    incident = require_incident(journal, request.incident, usage="postmortem draft")
    timeline = journal.timeline(incident.id)
    learn_runbook_secrets(ctx)
    now = ctx.clock()
    journal_dir = ctx.settings.journal_dir.value
    path = request.file if request.file is not None else journal_dir / incident.id / DEFAULT_NAME
    existing = read_document(path)  # a link or a folder there is refused before anything is rendered

    view = postmortem_view(
        ctx.runbook,
        incident,
        timeline,
        now=now,
        found=_found(journal_dir, incident.id, timeline),
        redact=ctx.secrets.redact,
    )
    template = _template(ctx)
    rendered = ctx.secrets.redact(
        render_template(template, template_context(ctx.runbook, incident, timeline, now=now, postmortem=view))
    )
    try:
        fresh = seal(rendered)
    except MarkersUnreadable as e:
        problem = f"template post_mortem: its incidentctl markers do not pair up: {e}"
        raise RunbookError(problem, where=str(template)) from e
    if existing is None or not existing.strip():  # an empty file is no draft yet: nothing in it to keep
        text: str | None = fresh
        merged = None
    else:
        merged = merge(existing, fresh)
        text = merged.text
    shown = text if text is not None else existing or ""
    result = DraftResult(
        incident_id=incident.id,
        path=path,
        written=text is not None,
        created=existing is None,
        to_write=to_write(shown),
        kept=merged.kept if merged else [],
        inserted=merged.inserted if merged else [],
        not_refreshed=merged.not_refreshed if merged else [],
        problem=merged.problem if merged else None,
    )
    if text is None:
        return result
    write_document(path, text)
    payload = PostmortemDraftedPayload(path=str(path), to_write=result.to_write, kept=result.kept)
    journal.append(incident.id, EventKind.POSTMORTEM_DRAFTED, to_journal(payload))
    return result


def to_write(document: str) -> list[str]:
    """The sections (their headings) that still hold the template's "To write" prompt."""
    sections: list[str] = []
    heading: str | None = None
    for line in document.splitlines():
        found = _HEADING.fullmatch(line.strip())
        if found is not None:
            heading = found.group(1).strip()
        elif line.strip().startswith(_TO_WRITE) and heading is not None and heading not in sections:
            sections.append(heading)
    return sections


def _template(ctx: PhaseContext) -> Path:
    from incidentctl.runbook.templates import resolve_template

    relative = ctx.runbook.communication.templates.get("post_mortem") or "templates/post_mortem.md.j2"
    path = resolve_template(relative, ctx.runbook_dir or Path("."))
    if path is None:
        raise RunbookError(
            f"template post_mortem: {relative} cannot be read", where="communication.templates.post_mortem"
        )
    return path


def _found(journal_dir: Path, incident_id: str, timeline: Sequence[Event]) -> list[Found]:
    """What each investigate run kept that a post-mortem cites: the suspect change and the NEW error templates."""
    from incidentctl.journal.documents import read_evidence_json
    from incidentctl.runbook.postmortem_view import Found

    out = []
    for event in timeline:
        folder = event.data.get("folder")
        if event.kind != EventKind.EVIDENCE_COLLECTED or not isinstance(folder, str):
            continue
        changes = read_evidence_json(journal_dir, incident_id, folder, "changes/suspect.json")
        suspect = changes.get("suspect") if isinstance(changes, Mapping) else None
        templates = read_evidence_json(journal_dir, incident_id, folder, "errors/templates.json")
        new = [t for t in templates if _is_new(t)] if isinstance(templates, list) else []
        if isinstance(suspect, Mapping) or new:
            out.append(Found(event.time, suspect if isinstance(suspect, Mapping) else None, new))
    return out


def _is_new(template: Any) -> bool:
    return isinstance(template, Mapping) and template.get("status") == "new"


#: request type -> its use case (see :mod:`incidentctl.phases.postmortem.run`)
HANDLERS: dict[type[Any], Callable[[Any, Any], Any]] = {DraftRequest: run_draft}
