"""What reading a container's log can answer besides the log: the shapes :meth:`KubeClient.read_log` and
:meth:`KubeClient.stream_log` share, kept apart from :mod:`incidentctl.adapters.kube` so that a caller can name
them without importing the Kubernetes client.

Two of the API's 400 answers to a log read are expected outcomes rather than failures of the call: the container
has no previous instance (``--previous`` on a pod that never restarted) and the container has not started yet
(``ContainerCreating``, an image that cannot be pulled). Each gets its own class, so a caller tells them apart by
type; both are still :class:`KubeApiError`, the class of every other 400.

The kubelet answers with ``timestamps=true`` by putting its own RFC 3339 time (nanoseconds) in front of every line;
:func:`split_stamp` takes it off again, so lines from different pods merge on the time the kubelet saw them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from incidentctl.adapters.kube_errors import KubeApiError
from incidentctl.core.times import format_rfc3339, parse_log_stamp


class KubeNoPreviousContainer(KubeApiError):
    """``previous=True`` on a container that has not restarted: there is no earlier instance to read."""

    reason = "NoPreviousContainer"


class KubeContainerNotStarted(KubeApiError):
    """The container is waiting to start (creating, pulling its image, back-off before the first start): there is
    no log yet."""

    reason = "ContainerNotStarted"


def log_error_class(message: str, *, previous: bool) -> type[KubeApiError] | None:
    """Which expected outcome a 400 to a log read is, from the API's message (a 400 carries no other detail: the
    API server passes the kubelet's words on as the Status message, reason ``BadRequest``)."""
    lowered = message.lower()
    if previous and "previous terminated container" in lowered:
        return KubeNoPreviousContainer
    if "waiting to start" in lowered:
        return KubeContainerNotStarted
    return None


@dataclass(frozen=True)
class LogOptions:
    """The log endpoint's query, as ``kubectl logs`` spells its flags. ``since_seconds`` and ``since_time``
    exclude each other on the API; ``timestamps`` stays on for the fan-out, which orders lines by it."""

    since_seconds: int | None = None
    since_time: datetime | None = None
    tail_lines: int | None = None
    previous: bool = False
    timestamps: bool = True
    limit_bytes: int | None = None

    def query(self, container: str, *, follow: bool = False) -> list[tuple[str, str]]:
        if self.since_seconds is not None and self.since_time is not None:
            raise ValueError("since_seconds and since_time exclude each other")
        query = [("container", container)]
        if self.since_seconds is not None:
            query.append(("sinceSeconds", str(max(1, self.since_seconds))))
        if self.since_time is not None:
            query.append(("sinceTime", format_rfc3339(self.since_time, "seconds")))
        if self.tail_lines is not None:
            query.append(("tailLines", str(max(0, self.tail_lines))))
        if self.previous:
            query.append(("previous", "true"))
        if self.timestamps:
            query.append(("timestamps", "true"))
        if self.limit_bytes is not None:
            query.append(("limitBytes", str(self.limit_bytes)))
        if follow:
            query.append(("follow", "true"))
        return query


def split_stamp(line: str) -> tuple[datetime | None, str]:
    """``"2026-12-01T14:23:18.123456789Z GET /search 200"`` -> (that time, ``"GET /search 200"``). A line without
    a readable stamp keeps its text whole and gets None (a caller orders it by its neighbours)."""
    stamp, sep, text = line.partition(" ")
    when = parse_log_stamp(stamp) if sep or stamp else None
    if when is None:
        return None, line
    return when, text


class LogStream:
    """A followed log, line by line, as the API sends it; :meth:`close` ends it from any thread (the reader's
    loop then ends), which is how a follow stops on Ctrl-C or when its pod goes away."""

    def __init__(self, chunks: Iterator[bytes], close: Callable[[], None]) -> None:
        self._chunks = chunks
        self._close = close
        self.closed = False

    def __iter__(self) -> Iterator[str]:
        pending = b""
        try:
            for chunk in self._chunks:
                if self.closed:
                    return
                pending += chunk
                *whole, pending = pending.split(b"\n")
                for raw in whole:
                    yield raw.decode("utf-8", errors="replace")
            if pending and not self.closed:
                yield pending.decode("utf-8", errors="replace")
        except Exception:
            if self.closed:  # closing the connection from another thread ends the read with an error
                return
            raise

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._close()

    def __enter__(self) -> LogStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
