"""One running sandbox per ``--dir``.

A sandbox's folder holds its kubeconfig (with the control token ``sandbox inject`` needs), its runbook and its
TLS files. A second ``sandbox up`` there would rewrite them for its own port and orphan the first, so the
folder is claimed with an OS lock (``filelock``: ``flock`` on POSIX) for as long as the sandbox runs. The kernel
drops that lock when its process dies, however it dies, so a lock file left by a killed sandbox never blocks the
next one; beside it, ``sandbox.holder.json`` says who holds the folder, for the refusal's message.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import TracebackType

from filelock import FileLock, Timeout

LOCK_NAME = "sandbox.lock"
HOLDER_NAME = "sandbox.holder.json"


class FolderInUse(Exception):
    """Another sandbox is serving from this folder."""

    def __init__(self, directory: Path, holder: str) -> None:
        super().__init__(f"{directory} is in use by {holder}")
        self.directory = directory
        self.holder = holder


class FolderClaim:
    """Hold ``directory`` for one sandbox: ``with FolderClaim(d) as claim: ...; claim.announce(url)`` (or
    :meth:`acquire` and :meth:`release`)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = FileLock(directory / LOCK_NAME, timeout=0)

    def acquire(self) -> FolderClaim:
        """Claim the folder now, or raise :class:`FolderInUse` (never waits: the holder may run for hours)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire()
        except Timeout:
            raise FolderInUse(self.directory, self._holder()) from None
        (self.directory / HOLDER_NAME).unlink(missing_ok=True)  # a killed sandbox's, until announce()
        return self

    def announce(self, url: str) -> None:
        """Say who holds the folder (written once the sandbox serves, so the URL is known)."""
        path = self.directory / HOLDER_NAME
        path.write_text(json.dumps({"pid": os.getpid(), "url": url}) + "\n", encoding="utf-8")

    def release(self) -> None:
        (self.directory / HOLDER_NAME).unlink(missing_ok=True)
        self._lock.release()

    def __enter__(self) -> FolderClaim:
        return self.acquire()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.release()

    def _holder(self) -> str:
        try:
            data = json.loads((self.directory / HOLDER_NAME).read_text(encoding="utf-8"))
            return f"the sandbox serving on {data['url']} (pid {int(data['pid'])})"
        except (OSError, ValueError, KeyError, TypeError):
            return "another sandbox that is starting"
