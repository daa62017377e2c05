"""Small value types the runbook schema is built from: durations, URLs, thresholds and secret references.

Each parses the friendly spelling people write in YAML ("15m", "20%", ``{env: SLACK_TOKEN}``) and carries a JSON
Schema so editors with yaml-language-server can check runbook.yaml as it is typed.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

from incidentctl.core.urls import has_userinfo, redact_url

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_DURATION_FULL = re.compile(r"^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
DURATION_PATTERN = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h|d|w))+$"
#: The longest duration anything accepts (a runbook field, --since, --started-at): far beyond any SLO window or
#: incident, and well inside what datetime, timedelta and the system clock can hold, so "1000000w" is a clear
#: error instead of an overflow deep inside a check.
MAX_DURATION = timedelta(days=3650)
MAX_DURATION_TEXT = "10 years (3650d)"


def parse_duration(value: Any) -> timedelta:
    """Parse Prometheus-style durations such as ``90s``, ``15m``, ``1h30m``, ``24h``, ``1w``."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f"expected a duration such as 15m, 1h30m or 24h, got {value!r}")
    if isinstance(value, int) or value.strip() == "0":
        if int(value) == 0:
            return timedelta(0)
        raise ValueError(f"a duration needs a unit (s, m, h, d, w): did you mean '{value}m'?")
    text = value.strip().replace(" ", "")
    if not _DURATION_FULL.match(text):
        raise ValueError(f"expected a duration such as 15m, 1h30m or 24h, got {value!r}")
    seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in _DURATION_PART.findall(text))
    check_duration_limit(seconds, value)
    return timedelta(seconds=seconds)


def check_duration_limit(seconds: float, value: object) -> None:
    """Refuse a duration longer than :data:`MAX_DURATION` (ValueError, with the limit in the message)."""
    if not seconds <= MAX_DURATION.total_seconds():  # also catches inf and nan from a thousand-digit number
        raise ValueError(f"{value!r} is longer than the longest duration allowed, {MAX_DURATION_TEXT}")


def format_duration(value: timedelta) -> str:
    """The shortest exact spelling (``1h30m``), so ``runbook show`` round-trips what a person wrote."""
    total = value.total_seconds()
    if total == 0:
        return "0s"
    if total != int(total):
        return f"{round(total * 1000)}ms"
    remaining = int(total)
    parts = []
    for unit in ("w", "d", "h", "m", "s"):
        size = int(_UNIT_SECONDS[unit])
        if remaining >= size:
            count, remaining = divmod(remaining, size)
            parts.append(f"{count}{unit}")
    return "".join(parts)


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema({"type": "string", "pattern": DURATION_PATTERN, "examples": ["5m", "1h30m", "24h", "1w"]}),
]


def check_url(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected an http(s) URL, got {value!r}")
    shown = redact_url(value.strip())  # an error repeats the URL, never a secret in it
    try:
        parts = urlsplit(value.strip())
    except ValueError as e:
        raise ValueError(f"not a valid URL: {shown!r}") from e
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"expected an http:// or https:// URL with a host, got {shown!r}")
    try:
        _ = parts.port
    except ValueError as e:
        raise ValueError(f"bad port in URL {shown!r}") from e
    check_no_userinfo(value)
    return value.strip()


def check_no_userinfo(value: Any) -> Any:
    """A password in a URL would be printed wherever the URL is; the runbook has secret references for it."""
    if isinstance(value, str) and has_userinfo(value.strip()):
        raise PydanticCustomError(
            URL_USERINFO,
            "a URL must not carry a user name or password: {url}",
            {"url": redact_url(value.strip())},
        )
    return value


#: The error type of :func:`check_no_userinfo`; the loader gives it a hint.
URL_USERINFO = "url_userinfo"


Url = Annotated[
    str,
    BeforeValidator(check_url),
    WithJsonSchema({"type": "string", "format": "uri", "pattern": "^https?://"}),
]


def parse_threshold(value: Any) -> float:
    """Thresholds are plain numbers in the signal's unit, or ``20%`` (a ratio) or ``60s`` (seconds)."""
    if isinstance(value, bool):
        raise ValueError("expected a number, a percentage such as 20% or a duration such as 60s")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("%"):
            try:
                return float(text[:-1]) / 100
            except ValueError:
                pass
        else:
            try:
                return float(text)
            except ValueError:
                try:
                    return parse_duration(text).total_seconds()
                except ValueError:
                    pass
    raise ValueError(f"expected a number, a percentage such as 20% or a duration such as 60s, got {value!r}")


ThresholdSpelling = Literal["percent", "duration", "number"]


def threshold_spelling(value: Any) -> ThresholdSpelling | None:
    """How a threshold was written, which the parsed number forgets: ``20%`` is a ratio and ``60s`` a time, so
    they only fit signals in that unit (None when it is not a threshold at all; the schema reports that)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return "number"
    if not isinstance(value, str):
        return None
    try:
        float(value.strip())
    except ValueError:
        return "percent" if value.strip().endswith("%") else "duration"
    return "number"


Threshold = Annotated[
    float,
    BeforeValidator(parse_threshold),
    WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^[0-9.]+(%|ms|s|m|h)?$"}]}),
]


class SecretRef(BaseModel):
    """Where a secret comes from at run time; the runbook never holds the secret itself."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    env: str | None = None
    file: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _not_a_literal(cls, value: Any) -> Any:
        if isinstance(value, str):
            raise ValueError(
                "secrets are never written in the runbook: name an environment variable ({env: NAME}) "
                "or a file ({file: PATH}) instead"
            )
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        if (self.env is None) == (self.file is None):
            raise ValueError("give exactly one of 'env' or 'file'")
        if self.env is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", self.env):
            raise ValueError(f"{self.env!r} is not a valid environment variable name")
        return self

    def describe(self) -> str:
        return f"${self.env}" if self.env else f"file {self.file}"
