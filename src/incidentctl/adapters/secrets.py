"""Secret values at run time, and keeping them out of everything incidentctl prints or records.

The runbook only names where a secret lives (an environment variable or a file). :class:`Secrets` reads it when a
check or a notification needs it and remembers every value it handed out, so that any text about to be shown,
logged or journalled can be passed through :meth:`Secrets.redact` first. An error about a missing secret names the
variable or file, never a value.

The reference is typed structurally (:class:`SecretSource`) so this module does not depend on the runbook schema:
``incidentctl.runbook.types.SecretRef`` fits it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

from incidentctl.core.urls import MASK as URL_MASK
from incidentctl.errors import ConfigError

#: What a secret value is replaced with in text (the same mask as secrets in URLs).
MASK = URL_MASK


class SecretSource(Protocol):
    """Where a secret comes from: exactly one of an environment variable or a file."""

    @property
    def env(self) -> str | None: ...

    @property
    def file(self) -> str | None: ...


def redact(text: str, values: Iterable[str]) -> str:
    """Replace every occurrence of each value with :data:`MASK`.

    Longest values first, so a secret that contains another secret is masked whole rather than leaving a tail.
    """
    for value in sorted({v for v in values if v}, key=len, reverse=True):
        text = text.replace(value, MASK)
    return text


#: Every secret value any :class:`Secrets` of this process handed out: the ``--debug`` log formatter's last guard,
#: since a library's log line (httpx names each URL it requests) is written before any phase could mask it.
_EVERY_VALUE: set[str] = set()
_EVERY_LOCK = threading.Lock()


def redact_every_known(text: str) -> str:
    """``text`` masked of every secret value this process resolved so far (for log lines)."""
    with _EVERY_LOCK:
        known = tuple(_EVERY_VALUE)
    return redact(text, known) if known else text


class Secrets:
    """Resolves secret references and remembers the values, so text can be scrubbed of them later.

    Shared between the threads of one ``detect`` run, hence the lock around the remembered values.
    """

    def __init__(self, env: Mapping[str, str] | None = None, *, base_dir: Path | None = None) -> None:
        #: Where ``{env: NAME}`` is looked up; the process environment unless a test or the CLI injects one.
        self._env: Mapping[str, str] = os.environ if env is None else env
        #: Relative ``{file: PATH}`` references are relative to this folder (the runbook's).
        self._base_dir = base_dir
        self._known: set[str] = set()
        self._lock = threading.Lock()

    def resolve(self, ref: SecretSource) -> str:
        """The secret's value; a :class:`ConfigError` naming the variable or file when it is missing or empty."""
        if ref.env is not None:
            value = self._env.get(ref.env)
            if value is None:
                raise ConfigError(
                    f"environment variable {ref.env} is not set (the runbook reads a secret from it)",
                    hint=f"export {ref.env}=... before running incidentctl",
                )
            if not value.strip():
                raise ConfigError(f"environment variable {ref.env} is empty (the runbook reads a secret from it)")
        elif ref.file is not None:
            value = self._read_file(ref.file)
        else:
            raise ConfigError("a secret reference names neither an environment variable nor a file")
        self.remember(value)
        return value

    def remember(self, value: str) -> None:
        """Add a value obtained some other way (a token from a kubeconfig, say) to what gets masked."""
        if value:
            with self._lock:
                self._known.add(value)
                # A header value such as "Bearer sk-..." holds the credential as its last word, and a server that
                # echoes the credential back echoes only that word.
                words = value.split()
                if len(words) == 2 and len(words[1]) >= 8:
                    self._known.add(words[1])
                self._known.add(value.strip())
                added = set(self._known)
            with _EVERY_LOCK:
                _EVERY_VALUE.update(added)

    def redact(self, text: str) -> str:
        with self._lock:
            known = tuple(self._known)
        return redact(text, known)

    def redact_data(self, value: Any) -> Any:
        """:meth:`redact` applied to every string inside dicts, lists and tuples (a check's observed facts)."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, Mapping):
            return {self.redact_data(k): self.redact_data(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self.redact_data(v) for v in value)
        return value

    def _read_file(self, name: str) -> str:
        path = Path(name).expanduser()
        if not path.is_absolute() and self._base_dir is not None:
            path = self._base_dir / path
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError as e:
            raise ConfigError(f"secret file {path} does not exist") from e
        except IsADirectoryError as e:
            raise ConfigError(f"secret file {path} is a directory") from e
        except PermissionError as e:
            raise ConfigError(f"secret file {path} cannot be read: permission denied") from e
        except UnicodeDecodeError as e:
            raise ConfigError(f"secret file {path} is not UTF-8 text") from e
        except OSError as e:
            raise ConfigError(f"secret file {path} cannot be read: {e.strerror or type(e).__name__}") from e
        # Files written by editors and `echo` end with a newline that is not part of the secret.
        value = text.rstrip("\r\n")
        if not value.strip():
            raise ConfigError(f"secret file {path} is empty")
        return value
