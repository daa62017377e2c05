"""The small request/response model shared by the API, the stand-in services and the HTTP server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes = b""
    path: str = ""
    query: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        parts = urlsplit(self.target)
        self.path = parts.path or "/"
        self.query = parse_qs(parts.query, keep_blank_values=True)
        self.headers = {k.lower(): v for k, v in self.headers.items()}

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def flag(self, name: str) -> bool:
        return (self.arg(name) or "").lower() in ("true", "1")

    def int_arg(self, name: str) -> int | None:
        value = self.arg(name)
        if value in (None, ""):
            return None
        try:
            return int(value)
        except ValueError:
            from incidentctl.sandbox.apierrors import bad_request

            raise bad_request(f"invalid value for {name}: {value!r}") from None

    def json(self) -> Any:
        from incidentctl.sandbox.apierrors import ApiError, bad_request

        content_type = self.headers.get("content-type", "application/json").split(";")[0].strip()
        if self.body and "protobuf" in content_type:
            from incidentctl.sandbox.protobuf import ProtobufError, decode

            try:
                return decode(self.body)
            except ProtobufError as e:
                raise ApiError(415, f"the body of the request was in an unknown format: {e}") from None
        if self.body and "cbor" in content_type:
            # protobuf or CBOR: client-go falls back to JSON on 415, as against an API server without them
            raise ApiError(
                415,
                "the body of the request was in an unknown format - accepted media types include: "
                "application/json, application/yaml, application/merge-patch+json, "
                "application/strategic-merge-patch+json, application/json-patch+json",
            )

        import yaml

        try:
            if content_type.endswith("yaml") and self.body and not self.body.lstrip().startswith(b"{"):
                return yaml.safe_load(self.body)
            return json.loads(self.body or b"null")
        except (ValueError, yaml.YAMLError) as e:
            raise bad_request(f"the request body is not valid JSON: {e}") from None


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    #: a streamed (chunked) body: watch events, followed logs
    stream: Iterator[bytes] | None = None


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status, json.dumps(data, separators=(",", ":")).encode(), "application/json", headers or {})


def text_response(text: str, status: int = 200, content_type: str = "text/plain; charset=utf-8") -> Response:
    return Response(status, text.encode(), content_type)
