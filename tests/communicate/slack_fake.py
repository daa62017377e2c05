"""A Slack workspace behind pytest-httpx, answering the Web API methods incidentctl calls the way Slack's docs show
(``{"ok": true, ...}``; every error an HTTP 200 ``{"ok": false, "error": "..."}``; cursors in
``response_metadata.next_cursor``), remembering channels and messages so a test can look at what a responder's
Slack would show: one status message edited in place, the history in its thread.

``fail(method, response)`` queues one answer for the next call of ``method`` (an ``{"ok": false}`` body, a 429, an
exception such as ``httpx.ReadTimeout``; None: answered normally) before the workspace answers normally again.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
from pytest_httpx import HTTPXMock

API = "https://slack.example.test/api"
TOKEN = "xoxb-1234-5678-S3cr3tB0tT0ken"


@dataclass
class Message:
    ts: str
    channel: str
    text: str
    blocks: list[Any] | None
    metadata: dict[str, Any] | None
    thread_ts: str | None = None
    edits: int = 0


@dataclass
class FakeSlack:
    channels: dict[str, str] = field(default_factory=lambda: {"incidents": "C0INCIDENTS"})
    topics: dict[str, str] = field(default_factory=dict)
    members: dict[str, set[str]] = field(default_factory=dict)
    messages: list[Message] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    page_size: int = 2
    _failures: dict[str, list[Any]] = field(default_factory=dict)
    _clock: int = 0

    def install(self, httpx_mock: HTTPXMock) -> None:
        httpx_mock.add_callback(self._answer, url=re.compile(re.escape(API) + r"/.*"), is_reusable=True)

    def fail(self, method: str, response: Any) -> None:
        self._failures.setdefault(method, []).append(response)

    # --- what a test reads -------------------------------------------------------------------------------------

    def called(self, method: str) -> list[dict[str, Any]]:
        return [args for name, args in self.calls if name == method]

    def in_channel(self, channel_id: str, *, top_level: bool = True) -> list[Message]:
        return [m for m in self.messages if m.channel == channel_id and (not top_level or m.thread_ts in (None, m.ts))]

    def thread(self, channel_id: str, ts: str) -> list[Message]:
        return [m for m in self.messages if m.channel == channel_id and m.thread_ts == ts]

    # --- the workspace -----------------------------------------------------------------------------------------

    def _answer(self, request: httpx.Request) -> httpx.Response:
        method = request.url.path.rsplit("/", 1)[-1]
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        args: dict[str, Any] = dict(request.url.params)
        if request.content:
            if request.headers.get("Content-Type", "").startswith("application/json"):
                args.update(json.loads(request.content))
            else:
                args.update(parse_qsl(request.content.decode()))
        self.calls.append((method, args))
        queued = self._failures.get(method)
        if queued:
            failure = queued.pop(0)
            if failure is None:  # this call is answered normally, a later one fails
                pass
            elif isinstance(failure, BaseException):
                raise failure
            elif isinstance(failure, httpx.Response):
                return failure
            else:
                return httpx.Response(200, json=failure)
        handler = getattr(self, "_" + method.replace(".", "_"))
        body: dict[str, Any] = handler(args)
        return httpx.Response(200, json=body)

    def _next_ts(self) -> str:
        self._clock += 1
        return f"1773498600.{self._clock:06d}"

    def _channel_id(self, value: str) -> str | None:
        if value in self.channels.values():
            return value
        return self.channels.get(value.lstrip("#"))

    def _conversations_create(self, args: dict[str, Any]) -> dict[str, Any]:
        name = args["name"]
        if name in self.channels:
            return {"ok": False, "error": "name_taken"}
        channel_id = f"C{len(self.channels):08d}X"
        self.channels[name] = channel_id
        return {"ok": True, "channel": {"id": channel_id, "name": name, "is_channel": True}}

    def _conversations_list(self, args: dict[str, Any]) -> dict[str, Any]:
        names = sorted(self.channels)
        start = int(args.get("cursor") or 0)
        page = names[start : start + self.page_size]
        following = start + self.page_size
        return {
            "ok": True,
            "channels": [{"id": self.channels[n], "name": n, "is_archived": False} for n in page],
            "response_metadata": {"next_cursor": str(following) if following < len(names) else ""},
        }

    def _conversations_invite(self, args: dict[str, Any]) -> dict[str, Any]:
        users = set(str(args["users"]).split(","))
        present = self.members.setdefault(args["channel"], set())
        if users <= present:
            return {"ok": False, "error": "already_in_channel"}
        present |= users
        return {"ok": True, "channel": {"id": args["channel"]}}

    def _conversations_setTopic(self, args: dict[str, Any]) -> dict[str, Any]:
        self.topics[args["channel"]] = args["topic"]
        return {"ok": True, "channel": {"id": args["channel"], "topic": {"value": args["topic"]}}}

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel_id = self._channel_id(args["channel"])
        if channel_id is None:
            return {"ok": False, "error": "channel_not_found"}
        message = Message(
            self._next_ts(),
            channel_id,
            args.get("text", ""),
            args.get("blocks"),
            args.get("metadata"),
            args.get("thread_ts"),
        )
        self.messages.append(message)
        return {"ok": True, "channel": channel_id, "ts": message.ts, "message": {"text": message.text}}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        for message in self.messages:
            if message.channel == args["channel"] and message.ts == args["ts"]:
                message.text = args.get("text", message.text)
                message.blocks = args.get("blocks", message.blocks)
                message.metadata = args.get("metadata", message.metadata)
                message.edits += 1
                return {"ok": True, "channel": message.channel, "ts": message.ts, "text": message.text}
        return {"ok": False, "error": "message_not_found"}

    def _conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        found = list(reversed(self.in_channel(args["channel"])))  # newest first, as Slack answers
        return self._page(found, args)

    def _conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        parent = [m for m in self.messages if m.channel == args["channel"] and m.ts == args["ts"]]
        if not parent:
            return {"ok": False, "error": "thread_not_found"}
        return self._page(parent + self.thread(args["channel"], args["ts"]), args)

    def _page(self, found: list[Message], args: dict[str, Any]) -> dict[str, Any]:
        start = int(args.get("cursor") or 0)
        page = found[start : start + self.page_size]
        metadata = str(args.get("include_all_metadata", "")).lower() in ("true", "1")
        following = start + self.page_size
        return {
            "ok": True,
            "messages": [
                {
                    "type": "message",
                    "ts": m.ts,
                    "text": m.text,
                    **({"thread_ts": m.thread_ts} if m.thread_ts else {}),
                    **({"metadata": m.metadata} if metadata and m.metadata else {}),
                }
                for m in page
            ],
            "has_more": following < len(found),
            "response_metadata": {"next_cursor": str(following) if following < len(found) else ""},
        }
