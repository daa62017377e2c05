"""Prometheus's HTTP API (``/api/v1/query`` and ``/api/v1/query_range``) and the runbook's signals.

The runbook defines signals such as ``error_rate`` as PromQL with ``$component`` and ``$namespace`` placeholders;
:func:`signal_query` fills them in and :func:`check_signal` turns the answer into a :class:`CheckResult` for
``detect``. The check only measures: deciding whether 12 % errors is a P2 is triage's job, so a value that was
obtained is always OK, and only a failure to obtain one is UNKNOWN.

Errors are split the way a person fixes them: a query Prometheus rejects is the runbook's fault
(:class:`PrometheusQueryError`, a :class:`ConfigError`); a server that cannot be reached or is overloaded is
:class:`UnreachableError`; refused credentials are :class:`UnauthorizedError`.
"""

from __future__ import annotations

import logging
import math
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import httpx

from incidentctl.adapters import api_call
from incidentctl.adapters.failures import failure_of
from incidentctl.adapters.secrets import Secrets, SecretSource
from incidentctl.core.checks import CheckKind, CheckResult, Failure, Health, SeriesSample, SignalObservation
from incidentctl.core.rules import format_value as format_value  # noqa: PLC0414 - re-exported: the one value style
from incidentctl.core.urls import redact_url, redact_urls
from incidentctl.errors import ConfigError, IncidentctlError, UnreachableError

log = logging.getLogger(__name__)


class PrometheusConfig(Protocol):
    """``incidentctl.runbook.model.Prometheus`` fits it."""

    @property
    def url(self) -> str: ...

    @property
    def token(self) -> SecretSource | None: ...

    @property
    def timeout(self) -> timedelta: ...


class SignalConfig(Protocol):
    """``incidentctl.runbook.model.Signal`` fits it."""

    @property
    def unit(self) -> str: ...

    @property
    def query(self) -> str | None: ...


@dataclass(frozen=True)
class Sample:
    """One value of an instant query. ``value`` is NaN or infinite when Prometheus says so; ``raw`` is its text."""

    labels: Mapping[str, str]
    value: float
    timestamp: float
    raw: str


@dataclass(frozen=True)
class Series:
    """One series of a range query: (timestamp, value) points in time order."""

    labels: Mapping[str, str]
    points: tuple[tuple[float, float], ...]


class PrometheusQueryError(ConfigError):
    """Prometheus rejected a query (bad PromQL, or a query that cannot be evaluated): fix the runbook."""

    def __init__(self, message: str, *, query: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.query = query


class PrometheusClient:
    """A thin client over a shared ``httpx.Client``; every method raises the project's errors only."""

    def __init__(self, http: httpx.Client, config: PrometheusConfig, *, secrets: Secrets | None = None) -> None:
        self._http = http
        self._config = config
        self._secrets = secrets if secrets is not None else Secrets()
        self.url = config.url.rstrip("/")
        #: The URL as messages show it: without the credentials a URL can carry.
        self.shown_url = redact_url(self.url)

    def query(self, promql: str, at: datetime | float | None = None) -> list[Sample]:
        """An instant query: a vector gives a sample per series, a scalar one sample without labels."""
        form = {"query": promql}
        if at is not None:
            form["time"] = _timestamp(at)
        data = self._call("/api/v1/query", form, promql)
        kind, result = data.get("resultType"), data.get("result")
        if kind == "vector" and isinstance(result, list):
            return [_sample(item.get("metric", {}), item.get("value", [])) for item in result]
        if kind == "scalar" and isinstance(result, list):
            return [_sample({}, result)]
        if kind == "matrix":
            raise PrometheusQueryError(
                f"the query {promql!r} returns a range vector; an instant query needs an instant vector or a scalar",
                query=promql,
                hint="wrap the range selector in a function such as rate(...) or use query_range",
            )
        raise UnreachableError(f"Prometheus at {self.shown_url} answered an unexpected result type {kind!r}")

    def query_range(
        self,
        promql: str,
        start: datetime | float,
        end: datetime | float,
        step: timedelta | float,
    ) -> list[Series]:
        step_s = step.total_seconds() if isinstance(step, timedelta) else float(step)
        form = {"query": promql, "start": _timestamp(start), "end": _timestamp(end), "step": f"{step_s:g}"}
        data = self._call("/api/v1/query_range", form, promql)
        result = data.get("result")
        if data.get("resultType") != "matrix" or not isinstance(result, list):
            raise UnreachableError(f"Prometheus at {self.shown_url} answered a range query without a matrix")
        return [
            Series(
                labels=dict(item.get("metric", {})),
                points=tuple((float(t), _value(v)) for t, v in item.get("values", [])),
            )
            for item in result
        ]

    def _call(self, path: str, form: dict[str, str], promql: str) -> dict[str, Any]:
        timeout = self._config.timeout.total_seconds()
        # Prometheus stops evaluating at its own timeout; make that ours so a heavy query ends on its side too.
        form = {**form, "timeout": f"{timeout:g}s"}
        where = f"Prometheus at {self.shown_url}"
        response, status = api_call.send(
            self._http,
            "POST",
            self.url,
            path,
            service="Prometheus",
            runbook_key="observability.prometheus",
            token=self._config.token,
            secrets=self._secrets,
            timeout=self._config.timeout,
            data=form,
        )
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or "status" not in body:
            if response.status_code == 404:
                raise ConfigError(
                    f"no Prometheus API at {self.shown_url} ({status})", hint="check observability.prometheus.url"
                )
            raise UnreachableError(f"{where} answered {status} without a Prometheus API response")
        for warning in body.get("warnings") or []:
            log.warning("Prometheus warns about %r: %s", promql, warning)
        if body.get("status") == "success" and isinstance(body.get("data"), dict):
            data: dict[str, Any] = body["data"]
            return data
        error_type = str(body.get("errorType") or "error")
        error = redact_urls(self._secrets.redact(" ".join(str(body.get("error") or "").split()))) or status
        if response.status_code in (400, 422) or error_type in ("bad_data", "execution"):
            raise PrometheusQueryError(f"Prometheus rejected the query {promql!r}: {error_type}: {error}", query=promql)
        raise UnreachableError(f"{where} could not answer the query {promql!r} ({status}): {error_type}: {error}")


def signal_query(signal: SignalConfig, component: str, namespace: str) -> str:
    """The signal's PromQL with ``$component`` and ``$namespace`` filled in (``$$`` is a literal ``$``)."""
    if not signal.query:
        raise ConfigError("this signal has no query (only signals with source: prometheus are queried)")
    try:
        return string.Template(signal.query).substitute(
            component=_label_value(component), namespace=_label_value(namespace)
        )
    except KeyError as e:
        raise ConfigError(
            f"the signal query uses ${e.args[0]}; only $component and $namespace are replaced",
            hint="write $$ for a literal dollar sign",
        ) from e
    except ValueError as e:
        raise ConfigError(f"the signal query has a stray '$': {e}", hint="write $$ for a literal dollar sign") from e


def check_signal(
    prometheus: PrometheusClient,
    name: str,
    signal: SignalConfig,
    *,
    component: str,
    namespace: str,
) -> CheckResult:
    """One runbook signal for one component, as a check: the value in its :class:`SignalObservation`, never an
    exception.

    ``value`` is a float (the largest, if the query returns several series), ``None`` when there is no data (no
    series, or NaN: no requests in the window), and may be ``inf`` (all requests in the histogram's last bucket);
    ``raw`` keeps Prometheus's text. Whether the value is a problem is for the runbook's rules to say (detect
    judges it), so the check itself is OK whenever it has an answer.
    """
    check_id = f"signal:{name}:{component}"
    kind = CheckKind.SIGNAL
    try:
        promql = signal_query(signal, component, namespace)
    except IncidentctlError as e:
        return CheckResult(
            check_id,
            kind,
            signal.query or name,
            Health.UNKNOWN,
            f"{name}: {e}",
            subject=component,
            failure=failure_of(e),
            name=name,
        )
    seen = SignalObservation(signal=name, unit=signal.unit, component=component, query=promql)
    try:
        samples = prometheus.query(promql)
    except IncidentctlError as e:
        return CheckResult(
            check_id,
            kind,
            promql,
            Health.UNKNOWN,
            f"{name}: {e}",
            subject=component,
            observation=seen,
            failure=failure_of(e),
            name=name,
        )
    except Exception as e:  # a check must never take detect down with it
        log.debug("signal %s failed unexpectedly", check_id, exc_info=True)
        summary = f"{name}: check failed: {type(e).__name__}: {e}"
        return CheckResult(
            check_id,
            kind,
            promql,
            Health.UNKNOWN,
            summary,
            subject=component,
            observation=seen,
            failure=Failure.INTERNAL,
            name=name,
        )
    numbers = [s for s in samples if not math.isnan(s.value)]
    if not numbers:
        why = "no requests in the window" if samples else "no matching series"
        summary = f"{name}: no data ({why})"
        seen = seen.model_copy(update={"raw": samples[0].raw if samples else None, "series": len(samples)})
        return CheckResult(check_id, kind, promql, Health.OK, summary, subject=component, observation=seen, name=name)
    top = max(numbers, key=lambda s: s.value)
    update: dict[str, Any] = {"value": top.value, "raw": top.raw, "series": len(samples)}
    reasons: tuple[str, ...] = ()
    if len(samples) > 1:
        update["samples"] = tuple(SeriesSample(labels=dict(s.labels), raw=s.raw) for s in samples)
        reasons = (f"{len(samples)} series; the largest is shown ({_labels(top.labels)})",)
    summary = f"{name} {format_value(top.value, signal.unit)}"
    return CheckResult(
        check_id,
        kind,
        promql,
        Health.OK,
        summary,
        subject=component,
        reasons=reasons,
        observation=seen.model_copy(update=update),
        name=name,
    )


# --- internals -------------------------------------------------------------------------------------------------


def _sample(metric: Mapping[str, str], pair: list[Any]) -> Sample:
    if len(pair) != 2:
        raise UnreachableError(f"Prometheus answered a malformed sample: {pair!r}")
    return Sample(labels=dict(metric), value=_value(pair[1]), timestamp=float(pair[0]), raw=str(pair[1]))


def _value(text: Any) -> float:
    # Prometheus sends values as strings so that NaN and +Inf survive JSON; float() reads both spellings.
    try:
        return float(text)
    except (TypeError, ValueError) as e:
        raise UnreachableError(f"Prometheus answered a value that is not a number: {text!r}") from e


def _timestamp(value: datetime | float) -> str:
    if isinstance(value, datetime):
        return f"{value.timestamp():.3f}"
    return f"{float(value):.3f}"


def _label_value(value: str) -> str:
    """Escape for use inside a PromQL double-quoted label value."""
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _labels(labels: Mapping[str, str]) -> str:
    return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"
