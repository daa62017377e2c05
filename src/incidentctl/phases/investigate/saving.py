"""Keeping what a run of investigate looked at: the files in the open incident's ``evidence/`` folder and one
``evidence_collected`` line in its timeline (the phase writes its own events).

Every view and the umbrella keep their evidence through :func:`keep_evidence`, so "which incident", "nothing is
open" and "nothing secret" are decided once. Secrets: every secret the runbook names is resolved before anything
is written, so that :meth:`Secrets.redact` knows the values even when this run never used them (a log line may
carry the Slack webhook another command posted to); a secret that cannot be resolved here has no value to leak.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from incidentctl.core.events import EventKind
from incidentctl.errors import IncidentctlError
from incidentctl.journal.evidence import EvidenceStore, SavedEvidence
from incidentctl.phases.context import PhaseContext
from incidentctl.phases.investigate.base import Evidence, Section
from incidentctl.phases.recording import open_incident

if TYPE_CHECKING:
    from incidentctl.core.incident import Event


@dataclass(frozen=True)
class EvidenceRequest:
    """``--no-save`` and ``--incident``: whether, and where, to keep what was looked at."""

    save: bool = True
    #: None: the only open incident, if there is exactly one.
    incident: str | None = None


#: What the umbrella hands its views: it keeps their evidence itself, in one folder.
NO_SAVE = EvidenceRequest(save=False)


@dataclass(frozen=True)
class Kept:
    """What keeping the evidence did."""

    saved: SavedEvidence | None = None
    incident_id: str | None = None
    event: Event | None = None
    #: For people, once: why nothing was saved (no open incident, several open). None when saved or not asked.
    note: str | None = None
    #: The journal refused (a link, a full disk): the results still stand and are shown, then this is raised.
    error: IncidentctlError | None = None
    #: Ids of the open incidents when several are open and none was named.
    ambiguous: tuple[str, ...] = field(default=())


def check_incident(ctx: PhaseContext, request: EvidenceRequest) -> None:
    """``--incident ID`` that names no incident is refused before anything is looked at (a typo must not cost a
    minute of checks and then lose their evidence)."""
    if request.save and request.incident is not None:
        from incidentctl.core.incident import normalize_incident_id

        ctx.journal().get(normalize_incident_id(request.incident))


def keep_evidence(
    ctx: PhaseContext,
    request: EvidenceRequest,
    label: str,
    sections: Sequence[tuple[str, Section]],
    *,
    findings: Sequence[str] = (),
    problems: Sequence[str] = (),
) -> Kept:
    """Write every section's evidence under ``evidence/<time>-<label>/`` and record the summary event."""
    if not request.save:
        return Kept()
    try:
        journal = ctx.journal()
        target = open_incident(journal, request.incident)
    except IncidentctlError as e:
        if request.incident is not None:  # the incident named does not exist: the user's to fix
            raise
        return Kept(error=e)
    if target.incident is None:
        if target.ambiguous:
            ids = ", ".join(target.ambiguous[:5])
            note = f"{len(target.ambiguous)} incidents are open ({ids}); evidence not saved: name one with --incident"
        else:
            note = "no open incident: evidence not saved (declare one with `incidentctl triage --declare`)"
        return Kept(note=note, ambiguous=target.ambiguous)
    incident_id = target.incident.id
    learn_runbook_secrets(ctx)
    store = EvidenceStore(ctx.settings.journal_dir.value)
    try:
        saved = store.save(incident_id, label, _items(sections), now=ctx.clock(), redact=ctx.secrets.redact)
        data: dict[str, Any] = {
            "folder": saved.folder,
            "views": [name for name, _ in sections],
            "files": len(saved.files),
            "bytes": saved.total_bytes,
            "cut": [f.path for f in saved.files if f.cut],
            "problems": [ctx.secrets.redact(p) for p in [*problems, *saved.problems]],
            "findings": [ctx.secrets.redact(f) for f in findings],
        }
        event = journal.append(incident_id, EventKind.EVIDENCE_COLLECTED, data).event
    except IncidentctlError as e:
        return Kept(incident_id=incident_id, error=e)
    return Kept(saved, incident_id, event)


def keep_view(ctx: PhaseContext, request: EvidenceRequest, view: str, section: Section) -> Kept:
    """One view's evidence in a folder of its own, its problems the event's findings."""
    return keep_evidence(
        ctx, request, view, [(view, section)], findings=[f.text for f in section.findings() if f.problem]
    )


def _items(sections: Sequence[tuple[str, Section]]) -> Iterator[Evidence]:
    """Every view's files; each view names its own folder (``logs/...``, ``datastores/checks.json``)."""
    for _name, section in sections:
        yield from section.evidence()


def learn_runbook_secrets(ctx: PhaseContext) -> None:
    """Resolve every secret the runbook names (see :func:`incidentctl.phases.context.learn_runbook_secrets`, which
    mitigate shares), so output and evidence are masked of them even when this command used none."""
    from incidentctl.phases import context

    context.learn_runbook_secrets(ctx)


def json_evidence(path: str, document: Callable[[], bytes]) -> Evidence:
    """A file of evidence whose content is one JSON document, made when it is written."""

    def write(out: IO[bytes]) -> None:
        out.write(document())

    return Evidence(path, write)
