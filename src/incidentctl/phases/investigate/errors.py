"""investigate errors: the error templates of every pod's logs, against a baseline window just before.

Replaces ``kubectl logs ... --since=1h | grep -i error | sort | uniq -c | sort -nr``, which reads one pod per
deployment and counts unique lines (every line is unique). Here the logs of every container of every pod of the
components, and of the previous instance of every container that restarted (a crash loop's evidence), are read
once for twice the window: the older half is the baseline, the newer half the window. Each error line is reduced
to its template by :mod:`incidentctl.core.logmine`, and a template absent from the baseline is NEW.

``run_errors_file`` mines saved logs (``--file``, ``--baseline-file``, ``-`` for stdin) the same way, streaming.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import IO, TYPE_CHECKING

from incidentctl.core import logmine
from incidentctl.core.logmine import Miner, Template
from incidentctl.core.text import one_line
from incidentctl.exitcodes import ExitCode
from incidentctl.phases.investigate.base import Evidence, Finding, Rank, Section
from incidentctl.phases.investigate.saving import EvidenceRequest, Kept, check_incident, keep_evidence

if TYPE_CHECKING:  # the fan-out (and the Kubernetes models it reads) is imported only when a cluster is read
    from incidentctl.phases.context import PhaseContext
    from incidentctl.phases.investigate.logs import LogFetch

#: ``--since`` when none is given: the runbook's own look-back (``--since=1h``).
DEFAULT_WINDOW = timedelta(hours=1)
VIEW = "errors"

#: How much of a pattern a finding shows (the evidence has all of it).
FINDING_WIDTH = 160


@dataclass(frozen=True)
class ErrorsRequest:
    """What to mine. Empty ``components``: every component of the runbook."""

    components: tuple[str, ...] = ()
    window: timedelta = DEFAULT_WINDOW
    #: The baseline's length, ending where the window starts; None: as long as the window.
    baseline: timedelta | None = None
    #: Where to keep what was looked at (the umbrella passes NO_SAVE: it keeps every view's in one folder).
    evidence: EvidenceRequest = field(default_factory=EvidenceRequest)


@dataclass(frozen=True)
class ErrorsResult:
    """The templates of the window, what was read, and what could not be.

    Implements :class:`~incidentctl.phases.investigate.base.Section`: one finding per NEW template (ranked
    :attr:`Rank.NEW_ERRORS`), the logs that could not be read as problems, and the templates as evidence.
    """

    templates: tuple[Template, ...]
    #: Lines and error lines of the window (the baseline's are not counted here).
    lines: int
    error_lines: int
    #: Where the lines came from: ``cluster`` or the file's path (``-``: stdin).
    source: str
    baseline_source: str | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None
    baseline_start: datetime | None = None
    #: The fan-out that read the cluster's logs (None for a file): its problems are this view's problems too.
    logs: LogFetch | None = None
    redact: Callable[[str], str] = field(default=lambda text: text, repr=False)
    #: Where the evidence went (set by the run function; nothing when the umbrella ran the view).
    kept: Kept = field(default_factory=Kept)

    @property
    def new(self) -> tuple[Template, ...]:
        return tuple(t for t in self.templates if t.status == "new")

    @property
    def exit_code(self) -> int:
        """The fan-out's error code when nothing could be read; 3 when a NEW template was found or a log could
        not be read (the answer is then incomplete, and must not pass for a clean one); else 0."""
        if self.logs is not None and self.logs.cluster_error is not None:
            return int(self.logs.cluster_error.exit_code)
        if self.new or (self.logs is not None and self.logs.exit_code != ExitCode.OK):
            return int(ExitCode.PROBLEMS_FOUND)
        return int(ExitCode.OK)

    def problems(self) -> list[str]:
        """What could not be read (nothing at all, a pod's log, a component without pods), one line each: the
        templates are then those of what was read, and say nothing of the rest."""
        if self.logs is None or self.logs.exit_code == ExitCode.OK:
            return []
        return [f.text for f in self.logs.findings() if f.problem and f.rank is Rank.OTHER]

    def findings(self) -> Sequence[Finding]:
        if self.logs is not None and self.logs.cluster_error is not None:
            error = self.logs.cluster_error
            return [Finding(Rank.NEW_ERRORS, f"error templates unknown: logs could not be read: {error}")]
        out = [Finding(Rank.NEW_ERRORS, _new_line(t)) for t in self.new]
        out += [Finding(Rank.OTHER, text) for text in self.problems()]
        if not out:
            what = f"{len(self.templates)} error template(s) in {self.error_lines} of {self.lines} lines"
            out.append(Finding(Rank.NEW_ERRORS, f"no new error templates ({what})", problem=False))
        return out

    def evidence(self) -> Iterable[Evidence]:
        yield Evidence("errors/templates.json", self._write_templates)

    def _write_templates(self, out: IO[bytes]) -> None:
        import json

        from incidentctl.core.logmine_wire import TemplateOutput

        docs = [TemplateOutput.model_validate(t).to_wire() for t in self.templates]
        out.write(self.redact(json.dumps(docs, indent=2, ensure_ascii=False)).encode("utf-8") + b"\n")


def _new_line(template: Template) -> str:
    pods = ", ".join(template.pods[:3]) + (f" +{len(template.pods) - 3}" if len(template.pods) > 3 else "")
    where = f" in {pods}" if pods else ""
    since = f" since {template.first_seen:%H:%M:%S}" if template.first_seen is not None else ""
    pattern = one_line(template.pattern)
    if len(pattern) > FINDING_WIDTH:
        pattern = pattern[: FINDING_WIDTH - 1] + "…"
    return f"NEW error template{where}: {template.count}x{since}: {pattern}"


def _redacted(templates: list[Template], redact: Callable[[str], str]) -> tuple[Template, ...]:
    """Examples are real lines: the runbook's secrets are masked in them (and in patterns, which come from
    lines too) before anything shows or keeps them."""
    from dataclasses import replace

    return tuple(replace(t, pattern=redact(t.pattern), example=redact(t.example)) for t in templates)


def run_errors(ctx: PhaseContext, request: ErrorsRequest) -> ErrorsResult:
    """Read twice the window from every container (previous instances included) and mine both halves; the
    templates and the logs they were mined from kept in the open incident."""
    from incidentctl.phases.investigate.logs import LogsRequest, Previous, fetch_logs

    check_incident(ctx, request.evidence)
    baseline = request.baseline if request.baseline is not None else request.window
    now = ctx.clock()
    window_start = now - request.window
    baseline_start = window_start - baseline
    fetch = fetch_logs(
        ctx,
        LogsRequest(components=request.components, since_time=baseline_start, previous=Previous.ALSO),
    )
    current, before = Miner(), Miner()
    current.add_lines(
        (line.time, line.pod, line.text) for line in fetch.lines if line.time is None or line.time >= window_start
    )
    before.add_lines(
        (line.time, line.pod, line.text)
        for line in fetch.lines
        if line.time is not None and baseline_start <= line.time < window_start
    )
    found = logmine.templates(current, before)
    result = ErrorsResult(
        templates=_redacted(found, ctx.secrets.redact),
        lines=current.lines,
        error_lines=current.error_lines,
        source="cluster",
        baseline_source="cluster",
        window_start=window_start,
        window_end=now,
        baseline_start=baseline_start,
        logs=fetch,
        redact=ctx.secrets.redact,
    )
    if fetch.cluster_error is not None:  # nothing was read: nothing to keep
        return result
    sections: list[tuple[str, Section]] = [(VIEW, result), ("logs", fetch)]
    findings = [f.text for f in result.findings() if f.problem]
    return replace(result, kept=keep_evidence(ctx, request.evidence, VIEW, sections, findings=findings))


#: A saved log at least this large is mined by two processes, a half each (a regular file only: a pipe cannot be
#: split). On two cores this halves the mining, as ``grep | sort`` runs its stages on both.
SPLIT_FROM = 32 << 20


def _mine(stream: IO[bytes], split_from: int) -> Miner:
    """The stream mined; a large regular file in two halves at once, where the platform forks."""
    import multiprocessing
    import os
    import stat

    try:
        fd = stream.fileno()
        info = os.fstat(fd)
    except (AttributeError, OSError, ValueError):  # not a file (a test's BytesIO)
        return Miner().read(stream)
    if (
        not stat.S_ISREG(info.st_mode)
        or info.st_size < split_from
        or (os.cpu_count() or 1) < 2
        or "fork" not in multiprocessing.get_all_start_methods()
    ):
        return Miner().read(stream)
    start = stream.tell()
    middle = start + (info.st_size - start) // 2
    cut = middle + os.pread(fd, 1 << 20, middle).find(b"\n") + 1 if middle > start else start
    if cut <= middle:  # no newline within a MiB of the middle: one process reads it all
        return Miner().read(stream)
    with multiprocessing.get_context("fork").Pool(1) as pool:
        later = pool.apply_async(_mine_range, (fd, cut, info.st_size))
        first = _mine_range(fd, start, cut)
        return first.merge(later.get())


def _mine_range(fd: int, start: int, end: int) -> Miner:
    """Bytes ``start``..``end`` of an open file, read with ``pread`` (no shared file offset between processes)."""
    import os

    miner = Miner()
    offset = start
    while offset < end:
        chunk = os.pread(fd, min(logmine.CHUNK_SIZE, end - offset), offset)
        if not chunk:
            break
        miner.feed(chunk)
        offset += len(chunk)
    miner.close()
    return miner


def run_errors_file(
    stream: IO[bytes],
    source: str,
    *,
    baseline: IO[bytes] | None = None,
    baseline_source: str | None = None,
    redact: Callable[[str], str] | None = None,
    split_from: int = SPLIT_FROM,
) -> ErrorsResult:
    """Mine a saved log (and a saved baseline), streaming: memory stays bounded whatever the file's size."""
    current = _mine(stream, split_from)
    before = _mine(baseline, split_from) if baseline is not None else None
    found = logmine.templates(current, before)
    return ErrorsResult(
        templates=_redacted(found, redact) if redact is not None else tuple(found),
        lines=current.lines,
        error_lines=current.error_lines,
        source=source,
        baseline_source=baseline_source,
        redact=redact or (lambda text: text),
    )
