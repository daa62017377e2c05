"""investigate logs: every container of every pod of each component, read at once and merged in time order.

Replaces ``kubectl logs deployment/{gateway,retrieval,synthesis} --tail=100``, which reads ONE pod of each
deployment: the pod that crashes is rarely the one kubectl picks. As stern does, the fan-out finds each component's
pods by its deployment's selector (the way detect judges them), reads every container of every pod in a bounded
pool of threads, and merges the per-container streams with :func:`heapq.merge` on the kubelet's own time stamp
(``timestamps=true``): each container's log is already in order, so the merge is linear and needs no sort.

Nothing goes missing silently: a container whose log could not be read is a :class:`SourceError` (with the typed
error), a container with no previous instance under ``--previous`` is one too (of kind ``NO_PREVIOUS``, an expected
outcome rather than a problem), and a component that matched no pod is named in :attr:`LogFetch.unmatched`.

:func:`fetch_logs` is the public entry other views call (``investigate errors`` mines what it returns);
:func:`follow_logs` is ``--follow``.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import IO, TYPE_CHECKING, Any, NamedTuple

from incidentctl.core.workloads import pods_of
from incidentctl.errors import IncidentctlError, UsageError
from incidentctl.exitcodes import ExitCode
from incidentctl.phases.context import PhaseContext
from incidentctl.phases.investigate.base import Evidence, Finding, Rank
from incidentctl.phases.investigate.saving import (
    EvidenceRequest,
    Kept,
    check_incident,
    keep_view,
    learn_runbook_secrets,
)

if TYPE_CHECKING:
    from incidentctl.adapters.kube import KubeClient
    from incidentctl.adapters.kube_logs import LogOptions, LogStream
    from incidentctl.runbook.model import Component

log = logging.getLogger(__name__)

JSON = dict[str, Any]

#: Threads reading logs at once. High on purpose: a log read waits on the kubelet, not on this machine, and the
#: fan-out should take about as long as the slowest single read (stern's --max-log-requests is 50 for the same
#: reason). A flag lowers it for an API server that rate-limits.
DEFAULT_CONCURRENCY = 64


class Previous(Enum):
    """Which instance of each container to read."""

    #: The running (or last) instance, as ``kubectl logs``.
    CURRENT = "current"
    #: Only the instance before it, as ``kubectl logs --previous``: where a crash loop's evidence is.
    ONLY = "only"
    #: Both, for containers that have a previous instance (``investigate errors`` mines crash loops this way).
    ALSO = "also"


class SourceProblem(Enum):
    """Why one container's log is not in the result."""

    #: ``--previous`` on a container that never restarted: nothing to read, and not a fault.
    NO_PREVIOUS = "no-previous"
    #: The container has not started (creating, pulling its image): no log exists yet.
    NOT_STARTED = "not-started"
    #: The read failed (403, timeout, the API unreachable, the pod gone): the log exists but was not seen.
    FAILED = "failed"


VIEW = "logs"


@dataclass(frozen=True)
class LogSource:
    """One container instance's log: the unit of fan-out and of evidence."""

    component: str
    pod: str
    container: str
    previous: bool = False

    @property
    def label(self) -> str:
        """``pod/container``, with `` (previous)`` for an earlier instance: how a person names it."""
        return f"{self.pod}/{self.container}" + (" (previous)" if self.previous else "")

    @property
    def evidence_path(self) -> str:
        return f"logs/{self.pod}_{self.container}{'.previous' if self.previous else ''}.log"


class LogLine(NamedTuple):
    """One line as the kubelet recorded it: ``(time, pod, container, previous, text)``, plus its component.

    ``time`` is the kubelet's stamp (None for a line that came without one, which keeps its place after the line
    before it); ``text`` is exactly what the container wrote, not yet made safe for a terminal (the renderers do
    that, so evidence and JSON keep the original). A named tuple rather than a frozen dataclass: a fan-out makes
    one per line, tens of thousands a second, and a tuple is several times cheaper to build."""

    time: datetime | None
    pod: str
    container: str
    previous: bool
    text: str
    component: str = ""

    @property
    def source(self) -> LogSource:
        return LogSource(self.component, self.pod, self.container, self.previous)


@dataclass(frozen=True)
class SourceError:
    """A container whose log is not in the result, and why."""

    source: LogSource
    problem: SourceProblem
    #: The error as the adapter raised it (typed: a KubeForbidden, a KubeTimeout, ...).
    error: IncidentctlError

    @property
    def message(self) -> str:
        return str(self.error)


@dataclass(frozen=True)
class LogsRequest:
    """What to read. Empty ``components``: every component of the runbook."""

    components: tuple[str, ...] = ()
    #: ``--since``: only lines at most this old (``sinceSeconds``).
    since: timedelta | None = None
    #: An absolute start instead (``sinceTime``); a baseline window reads from here.
    since_time: datetime | None = None
    #: ``--tail``: the last N lines of each container (kubectl's ``--tail``; None: all).
    tail: int | None = None
    previous: Previous = Previous.CURRENT
    concurrency: int = DEFAULT_CONCURRENCY
    #: Where :func:`run_logs` keeps what was read (:func:`fetch_logs`, which errors and the umbrella call, keeps
    #: nothing: they keep these logs with their own evidence).
    evidence: EvidenceRequest = field(default_factory=EvidenceRequest)


class NoSuchComponent(UsageError):
    """A component named on the command line that the runbook does not have."""


@dataclass
class LogFetch:
    """What a fan-out read: the lines in time order and every container that could not be read.

    Implements :class:`~incidentctl.phases.investigate.base.Section`: its findings name the pods whose logs could
    not be read and the crash-looping containers whose previous instance was read; its evidence is one file per
    container instance, redacted with the runbook's secrets.
    """

    #: Every line of every container read, merged on the kubelet's time stamp.
    lines: list[LogLine]
    #: The container instances read successfully (one evidence file each, even when empty).
    sources: tuple[LogSource, ...]
    errors: tuple[SourceError, ...] = ()
    #: Components that matched no pod, with why: "deployment gateway not found", "no pods".
    unmatched: tuple[tuple[str, str], ...] = ()
    #: The pod or deployment list failed: nothing could be read at all.
    cluster_error: IncidentctlError | None = None
    #: Containers that restarted (component, pod, container, restart count): their previous log holds the crash.
    restarted: tuple[tuple[str, str, str, int], ...] = ()
    #: What to mask in evidence (the runbook's secrets); identity when there are none.
    redact: Callable[[str], str] = field(default=lambda text: text, repr=False)
    _by_source: dict[LogSource, list[LogLine]] | None = field(default=None, init=False, repr=False, compare=False)
    #: Where the evidence went (set by the run function; nothing when the umbrella ran the view).
    kept: Kept = field(default_factory=Kept)

    @property
    def problems(self) -> tuple[SourceError, ...]:
        """The containers whose log exists but was not read (a previous instance that never was is not one)."""
        return tuple(e for e in self.errors if e.problem is SourceProblem.FAILED)

    @property
    def exit_code(self) -> int:
        """0 when every log asked for was read; 3 when a log could not be read or a component had no pod (a
        partial answer must not look complete to a script); the cluster error's code when nothing could be read."""
        if self.cluster_error is not None:
            return int(self.cluster_error.exit_code)
        if self.problems or self.unmatched:
            return int(ExitCode.PROBLEMS_FOUND)
        return int(ExitCode.OK)

    def lines_of(self, source: LogSource) -> Iterator[LogLine]:
        """One container instance's lines, in order (grouped once: evidence asks for every source in turn)."""
        if self._by_source is None:
            grouped: dict[LogSource, list[LogLine]] = {}
            for line in self.lines:
                grouped.setdefault(line.source, []).append(line)
            self._by_source = grouped
        return iter(self._by_source.get(source, ()))

    def findings(self) -> Sequence[Finding]:
        out: list[Finding] = []
        if self.cluster_error is not None:
            return [Finding(Rank.OTHER, f"logs could not be read: {self.cluster_error}")]
        for component, why in self.unmatched:
            out.append(Finding(Rank.OTHER, f"logs of {component}: {why}"))
        for err in self.problems:
            out.append(Finding(Rank.OTHER, f"log of {err.source.label} could not be read: {err.message}"))
        read_previous = {(s.pod, s.container) for s in self.sources if s.previous}
        for _component, pod, container, count in self.restarted:
            where = f"{pod}/{container}"
            if (pod, container) in read_previous:
                out.append(Finding(Rank.CRASHES, f"{where} restarted {count} time(s); its previous log was read"))
            else:
                out.append(Finding(Rank.CRASHES, f"{where} restarted {count} time(s) (see its log with --previous)"))
        if not out:
            out.append(Finding(Rank.OTHER, f"logs of {len(self.sources)} container(s) read", problem=False))
        return out

    def evidence(self) -> Iterable[Evidence]:
        for source in self.sources:
            yield Evidence(source.evidence_path, self._writer(source))

    def _writer(self, source: LogSource) -> Callable[[IO[bytes]], None]:
        from incidentctl.core.times import format_rfc3339

        def write(out: IO[bytes]) -> None:
            for line in self.lines_of(source):
                stamp = format_rfc3339(line.time, "microseconds") + " " if line.time is not None else ""
                out.write(self.redact(f"{stamp}{line.text}\n").encode("utf-8", errors="replace"))

        return write


# --- finding the containers ------------------------------------------------------------------------------------


def select_components(ctx: PhaseContext, names: Sequence[str]) -> list[Component]:
    """The runbook's components by name (all of them when none is named); an unknown name is a usage error that
    lists the known ones."""
    known = {c.name: c for c in ctx.runbook.components}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise NoSuchComponent(
            f"no component named {', '.join(unknown)} in the runbook",
            hint=f"components: {', '.join(known) or '(none)'}",
        )
    seen: list[Component] = []
    for name in names or list(known):
        if known[name] not in seen:
            seen.append(known[name])
    return seen


@dataclass(frozen=True)
class _Plan:
    sources: list[LogSource]
    skipped: list[SourceError]
    unmatched: list[tuple[str, str]]
    restarted: list[tuple[str, str, str, int]]
    #: pod name -> the pod's uid, so that --follow sees a pod replaced under the same name (a StatefulSet's).
    uids: dict[str, str]
    #: The pods matched, as listed.
    pods: list[JSON] = field(default_factory=list)


def _plan(
    components: Sequence[Component], deployments: Sequence[JSON], pods: Sequence[JSON], previous: Previous
) -> _Plan:
    from incidentctl.adapters.kube_logs import KubeNoPreviousContainer

    by_name = {d["metadata"]["name"]: d for d in deployments}
    sources: list[LogSource] = []
    skipped: list[SourceError] = []
    unmatched: list[tuple[str, str]] = []
    restarted: list[tuple[str, str, str, int]] = []
    uids: dict[str, str] = {}
    listed: list[JSON] = []
    for comp in components:
        dep = by_name.get(comp.deployment)
        if dep is None:
            unmatched.append((comp.name, f"deployment {comp.deployment} not found"))
            continue
        matched = sorted(pods_of((dep.get("spec") or {}).get("selector"), pods), key=lambda p: p["metadata"]["name"])
        if not matched:
            unmatched.append((comp.name, f"no pods match deployment {comp.deployment}'s selector"))
            continue
        listed.extend(dict(p) for p in matched)
        for pod in matched:
            name = str(pod["metadata"]["name"])
            uids[name] = str(pod["metadata"].get("uid") or "")
            statuses = {cs.get("name"): cs for cs in (pod.get("status") or {}).get("containerStatuses") or []}
            for spec in (pod.get("spec") or {}).get("containers") or []:
                container = str(spec.get("name"))
                status = statuses.get(container) or {}
                count = int(status.get("restartCount") or 0)
                has_previous = count > 0 or bool((status.get("lastState") or {}).get("terminated"))
                if count:
                    restarted.append((comp.name, name, container, count))
                if previous is not Previous.ONLY:
                    sources.append(LogSource(comp.name, name, container))
                if previous is not Previous.CURRENT and has_previous:
                    sources.append(LogSource(comp.name, name, container, previous=True))
                elif previous is Previous.ONLY:
                    # Decided on the pod's status, without a request that can only answer 400.
                    why = KubeNoPreviousContainer(f"{name}/{container} has not restarted: it has no previous log")
                    skipped.append(
                        SourceError(LogSource(comp.name, name, container, True), SourceProblem.NO_PREVIOUS, why)
                    )
    return _Plan(sources, skipped, unmatched, restarted, uids, listed)


def _problem_of(error: IncidentctlError) -> SourceProblem:
    from incidentctl.adapters.kube_logs import KubeContainerNotStarted, KubeNoPreviousContainer

    if isinstance(error, KubeNoPreviousContainer):
        return SourceProblem.NO_PREVIOUS
    if isinstance(error, KubeContainerNotStarted):
        return SourceProblem.NOT_STARTED
    return SourceProblem.FAILED


def _options(request: LogsRequest, previous: bool) -> LogOptions:
    from incidentctl.adapters.kube_logs import LogOptions

    since_seconds = None
    if request.since is not None:
        since_seconds = max(1, int(request.since.total_seconds()))
    return LogOptions(
        since_seconds=since_seconds,
        since_time=request.since_time if since_seconds is None else None,
        tail_lines=request.tail,
        previous=previous,
    )


def parse_lines(source: LogSource, text: str) -> list[LogLine]:
    """A container's log text (with the kubelet's stamps) as lines. A line without a stamp takes the time of the
    line before it, so a multi-line traceback stays together in the merge."""
    from incidentctl.adapters.kube_logs import split_stamp

    out: list[LogLine] = []
    last: datetime | None = None
    # Only "\n" ends a line, as for the kubelet: str.splitlines would also cut at a CR, FS or U+2028 inside one.
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for raw in lines:
        when, body = split_stamp(raw)
        when = when if when is not None else last
        last = when
        out.append(LogLine(when, source.pod, source.container, source.previous, body, source.component))
    return out


def merge(streams: Iterable[Iterable[LogLine]]) -> Iterator[LogLine]:
    """Per-container streams, each in time order, merged into one (stable: equal times keep stream order)."""
    floor = datetime.min.replace(tzinfo=timezone.utc)
    return heapq.merge(*streams, key=lambda line: line.time if line.time is not None else floor)


# --- the fan-out ----------------------------------------------------------------------------------------------


def _read_plan(client: KubeClient, namespace: str, components: Sequence[Component], previous: Previous) -> _Plan:
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="logs-list") as pool:
        deployments = pool.submit(client.list, "deployments", namespace)
        pods = pool.submit(client.list, "pods", namespace)
        return _plan(components, deployments.result(), pods.result(), previous)


def run_logs(ctx: PhaseContext, request: LogsRequest) -> LogFetch:
    """``investigate logs``: :func:`fetch_logs`, and one file per container kept in the open incident (nothing
    when nothing could be read)."""
    check_incident(ctx, request.evidence)
    result = fetch_logs(ctx, request)
    if result.cluster_error is not None:
        return result
    result.kept = keep_view(ctx, request.evidence, VIEW, result)
    return result


def fetch_logs(ctx: PhaseContext, request: LogsRequest) -> LogFetch:
    """Read the logs of every container of every pod of the requested components, concurrently, and merge them.

    Two list calls find the pods (deployments and pods of the namespace), then one log read per container instance
    runs in a pool of ``request.concurrency`` threads. An unknown component name raises :class:`NoSuchComponent`
    (exit 2) before anything is read; a failed list is :attr:`LogFetch.cluster_error`; a failed read is one
    :class:`SourceError`, and every other container is still read.
    """
    from incidentctl.adapters.kube import KubeError

    components = select_components(ctx, request.components)
    learn_runbook_secrets(ctx)
    namespace = ctx.settings.namespace.value
    try:
        client = ctx.adapters.kube()
    except IncidentctlError as e:
        return LogFetch([], (), cluster_error=e, redact=ctx.secrets.redact)
    try:
        try:
            plan = _read_plan(client, namespace, components, request.previous)
        except KubeError as e:
            return LogFetch([], (), cluster_error=e, redact=ctx.secrets.redact)
        workers = max(1, min(request.concurrency, len(plan.sources)))
        client.widen_pool(workers)

        def read(source: LogSource) -> list[LogLine] | SourceError:
            try:
                text = client.read_log(namespace, source.pod, source.container, _options(request, source.previous))
            except IncidentctlError as e:
                return SourceError(source, _problem_of(e), e)
            return parse_lines(source, text)

        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="logs")
        try:
            outcomes = list(pool.map(read, plan.sources))
        finally:  # on Ctrl-C, reads not yet started are dropped rather than waited for
            pool.shutdown(wait=False, cancel_futures=True)
    finally:
        client.close()
    streams: list[list[LogLine]] = []
    read_ok: list[LogSource] = []
    errors = list(plan.skipped)
    for source, outcome in zip(plan.sources, outcomes, strict=True):
        if isinstance(outcome, SourceError):
            errors.append(outcome)
        else:
            streams.append(outcome)
            read_ok.append(source)
    return LogFetch(
        lines=list(merge(streams)),
        sources=tuple(read_ok),
        errors=tuple(errors),
        unmatched=tuple(plan.unmatched),
        restarted=tuple(plan.restarted),
        redact=ctx.secrets.redact,
    )


# --- --follow ---------------------------------------------------------------------------------------------------

#: Seconds between looks at the pod list while following: how soon a new pod joins.
POLL_INTERVAL = 2.0


@dataclass(frozen=True)
class Joined:
    """A container instance's log is followed from now on (stern's ``+ pod › container``)."""

    source: LogSource


@dataclass(frozen=True)
class Left:
    """A followed log ended: the container stopped, the pod went away, or (``error``) the stream broke."""

    source: LogSource
    error: IncidentctlError | None = None


@dataclass(frozen=True)
class NoPods:
    """A component matched no pod when following began (its pods join when they start)."""

    component: str
    why: str


@dataclass(frozen=True)
class ListFailed:
    """A look at the pod list failed while following; the logs already followed go on, the next look retries."""

    error: IncidentctlError


FollowEvent = LogLine | Joined | Left | NoPods | ListFailed


def _instance_id(status: JSON) -> str | None:
    """Which instance of a container the API would stream now: the running one, else the one that last ended."""
    state, last = status.get("state") or {}, status.get("lastState") or {}
    for part in (state.get("running"), state.get("terminated"), last.get("terminated")):
        if part is not None and (part.get("containerID") or status.get("containerID")):
            return str(part.get("containerID") or status.get("containerID"))
    if state.get("running") is not None:
        return str(status.get("containerID") or "running")
    return None


def _follow_targets(
    client: KubeClient, namespace: str, components: Sequence[Component]
) -> tuple[list[tuple[LogSource, tuple[str, str, str]]], list[tuple[str, str]], set[str]]:
    """(source, (pod uid, container, instance)) for every started container, the components without pods, and
    the uids of the pods that exist."""
    plan = _read_plan(client, namespace, components, Previous.CURRENT)
    pods = {p["metadata"]["name"]: p for p in plan.pods}
    out: list[tuple[LogSource, tuple[str, str, str]]] = []
    for source in plan.sources:
        pod = pods.get(source.pod) or {}
        statuses = {cs.get("name"): cs for cs in (pod.get("status") or {}).get("containerStatuses") or []}
        instance = _instance_id(statuses.get(source.container) or {})
        if instance is not None:
            out.append((source, (plan.uids[source.pod], source.container, instance)))
    return out, plan.unmatched, set(plan.uids.values())


def follow_logs(
    ctx: PhaseContext,
    request: LogsRequest,
    *,
    stop: threading.Event | None = None,
    poll_interval: float = POLL_INTERVAL,
) -> Iterator[FollowEvent]:
    """``--follow``: every container's log as it is written, until ``stop`` is set or the consumer stops.

    The containers present at the start are read with the request's ``since``/``tail``; a pod that starts later
    (or a container that restarts: a new instance) joins with its whole log, found by looking at the pod list every
    ``poll_interval`` seconds. A log ends when its container stops or its pod goes away (:class:`Left`); a stream
    that breaks while its pod is still there is opened again from the last line seen (stern's resume). Lines come
    in the order they arrive: a live merge would have to hold every line back for the slowest stream.

    Events are yielded on the caller's thread, which waits in short steps so that Ctrl-C reaches it at once.
    """
    if request.previous is not Previous.CURRENT:
        raise UsageError("--previous and --follow exclude each other: a previous container writes nothing more")
    components = select_components(ctx, request.components)
    follower = _Follower(ctx, request, components, stop if stop is not None else threading.Event())
    try:
        yield from follower.run(poll_interval)
    finally:
        follower.close()


#: A followed container instance: (pod uid, container, container id).
_Key = tuple[str, str, str]


class _Follower:
    """The state of one ``--follow``: a thread per followed stream feeding one queue the caller drains."""

    def __init__(
        self, ctx: PhaseContext, request: LogsRequest, components: Sequence[Component], stop: threading.Event
    ) -> None:
        import queue

        self.request = request
        self.components = components
        self.namespace = ctx.settings.namespace.value
        self.stop = stop
        self.client = ctx.adapters.kube()
        self.events: queue.Queue[FollowEvent] = queue.Queue()
        self.lock = threading.Lock()
        self.streams: dict[_Key, LogStream] = {}
        self.seen: set[_Key] = set()
        #: A stream that broke: the time of its last line, to open it again from there.
        self.resume: dict[_Key, datetime] = {}
        #: pod uid -> the keys followed in it, to end them when the pod goes away.
        self.by_pod: dict[str, set[_Key]] = {}

    def run(self, poll_interval: float) -> Iterator[FollowEvent]:
        import queue

        from incidentctl.adapters.kube import KubeError

        first = True
        next_look = 0.0
        while not self.stop.is_set():
            now = time.monotonic()
            if now >= next_look:
                next_look = now + poll_interval
                try:
                    targets, unmatched, alive = _follow_targets(self.client, self.namespace, self.components)
                except KubeError as e:
                    if first:
                        raise
                    yield ListFailed(e)
                else:
                    if first:
                        yield from (NoPods(component, why) for component, why in unmatched)
                    yield from self._look(targets, alive, initial=first)
                    first = False
            try:
                yield self.events.get(timeout=min(0.2, poll_interval))
            except queue.Empty:
                continue

    def _look(self, targets: list[tuple[LogSource, _Key]], alive: set[str], *, initial: bool) -> Iterator[Joined]:
        fresh = []
        with self.lock:
            for source, key in targets:
                if key not in self.seen:
                    self.seen.add(key)
                    self.by_pod.setdefault(key[0], set()).add(key)
                    fresh.append((source, key))
            gone = [uid for uid in self.by_pod if uid not in alive]
            ending = [self.streams[key] for uid in gone for key in self.by_pod.pop(uid) if key in self.streams]
        for stream in ending:
            stream.close()  # its pump reports it as Left
        self.client.widen_pool(len(self.seen) + 4)
        for source, key in fresh:
            yield Joined(source)
            self._start(source, key, initial)

    def _start(self, source: LogSource, key: _Key, initial: bool) -> None:
        from incidentctl.adapters.kube_logs import LogOptions

        with self.lock:
            after = self.resume.pop(key, None)
        if after is not None:
            options = LogOptions(since_time=after)
        elif initial:
            options = _options(self.request, False)
        else:
            options = LogOptions()  # a pod that started while we follow: its whole log
        thread = threading.Thread(
            target=self._pump, args=(source, key, options, after), name=f"follow-{source.pod}", daemon=True
        )
        thread.start()

    def _pump(self, source: LogSource, key: _Key, options: LogOptions, after: datetime | None) -> None:
        from incidentctl.adapters.kube_logs import split_stamp

        last = after
        try:
            stream = self.client.stream_log(self.namespace, source.pod, source.container, options)
            with self.lock:
                self.streams[key] = stream
            if self.stop.is_set():
                stream.close()
            previous_time: datetime | None = None
            for raw in stream:
                when, text = split_stamp(raw)
                when = when if when is not None else previous_time
                previous_time = when
                if after is not None and when is not None and when <= after:
                    continue  # shown before the stream broke
                last = when or last
                self.events.put(LogLine(when, source.pod, source.container, False, text, source.component))
            self.events.put(Left(source))
        except IncidentctlError as e:
            if not self.stop.is_set():
                if last is not None and _problem_of(e) is SourceProblem.FAILED:
                    with self.lock:
                        self.resume[key] = last
                        self.seen.discard(key)  # the next look at the pod list opens it again, from ``last``
                self.events.put(Left(source, e))
        finally:
            with self.lock:
                self.streams.pop(key, None)

    def close(self) -> None:
        self.stop.set()
        with self.lock:
            open_streams = list(self.streams.values())
        for stream in open_streams:
            stream.close()
        self.client.close()


__all__ = [
    "DEFAULT_CONCURRENCY",
    "POLL_INTERVAL",
    "FollowEvent",
    "Joined",
    "Left",
    "ListFailed",
    "LogFetch",
    "LogLine",
    "LogSource",
    "LogsRequest",
    "NoPods",
    "NoSuchComponent",
    "Previous",
    "SourceError",
    "SourceProblem",
    "fetch_logs",
    "follow_logs",
    "merge",
    "parse_lines",
    "run_logs",
    "select_components",
]
