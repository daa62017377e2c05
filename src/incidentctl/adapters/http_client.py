"""The one ``httpx.Client`` a command shares between its checks (thread-safe; keeps connections warm)."""

from __future__ import annotations

import logging
import ssl
from pathlib import Path

import httpx

from incidentctl import __version__
from incidentctl.core.urls import redact_urls
from incidentctl.errors import ConfigError


class RedactUrls(logging.Filter):
    """httpx logs every request with its full URL ("HTTP Request: GET https://...?token=..."): whoever turns its
    logging on sees the URLs without the credentials they can carry."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_urls(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact_urls(str(a)) if isinstance(a, (str, httpx.URL)) else a for a in record.args)
        return True


def _mask_httpx_logs() -> None:
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, RedactUrls) for f in logger.filters):
        logger.addFilter(RedactUrls())


def new_http_client(concurrency: int = 16, *, ca_file: Path | None = None) -> httpx.Client:
    """Redirects are followed by the probes themselves (each hop within the check's deadline); every call sets
    its own timeout, so the client's default only guards calls that forget to. ``ca_file`` (the runbook's
    ``tls.ca_file``) is trusted besides the usual certificates."""
    _mask_httpx_logs()
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
