"""Slack: the Web API with a bot token (an incident channel, one status message kept current, the history in its
thread), or an incoming webhook without one.

Web API. The incident's first message opens its channel: ``conversations.create`` (an existing channel of that
name is looked up with ``conversations.list``), invites the runbook's responders, sets the topic, announces the
channel in the runbook's ``channel`` and posts the status message there. Every later message edits that status
message with ``chat.update`` (so the channel's top shows where the incident stands, "Resolved" included) and is
posted as a reply in its thread, so the history stays readable in one place. Each post and edit carries the
message's idempotency key in Slack message metadata, which ``conversations.history`` / ``conversations.replies``
return with ``include_all_metadata``: that is how :meth:`SlackDelivery.find` tells, after a sender stopped, whether
a message already went out, and how a first message sent again after failing half way finds the channel,
announcement and status message it already made instead of making second ones. The thread reply is posted last:
it is the step that says the message is delivered.

Slack answers every Web API error as HTTP 200 ``{"ok": false, "error": "..."}``; ``ratelimited`` and Slack's
transient errors may pass, every other code is refused for good and named in the error. The incoming webhook
answers with HTTP statuses instead (400 ``invalid_payload`` ... 500 ``rollup_error``), handled like any web
channel's; it cannot be asked what it received, so it cannot tell.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from incidentctl.adapters.notify.base import DeliveryError, Outgoing, Receipt
from incidentctl.adapters.notify.http import request_json
from incidentctl.adapters.templates import escape_mrkdwn
from incidentctl.core.text import one_line
from incidentctl.errors import ConfigError

if TYPE_CHECKING:
    from incidentctl.adapters.notify.channels import ChannelDeps
    from incidentctl.runbook.model import SlackChannel

log = logging.getLogger(__name__)

#: Slack's limit on a channel name, and the characters it allows (lower case).
NAME_LIMIT = 80
#: A channel topic's limit.
TOPIC_LIMIT = 250
#: The top-level ``text`` is the notification's and the screen reader's fallback; Slack truncates long ones.
TEXT_LIMIT = 3000
#: Errors Slack documents as passing (its side, not the request's).
TRANSIENT = frozenset({"internal_error", "fatal_error", "service_unavailable", "request_timeout"})
#: Pages of a listing read before giving up the search (200 items a page).
MAX_PAGES = 50
EVENT_TYPE = "incident_update"
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{6,}$")


#: How much of the title an incident channel's name keeps (whole words, where it can).
TITLE_WORDS_LIMIT = 32


def incident_channel_name(prefix: str, incident_id: str, title: str) -> str:
    """The incident channel's name: the prefix, the incident id and a slug of the title, as Slack allows it (lower
    case letters, digits, ``-`` and ``_``, at most 80). A prefix the id already starts with is not repeated:
    ``inc-`` and INC-2026-004 make ``inc-2026-004-...``. The title's part keeps its first words up to
    ``TITLE_WORDS_LIMIT`` characters: responders type the name (a title triage wrote from the signals runs long)."""
    base = _slug(incident_id)
    lead = _slug(prefix)
    if lead and base != lead and not base.startswith(f"{lead}-"):
        base = f"{lead}-{base}"
    slug = _slug(title)
    if len(slug) > TITLE_WORDS_LIMIT:
        cut = slug[: TITLE_WORDS_LIMIT + 1]
        slug = (cut.rsplit("-", 1)[0] if "-" in cut[8:] else cut[:TITLE_WORDS_LIMIT]).rstrip("-_")
    name = f"{base}-{slug}" if slug else base
    return name[:NAME_LIMIT].rstrip("-_")


def incident_topic(severity: str, severity_name: str, status: str, commander: str | None) -> str:
    """The incident channel's topic: where the incident stands at a glance (user text made plain)."""
    words = [f"{severity} {severity_name}".strip(), status.title(), f"IC: {commander or 'not assigned'}"]
    topic = escape_mrkdwn(one_line(" · ".join(w for w in words if w)))
    return topic if len(topic) <= TOPIC_LIMIT else topic[: TOPIC_LIMIT - 1] + "…"


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9_]+", "-", ascii_text.lower()).strip("-_")


class SlackApiError(DeliveryError):
    """Slack's ``{"ok": false}``: ``code`` is its error code (``name_taken``, ``already_in_channel``)."""

    def __init__(self, message: str, *, code: str, reason: Any, retry_after: float | None = None) -> None:
        super().__init__(message, reason=reason, status=200, retry_after=retry_after)
        self.code = code


class SlackDelivery:
    """One runbook Slack channel: the Web API when its bot token is set, else its incoming webhook."""

    def __init__(self, config: SlackChannel, deps: ChannelDeps) -> None:
        self._config = config
        self._deps = deps
        self._token: str | None = None
        self._webhook: str | None = None
        if config.bot_token is not None:
            try:
                self._token = deps.secrets.resolve(config.bot_token)
            except ConfigError:
                if config.webhook_url is None:
                    raise
        if self._token is None:
            if config.webhook_url is None:
                raise ConfigError(
                    f"channel {deps.name}: a Slack channel needs bot_token or webhook_url",
                    hint="name the secret of one of them in communication.channels",
                )
            self._webhook = deps.secrets.resolve(config.webhook_url)
        #: Only the Web API can be asked what it has (message metadata); a webhook cannot.
        self.can_tell = self._token is not None
        #: Keys this process already tried: a try that timed out may have been delivered, so look before posting.
        self._tried: set[str] = set()

    # --- the Delivery protocol ---------------------------------------------------------------------------------

    def send(self, message: Outgoing) -> Receipt:
        if self._webhook is not None:
            return self._send_webhook(message, self._webhook)
        retry = message.key in self._tried
        self._tried.add(message.key)
        known = _incident_channel(message.prior)
        if known is None:
            return self._open(message, retry=retry)
        channel_id, status_ts = known
        return self._follow(message, channel_id, status_ts, retry=retry)

    def find(self, message: Outgoing) -> Receipt | None:
        if self._token is None:
            return None
        known = _incident_channel(message.prior)
        if known is not None:
            channel_id, status_ts = known
        else:
            found_id = self._channel_by_name(self._name(message))
            if found_id is None:
                return None
            found_ts = self._find_post(found_id, message.key, "status")
            if found_ts is None:
                return None
            channel_id, status_ts = found_id, found_ts
        ts = self._find_reply(channel_id, status_ts, message.key)
        if ts is None and known is not None:
            # the status message may have been replaced by this message (the old one deleted)
            replacement = self._find_post(channel_id, message.key, "status")
            if replacement is not None and replacement != status_ts:
                status_ts, ts = replacement, self._find_reply(channel_id, replacement, message.key)
        if ts is None:
            return None
        return {"channel_id": channel_id, "status_ts": status_ts, "ts": ts}

    # --- webhook -----------------------------------------------------------------------------------------------

    def _send_webhook(self, message: Outgoing, url: str) -> Receipt:
        body: dict[str, Any] = {"text": _fallback(message)}
        blocks = message.payload.get("blocks")
        if isinstance(blocks, list):
            body["blocks"] = blocks
        request_json(
            self._deps.http,
            "POST",
            url,
            json=body,
            timeout=self._deps.timeout,
            what=f"Slack webhook of channel {self._deps.name}",
        )
        log.debug("Slack webhook of channel %s took %s", self._deps.name, message.key)
        return {"via": "webhook"}

    # --- Web API: the first message ----------------------------------------------------------------------------

    def _open(self, message: Outgoing, *, retry: bool) -> Receipt:
        name = self._name(message)
        channel_id, made = self._create(name)
        # a channel this call did not make may hold what an earlier, interrupted try of this message posted
        look = retry or not made
        if self._config.invite:
            self._invite(channel_id)
        self._set_topic(channel_id, message)
        self._announce(channel_id, message, look=look)
        status_ts = self._find_post(channel_id, message.key, "status") if look else None
        if status_ts is None:
            status_ts = self._post(channel_id, message, "status", blocks=message.payload.get("status_blocks"))
        ts = self._find_reply(channel_id, status_ts, message.key) if look else None
        if ts is None:
            ts = self._post(channel_id, message, "message", blocks=message.payload.get("blocks"), thread_ts=status_ts)
        return {"channel_id": channel_id, "status_ts": status_ts, "ts": ts}

    def _create(self, name: str) -> tuple[str, bool]:
        """The incident channel's id, and whether this call made it."""
        try:
            answer = self._call("conversations.create", {"name": name, "is_private": False})
        except SlackApiError as e:
            if e.code != "name_taken":
                raise
            found = self._channel_by_name(name)
            if found is None:
                raise DeliveryError(
                    f"Slack conversations.create: name_taken, and no open channel #{name} can be found "
                    "(archived, or private to the bot)",
                    reason="client",
                    status=200,
                ) from e
            return found, False
        channel = answer.get("channel")
        channel_id = channel.get("id") if isinstance(channel, Mapping) else None
        if not isinstance(channel_id, str):
            raise DeliveryError("Slack conversations.create: the answer names no channel id", reason="server")
        return channel_id, True

    def _invite(self, channel_id: str) -> None:
        try:
            self._call("conversations.invite", {"channel": channel_id, "users": ",".join(self._config.invite)})
        except SlackApiError as e:
            if e.code not in ("already_in_channel", "cant_invite_self"):
                raise

    def _set_topic(self, channel_id: str, message: Outgoing) -> None:
        topic = message.payload.get("topic")
        if not isinstance(topic, str) or not topic:
            topic = incident_topic(message.severity, "", message.status, None)
        self._call("conversations.setTopic", {"channel": channel_id, "topic": topic})

    def _announce(self, channel_id: str, message: Outgoing, *, look: bool) -> None:
        """Tell the runbook's incidents channel where the incident is handled (once per incident)."""
        where = self._config.channel
        if not where:
            return
        if look:
            announced_in = where if _CHANNEL_ID.match(where) else self._channel_by_name(where.lstrip("#"))
            if announced_in is not None and self._find_post(announced_in, message.key, "announcement") is not None:
                return
        title = escape_mrkdwn(one_line(self._deps.secrets.redact(message.title)))
        text = f":rotating_light: {message.incident_id} ({message.severity}) {title}: follow it in <#{channel_id}>"
        self._call(
            "chat.postMessage",
            {"channel": where, "text": text, "unfurl_links": False, "metadata": _metadata(message, "announcement")},
        )

    # --- Web API: every later message --------------------------------------------------------------------------

    def _follow(self, message: Outgoing, channel_id: str, status_ts: str, *, retry: bool) -> Receipt:
        status_blocks = message.payload.get("status_blocks")
        edit: dict[str, Any] = {
            "channel": channel_id,
            "ts": status_ts,
            "text": _fallback(message),
            "metadata": _metadata(message, "status"),
        }
        if isinstance(status_blocks, list):
            edit["blocks"] = status_blocks
        try:
            self._call("chat.update", edit)
        except SlackApiError as e:
            if e.code != "message_not_found":
                raise
            # someone deleted the status message: the incident gets a new one, which later messages edit (unless
            # an interrupted try of this message already made it: a rare path, so always look)
            made = self._find_post(channel_id, message.key, "status")
            status_ts = made if made is not None else self._post(channel_id, message, "status", blocks=status_blocks)
        self._set_topic(channel_id, message)
        ts = self._find_reply(channel_id, status_ts, message.key) if retry else None
        if ts is None:
            ts = self._post(channel_id, message, "message", blocks=message.payload.get("blocks"), thread_ts=status_ts)
        return {"channel_id": channel_id, "status_ts": status_ts, "ts": ts}

    # --- Web API: calls ----------------------------------------------------------------------------------------

    def _name(self, message: Outgoing) -> str:
        named = message.payload.get("channel_name")
        if isinstance(named, str) and named:
            return named
        return incident_channel_name(self._config.incident_channel_prefix, message.incident_id, message.title)

    def _post(self, channel_id: str, message: Outgoing, part: str, *, blocks: Any, thread_ts: str | None = None) -> str:
        body: dict[str, Any] = {
            "channel": channel_id,
            "text": _fallback(message),
            "metadata": _metadata(message, part),
            "unfurl_links": False,
        }
        if isinstance(blocks, list):
            body["blocks"] = blocks
        if thread_ts is not None:
            body["thread_ts"] = thread_ts
        ts = self._call("chat.postMessage", body).get("ts")
        if not isinstance(ts, str):
            raise DeliveryError("Slack chat.postMessage: the answer names no message ts", reason="server")
        return ts

    def _channel_by_name(self, name: str) -> str | None:
        for channel in self._pages(
            "conversations.list",
            {"exclude_archived": "true", "types": "public_channel,private_channel"},
            "channels",
        ):
            if channel.get("name") == name and isinstance(channel.get("id"), str):
                return str(channel["id"])
        return None

    def _find_post(self, channel_id: str, key: str, part: str) -> str | None:
        """The ts of the top-level message of ``channel_id`` that carries ``key`` as ``part``."""
        found = self._pages(
            "conversations.history", {"channel": channel_id, "include_all_metadata": "true"}, "messages"
        )
        return _carrying(found, key, part)

    def _find_reply(self, channel_id: str, status_ts: str, key: str) -> str | None:
        """The ts of the reply in the status message's thread that carries ``key`` (a thread's replies are not in
        ``conversations.history``, only in ``conversations.replies``)."""
        try:
            found = list(
                self._pages(
                    "conversations.replies",
                    {"channel": channel_id, "ts": status_ts, "include_all_metadata": "true"},
                    "messages",
                )
            )
        except SlackApiError as e:
            if e.code == "thread_not_found":
                return None
            raise
        return _carrying(iter(found), key, "message")

    def _pages(self, method: str, params: Mapping[str, str], field: str) -> Iterator[Mapping[str, Any]]:
        cursor = ""
        for _ in range(MAX_PAGES):
            answer = self._call(method, params={**params, "limit": "200", **({"cursor": cursor} if cursor else {})})
            items = answer.get(field)
            for item in items if isinstance(items, list) else []:
                if isinstance(item, Mapping):
                    yield item
            meta = answer.get("response_metadata")
            cursor = meta.get("next_cursor", "") if isinstance(meta, Mapping) else ""
            if not isinstance(cursor, str) or not cursor:
                return

    def _call(
        self, method: str, body: Mapping[str, Any] | None = None, *, params: Mapping[str, str] | None = None
    ) -> Mapping[str, Any]:
        """One Web API call: POST with a JSON body (writes) or GET with parameters (reads, which Slack does not
        take as JSON); Slack's ``{"ok": false}`` raised as a :class:`SlackApiError`."""
        assert self._token is not None
        what = f"Slack {method}"
        response = request_json(
            self._deps.http,
            "GET" if params is not None else "POST",
            f"{str(self._config.api_url).rstrip('/')}/{method}",
            json=dict(body) if body is not None else None,
            params=params,
            headers={"Authorization": f"Bearer {self._token}"},
            timeout=self._deps.timeout,
            what=what,
        )
        try:
            answer = response.json()
        except ValueError as e:
            raise DeliveryError(f"{what}: the answer is not JSON", reason="server", status=response.status_code) from e
        if not isinstance(answer, Mapping):
            raise DeliveryError(f"{what}: the answer is not a JSON object", reason="server", status=200)
        if answer.get("ok") is True:
            log.debug("%s: ok", what)
            return answer
        code = one_line(str(answer.get("error") or "unknown_error"))[:80]
        needed = answer.get("needed")
        text = f"{what}: {code}" + (f" (needs the scope {one_line(str(needed))[:80]})" if needed else "")
        text = self._deps.secrets.redact(text)
        log.debug("%s", text)
        if code == "ratelimited":
            raise SlackApiError(text, code=code, reason="rate_limited")
        raise SlackApiError(text, code=code, reason="server" if code in TRANSIENT else "client")


def _incident_channel(prior: tuple[Receipt, ...]) -> tuple[str, str] | None:
    """The incident channel and status message the channel's earlier receipts name (the latest that does)."""
    for receipt in reversed(prior):
        channel_id, status_ts = receipt.get("channel_id"), receipt.get("status_ts")
        if channel_id and status_ts:
            return channel_id, status_ts
    return None


def _carrying(messages: Iterator[Mapping[str, Any]], key: str, part: str) -> str | None:
    for found in messages:
        metadata = found.get("metadata")
        if not isinstance(metadata, Mapping) or metadata.get("event_type") != EVENT_TYPE:
            continue
        payload = metadata.get("event_payload")
        if not isinstance(payload, Mapping):
            continue
        if payload.get("key") == key and payload.get("part", part) == part and isinstance(found.get("ts"), str):
            return str(found["ts"])
    return None


def _metadata(message: Outgoing, part: str) -> dict[str, Any]:
    return {
        "event_type": EVENT_TYPE,
        "event_payload": {"key": message.key, "incident": message.incident_id, "part": part},
    }


def _fallback(message: Outgoing) -> str:
    """The top-level ``text``: shown in notifications and read by screen readers, and parsed as mrkdwn by Slack,
    so user text in it is escaped like the blocks'."""
    text = escape_mrkdwn(one_line(message.subject or f"{message.incident_id}: {message.title}"))
    return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 1] + "…"
