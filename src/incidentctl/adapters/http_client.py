"""The one ``httpx.Client`` a command shares between its checks (thread-safe; keeps connections warm)."""

from __future__ import annotations

import logging

import httpx

from incidentctl import __version__
from incidentctl.core.urls import redact_urls


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


def new_http_client(concurrency: int = 16) -> httpx.Client:
    """Redirects are followed by the probes themselves (each hop within the check's deadline); every call sets
    its own timeout, so the client's default only guards calls that forget to."""
    _mask_httpx_logs()
    return httpx.Client(
        follow_redirects=False,
        timeout=httpx.Timeout(10.0),
        limits=httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency),
        headers={"User-Agent": f"incidentctl/{__version__}"},
    )
