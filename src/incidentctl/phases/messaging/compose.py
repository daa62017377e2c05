"""What a message says on each channel, rendered from the journal: the kind's template for the text, and the
channel's own variants (Slack's Block Kit, the status page's public text).

The rendered text is what gets journalled and sent (a later flush sends exactly what the preview showed), masked
of every secret the runbook names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from incidentctl.core.messages import KIND_TEMPLATES
from incidentctl.errors import RunbookError, UsageError
from incidentctl.phases.messaging.outbox import Draft

if TYPE_CHECKING:
    from incidentctl.core.incident import Event, Incident
    from incidentctl.phases.context import PhaseContext
    from incidentctl.runbook.model import Runbook

#: Where a kind goes when no ``--to`` is given: an audience of the runbook, else the severity's notify list.
DEFAULT_AUDIENCE: Mapping[str, str] = {
    "executive-summary": "executives",
    "status-page": "customers",
    "support": "support",
}

#: Templates a channel kind renders besides the text, and where each lands in the message's payload.
VARIANTS: Mapping[str, Mapping[str, str]] = {
    "slack": {"blocks": "slack_message", "status_blocks": "slack_status"},
    "statuspage": {"body": "status_page"},
}

#: Channel kinds the public reads: whatever the message's kind, their subject and text are the status page
#: template's (no internal names, hosts or people), so nothing a channel takes from the message can leak.
PUBLIC_KINDS: frozenset[str] = frozenset({"statuspage"})

#: The bundled file of each template the runbook does not name.
BUNDLED_FILES: Mapping[str, str] = {
    "initial_notification": "initial_notification.md.j2",
    "status_update": "status_update.md.j2",
    "resolution_notification": "resolution_notification.md.j2",
    "executive_summary": "executive_summary.md.j2",
    "status_page": "status_page.md.j2",
    "customer_support": "customer_support.md.j2",
    "slack_message": "slack_message.json.j2",
    "slack_status": "slack_status.json.j2",
    "escalation_notice": "escalation_notice.md.j2",
}


@dataclass(frozen=True)
class Content:
    """What the responder adds to a message (the template says "being assessed" for what is not given)."""

    impact: Sequence[str] = ()
    update: str | None = None
    progress: Sequence[str] = ()
    resolution: str | None = None
    summary: Sequence[str] = ()
    customer_impact: str | None = None
    next_steps: str | None = None
    #: When the fix is expected ("30 minutes", "15:45 UTC"): the responder's estimate, never computed.
    eta: str | None = None
    root_cause: str | None = None


@dataclass(frozen=True)
class Target:
    channel: str
    #: The audience it was chosen for, or None when named directly or taken from the severity's notify list.
    audience: str | None


def targets(rb: Runbook, incident: Incident, kind: str, to: Sequence[str]) -> list[Target]:
    """The channels a message goes to: each ``--to`` is an audience or a channel; without any, the kind's audience
    (executive summary -> executives) or the severity's ``notify`` list."""
    audiences = rb.communication.audiences
    channels = rb.communication.channels
    found: list[Target] = []

    def add(channel: str, audience: str | None) -> None:
        if channel not in {t.channel for t in found}:
            found.append(Target(channel, audience))

    wanted = list(to)
    if not wanted:
        default = DEFAULT_AUDIENCE.get(kind)
        if default is not None and default in audiences:
            wanted = [default]
        else:
            level = rb.severities.get(incident.severity)
            for channel in level.notify if level else []:
                add(channel, None)
            if not found:
                raise UsageError(
                    f"severity {incident.severity} notifies no channel",
                    hint="name one with --to (an audience or a channel of communication.channels)",
                )
            return found
    for word in wanted:
        if word in audiences:
            for channel in audiences[word]:
                add(channel, word)
        elif word in channels:
            add(word, None)
        else:
            known = sorted({*audiences, *channels})
            raise UsageError(
                f"--to {word}: not an audience or a channel of the runbook", hint=f"one of {', '.join(known)}"
            )
    return found


def compose(
    ctx: PhaseContext,
    incident: Incident,
    timeline: Sequence[Event],
    kind: str,
    target: Target,
    content: Content,
    extra: Mapping[str, Any] | None = None,
) -> Draft:
    """One channel's message, rendered and masked. ``extra`` adds names a kind's template needs beyond the
    incident's (an escalation's level and reason), already made safe by the caller."""
    from incidentctl.adapters.templates import render_json_template, render_template
    from incidentctl.runbook.templates import template_context

    rb = ctx.runbook
    config = rb.communication.channels[target.channel]
    context = template_context(
        rb,
        incident,
        timeline,
        now=ctx.clock(),
        impact=list(content.impact) or None,
        update=content.update,
        progress=list(content.progress) or None,
        resolution=content.resolution,
        summary=list(content.summary) or None,
        customer_impact=content.customer_impact,
        next_steps=content.next_steps,
        eta=content.eta,
        root_cause=content.root_cause,
    )
    context.update(extra or {})
    template = "status_page" if config.kind in PUBLIC_KINDS else KIND_TEMPLATES[kind]  # type: ignore[index]
    text_template = _template_path(ctx, template)
    assert text_template is not None  # required: a missing one raised
    subject, text = split_subject(render_template(text_template, context))
    payload: dict[str, Any] = dict(channel_extras(rb, incident, config, kind=kind))
    if config.kind in PUBLIC_KINDS and subject:
        # the public incident's name is the public template's subject, never the internal title
        payload["name"] = subject
    message = {"kind": kind, "subject": subject, "text": text}
    for field, variant in VARIANTS.get(config.kind, {}).items():
        path = _template_path(ctx, variant, required=False)
        if path is None:
            continue
        if path.name.endswith(".json.j2"):
            payload[field] = render_json_template(path, {**context, "message": message})
        else:
            payload[field] = split_subject(render_template(path, context))[1]
    redact = ctx.secrets.redact
    return Draft(
        channel=target.channel,
        channel_kind=config.kind,
        audience=target.audience,
        subject=redact(subject),
        text=redact(text),
        payload=_redact_all(payload, redact),
        description=redact(config.description) if config.kind == "manual" else None,
    )


def channel_extras(rb: Runbook, incident: Incident, config: Any, *, kind: str = "") -> Mapping[str, Any]:
    """Plain fields a channel needs from the runbook and the incident, fixed when queued so that a later flush
    sends what the preview showed: the status page's status, impact and component statuses;
    PagerDuty's severity, component, group and class."""
    level = rb.severities.get(incident.severity)
    if config.kind == "statuspage":
        impact = level.status_page_impact if level else "none"
        resolved = kind == "resolution" or incident.status.value == "resolved"
        ids = [config.components[c] for c in incident.components if c in config.components]
        outage = "operational" if resolved else STATUSPAGE_COMPONENT_STATUS.get(impact)
        return {
            "status": "resolved" if resolved else incident.status.value,
            "impact": impact,
            "components": dict.fromkeys(ids, outage) if outage else {},
            "component_ids": ids,
        }
    if config.kind == "pagerduty":
        ranks = list(rb.severities)
        rank = ranks.index(incident.severity) if incident.severity in ranks else len(ranks)
        return {
            "severity": ("critical", "error", "warning")[rank] if rank < 3 else "info",
            "component": ", ".join(incident.components),
            "group": rb.metadata.name,
            "class": incident.category or "",
        }
    if config.kind == "slack":
        from incidentctl.adapters.notify.slack import incident_channel_name, incident_topic

        # fixed when queued, so a message sent again after a crash looks for the channel it was meant for
        name = incident_channel_name(config.incident_channel_prefix, incident.id, incident.title)
        topic = incident_topic(
            incident.severity, level.name if level else "", incident.status.value, incident.commander
        )
        return {"channel_name": name, "topic": topic}
    return {}


#: A severity's ``status_page_impact`` as the status of each affected component; ``none`` leaves them as they are.
STATUSPAGE_COMPONENT_STATUS: Mapping[str, str] = {
    "critical": "major_outage",
    "major": "partial_outage",
    "minor": "degraded_performance",
}


def split_subject(rendered: str) -> tuple[str, str]:
    """A rendered template's ``Subject:`` first line and the rest (the body)."""
    first, _, rest = rendered.lstrip("\n").partition("\n")
    if first.lower().startswith("subject:"):
        return first[len("subject:") :].strip(), rest.strip("\n") + "\n"
    return "", rendered


def _template_path(ctx: PhaseContext, name: str, *, required: bool = True) -> Path | None:
    from incidentctl.runbook.templates import resolve_template

    named = ctx.runbook.communication.templates.get(name)  # type: ignore[call-overload]
    relative = named or f"templates/{BUNDLED_FILES[name]}"
    path = resolve_template(relative, ctx.runbook_dir or Path("."))
    if path is None and (required or named):
        raise RunbookError(f"template {name}: {relative} cannot be read", where=f"communication.templates.{name}")
    return path


def _redact_all(value: Any, redact: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {k: _redact_all(v, redact) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redact_all(v, redact) for v in value]
    return value
