"""Stand-ins for the SaaS channels a drill or the demo notifies: Slack, Statuspage and PagerDuty, on the sandbox's
loopback port, shaped like their public APIs so that incidentctl's real channel clients talk to them unchanged.

* ``/slack/api/<method>``: the Slack Web API (``Authorization: Bearer <bot token>``, or a ``token`` argument; JSON
  or form bodies; every error is HTTP 200 ``{"ok": false, "error": ...}``): ``auth.test``, ``conversations.create``
  (``name_taken``), ``conversations.list`` and ``conversations.history`` (cursor pagination,
  ``response_metadata.next_cursor``; message ``metadata`` only with ``include_all_metadata``),
  ``conversations.replies``, ``conversations.invite``, ``conversations.setTopic``, ``chat.postMessage`` (``ts``,
  ``thread_ts``, ``metadata``) and ``chat.update`` (edits the stored message in place and keeps its edits).
  ``/slack/services/<team>/<bot>/<secret>`` is the incoming webhook: ``ok`` as text/plain, posted to the
  announcement channel.
* ``/statuspage/v1/pages/{page_id}/incidents`` (``Authorization: OAuth <api key>``): create, list, unresolved,
  get one, update (PATCH or PUT), each update recorded in ``incident_updates`` newest first, component statuses
  set; ``/components`` lists the page's components.
* ``/pagerduty/v2/enqueue``: Events API v2, 202 ``{"status": "success", ...}``; a trigger with the ``dedup_key`` of
  an open incident adds to it instead of opening another; acknowledge and resolve; 400 ``invalid event``.

Every stand-in checks the credential the sandbox's runbook names (:class:`Credentials`) and records what it was
sent, under one lock: requests come from the server's threads. Faults (429 with ``Retry-After``, 5xx, a hang)
come from :mod:`incidentctl.sandbox.faults` with the targets ``slack``, ``statuspage`` and ``pagerduty``, applied
by the router before a request reaches these.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import hmac
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, ClassVar
from urllib.parse import parse_qs

from incidentctl.sandbox import world
from incidentctl.sandbox.clock import rfc3339_micro
from incidentctl.sandbox.http import Request, Response, json_response, text_response

#: Slack: the team, the bot the token belongs to, and the people a drill invites
SLACK_TEAM = "T0SANDBOX1"
SLACK_BOT_USER = "U0SANDBOXBT"
SLACK_BOT_ID = "B0SANDBOXBT"
SLACK_WEBHOOK_BOT = "B0SANDBOXWH"
SLACK_USERS = {"U0SANDBOX01": "alice", "U0SANDBOX02": "bob", SLACK_BOT_USER: "incidentctl"}
#: the announcement channel the webhook posts to (the runbook's ``channel: '#incidents'``)
SLACK_ANNOUNCE = "incidents"
STATUSPAGE_PAGE = "sarvanomsbx1"

_SLACK_NAME = re.compile(r"^[a-z0-9_\-\u0080-\uffff]+$")
_STATUSPAGE_STATUSES = ("investigating", "identified", "monitoring", "resolved")
_COMPONENT_STATUSES = ("operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance")
_IMPACTS = ("none", "minor", "major", "critical")
_PD_SEVERITIES = ("critical", "error", "warning", "info")


@dataclass(frozen=True)
class Credentials:
    """The secrets the stand-ins accept, written beside the sandbox's runbook (0600) as the files its channels name.

    The defaults are fixed sandbox values: a sandbox and a runbook written for it agree without being handed
    each other (the sandbox only ever listens on loopback); a test can make its own."""

    slack_bot_token: str = "xoxb-0000000001-0000000001-sandboxbotTOKEN0000000001"
    slack_webhook_secret: str = "sandboxWEBHOOKsecret00001"
    statuspage_api_key: str = "sandbox-statuspage-0123456789abcdef"
    pagerduty_routing_key: str = "0123456789abcdef0123456789abcdef"

    def slack_webhook_path(self) -> str:
        return f"/slack/services/{SLACK_TEAM}/{SLACK_WEBHOOK_BOT}/{self.slack_webhook_secret}"


def component_id(name: str) -> str:
    """A component's Statuspage id (12 lowercase characters, as Statuspage's are), the same in the stand-in and
    in the runbook written for it."""
    return hashlib.sha256(f"statuspage-component:{name}".encode()).hexdigest()[:12]


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _short_id(*parts: object, length: int = 12) -> str:
    return hashlib.sha256(":".join(str(p) for p in parts).encode()).hexdigest()[:length]


class _Stamps:
    """Strictly increasing times from the sandbox's clock (a frozen clock still gives every message its own ts)."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self._now = now
        self._last = 0

    def micros(self) -> int:
        value = max(int(self._now().timestamp() * 1_000_000), self._last + 1)
        self._last = value
        return value

    def slack_ts(self) -> str:
        value = self.micros()
        return f"{value // 1_000_000}.{value % 1_000_000:06d}"


# -- Slack ---------------------------------------------------------------------------------------------------------


@dataclass
class SlackMessage:
    ts: str
    text: str
    user: str
    via: str  # "api" | "webhook"
    blocks: list[Any] | None = None
    metadata: dict[str, Any] | None = None
    thread_ts: str | None = None
    #: the versions it had before each chat.update, oldest first
    edits: list[dict[str, Any]] = field(default_factory=list)
    edited_ts: str | None = None

    def wire(self, *, metadata: bool, replies: int) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "message", "user": self.user, "text": self.text, "ts": self.ts}
        if self.via == "webhook":
            out |= {"subtype": "bot_message", "bot_id": SLACK_WEBHOOK_BOT}
        else:
            out["bot_id"] = SLACK_BOT_ID
        if self.blocks is not None:
            out["blocks"] = self.blocks
        if self.thread_ts is not None:
            out["thread_ts"] = self.thread_ts
        elif replies:
            out |= {"thread_ts": self.ts, "reply_count": replies}
        if self.edited_ts is not None:
            out["edited"] = {"user": self.user, "ts": self.edited_ts}
        if metadata and self.metadata is not None:
            out["metadata"] = self.metadata
        return out


@dataclass
class SlackConversation:
    id: str
    name: str
    created: int
    creator: str
    is_private: bool = False
    topic: str = ""
    purpose: str = ""
    members: list[str] = field(default_factory=list)
    messages: list[SlackMessage] = field(default_factory=list)

    def wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "name_normalized": self.name,
            "is_channel": not self.is_private,
            "is_group": False,
            "is_im": False,
            "is_private": self.is_private,
            "is_archived": False,
            "is_general": False,
            "is_member": SLACK_BOT_USER in self.members,
            "created": self.created,
            "creator": self.creator,
            "context_team_id": SLACK_TEAM,
            "num_members": len(self.members),
            "topic": {"value": self.topic, "creator": self.creator if self.topic else "", "last_set": 0},
            "purpose": {"value": self.purpose, "creator": "", "last_set": 0},
        }


class SlackError(Exception):
    """Slack's answer to a call it refuses: HTTP 200 with ``{"ok": false, "error": code}``."""

    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra


def _slack_arguments(request: Request) -> dict[str, Any]:
    """A Web API method's arguments, wherever the client put them: the query, a form body or a JSON body."""
    args: dict[str, Any] = {k: v[-1] for k, v in request.query.items()}
    if not request.body:
        return args
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        try:
            body = json.loads(request.body)
        except ValueError:
            raise SlackError("invalid_json") from None
        if not isinstance(body, dict):
            raise SlackError("invalid_json")
        return args | body
    form = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
    return args | {k: v[-1] for k, v in form.items()}


def _structured(args: dict[str, Any], name: str, error: str) -> Any:
    """``blocks`` and ``metadata`` are JSON in a JSON body and a JSON string in a form body."""
    value = args.get(name)
    if isinstance(value, str):
        if not value:
            return None
        try:
            value = json.loads(value)
        except ValueError:
            raise SlackError(error) from None
    return value


def _page(items: list[Any], args: dict[str, Any], *, default: int, most: int) -> tuple[list[Any], str]:
    """Slack's cursor pagination: an opaque ``next_cursor`` ("" on the last page); ``invalid_cursor`` otherwise."""
    try:
        limit = int(args.get("limit") or default)
    except (TypeError, ValueError):
        raise SlackError("invalid_limit") from None
    limit = max(1, min(limit, most))
    start = 0
    cursor = str(args.get("cursor") or "")
    if cursor:
        try:
            word, _, number = base64.b64decode(cursor, validate=True).decode().partition(":")
            start = int(number)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise SlackError("invalid_cursor") from None
        if word != "offset" or not 0 <= start <= len(items):
            raise SlackError("invalid_cursor")
    chunk = items[start : start + limit]
    after = start + len(chunk)
    next_cursor = base64.b64encode(f"offset:{after}".encode()).decode() if after < len(items) else ""
    return chunk, next_cursor


class SlackStandIn:
    def __init__(self, credentials: Credentials, stamps: _Stamps, lock: threading.Lock) -> None:
        self._credentials = credentials
        self._stamps = stamps
        self._lock = lock
        self.conversations: dict[str, SlackConversation] = {}
        self.received: list[dict[str, Any]] = []
        self._create(SLACK_ANNOUNCE, SLACK_BOT_USER, purpose="Incident announcements")

    def _create(self, name: str, creator: str, *, is_private: bool = False, purpose: str = "") -> SlackConversation:
        number = len(self.conversations) + 1
        conversation = SlackConversation(
            id=f"C0SBX{number:05d}",
            name=name,
            created=self._stamps.micros() // 1_000_000,
            creator=creator,
            is_private=is_private,
            purpose=purpose,
            members=[SLACK_BOT_USER],
        )
        self.conversations[conversation.id] = conversation
        return conversation

    def _by_name(self, name: str) -> SlackConversation | None:
        return next((c for c in self.conversations.values() if c.name == name), None)

    def _conversation(self, args: dict[str, Any], *, by_name: bool = False) -> SlackConversation:
        ref = str(args.get("channel") or "")
        found = self.conversations.get(ref)
        if found is None and by_name:
            found = self._by_name(ref.removeprefix("#"))
        if found is None:
            raise SlackError("channel_not_found")
        return found

    # -- the Web API -----------------------------------------------------------------------------------------

    def api(self, request: Request, method: str) -> Response:
        try:
            args = _slack_arguments(request)
            self._authorize(request, args)
            handler = self._METHODS.get(method)
            if handler is None:
                raise SlackError("unknown_method")
            with self._lock:
                self.received.append({"method": method, "arguments": _recorded(args)})
                answer = handler(self, args)
        except SlackError as e:
            return json_response({"ok": False, "error": e.code, **e.extra})
        return json_response({"ok": True, **answer})

    def _authorize(self, request: Request, args: dict[str, Any]) -> None:
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else str(args.pop("token", "") or "")
        if not token:
            raise SlackError("not_authed")
        if not _same(token, self._credentials.slack_bot_token):
            raise SlackError("invalid_auth")

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"url": "https://sarvanom-sandbox.slack.com/", "team_id": SLACK_TEAM, "user_id": SLACK_BOT_USER}

    def _conversations_create(self, args: dict[str, Any]) -> dict[str, Any]:
        name = str(args.get("name") or "")
        if not name:
            raise SlackError("invalid_name_required")
        if len(name) > 80:
            raise SlackError("invalid_name_maxlength")
        if not _SLACK_NAME.match(name):
            raise SlackError("invalid_name_specials")
        if self._by_name(name) is not None:
            raise SlackError("name_taken")
        private = args.get("is_private") in (True, "true", "1")
        return {"channel": self._create(name, SLACK_BOT_USER, is_private=private).wire()}

    def _conversations_list(self, args: dict[str, Any]) -> dict[str, Any]:
        conversations = [c.wire() for c in self.conversations.values()]
        chunk, next_cursor = _page(conversations, args, default=100, most=1000)
        return {"channels": chunk, "response_metadata": {"next_cursor": next_cursor}}

    def _conversations_invite(self, args: dict[str, Any]) -> dict[str, Any]:
        conversation = self._conversation(args)
        users = [u.strip() for u in str(args.get("users") or "").split(",") if u.strip()]
        if not users:
            raise SlackError("no_user")
        for user in users:
            if user == SLACK_BOT_USER:
                raise SlackError("cant_invite_self")
            if user not in SLACK_USERS:
                raise SlackError("user_not_found")
            if user in conversation.members:
                raise SlackError("already_in_channel")
        conversation.members.extend(users)
        return {"channel": conversation.wire()}

    def _conversations_set_topic(self, args: dict[str, Any]) -> dict[str, Any]:
        conversation = self._conversation(args)
        topic = str(args.get("topic") or "")
        if len(topic) > 250:
            raise SlackError("too_long")
        conversation.topic = topic
        return {"channel": conversation.wire()}

    def _conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        conversation = self._conversation(args)
        metadata = args.get("include_all_metadata") in (True, "true", "1")
        inclusive = args.get("inclusive") in (True, "true", "1")
        latest, oldest = args.get("latest"), args.get("oldest")
        parents = [m for m in reversed(conversation.messages) if m.thread_ts is None]  # newest first
        if latest:
            parents = [m for m in parents if _ts(m.ts) < _ts(str(latest)) or (inclusive and m.ts == str(latest))]
        if oldest:
            parents = [m for m in parents if _ts(m.ts) > _ts(str(oldest)) or (inclusive and m.ts == str(oldest))]
        chunk, next_cursor = _page(parents, args, default=100, most=999)
        return {
            "messages": [m.wire(metadata=metadata, replies=self._replies(conversation, m.ts)) for m in chunk],
            "has_more": bool(next_cursor),
            "pin_count": 0,
            "response_metadata": {"next_cursor": next_cursor},
        }

    def _conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        conversation = self._conversation(args)
        ts = str(args.get("ts") or "")
        parent = next((m for m in conversation.messages if m.ts == ts and m.thread_ts is None), None)
        if parent is None:
            raise SlackError("thread_not_found")
        metadata = args.get("include_all_metadata") in (True, "true", "1")
        thread = [parent, *(m for m in conversation.messages if m.thread_ts == ts)]
        chunk, next_cursor = _page(thread, args, default=1000, most=1000)
        return {
            "messages": [m.wire(metadata=metadata, replies=self._replies(conversation, m.ts)) for m in chunk],
            "has_more": bool(next_cursor),
            "response_metadata": {"next_cursor": next_cursor},
        }

    @staticmethod
    def _replies(conversation: SlackConversation, ts: str) -> int:
        return sum(1 for m in conversation.messages if m.thread_ts == ts)

    def _post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        conversation = self._conversation(args, by_name=True)
        if SLACK_BOT_USER not in conversation.members:
            raise SlackError("not_in_channel")
        text, blocks, metadata = self._content(args)
        thread_ts = str(args.get("thread_ts") or "") or None
        if thread_ts is not None and not any(m.ts == thread_ts for m in conversation.messages):
            raise SlackError("thread_not_found")
        message = SlackMessage(self._stamps.slack_ts(), text, SLACK_BOT_USER, "api", blocks, metadata, thread_ts)
        conversation.messages.append(message)
        return {
            "channel": conversation.id,
            "ts": message.ts,
            "message": message.wire(metadata=True, replies=0),
        }

    def _update(self, args: dict[str, Any]) -> dict[str, Any]:
        conversation = self._conversation(args)
        ts = str(args.get("ts") or "")
        message = next((m for m in conversation.messages if m.ts == ts), None)
        if message is None:
            raise SlackError("message_not_found")
        if message.user != SLACK_BOT_USER or message.via != "api":
            raise SlackError("cant_update_message")
        text, blocks, metadata = self._content(args)
        message.edits.append({"text": message.text, "blocks": message.blocks, "metadata": message.metadata})
        message.text, message.blocks = text, blocks
        if metadata is not None:
            message.metadata = metadata
        message.edited_ts = self._stamps.slack_ts()
        return {
            "channel": conversation.id,
            "ts": message.ts,
            "text": message.text,
            "message": message.wire(metadata=True, replies=self._replies(conversation, message.ts)),
        }

    @staticmethod
    def _content(args: dict[str, Any]) -> tuple[str, list[Any] | None, dict[str, Any] | None]:
        text = str(args.get("text") or "")
        blocks = _structured(args, "blocks", "invalid_blocks")
        if blocks is not None and (not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks)):
            raise SlackError("invalid_blocks")
        if blocks is not None and any("type" not in b for b in blocks):
            raise SlackError("invalid_blocks")
        if not text and not blocks:
            raise SlackError("no_text")
        if len(text) > 40_000:
            raise SlackError("msg_too_long")
        metadata = _structured(args, "metadata", "invalid_metadata_format")
        if metadata is not None and (
            not isinstance(metadata, dict)
            or not isinstance(metadata.get("event_type"), str)
            or not isinstance(metadata.get("event_payload"), dict)
        ):
            raise SlackError("invalid_metadata_format")
        return text, blocks, metadata

    _METHODS: ClassVar[dict[str, Callable[[SlackStandIn, dict[str, Any]], dict[str, Any]]]] = {
        "auth.test": _auth_test,
        "conversations.create": _conversations_create,
        "conversations.list": _conversations_list,
        "conversations.invite": _conversations_invite,
        "conversations.setTopic": _conversations_set_topic,
        "conversations.history": _conversations_history,
        "conversations.replies": _conversations_replies,
        "chat.postMessage": _post_message,
        "chat.update": _update,
    }

    # -- the incoming webhook --------------------------------------------------------------------------------

    def webhook(self, request: Request, path: str) -> Response:
        if request.method != "POST":
            return text_response("invalid_request", 405)
        if not _same(path, self._credentials.slack_webhook_path()):
            return text_response("no_service", 404)
        try:
            body = json.loads(request.body or b"null")
        except ValueError:
            return text_response("invalid_payload", 400)
        if not isinstance(body, dict):
            return text_response("invalid_payload", 400)
        text, blocks = str(body.get("text") or ""), body.get("blocks")
        if blocks is not None and not isinstance(blocks, list):
            return text_response("invalid_blocks", 400)
        if not text and not blocks:
            return text_response("no_text", 400)
        with self._lock:
            self.received.append({"method": "webhook", "arguments": _recorded(body)})
            conversation = self._by_name(SLACK_ANNOUNCE)
            assert conversation is not None  # made in __init__, never removed
            conversation.messages.append(SlackMessage(self._stamps.slack_ts(), text, SLACK_BOT_USER, "webhook", blocks))
        return text_response("ok")

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "channels": [
                    {
                        "id": c.id,
                        "name": c.name,
                        "topic": c.topic,
                        "members": [SLACK_USERS.get(u, u) for u in c.members],
                        "messages": [
                            {
                                "ts": m.ts,
                                "via": m.via,
                                "text": m.text,
                                "thread_ts": m.thread_ts,
                                "edits": len(m.edits),
                                "key": (m.metadata or {}).get("event_payload", {}).get("key"),
                            }
                            for m in c.messages
                        ],
                    }
                    for c in self.conversations.values()
                ]
            }


def _ts(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise SlackError("invalid_ts_latest") from None


def _recorded(args: dict[str, Any]) -> dict[str, Any]:
    """What a stand-in keeps of a request: its arguments, never a credential."""
    return {k: copy.deepcopy(v) for k, v in args.items() if k not in ("token", "routing_key")}


# -- Statuspage ----------------------------------------------------------------------------------------------------


class StatuspageStandIn:
    def __init__(self, credentials: Credentials, stamps: _Stamps, lock: threading.Lock) -> None:
        self._credentials = credentials
        self._stamps = stamps
        self._lock = lock
        self.page_id = STATUSPAGE_PAGE
        self.components: dict[str, dict[str, Any]] = {
            component_id(c.name): {"id": component_id(c.name), "name": c.name, "status": "operational"}
            for c in world.SERVICES
        }
        self.incidents: list[dict[str, Any]] = []  # oldest first
        self.received: list[dict[str, Any]] = []

    def handle(self, request: Request, path: str) -> Response:
        header = request.headers.get("authorization", "")
        key = header[6:].strip() if header.startswith("OAuth ") else (request.arg("api_key") or "")
        if not key or not _same(key, self._credentials.statuspage_api_key):
            return json_response({"error": "Could not authenticate"}, 401)
        parts = path.strip("/").split("/")
        if len(parts) < 4 or parts[:2] != ["v1", "pages"]:
            return json_response({"error": "Not found"}, 404)
        if parts[2] != self.page_id:
            return json_response({"error": "Page not found"}, 404)
        rest = parts[3:]
        with self._lock:
            if rest == ["components"] and request.method == "GET":
                return json_response([self._component(c) for c in self.components.values()])
            if rest[0] != "incidents":
                return json_response({"error": "Not found"}, 404)
            body = request.json() if request.body else None
            self.received.append({"method": request.method, "path": path, "body": copy.deepcopy(body)})
            if len(rest) == 1 and request.method == "GET":
                return json_response(self._listed(self.incidents, request))
            if len(rest) == 1 and request.method == "POST":
                return self._create(body)
            if rest[1:] == ["unresolved"] and request.method == "GET":
                open_ = [i for i in self.incidents if i["status"] != "resolved"]
                return json_response(self._listed(open_, request))
            incident = next((i for i in self.incidents if i["id"] == rest[1]), None) if len(rest) == 2 else None
            if incident is None:
                return json_response({"error": "Incident not found"}, 404)
            if request.method == "GET":
                return json_response(incident)
            if request.method in ("PATCH", "PUT"):
                return self._update(incident, body)
        return json_response({"error": "Method not allowed"}, 405)

    @staticmethod
    def _listed(incidents: list[dict[str, Any]], request: Request) -> list[dict[str, Any]]:
        newest = list(reversed(incidents))
        query = (request.arg("q") or "").lower()
        if query:
            newest = [i for i in newest if query in i["name"].lower()]
        limit = request.int_arg("limit") or 100
        page = max(1, request.int_arg("page") or 1)
        return newest[(page - 1) * limit : page * limit]

    def _component(self, component: dict[str, Any]) -> dict[str, Any]:
        return component | {"page_id": self.page_id, "group": False, "showcase": True}

    def _fields(self, body: Any) -> tuple[dict[str, Any] | None, Response | None]:
        if not isinstance(body, dict) or not isinstance(body.get("incident"), dict):
            return None, json_response({"error": "incident is missing"}, 400)
        fields: dict[str, Any] = body["incident"]
        errors = []
        if "status" in fields and fields["status"] not in _STATUSPAGE_STATUSES:
            errors.append("Status is not included in the list")
        if "impact_override" in fields and fields["impact_override"] not in _IMPACTS:
            errors.append("Impact override is not included in the list")
        components = fields.get("components") or {}
        ids = list(fields.get("component_ids") or []) + list(components)
        if not isinstance(components, dict) or any(i not in self.components for i in ids):
            errors.append("Components are invalid")
        elif any(s not in _COMPONENT_STATUSES for s in components.values()):
            errors.append("Component status is not included in the list")
        if errors:
            return None, json_response({"error": errors}, 422)
        return fields, None

    def _create(self, body: Any) -> Response:
        fields, refused = self._fields(body)
        if refused is not None:
            return refused
        assert fields is not None
        if not str(fields.get("name") or "").strip():
            return json_response({"error": ["Name can't be blank"]}, 422)
        now = self._now()
        number = len(self.incidents) + 1
        incident: dict[str, Any] = {
            "id": _short_id("statuspage-incident", number, now),
            "page_id": self.page_id,
            "name": str(fields["name"]),
            "status": fields.get("status") or "investigating",
            "impact_override": fields.get("impact_override"),
            "impact": "none",
            "created_at": now,
            "updated_at": now,
            "started_at": now,
            "monitoring_at": None,
            "resolved_at": None,
            "shortlink": f"https://stspg.io/{_short_id('shortlink', number, now, length=5)}",
            "postmortem_body": None,
            "metadata": fields.get("metadata") or {},
            "components": [],
            "incident_updates": [],
        }
        self._apply(incident, fields, now, first=True)
        self.incidents.append(incident)
        return json_response(incident, 201)

    def _update(self, incident: dict[str, Any], body: Any) -> Response:
        fields, refused = self._fields(body)
        if refused is not None:
            return refused
        assert fields is not None
        now = self._now()
        if fields.get("name"):
            incident["name"] = str(fields["name"])
        if "impact_override" in fields:
            incident["impact_override"] = fields["impact_override"]
        if "status" in fields:
            incident["status"] = fields["status"]
        self._apply(incident, fields, now, first=False)
        incident["updated_at"] = now
        return json_response(incident)

    def _apply(self, incident: dict[str, Any], fields: dict[str, Any], now: str, *, first: bool) -> None:
        """Set the components' statuses, record the update (newest first) and the incident's status times."""
        affected = []
        for cid, status in (fields.get("components") or {}).items():
            component = self.components[cid]
            affected.append({"code": cid, "name": component["name"], "old_status": component["status"]})
            affected[-1]["new_status"] = status
            component["status"] = status
            component["updated_at"] = now
        ids = list(dict.fromkeys([*(c["id"] for c in incident["components"]), *(fields.get("component_ids") or [])]))
        ids += [cid for cid in fields.get("components") or {} if cid not in ids]
        incident["components"] = [self._component(self.components[cid]) for cid in ids]
        worst = max((_COMPONENT_STATUSES.index(c["status"]) for c in incident["components"]), default=0)
        incident["impact"] = incident["impact_override"] or ("none", "minor", "major", "critical", "none")[worst]
        text = fields.get("body", fields.get("message"))
        if first or text is not None or "status" in fields or affected:
            update = {
                "id": _short_id("statuspage-update", incident["id"], len(incident["incident_updates"]), now),
                "incident_id": incident["id"],
                "status": incident["status"],
                "body": str(text or ""),
                "created_at": now,
                "updated_at": now,
                "display_at": now,
                "deliver_notifications": bool(fields.get("deliver_notifications", True)),
                "affected_components": affected or None,
                "custom_tweet": None,
                "tweet_id": None,
            }
            incident["incident_updates"].insert(0, update)
        if incident["status"] == "monitoring" and incident["monitoring_at"] is None:
            incident["monitoring_at"] = now
        if incident["status"] == "resolved" and incident["resolved_at"] is None:
            incident["resolved_at"] = now

    def _now(self) -> str:
        micros = self._stamps.micros()
        return rfc3339_micro(datetime.fromtimestamp(micros / 1_000_000, tz=timezone.utc))

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "page_id": self.page_id,
                "incidents": [
                    {
                        "id": i["id"],
                        "name": i["name"],
                        "status": i["status"],
                        "impact": i["impact"],
                        "shortlink": i["shortlink"],
                        "components": {c["name"]: c["status"] for c in i["components"]},
                        "updates": [
                            {"status": u["status"], "body": u["body"], "created_at": u["created_at"]}
                            for u in reversed(i["incident_updates"])
                        ],
                    }
                    for i in self.incidents
                ],
            }


# -- PagerDuty -----------------------------------------------------------------------------------------------------


class PagerDutyStandIn:
    def __init__(self, credentials: Credentials, stamps: _Stamps, lock: threading.Lock) -> None:
        self._credentials = credentials
        self._stamps = stamps
        self._lock = lock
        #: dedup key -> its incidents, oldest first; each {"status", "events": [...]}
        self.incidents: dict[str, list[dict[str, Any]]] = {}
        self.received: list[dict[str, Any]] = []

    def enqueue(self, request: Request) -> Response:
        if request.method != "POST":
            return json_response({"status": "invalid request", "message": "Method not allowed"}, 405)
        try:
            event = json.loads(request.body or b"null")
        except ValueError:
            return _pd_invalid("Event object is invalid", "Could not parse the request body as JSON")
        errors = self._errors(event)
        if errors:
            return _pd_invalid("Event object is invalid", *errors)
        action = event["event_action"]
        with self._lock:
            self.received.append(_recorded(event))
            key = str(event.get("dedup_key") or "") or _short_id("pagerduty", self._stamps.micros(), length=32)
            history = self.incidents.setdefault(key, [])
            current = history[-1] if history and history[-1]["status"] != "resolved" else None
            at = rfc3339_micro(datetime.fromtimestamp(self._stamps.micros() / 1_000_000, tz=timezone.utc))
            entry = {"action": action, "at": at, "summary": (event.get("payload") or {}).get("summary")}
            if action == "trigger":
                if current is None:
                    current = {"status": "triggered", "events": []}
                    history.append(current)
                current["events"].append(entry | {"severity": event["payload"]["severity"]})
            elif current is not None:  # acknowledge or resolve an open incident; PagerDuty drops them otherwise
                current["status"] = "acknowledged" if action == "acknowledge" else "resolved"
                current["events"].append(entry)
            if not history:
                del self.incidents[key]
        return json_response({"status": "success", "message": "Event processed", "dedup_key": key}, 202)

    def _errors(self, event: Any) -> list[str]:
        if not isinstance(event, dict):
            return ["Event object must be a JSON object"]
        key = event.get("routing_key")
        if not isinstance(key, str) or not key:
            return ["'routing_key' is missing or blank"]
        if len(key) != 32:
            return ["Length of 'routing_key' is incorrect (should be 32 characters)"]
        if not _same(key, self._credentials.pagerduty_routing_key):
            return ["Invalid routing key"]
        action = event.get("event_action")
        if action not in ("trigger", "acknowledge", "resolve"):
            return ["'event_action' is missing or invalid"]
        dedup = event.get("dedup_key")
        if dedup is not None and (not isinstance(dedup, str) or len(dedup) > 255):
            return ["'dedup_key' must be a string of at most 255 characters"]
        if action != "trigger":
            return [] if dedup else ["'dedup_key' is required for acknowledge and resolve events"]
        payload = event.get("payload")
        if not isinstance(payload, dict):
            return ["'payload' is missing or not an object"]
        errors = []
        for name in ("summary", "source"):
            if not isinstance(payload.get(name), str) or not payload[name].strip():
                errors.append(f"'payload.{name}' is missing or blank")
        if isinstance(payload.get("summary"), str) and len(payload["summary"]) > 1024:
            errors.append("'payload.summary' is longer than 1024 characters")
        if payload.get("severity") not in _PD_SEVERITIES:
            errors.append("'payload.severity' must be one of critical, error, warning, info")
        return errors

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "incidents": [
                    {"dedup_key": key, "status": incident["status"], "events": list(incident["events"])}
                    for key, history in self.incidents.items()
                    for incident in history
                ]
            }


def _pd_invalid(message: str, *errors: str) -> Response:
    return json_response({"status": "invalid event", "message": message, "errors": list(errors)}, 400)


# -- all three -----------------------------------------------------------------------------------------------------

#: path prefix -> the fault target (``incidentctl.sandbox.faults.TARGETS``) of the stand-in serving it
PREFIXES = {"/slack/": "slack", "/statuspage/": "statuspage", "/pagerduty/": "pagerduty"}


class NotifyStandIns:
    """The three stand-ins of one sandbox; their state outlives a stop and start of the server."""

    def __init__(self, credentials: Credentials, now: Callable[[], datetime]) -> None:
        self.credentials = credentials
        lock = threading.Lock()
        stamps = _Stamps(now)
        self.slack = SlackStandIn(credentials, stamps, lock)
        self.statuspage = StatuspageStandIn(credentials, stamps, lock)
        self.pagerduty = PagerDutyStandIn(credentials, stamps, lock)

    def handle(self, kind: str, request: Request) -> Response:
        path = request.path
        if kind == "slack":
            if path.startswith("/slack/api/"):
                return self.slack.api(request, path[len("/slack/api/") :])
            return self.slack.webhook(request, path)
        if kind == "statuspage":
            return self.statuspage.handle(request, path[len("/statuspage") :])
        if path.rstrip("/") == "/pagerduty/v2/enqueue":
            return self.pagerduty.enqueue(request)
        return json_response({"status": "invalid request", "message": "Not found"}, 404)

    def snapshot(self) -> dict[str, Any]:
        return {
            "slack": self.slack.snapshot(),
            "statuspage": self.statuspage.snapshot(),
            "pagerduty": self.pagerduty.snapshot(),
        }
