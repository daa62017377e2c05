"""Secrets that ride inside URLs, masked wherever a URL is shown: check targets, redirects, errors, logs, runbook show.

A URL can carry a credential in two places: the userinfo (``https://admin:hunter2@host/``) and the query or the
fragment (``?token=...``, ``#access_token=...``, a presigned ``X-Amz-Signature``). The runbook refuses userinfo, but a
redirect's ``Location`` or an error message can still bring one in, so both are masked here, in one pure function
that every place printing a URL uses.

The masking is textual, not a parse and re-encode: what is not a secret is shown exactly as written (a re-encoded
query would not match what the runbook says), and a malformed URL is masked as far as it can be read instead of
raising. Parameters are judged by name; a false positive (``?author=``) costs a masked value, a false negative
a leaked one, so the names are matched generously.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

#: What a secret is replaced with (the same mask as for secret values elsewhere).
MASK = "***"

#: Parameter names (lowercased, without '-', '_' and '.') that are a secret themselves.
_SECRET_NAMES = frozenset({"key", "sig", "pwd", "pw", "pass", "jwt", "sid", "hmac", "otp", "ticket"})
#: Parts of parameter names that make them a secret: access_token, client_secret, X-Amz-Signature, apiKey...
_SECRET_PARTS = ("token", "secret", "passw", "apikey", "signature", "credential", "session", "auth")

#: A URL inside free text (an error message, a log line): a scheme, ``://`` and everything up to a space or quote.
_URL_IN_TEXT = re.compile(r"\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s\"'<>`]+")


def is_secret_parameter(name: str) -> bool:
    """Whether a query parameter of this name carries a credential."""
    plain = re.sub(r"[^a-z0-9]", "", unquote(name).lower())
    return plain in _SECRET_NAMES or plain.endswith("key") or any(part in plain for part in _SECRET_PARTS)


def has_userinfo(url: str) -> bool:
    """``https://user:password@host/``: a user name or password in the URL's authority."""
    _, userinfo, _ = _authority(url)
    return userinfo is not None


def redact_url(url: str) -> str:
    """The URL with its userinfo and the values of credential-named parameters replaced by :data:`MASK`."""
    start, userinfo, rest = _authority(url)
    if userinfo is not None:
        url = f"{start}{MASK}@{rest}"
    before, hashmark, fragment = url.partition("#")
    path, qmark, query = before.partition("?")
    if qmark:
        path += qmark + _redact_parameters(query)
    if hashmark:
        path += hashmark + (_redact_parameters(fragment) if "=" in fragment else fragment)
    return path


def redact_urls(text: str) -> str:
    """Every URL in a text (an error message, a log line, a traceback) passed through :func:`redact_url`."""
    if "://" not in text:
        return text
    return _URL_IN_TEXT.sub(_redact_match, text)


def _redact_match(match: re.Match[str]) -> str:
    """Punctuation that ends a sentence or closes a bracket around a URL is not part of it."""
    url = match.group(0)
    core = url.rstrip(".,;:!?)]}")
    return redact_url(core) + url[len(core) :]


def redact_urls_in(value: Any) -> Any:
    """The same for every string in plain data (mappings, lists), e.g. a runbook dumped for ``runbook show``."""
    if isinstance(value, str):
        return redact_urls(value)
    if isinstance(value, dict):
        return {k: redact_urls_in(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_urls_in(v) for v in value]
    return value


def _authority(url: str) -> tuple[str, str | None, str]:
    """(``scheme://``, userinfo or None, the rest from the host on); no scheme means no authority to look at."""
    scheme, sep, rest = url.partition("://")
    if not sep or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.\-]*", scheme):
        return "", None, url
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    at = rest.rfind("@", 0, end)
    if at < 0:
        return scheme + sep, None, rest
    return scheme + sep, rest[:at], rest[at + 1 :]


def _redact_parameters(query: str) -> str:
    parts = []
    for part in query.split("&"):
        name, eq, value = part.partition("=")
        parts.append(f"{name}={MASK}" if eq and value and is_secret_parameter(name) else part)
    return "&".join(parts)
