"""HTTP health checks for components and external dependencies: the runbook's ``curl -f .../health`` lines.

A probe is a plain synchronous function: ``detect`` runs many at once in a bounded thread pool and shares one
``httpx.Client`` between them (it is thread-safe and keeps connections warm). A probe never raises: whatever goes
wrong ends as a :class:`CheckResult` saying what happened in one line, because a dead endpoint is a finding, not a
reason to stop the report.

Why redirects are followed by hand: each hop gets what is left of the check's deadline, the hops are reported, and
secret headers are not sent on to another origin. Why the body is read in a loop: a server that trickles bytes
must not keep a check alive past its timeout, which a per-read timeout alone would allow.
"""

from __future__ import annotations

import logging
import re
import socket
import ssl
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from http import HTTPStatus
from typing import Any, Protocol

import httpx
import tenacity
from tenacity.stop import stop_base

from incidentctl.adapters.secrets import Secrets, SecretSource
from incidentctl.core.checks import CheckKind, CheckResult, Failure, Health, HttpObservation
from incidentctl.core.times import format_duration, format_elapsed
from incidentctl.core.urls import redact_url, redact_urls, redact_urls_in
from incidentctl.errors import IncidentctlError

log = logging.getLogger(__name__)

#: Redirects followed before the check gives up (curl's ``-L`` follows 50; a health URL needs one or two).
MAX_REDIRECTS = 5
#: Tries for a transient transport error (a reset connection, a server that hung up mid-exchange).
MAX_ATTEMPTS = 3
#: Enough of a body for any health payload; a bigger one is cut here and matched as far as it goes.
MAX_BODY_BYTES = 1 << 20
#: How much of a body is kept for the report when it does not match.
EXCERPT_CHARS = 200


class HttpCheckConfig(Protocol):
    """What a probe needs to know; ``incidentctl.runbook.model.HttpCheck`` fits it."""

    @property
    def url(self) -> str: ...

    @property
    def method(self) -> str: ...

    @property
    def timeout(self) -> timedelta: ...

    @property
    def expect_status(self) -> Sequence[int]: ...

    @property
    def expect_body(self) -> str | None: ...

    @property
    def slow_after(self) -> timedelta | None: ...

    @property
    def headers(self) -> Mapping[str, SecretSource]: ...


def probe_http(
    client: httpx.Client,
    check: HttpCheckConfig,
    *,
    check_id: str,
    kind: CheckKind | str = CheckKind.HTTP,
    subject: str | None = None,
    secrets: Secrets | None = None,
) -> CheckResult:
    """Probe one URL and judge the answer: expected status (and body) is OK, or DEGRADED when slower than
    ``slow_after``; anything else is DOWN with the reason; a check that could not even be set up (a secret is
    missing) is UNKNOWN."""
    secrets = secrets if secrets is not None else Secrets()
    probe = _Probe(client, check, secrets)
    try:
        health, failure, summary, reasons, observed = probe.run()
    except IncidentctlError as e:
        health, failure, summary, reasons, observed = (
            Health.UNKNOWN,
            Failure.NOT_CONFIGURED,
            f"check not run: {e}",
            [],
            {},
        )
    except Exception as e:  # a check must never take detect down with it
        log.debug("probe %s failed unexpectedly", check_id, exc_info=True)
        summary = f"check failed: {type(e).__name__}: {e}"
        health, failure, reasons, observed = Health.UNKNOWN, Failure.INTERNAL, [], {}
    if probe.elapsed is None:
        probe.elapsed = time.monotonic() - probe.start
    # The request used the URL as written; the report shows it (and every redirect and error) without the
    # credentials a URL can carry, as well as without the secret values themselves.
    result = CheckResult(
        check=check_id,
        kind=CheckKind(kind),
        target=redact_url(check.url),
        health=health,
        summary=redact_urls(secrets.redact(_one_line(summary))),
        subject=subject,
        reasons=tuple(redact_urls(secrets.redact(_one_line(r))) for r in reasons),
        latency_s=probe.elapsed,
        observation=HttpObservation.model_validate(
            redact_urls_in(
                secrets.redact_data({"method": check.method.upper(), **observed, "requests": probe.requests})
            )
        ),
        failure=failure,
    )
    log.debug("%s %s: %s, %s", result.check, result.target, result.health.value, result.summary)
    return result


def describe_transport_error(exc: Exception, url: httpx.URL | str) -> str:
    """One line a person understands for a failure below HTTP: refused, DNS, TLS, reset, protocol; httpx's
    messages can quote the URL, so any URL in it is shown without its credentials."""
    return classify_transport_error(exc, url)[1]


def classify_transport_error(exc: Exception, url: httpx.URL | str) -> tuple[Failure, str]:
    """What a failure below HTTP is, and its line for people (see :func:`describe_transport_error`).

    This is where a library's error becomes the project's: by the exception's type and its causes first, and by
    httpx's own wording only where a cause is lost on the way (some transports raise a bare ``ConnectError``)."""
    failure, text = _classify_transport_error(exc, url)
    return failure, redact_urls(text)


def _classify_transport_error(exc: Exception, url: httpx.URL | str) -> tuple[Failure, str]:
    url = httpx.URL(str(url))
    host = url.host or str(url)
    where = f"{host}:{url.port or (443 if url.scheme == 'https' else 80)}"
    for cause in _causes(exc):
        if isinstance(cause, ssl.SSLCertVerificationError):
            detail = getattr(cause, "verify_message", None) or _ssl_text(cause)
            return Failure.TLS, f"TLS certificate of {host} not accepted: {detail}"
        if isinstance(cause, ssl.SSLError):
            return Failure.TLS, f"TLS handshake with {where} failed: {_ssl_text(cause)}"
        if isinstance(cause, socket.gaierror):
            return Failure.DNS, f"DNS lookup failed for {host}"
        if isinstance(cause, ConnectionRefusedError):
            return Failure.REFUSED, f"connection refused by {where}"
        if isinstance(cause, ConnectionResetError):
            return Failure.RESET, f"connection reset by {where}"
    text = str(exc)
    lowered = text.lower()
    if "connection refused" in lowered or "errno 111" in lowered:
        return Failure.REFUSED, f"connection refused by {where}"
    if any(s in lowered for s in _DNS_FAILURES):
        return Failure.DNS, f"DNS lookup failed for {host}"
    if "certificate verify failed" in lowered:
        detail = text[lowered.index("certificate verify failed") + len("certificate verify failed") :]
        detail = _strip_ssl_location(detail.lstrip(": ")) or "invalid"
        return Failure.TLS, f"TLS certificate of {host} not accepted: {detail}"
    if "ssl" in lowered or "tls" in lowered:
        return Failure.TLS, f"TLS handshake with {where} failed: {_strip_ssl_location(text)}"
    if "connection reset" in lowered:
        return Failure.RESET, f"connection reset by {where}"
    if isinstance(exc, httpx.RemoteProtocolError):
        return Failure.PROTOCOL, f"{where} broke off the HTTP exchange: {_one_line(text) or 'protocol error'}"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return Failure.INVALID_URL, f"cannot request {url}: {_one_line(text)}"
    return Failure.UNREACHABLE, f"cannot reach {where}: {_one_line(text) or type(exc).__name__}"


#: Kept for the modules that import it; a configured limit is spelled exactly, as the runbook does.
format_limit = format_duration


# --- internals -------------------------------------------------------------------------------------------------

_DNS_FAILURES = (
    "name or service not known",
    "nodename nor servname",
    "temporary failure in name resolution",
    "no address associated with hostname",
    "getaddrinfo failed",
    "name resolution",
)


#: What a probe found: health, failure, summary, reasons, and the observation's fields.
_Verdict = tuple[Health, Failure | None, str, list[str], dict[str, Any]]


class _BodyTooSlow(Exception):
    """The headers came in time but the body did not finish before the check's deadline."""


@dataclass
class _Reply:
    status: int
    reason: str
    url: str
    body: bytes
    truncated: bool
    encoding: str | None
    next_request: httpx.Request | None


class _Probe:
    def __init__(self, client: httpx.Client, check: HttpCheckConfig, secrets: Secrets) -> None:
        self.client = client
        self.check = check
        self.secrets = secrets
        #: Requests sent in all (redirect hops and retries), and tries of the current hop.
        self.requests = 0
        self.attempts = 0
        self.elapsed: float | None = None
        self.start = time.monotonic()
        self.limit = check.timeout.total_seconds()
        self.deadline = self.start + self.limit

    def run(self) -> _Verdict:
        check = self.check
        secret_headers = {name: self.secrets.resolve(ref) for name, ref in check.headers.items()}
        request = self.client.build_request(check.method.upper(), check.url, headers=secret_headers)
        origin = _origin(request.url)
        redirects: list[str] = []
        within = format_limit(check.timeout)
        try:
            while True:
                reply = self._exchange_with_retries(request)
                if reply.next_request is None:
                    break
                request = reply.next_request
                if len(redirects) == MAX_REDIRECTS:
                    reason = f"more than {MAX_REDIRECTS} redirects (last to {request.url})"
                    return self._down(Failure.TOO_MANY_REDIRECTS, reason, redirects)
                redirects.append(str(request.url))
                if _origin(request.url) != origin:
                    # Credentials meant for one host are not handed to whichever host it redirects to.
                    for name in secret_headers:
                        request.headers.pop(name, None)
        except httpx.TimeoutException:
            return self._down(Failure.TIMEOUT, f"no answer within {within}", redirects)
        except _BodyTooSlow:
            return self._down(Failure.TIMEOUT, f"response not complete within {within}", redirects)
        except httpx.TransportError as e:
            failure, reason = classify_transport_error(e, request.url)
            if self.attempts > 1:
                reason += f" ({self.attempts} tries)"
            return self._down(failure, reason, redirects)
        except httpx.InvalidURL as e:
            return self._down(Failure.INVALID_URL, f"cannot request {request.url}: {e}", redirects)
        self.elapsed = time.monotonic() - self.start
        return self._judge(reply, redirects)

    def _judge(self, reply: _Reply, redirects: list[str]) -> _Verdict:
        check = self.check
        assert self.elapsed is not None
        took = format_elapsed(self.elapsed)
        line = f"{reply.status} {reply.reason}".strip()
        after = f" after {len(redirects)} redirect{'s' if len(redirects) != 1 else ''}" if redirects else ""
        reasons = [f"redirected to {url}" for url in redirects]
        observed: dict[str, Any] = {"status": reply.status, "url": reply.url, "redirects": redirects}
        if reply.status not in check.expect_status:
            expected = " or ".join(str(s) for s in check.expect_status)
            return (
                Health.DOWN,
                Failure.HTTP_STATUS,
                f"{line} in {took}{after}",
                [f"expected {expected}", *reasons],
                observed,
            )
        if check.expect_body is not None:
            text = reply.body.decode(reply.encoding or "utf-8", errors="replace")
            matched = re.search(check.expect_body, text) is not None
            observed["body_matches"] = matched
            if not matched:
                excerpt = _one_line(text)[:EXCERPT_CHARS] or "(empty)"
                observed["body_excerpt"] = excerpt
                cut = " (first 1 MiB)" if reply.truncated else ""
                summary = f"{line} in {took}{after}, but the body{cut} does not match /{check.expect_body}/"
                return Health.DOWN, Failure.BODY_MISMATCH, summary, [f"body: {excerpt}", *reasons], observed
        if check.slow_after is not None and self.elapsed > check.slow_after.total_seconds():
            summary = f"{line} in {took}{after} (slower than {format_limit(check.slow_after)})"
            return Health.DEGRADED, Failure.SLOW, summary, reasons, observed
        return Health.OK, None, f"{line} in {took}{after}", reasons, observed

    def _down(self, failure: Failure, reason: str, redirects: list[str]) -> _Verdict:
        self.elapsed = time.monotonic() - self.start
        reasons = [f"redirected to {url}" for url in redirects]
        return Health.DOWN, failure, reason, reasons, {"error": reason, "redirects": redirects}

    def _exchange_with_retries(self, request: httpx.Request) -> _Reply:
        self.attempts = 0
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(_is_transient),
            stop=tenacity.stop_after_attempt(MAX_ATTEMPTS) | _StopNearDeadline(self.deadline, min(0.5, self.limit / 4)),
            wait=tenacity.wait_exponential(multiplier=0.05, max=0.25),
            reraise=True,
        )
        return retrying(self._exchange, request)

    def _exchange(self, request: httpx.Request) -> _Reply:
        self.attempts += 1
        self.requests += 1
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise httpx.ConnectTimeout("deadline passed before the request was sent", request=request)
        request.extensions = {**request.extensions, "timeout": httpx.Timeout(remaining).as_dict()}
        response = self.client.send(request, stream=True, follow_redirects=False)
        try:
            # A redirect the runbook expects (checking that http:// sends people to https://) is the answer itself.
            follow = response.next_request if response.status_code not in self.check.expect_status else None
            body, truncated = b"", False
            if follow is None:
                body, truncated = self._read_body(response)
            return _Reply(
                status=response.status_code,
                reason=response.reason_phrase or status_phrase(response.status_code),
                url=str(response.url),
                body=body,
                truncated=truncated,
                encoding=response.encoding,
                next_request=follow,
            )
        finally:
            response.close()

    def _read_body(self, response: httpx.Response) -> tuple[bytes, bool]:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise _BodyTooSlow
        # httpx's read timeout applies to each read and was set when the request went out; shorten it to what
        # is left now, so that a body stalling after the headers cannot outlive the deadline either.
        timeouts = response.request.extensions.get("timeout")
        if isinstance(timeouts, dict):
            timeouts["read"] = remaining
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size >= MAX_BODY_BYTES:
                    return b"".join(chunks)[:MAX_BODY_BYTES], True
                if time.monotonic() > self.deadline:
                    raise _BodyTooSlow
        except httpx.TimeoutException as e:
            raise _BodyTooSlow from e
        return b"".join(chunks), False


class _StopNearDeadline(stop_base):
    """Another try is only worth it with a fair share of the check's deadline left for it."""

    def __init__(self, deadline: float, reserve: float) -> None:
        self.deadline = deadline
        self.reserve = reserve

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        return self.deadline - time.monotonic() < self.reserve


def _is_transient(exc: BaseException) -> bool:
    """Worth another quick try: the connection broke, not "the server is slow" or "the server said no"."""
    if isinstance(exc, httpx.TimeoutException):
        return False
    if isinstance(exc, httpx.RemoteProtocolError):
        return True
    if isinstance(exc, (httpx.ReadError, httpx.WriteError, httpx.ConnectError)):
        broken = (ConnectionResetError, ConnectionAbortedError, BrokenPipeError)
        return any(isinstance(c, broken) for c in _causes(exc)) or "connection reset" in str(exc).lower()
    return False


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        yield current
        seen.add(id(current))
        current = current.__cause__ or current.__context__


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


def status_phrase(status: int) -> str:
    """The standard reason phrase of a status code, or "" for a code without one."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _ssl_text(err: ssl.SSLError) -> str:
    reason = getattr(err, "reason", None)
    if isinstance(reason, str) and reason:
        return reason.replace("_", " ").lower()
    return _strip_ssl_location(str(err))


def _strip_ssl_location(text: str) -> str:
    return _one_line(re.sub(r"\s*\(_ssl\.c:\d+\)", "", text))


def _one_line(text: str) -> str:
    return " ".join(text.split())
