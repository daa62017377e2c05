"""Documents written beside the journal (the post-mortem) and the evidence files read back for them.

A post-mortem is a file people edit, often in a repository: it is replaced atomically (a temporary file in the
same folder, fsynced, renamed over the old one, the folder fsynced) so a crash or a full disk leaves the old
version or the new one, never half of each. A symbolic link or a folder at the path is refused rather than
followed or replaced: a draft must not write through a link into some other file, nor delete a folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

from incidentctl.errors import JournalError
from incidentctl.journal.evidence import safe_path


def _refuse(path: Path) -> os.stat_result | None:
    """The file's status, None when there is none; a link, a folder or anything not a regular file is refused."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise JournalError(f"cannot read {path}: {e.strerror or e}") from e
    if stat.S_ISLNK(info.st_mode):
        raise JournalError(f"{path} is a symbolic link: nothing written", hint="give --file a path of its own")
    if stat.S_ISDIR(info.st_mode):
        raise JournalError(f"{path} is a folder: nothing written", hint="give --file the path of a file")
    if not stat.S_ISREG(info.st_mode):
        raise JournalError(f"{path} is not a regular file: nothing written", hint="give --file another path")
    return info


def read_document(path: Path) -> str | None:
    """The document's text, None when there is none yet."""
    if _refuse(path) is None:
        return None
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise JournalError(f"{path} is not UTF-8 text (byte {e.start}): nothing written") from e
    except OSError as e:
        raise JournalError(f"cannot read {path}: {e.strerror or e}") from e


def write_document(path: Path, text: str) -> None:
    """Replace (or create) the document atomically, keeping an existing file's permissions."""
    info = _refuse(path)
    folder = path.parent
    if not folder.is_dir():
        raise JournalError(f"cannot write {path}: the folder {folder} does not exist")
    temporary: str | None = None
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "wb") as out:
            out.write(text.encode("utf-8"))
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, stat.S_IMODE(info.st_mode) if info is not None else 0o644)
        os.replace(temporary, path)
        temporary = None
        with contextlib.suppress(OSError):
            dir_fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
    except OSError as e:
        raise JournalError(f"cannot write {path}: {e.strerror or e}") from e
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def read_evidence_json(journal_dir: Path, incident_id: str, folder: str, name: str) -> Any:
    """A JSON file an investigate run kept (``evidence/<run>/changes/suspect.json``), or None when it is missing,
    unreadable or not JSON: evidence that cannot be read is no evidence, never an error of the draft."""
    parts = safe_path(f"{folder}/{name}")
    path = journal_dir / incident_id / Path(*parts)
    try:
        if path.is_symlink() or not path.is_file():
            return None
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
