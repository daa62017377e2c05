"""The incident's ``evidence/`` folder: what investigate looked at, kept so the post-mortem cites it instead of
fetching it again (by then the pods are gone and their logs with them).

::

    incidents/INC-2026-004/evidence/
      20261201T142812Z-all/          one folder per run: UTC time, then the view (or ``all``)
        datastores/checks.json
        logs/gateway-7d9f-abcde.log

Every file is written to a temporary name in its folder, fsynced and renamed into place, so a reader (or a crash)
never sees half a file. Nothing is followed through a symbolic link: each folder from the incident's down is
opened relative to its parent with ``O_NOFOLLOW`` (and files are created with ``O_EXCL``), so a link planted
anywhere on the way is refused rather than written through. Names come from the cluster (a pod name) and are
sanitised: one safe component per folder level, never ``..``, never a separator. Content passes ``redact``
(the runbook's secrets) line by line on the way to disk, and a file is cut at ``max_bytes`` with a note saying so.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Protocol

from incidentctl.errors import JournalError

#: The folder under an incident that holds every run's evidence.
EVIDENCE = "evidence"

#: A file is cut here (after redaction): a day of debug logs from one pod must not fill the disk the journal
#: lives on, which is also where the timeline is written.
MAX_FILE_BYTES = 32 * 1024 * 1024

#: Folder levels a file's path may have below the run's folder (``logs/gateway/previous.log``).
MAX_DEPTH = 4

#: A name is cut to this many characters (file systems take 255 bytes; room is left for a ``-2`` suffix).
MAX_NAME = 120

#: Lines longer than this are redacted and written in pieces (a log line without a newline may be any length);
#: the last ``_OVERLAP`` characters are kept back so a secret across the cut is still found.
_LINE_BUFFER = 1024 * 1024
_OVERLAP = 4096

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_DOTS = re.compile(r"\.{2,}")

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)


class EvidenceItem(Protocol):
    """What a file of evidence is (:class:`incidentctl.phases.investigate.base.Evidence` fits it)."""

    @property
    def path(self) -> str: ...

    @property
    def write(self) -> Callable[[IO[bytes]], None]: ...


@dataclass(frozen=True)
class SavedFile:
    #: Relative to the run's folder, as written (after sanitising).
    path: str
    bytes: int
    #: True when the file was cut at the size cap (its last line says so).
    cut: bool = False


@dataclass(frozen=True)
class SavedEvidence:
    """What one run left in the incident's ``evidence/`` folder."""

    #: The run's folder, relative to the incident's (``evidence/20261201T142812Z-all``).
    folder: str
    #: The run's folder on disk.
    location: Path
    files: tuple[SavedFile, ...]
    #: Files that could not be produced (the view's writer failed): ``path: why``. The others are kept.
    problems: tuple[str, ...] = field(default=())

    @property
    def total_bytes(self) -> int:
        return sum(f.bytes for f in self.files)


def safe_name(text: str) -> str:
    """One path component from cluster or user text: letters, digits, ``.``, ``_`` and ``-`` only, no ``..``,
    never empty, never hidden, at most :data:`MAX_NAME` characters."""
    name = _DOTS.sub("_", _UNSAFE.sub("_", text)).strip("_") or "_"
    if name.startswith(".") or name.startswith("-"):
        name = "_" + name
    return name[:MAX_NAME]


def safe_path(path: str) -> tuple[str, ...]:
    """A relative path's components, each made safe; ``\\`` separates too, empty parts are dropped, and
    components beyond :data:`MAX_DEPTH` folders are joined into the file's name."""
    parts = [p for p in re.split(r"[/\\]+", path) if p not in ("", ".")]
    if not parts:
        parts = ["evidence"]
    if len(parts) > MAX_DEPTH + 1:
        parts = [*parts[:MAX_DEPTH], "_".join(parts[MAX_DEPTH:])]
    return tuple(safe_name(p) for p in parts)


def run_folder_name(now: datetime, label: str) -> str:
    """``20261201T142812Z-all``: sorts by time, and says which view made it."""
    at = now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"{at}-{safe_name(label)}"


class _Full(Exception):
    """Raised into the view's writer when its file reached the cap: it stops producing, nothing is lost but
    the part beyond the cap, which the file's last line mentions."""


class _RedactingWriter:
    """A binary file that redacts what passes through it, a line at a time, and stops at a size cap.

    Bytes are decoded with ``surrogateescape`` so any byte (a log line is not always UTF-8) survives the round
    trip unchanged, except for the secrets replaced in it.
    """

    def __init__(self, fd: int, redact: Callable[[str], str], max_bytes: int) -> None:
        self._fd = fd
        self._redact = redact
        self._max = max_bytes
        self._pending = ""
        self.written = 0
        self.cut = False

    # the part of IO[bytes] the views use
    def write(self, data: bytes | bytearray | memoryview) -> int:
        if self.cut:
            raise _Full
        self._pending += bytes(data).decode("utf-8", "surrogateescape")
        end = self._pending.rfind("\n")
        if end >= 0:
            ready, self._pending = self._pending[: end + 1], self._pending[end + 1 :]
            self._emit(self._redact(ready))
        elif len(self._pending) > _LINE_BUFFER:
            # No newline for a long way: redact with some overlap kept back, so a secret on the cut is whole next
            # time. A redacted piece can only shrink, so what is kept back is still unredacted text.
            head, self._pending = self._pending[:-_OVERLAP], self._pending[-_OVERLAP:]
            self._emit(self._redact(head))
        return len(data)

    def flush(self) -> None:
        return None

    def writable(self) -> bool:
        return True

    def close_text(self) -> None:
        """The rest (a last line without a newline), redacted."""
        if self._pending and not self.cut:
            rest, self._pending = self._pending, ""
            with contextlib.suppress(_Full):
                self._emit(self._redact(rest))

    def _emit(self, text: str) -> None:
        data = text.encode("utf-8", "surrogateescape")
        room = self._max - self.written
        if len(data) > room:
            cut_at = data.rfind(b"\n", 0, room) + 1 or room  # whole lines where possible
            self._raw(data[:cut_at])
            note = f"\n[incidentctl: cut at {self._max} bytes; the rest was not kept]\n".encode()
            self._raw(note, count=False)
            self.cut = True
            raise _Full
        self._raw(data)

    def _raw(self, data: bytes, *, count: bool = True) -> None:
        view = memoryview(data)
        while view:
            n = os.write(self._fd, view)
            view = view[n:]
        if count:
            self.written += len(data)


class EvidenceStore:
    """Writes runs of evidence under ``<journal>/<incident>/evidence/``."""

    def __init__(self, journal_dir: Path, *, max_bytes: int = MAX_FILE_BYTES) -> None:
        self.journal_dir = journal_dir
        self.max_bytes = max_bytes

    def save(
        self,
        incident_id: str,
        label: str,
        items: Iterable[EvidenceItem],
        *,
        now: datetime,
        redact: Callable[[str], str],
    ) -> SavedEvidence:
        """Write every item into a new run folder; a writer that fails costs its own file only (named in
        ``problems``), while a folder that cannot be made or is a link is a :class:`JournalError`."""
        incident = self.journal_dir / incident_id
        fds: list[int] = []
        try:
            fds.append(os.open(self.journal_dir, os.O_RDONLY | _DIRECTORY))
            root = self._open_dir(fds[0], incident_id, fds, create=False)
            evidence = self._open_dir(root, EVIDENCE, fds, create=True)
            name, run = self._new_run_folder(evidence, run_folder_name(now, label), fds)
            files: list[SavedFile] = []
            problems: list[str] = []
            taken: set[tuple[str, ...]] = set()
            for item in items:
                parts = _unique(safe_path(item.path), taken)
                try:
                    files.append(self._write_file(run, parts, item.write, redact, fds))
                except JournalError:
                    raise
                except Exception as e:  # a view's writer that fails loses its own file, not the run
                    problems.append(f"{'/'.join(parts)}: {type(e).__name__}: {redact(str(e))}")
            with contextlib.suppress(OSError):
                os.fsync(run)
            return SavedEvidence(f"{EVIDENCE}/{name}", incident / EVIDENCE / name, tuple(files), tuple(problems))
        except OSError as e:
            raise _failure(f"cannot write evidence under {incident / EVIDENCE}", e) from e
        finally:
            for fd in reversed(fds):
                with contextlib.suppress(OSError):
                    os.close(fd)

    # --- folders, never through a link ----------------------------------------------------------------------

    def _open_dir(self, parent: int, name: str, fds: list[int], *, create: bool) -> int:
        """The folder ``name`` in the folder open as ``parent``, opened without following a link."""
        if create:
            with contextlib.suppress(FileExistsError):
                os.mkdir(name, 0o777, dir_fd=parent)
        try:
            fd = os.open(name, os.O_RDONLY | _DIRECTORY | _NOFOLLOW, dir_fd=parent)
        except OSError as e:
            if e.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK) and _is_link(parent, name):
                raise JournalError(
                    f"{name} in {_where(parent)} is a symbolic link: evidence is never written through a link",
                    hint="remove the link; the evidence folder must be a real folder inside the incident's",
                ) from e
            if e.errno == errno.ENOTDIR:
                raise JournalError(f"{name} in {_where(parent)} is not a folder") from e
            raise
        fds.append(fd)
        return fd

    def _new_run_folder(self, evidence: int, name: str, fds: list[int]) -> tuple[str, int]:
        """A folder of its own for this run (two runs in one second get ``-2``, ``-3``...)."""
        for n in range(1, 1000):
            candidate = name if n == 1 else f"{name}-{n}"
            try:
                os.mkdir(candidate, 0o777, dir_fd=evidence)
            except FileExistsError:
                continue
            return candidate, self._open_dir(evidence, candidate, fds, create=False)
        raise JournalError(f"too many evidence runs named {name}")

    def _write_file(
        self,
        run: int,
        parts: tuple[str, ...],
        write: Callable[[IO[bytes]], None],
        redact: Callable[[str], str],
        fds: list[int],
    ) -> SavedFile:
        folder = run
        for part in parts[:-1]:
            folder = self._open_dir(folder, part, fds, create=True)
        final = parts[-1]
        temp = f".{final[:60]}.{secrets.token_hex(4)}.tmp"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o666, dir_fd=folder)
        try:
            out = _RedactingWriter(fd, redact, self.max_bytes)
            try:
                with contextlib.suppress(_Full):
                    write(out)  # type: ignore[arg-type]  # the write() of a binary file is all a writer uses
                out.close_text()
                os.fsync(fd)
            finally:
                os.close(fd)
            os.rename(temp, final, src_dir_fd=folder, dst_dir_fd=folder)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp, dir_fd=folder)
            raise
        return SavedFile("/".join(parts), out.written, out.cut)


def _unique(parts: tuple[str, ...], taken: set[tuple[str, ...]]) -> tuple[str, ...]:
    """Two names that sanitise alike (``a/b`` and ``a_b``) keep both files: the second gets ``-2``."""
    candidate, n = parts, 1
    while candidate in taken:
        n += 1
        stem, dot, ext = parts[-1].partition(".")
        candidate = (*parts[:-1], f"{stem}-{n}{dot}{ext}")
    taken.add(candidate)
    return candidate


def _is_link(parent: int, name: str) -> bool:
    with contextlib.suppress(OSError):
        return stat.S_ISLNK(os.lstat(name, dir_fd=parent).st_mode)
    return False


def _where(fd: int) -> str:
    """The folder open as ``fd``, for messages (its path where the system can say it)."""
    with contextlib.suppress(OSError):
        return os.readlink(f"/proc/self/fd/{fd}")
    return "the evidence folder"


def _failure(what: str, e: OSError) -> JournalError:
    hint = None
    if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        hint = "the incident's folder must be writable by you (or run with --no-save)"
    elif e.errno in (errno.ENOSPC, errno.EDQUOT):
        hint = "the disk (or your quota) is full: free some space, or run with --no-save"
    elif e.errno == errno.ENOENT:
        hint = "the incident's folder is missing from the journal"
    return JournalError(f"{what}: {e.strerror or e}", hint=hint)
