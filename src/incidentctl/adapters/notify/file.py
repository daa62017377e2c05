"""Messages written as files: one ``.eml`` file per message in the channel's folder (a mail drop, a shared
drive, the sandbox's and the demo's stand-in for email).

The file is an RFC 5322 email (the same headers and body the email channel would send, plus the message's key
in ``X-Incidentctl-Key``), so any mail reader opens it and a script can parse it with the standard library.

Exactly once: the file's name is the message's idempotency key, and a file appears whole or not at all (written
to a temporary name, fsynced, then linked to its name, which fails if it exists). So this channel can tell
(``can_tell``): after a sender stopped, the file either exists (delivered) or not (send it).

The key comes from the journal, which anyone with write access to the incident folder can edit, so it is never
used as a path: it is percent-encoded into a single file name (no ``/``, no ``..`` component) and the file is
created without following a symlink planted under that name. The folder itself is the runbook's to choose (a
symlink there is the team's decision, not an attack).
"""

from __future__ import annotations

import contextlib
import os
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING

from incidentctl.adapters.notify.base import DeliveryError, Outgoing, Receipt
from incidentctl.adapters.notify.email import mail_message
from incidentctl.core.text import one_line

if TYPE_CHECKING:
    from incidentctl.adapters.notify.channels import ChannelDeps
    from incidentctl.runbook.model import FileChannel

#: The sender's address written into the files (they go to no one: the folder is the recipient).
SENDER = "incidentctl@localhost"


def file_name(key: str) -> str:
    """``INC-2026-004%2Finitial-1%2Femail.eml``: one name per key (percent-encoding is reversible, so two keys
    never share a file) and never more than one path component."""
    return urllib.parse.quote(key, safe="") + ".eml"


class FileDelivery:
    can_tell = True

    def __init__(self, config: FileChannel, deps: ChannelDeps) -> None:
        self._deps = deps
        folder = Path(config.dir).expanduser()
        self._dir = folder if folder.is_absolute() else deps.runbook_dir / folder

    def send(self, message: Outgoing) -> Receipt:
        path = self._dir / file_name(message.key)
        mail = mail_message(message, sender=SENDER, to=[f"{self._deps.name}@localhost"], now=self._deps.clock())
        mail["X-Incidentctl-Key"] = one_line(message.key)
        data = bytes(mail)
        where = f"file channel {self._deps.name}"
        try:
            self._dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:  # a file where the folder should be, no permission
            raise DeliveryError(
                f"{where}: cannot make the folder {self._dir} ({e.strerror or type(e).__name__})", reason="config"
            ) from e
        try:
            _write_once(path, data)
        except FileExistsError as e:
            if path.is_symlink() or not path.is_file():  # planted, not written by us: never written through
                raise DeliveryError(f"{where}: {path} is in the way (not a file we wrote)", reason="client") from e
            # else written by an earlier attempt: the same key is the same message
        except OSError as e:
            raise DeliveryError(
                f"{where}: cannot write {path} ({e.strerror or type(e).__name__})", reason="config"
            ) from e
        return {"file": str(path)}

    def find(self, message: Outgoing) -> Receipt | None:
        path = self._dir / file_name(message.key)
        return {"file": str(path)} if path.is_file() and not path.is_symlink() else None


def _write_once(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole, durably, and only if ``path`` does not exist (FileExistsError then)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()  # left by an earlier run of this pid that stopped mid-way
    fd = os.open(temporary, flags, 0o644)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.link(temporary, path)  # atomic, and refuses an existing name (a symlink included)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
