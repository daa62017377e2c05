"""Alertmanager's v2 API: which alerts fire for a component, posting alerts, silencing them.

``detect`` asks which alerts fire for each component (:func:`check_alerts`); drills and tests post alerts to make
them fire (:meth:`AlertmanagerClient.post_alerts`); mitigation silences the noise while people work
(:meth:`AlertmanagerClient.create_silence`). The runbook's ``observability.alertmanager.matchers`` (for example
``namespace="sarvanom-production"``) scope every alert query, so another team's alerts never show up here.

A firing alert makes a component DEGRADED, never DOWN: an alert is a rule's opinion, and whether a component is
down is what detect's own checks (pods, endpoints, health URLs) establish.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

import httpx

from incidentctl.adapters import api_call
from incidentctl.adapters.failures import failure_of
from incidentctl.adapters.secrets import Secrets, SecretSource
from incidentctl.core.checks import AlertsObservation, CheckKind, CheckResult, Failure, FiringAlert, Health
from incidentctl.core.times import format_rfc3339, parse_rfc3339_or_none
from incidentctl.core.urls import redact_url, redact_urls
from incidentctl.errors import ConfigError, IncidentctlError, UnreachableError

log = logging.getLogger(__name__)

#: The order alerts are listed in a check's reasons: the most urgent first.
SEVERITY_ORDER = ("critical", "page", "error", "high", "warning", "medium", "low", "info", "none")


class AlertmanagerConfig(Protocol):
    """``incidentctl.runbook.model.Alertmanager`` fits it."""

    @property
    def url(self) -> str: ...

    @property
    def token(self) -> SecretSource | None: ...

    @property
    def matchers(self) -> Sequence[str]: ...

    @property
    def timeout(self) -> timedelta: ...


@dataclass(frozen=True)
class Matcher:
    """A label matcher as Prometheus writes it: ``service="gateway"``, ``code=~"5.."``, ``env!="dev"``."""

    name: str
    value: str
    is_regex: bool = False
    is_equal: bool = True

    @classmethod
    def parse(cls, text: str) -> Matcher:
        match = _MATCHER.match(text)
        if match is None:
            raise ConfigError(
                f"{text!r} is not a label matcher", hint='write it as name="value" (or !=, =~, !~ for the others)'
            )
        name, op, raw = match.groups()
        value = raw
        if raw.startswith('"'):
            try:
                value = json.loads(raw)
            except ValueError as e:
                raise ConfigError(f"{text!r}: the quoted value is not closed or has a bad escape") from e
            if not isinstance(value, str):
                raise ConfigError(f"{text!r}: the value must be a string")
        elif '"' in raw:
            raise ConfigError(f"{text!r}: quote the whole value")
        return cls(name=name, value=value, is_regex="~" in op, is_equal=not op.startswith("!"))

    @property
    def op(self) -> str:
        return {(True, False): "=", (False, False): "!=", (True, True): "=~", (False, True): "!~"}[
            (self.is_equal, self.is_regex)
        ]

    def __str__(self) -> str:
        return f"{self.name}{self.op}{json.dumps(self.value)}"

    def to_api(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "isRegex": self.is_regex, "isEqual": self.is_equal}


@dataclass(frozen=True)
class Alert:
    """An alert as Alertmanager lists it. ``state`` is ``active``, ``suppressed`` or ``unprocessed``."""

    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    state: str
    starts_at: datetime | None
    ends_at: datetime | None
    updated_at: datetime | None
    fingerprint: str
    receivers: tuple[str, ...] = ()
    silenced_by: tuple[str, ...] = ()
    inhibited_by: tuple[str, ...] = ()
    generator_url: str | None = None

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "(unnamed alert)")

    @property
    def severity(self) -> str | None:
        return self.labels.get("severity")

    @property
    def summary(self) -> str | None:
        for key in ("summary", "description", "message"):
            if self.annotations.get(key):
                return " ".join(self.annotations[key].split())
        return None


@dataclass(frozen=True)
class NewAlert:
    """An alert to post. Without ``ends_at`` Alertmanager resolves it after its ``resolve_timeout`` unless it is
    posted again, which is what Prometheus does while a rule keeps firing."""

    labels: Mapping[str, str]
    annotations: Mapping[str, str] = field(default_factory=dict)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    generator_url: str | None = None

    def to_api(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"labels": dict(self.labels), "annotations": dict(self.annotations)}
        if self.starts_at is not None:
            doc["startsAt"] = format_api_time(self.starts_at)
        if self.ends_at is not None:
            doc["endsAt"] = format_api_time(self.ends_at)
        if self.generator_url:
            doc["generatorURL"] = self.generator_url
        return doc


class AlertmanagerClient:
    """A thin client over a shared ``httpx.Client``; every method raises the project's errors only."""

    def __init__(self, http: httpx.Client, config: AlertmanagerConfig, *, secrets: Secrets | None = None) -> None:
        self._http = http
        self._config = config
        self._secrets = secrets if secrets is not None else Secrets()
        self.url = config.url.rstrip("/")
        #: The URL as messages and check targets show it: without the credentials a URL can carry.
        self.shown_url = redact_url(self.url)
        #: The runbook's scope, added to every alert query.
        self.scope = [Matcher.parse(m) for m in config.matchers]

    def alerts(
        self,
        matchers: Sequence[str | Matcher] = (),
        *,
        active: bool = True,
        silenced: bool = False,
        inhibited: bool = False,
    ) -> list[Alert]:
        """Alerts matching the runbook's scope and ``matchers`` (all must hold), in the states asked for."""
        wanted = [*self.scope, *(m if isinstance(m, Matcher) else Matcher.parse(m) for m in matchers)]
        params: list[tuple[str, str]] = [
            ("active", _flag(active)),
            ("silenced", _flag(silenced)),
            ("inhibited", _flag(inhibited)),
            *(("filter", str(m)) for m in wanted),
        ]
        body = self._call("GET", "/api/v2/alerts", params=params)
        if not isinstance(body, list):
            raise UnreachableError(f"Alertmanager at {self.shown_url} answered the alert list with something else")
        return [_alert(item) for item in body if isinstance(item, dict)]

    def post_alerts(self, alerts: Sequence[NewAlert]) -> None:
        self._call("POST", "/api/v2/alerts", json_body=[a.to_api() for a in alerts])

    def create_silence(
        self,
        matchers: Sequence[str | Matcher],
        duration: timedelta,
        created_by: str,
        comment: str,
        *,
        starts_at: datetime | None = None,
    ) -> str:
        """Silence alerts matching every matcher for ``duration``; returns the silence's id."""
        parsed = [m if isinstance(m, Matcher) else Matcher.parse(m) for m in matchers]
        if not parsed:
            raise ConfigError("a silence needs at least one matcher (it would silence every alert)")
        if duration <= timedelta(0):
            raise ConfigError("a silence needs a positive duration")
        start = starts_at or datetime.now(timezone.utc)
        doc = {
            "matchers": [m.to_api() for m in parsed],
            "startsAt": format_api_time(start),
            "endsAt": format_api_time(start + duration),
            "createdBy": created_by,
            "comment": comment,
        }
        body = self._call("POST", "/api/v2/silences", json_body=doc)
        if not isinstance(body, dict) or not body.get("silenceID"):
            raise UnreachableError(f"Alertmanager at {self.shown_url} did not return the new silence's id")
        return str(body["silenceID"])

    def expire_silence(self, silence_id: str) -> None:
        """End a silence now (Alertmanager keeps it, expired, for the record)."""
        self._call("DELETE", f"/api/v2/silence/{silence_id}")

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] | None = None,
        json_body: Any = None,
    ) -> Any:
        where = f"Alertmanager at {self.shown_url}"
        response, status = api_call.send(
            self._http,
            method,
            self.url,
            path,
            service="Alertmanager",
            runbook_key="observability.alertmanager",
            token=self._config.token,
            secrets=self._secrets,
            timeout=self._config.timeout,
            params=tuple(params or ()),
            json=json_body,
        )
        if response.status_code == 404:
            raise ConfigError(f"no Alertmanager v2 API at {self.shown_url}{path} ({status})")
        if response.status_code in (400, 422):
            raise ConfigError(f"{where} rejected the request: {self._error_text(response) or status}")
        if response.status_code >= 300:
            detail = self._error_text(response)
            raise UnreachableError(f"{where} answered {status}" + (f": {detail}" if detail else ""))
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as e:
            raise UnreachableError(f"{where} answered {status} with something that is not JSON") from e

    def _error_text(self, response: httpx.Response) -> str:
        """Alertmanager's errors are a JSON string, or ``{"code":..., "message":...}`` from its API validator."""
        try:
            body = response.json()
        except ValueError:
            body = response.text
        if isinstance(body, dict):
            body = body.get("message") or body.get("error") or json.dumps(body)
        return redact_urls(self._secrets.redact(" ".join(str(body).split())))[:300]


def check_alerts(alertmanager: AlertmanagerClient, component: str, *, label: str = "service") -> CheckResult:
    """The alerts firing (active, neither silenced nor inhibited) for one component, as a check."""
    check_id, kind = f"alerts:{component}", CheckKind.ALERTS
    matcher = Matcher(label, component)
    target = f"{alertmanager.shown_url} " + "{" + ", ".join(str(m) for m in [*alertmanager.scope, matcher]) + "}"
    try:
        alerts = alertmanager.alerts([matcher])
    except IncidentctlError as e:
        return CheckResult(
            check_id, kind, target, Health.UNKNOWN, f"alerts: {e}", subject=component, failure=failure_of(e)
        )
    except Exception as e:  # a check must never take detect down with it
        log.debug("alert check %s failed unexpectedly", check_id, exc_info=True)
        summary = f"alerts: check failed: {type(e).__name__}: {e}"
        return CheckResult(check_id, kind, target, Health.UNKNOWN, summary, subject=component, failure=Failure.INTERNAL)
    firing = sorted(alerts, key=_urgency)
    seen = AlertsObservation(
        count=len(firing),
        alerts=tuple(
            FiringAlert(
                name=a.name,
                severity=a.severity,
                state=a.state,
                starts_at=a.starts_at,
                summary=a.summary,
                labels=dict(a.labels),
                fingerprint=a.fingerprint,
            )
            for a in firing
        ),
    )
    if not firing:
        summary = "no firing alerts"
        return CheckResult(check_id, kind, target, Health.OK, summary, subject=component, observation=seen)
    names = ", ".join(dict.fromkeys(a.name for a in firing))
    summary = f"{len(firing)} alert{'s' if len(firing) != 1 else ''} firing: {names}"
    reasons = tuple(_reason(a) for a in firing)
    return CheckResult(
        check_id,
        kind,
        target,
        Health.DEGRADED,
        summary,
        subject=component,
        reasons=reasons,
        observation=seen,
        failure=Failure.ALERTS_FIRING,
    )


format_api_time = format_rfc3339
parse_api_time = parse_rfc3339_or_none


# --- internals -------------------------------------------------------------------------------------------------

_MATCHER = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$")


def _alert(item: Mapping[str, Any]) -> Alert:
    status = item.get("status") or {}
    return Alert(
        labels=dict(item.get("labels") or {}),
        annotations=dict(item.get("annotations") or {}),
        state=str(status.get("state") or "unprocessed"),
        starts_at=parse_api_time(item.get("startsAt")),
        ends_at=parse_api_time(item.get("endsAt")),
        updated_at=parse_api_time(item.get("updatedAt")),
        fingerprint=str(item.get("fingerprint") or ""),
        receivers=tuple(str(r.get("name")) for r in item.get("receivers") or [] if isinstance(r, dict)),
        silenced_by=tuple(str(s) for s in status.get("silencedBy") or []),
        inhibited_by=tuple(str(s) for s in status.get("inhibitedBy") or []),
        generator_url=item.get("generatorURL") or None,
    )


def _urgency(alert: Alert) -> tuple[int, datetime]:
    severity = (alert.severity or "none").lower()
    rank = SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else len(SEVERITY_ORDER)
    return rank, alert.starts_at or datetime.max.replace(tzinfo=timezone.utc)


def _reason(alert: Alert) -> str:
    line = alert.name
    if alert.severity:
        line += f" [{alert.severity}]"
    if alert.starts_at:
        line += f" since {format_api_time(alert.starts_at.replace(microsecond=0))}"
    if alert.summary:
        line += f": {alert.summary}"
    return line


def _flag(value: bool) -> str:
    return "true" if value else "false"
