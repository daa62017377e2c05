"""The one ``httpx.Client`` a command shares between its checks (thread-safe; keeps connections warm)."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx

from incidentctl import __version__
from incidentctl.errors import ConfigError


def new_http_client(concurrency: int = 16, *, ca_file: Path | None = None) -> httpx.Client:
    """Redirects are followed by the probes themselves (each hop within the check's deadline); every call sets
    its own timeout, so the client's default only guards calls that forget to. ``ca_file`` (the runbook's
    ``tls.ca_file``) is trusted besides the usual certificates."""
    return httpx.Client(
        verify=_trusting(ca_file) if ca_file is not None else True,
        follow_redirects=False,
        timeout=httpx.Timeout(10.0),
        limits=httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency),
        headers={"User-Agent": f"incidentctl/{__version__}"},
    )


def _trusting(ca_file: Path) -> ssl.SSLContext:
    """httpx's default context plus the runbook's CA; a file that cannot be used is the runbook's mistake, found
    before any check runs."""
    context = httpx.create_ssl_context()
    try:
        context.load_verify_locations(cafile=str(ca_file))
    except FileNotFoundError as e:
        raise ConfigError(f"runbook tls.ca_file {ca_file}: {e.strerror}", hint="check the path") from e
    except ssl.SSLError as e:
        raise ConfigError(
            f"runbook tls.ca_file {ca_file}: no certificate in it ({e.reason or e})",
            hint="it must hold PEM certificates (-----BEGIN CERTIFICATE-----)",
        ) from e
    except OSError as e:  # after SSLError, which is one
        raise ConfigError(f"runbook tls.ca_file {ca_file}: {e.strerror or e}") from e
    return context
