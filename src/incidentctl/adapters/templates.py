"""Rendering the runbook's Jinja templates (the only module that imports jinja2).

Strict: a name the context does not have is an error (``StrictUndefined``), never the silent blank or fallback
Jinja prints by default; the context comes from :func:`incidentctl.runbook.templates.template_context`. Sandboxed:
a template is configuration a team shares in a repository, so it may read the context but not reach Python
through it. A template that cannot be read, parsed or rendered raises :class:`~incidentctl.errors.RunbookError`
naming ``file:line``.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from incidentctl.core.text import for_terminal
from incidentctl.core.times import format_duration
from incidentctl.errors import RunbookError

if TYPE_CHECKING:
    import jinja2


def render_template(path: Path, context: Mapping[str, Any]) -> str:
    """The template at ``path`` rendered with ``context`` (from ``template_context``)."""
    import jinja2

    try:
        text: str = _environment(path.parent).get_template(path.name).render(context)
        return text
    except jinja2.TemplateSyntaxError as e:
        raise RunbookError(f"template {path.name}: {e.message}", where=f"{path}:{e.lineno}") from e
    except jinja2.TemplateNotFound as e:
        raise RunbookError(f"template {e.name} not found", where=str(path)) from e
    except jinja2.TemplateError as e:  # a name the context lacks, something the sandbox refuses
        raise RunbookError(f"template {path.name}: {e.message or e}", where=_where(path, e)) from e
    except OSError as e:
        raise RunbookError(f"cannot read the template: {e.strerror or e}", where=str(path)) from e


def render_json_template(path: Path, context: Mapping[str, Any]) -> Any:
    """A ``.json.j2`` template (Slack's Block Kit) rendered and parsed. Every ``{{ value }}`` is escaped for a
    JSON string and for Slack mrkdwn (``&``, ``<``, ``>``) on output, so user text can neither end the string
    nor forge a link or a mention; the template's own text (``*bold*``, ``<https://...|links>``) is left as
    written. Values go inside quotes; ``tojson`` is not needed (and would escape twice). Control characters are
    shown as escapes, as on a terminal; ``value | limit(N)`` keeps a value within a Block Kit limit."""
    import json

    import jinja2

    try:
        environment = _environment(path.parent, finalize=_json_mrkdwn)
        environment.filters["limit"] = _limit_mrkdwn
        text: str = environment.get_template(path.name).render(context)
    except jinja2.TemplateSyntaxError as e:
        raise RunbookError(f"template {path.name}: {e.message}", where=f"{path}:{e.lineno}") from e
    except jinja2.TemplateError as e:
        raise RunbookError(f"template {path.name}: {e.message or e}", where=_where(path, e)) from e
    except OSError as e:
        raise RunbookError(f"cannot read the template: {e.strerror or e}", where=str(path)) from e
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise RunbookError(f"template {path.name} does not render to JSON: {e.msg}", where=f"{path}:{e.lineno}") from e


def escape_mrkdwn(text: str) -> str:
    """Slack's three control characters in text, escaped as its docs ask (``&`` first)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


#: What a value cut to fit a limit ends with.
ELLIPSIS = "…"


class _Mrkdwn(str):
    """Text already made safe for mrkdwn (by ``limit``): the output step only escapes it for JSON."""


def _as_mrkdwn(value: Any) -> str:
    """A value as safe mrkdwn: control characters shown as escapes (``core.text``), then Slack's escapes."""
    if isinstance(value, _Mrkdwn):
        return value
    return escape_mrkdwn(for_terminal(value if isinstance(value, str) else str(value)))


def _json_mrkdwn(value: Any) -> str:
    import json

    return json.dumps(_as_mrkdwn(value), ensure_ascii=False)[1:-1]


def _limit_mrkdwn(value: Any, length: int) -> _Mrkdwn:
    """At most ``length`` characters as Slack counts them, i.e. after escaping (``&amp;`` is five), never cutting
    an escape in two; a cut value ends with an ellipsis rather than being refused by Slack."""
    text = _as_mrkdwn(value)
    if len(text) <= length:
        return _Mrkdwn(text)
    cut = text[: max(length - len(ELLIPSIS), 0)]
    amp = cut.rfind("&", max(len(cut) - 4, 0))
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return _Mrkdwn(cut + ELLIPSIS)


def _limit(value: Any, length: int) -> str:
    """At most ``length`` characters, cut ones ending with an ellipsis (plain templates)."""
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= length else text[: max(length - len(ELLIPSIS), 0)] + ELLIPSIS


def names_used(path: Path) -> set[str]:
    """The context names a template refers to, in every branch (whether or not a render takes it)."""
    import jinja2.meta

    environment = _environment(path.parent)
    try:
        return set(jinja2.meta.find_undeclared_variables(environment.parse(path.read_text(encoding="utf-8"))))
    except jinja2.TemplateSyntaxError as e:
        raise RunbookError(f"template {path.name}: {e.message}", where=f"{path}:{e.lineno}") from e
    except OSError as e:
        raise RunbookError(f"cannot read the template: {e.strerror or e}", where=str(path)) from e


def _environment(folder: Path, finalize: Callable[[Any], Any] | None = None) -> jinja2.Environment:
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    environment = SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(folder),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # plain text and markdown, not HTML
        keep_trailing_newline=True,
        finalize=finalize,
    )
    environment.filters.update(utc=_utc, date=_date, hhmm=_hhmm, duration=_duration, limit=_limit)
    return environment


def _where(path: Path, error: BaseException) -> str:
    """``file:line`` of the template line that failed (Jinja rewrites its traceback to point at the template)."""
    lines = [frame.lineno for frame in traceback.extract_tb(error.__traceback__) if frame.filename == str(path)]
    return f"{path}:{lines[-1]}" if lines and lines[-1] else str(path)


def _utc(value: datetime) -> str:
    return f"{value.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC"


def _date(value: datetime) -> str:
    return f"{value.astimezone(timezone.utc):%Y-%m-%d}"


def _hhmm(value: datetime) -> str:
    return f"{value.astimezone(timezone.utc):%H:%M}"


def _duration(value: timedelta) -> str:
    return format_duration(timedelta(seconds=round(value.total_seconds())))
