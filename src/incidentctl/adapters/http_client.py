"""The one ``httpx.Client`` a command shares between its checks (thread-safe; keeps connections warm)."""

from __future__ import annotations

import httpx

from incidentctl import __version__


def new_http_client(concurrency: int = 16) -> httpx.Client:
    """Redirects are followed by the probes themselves (each hop within the check's deadline); every call sets
    its own timeout, so the client's default only guards calls that forget to."""
    return httpx.Client(
        follow_redirects=False,
        timeout=httpx.Timeout(10.0),
        limits=httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency),
        headers={"User-Agent": f"incidentctl/{__version__}"},
    )
