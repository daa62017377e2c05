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

from incidentctl.core.times import DURATION_PATTERN, format_duration, parse_duration
from incidentctl.core.urls import has_userinfo, redact_url

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
