"""The runbook.yaml schema.

pydantic was chosen over hand-written checks because it gives, for free, typed models the phases can use, an error
per problem with its exact key path (which the loader maps back to file:line:column), and the JSON Schema that
``incidentctl runbook schema`` exports for editors. Every model forbids unknown keys so a misspelt key is an
error with a suggestion, not a silently ignored setting.

Rules are structured data (signal, comparison, threshold, duration), never free-text expressions: they can be
validated here, explained in triage output, and evaluated without ``eval``.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)

from incidentctl.runbook.types import Duration, SecretRef, Threshold, Url, check_no_userinfo

#: Severity ids look like the seed's P1..P4; a team may add more (P5) as long as rules name them.
SEVERITY_ID = r"^P[0-9]$"
#: Names of components, dependencies, channels...: what Kubernetes accepts as a DNS-1123 label.
NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"

Name = Annotated[str, Field(pattern=NAME_PATTERN, max_length=63)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# --- what the runbook is about ---------------------------------------------------------------------------------


class Metadata(Model):
    name: Name
    version: str = "1"
    owner: str | None = None
    updated: str | None = None
    description: str | None = None


class Cluster(Model):
    """Where the service runs; ``--context``/``-n`` on the command line override these."""

    namespace: Name
    context: str | None = None


class Journal(Model):
    """Where incidents are recorded: a folder (the default: no server, works offline, can live in git) or a team
    journal on PostgreSQL, shared by every responder, with a local spool for when it cannot be reached."""

    backend: Literal["folder", "postgres"] = Field(
        "folder", description="folder (incidents/ beside runbook.yaml) or postgres (a team journal)."
    )
    dir: str = Field(
        "incidents",
        description="The incident journal folder, relative to runbook.yaml; with postgres, where evidence and "
        "post-mortem drafts are kept.",
    )
    dsn: SecretRef | None = Field(
        None, description="postgres: the connection string (libpq DSN or URL), from a secret; never written here."
    )
    spool: str | None = Field(
        None,
        description="postgres: the folder where events wait while the database cannot be reached "
        "(default: $XDG_STATE_HOME/incidentctl/spool).",
    )
    connect_timeout: Duration = Field(
        timedelta(seconds=5), description="postgres: how long to wait for the database before using the spool."
    )

    @model_validator(mode="after")
    def _backend_settings(self) -> Journal:
        if self.backend == "postgres" and self.dsn is None:
            raise ValueError("the postgres backend needs dsn: {env: INCIDENTCTL_JOURNAL_DSN} (or {file: PATH})")
        if self.backend == "folder" and (self.dsn is not None or self.spool is not None):
            raise ValueError("dsn and spool are for backend: postgres; the folder journal needs neither")
        return self


def _check_regex(value: str | None) -> str | None:
    if value is not None:
        try:
            re.compile(value)
        except re.error as e:
            raise ValueError(f"not a valid regular expression: {e}") from e
    return value


class HttpCheck(Model):
    url: Url
    method: Literal["GET", "HEAD", "POST"] = "GET"
    timeout: Duration = timedelta(seconds=5)
    expect_status: list[Annotated[int, Field(ge=100, le=599)]] = Field(default_factory=lambda: [200])
    expect_body: str | None = Field(None, description="A regular expression the body must match.")
    slow_after: Duration | None = Field(None, description="A response slower than this is degraded.")
    headers: dict[str, SecretRef] = Field(default_factory=dict, description="Header values, from secrets.")

    _valid_regex = field_validator("expect_body")(_check_regex)


class Component(Model):
    name: Name
    description: str | None = None
    deployment: Name
    service: Name | None = None
    container: Name | None = None
    user_facing: bool = Field(False, description="Users reach it directly: when it is down, the service is down.")
    health: HttpCheck | None = None
    depends_on: list[Name] = Field(default_factory=list, description="Other components it calls.")
    uses: list[Name] = Field(default_factory=list, description="Dependencies and datastores it needs.")
    scale: ScaleLimits | None = None


class ScaleLimits(Model):
    """Guardrails for scaling during mitigation."""

    min: Annotated[int, Field(ge=0)] = 1
    max: Annotated[int, Field(ge=1)] = 10
    surge: Annotated[int, Field(ge=1)] | None = Field(None, description="The replica count the runbook scales to.")


class Dependency(Model):
    """An external API the service needs (probed over HTTP, never fixed from the cluster)."""

    name: Name
    description: str | None = None
    check: HttpCheck
    used_by: list[Name] = Field(default_factory=list)


class ExecCheck(Model):
    command: list[str] = Field(min_length=1)
    timeout: Duration = timedelta(seconds=10)
    expect_output: str | None = Field(None, description="A regular expression stdout must match.")

    _valid_regex = field_validator("expect_output")(_check_regex)


class DatastoreAction(Model):
    name: Name
    description: str
    command: list[str] = Field(min_length=1)
    destructive: bool = Field(True, description="Needs confirmation and is journalled with a warning.")
    preview: list[str] | None = Field(
        None,
        min_length=1,
        description="A read-only command run in the same pod while planning, so the plan says what the action "
        "will drop (redis-cli dbsize: how many keys).",
    )


class Datastore(Model):
    name: Name
    kind: Literal["postgres", "redis", "mysql", "mongodb", "other"]
    pod: Name
    container: Name | None = None
    statefulset: Name | None = None
    used_by: list[Name] = Field(default_factory=list)
    check: ExecCheck
    actions: list[DatastoreAction] = Field(default_factory=list)


class Prometheus(Model):
    url: Url
    token: SecretRef | None = None
    timeout: Duration = timedelta(seconds=10)


class AlertSignal(Model):
    """A firing alert whose labels match sets an on/off signal: ``{match: {category: security}, signal:
    security_breach}``, so the rules on that signal fire from what monitoring sees. Every label named must match:
    ``match`` exactly, ``match_re`` as a regular expression on the whole value (as Prometheus matches ``=~``)."""

    match: dict[str, str] = Field(default_factory=dict, description="label -> value it must equal.")
    match_re: dict[str, str] = Field(default_factory=dict, description="label -> regex its whole value must match.")
    signal: str = Field(description="An on/off signal (unit bool), e.g. security_breach.")

    @model_validator(mode="after")
    def _some_label(self) -> AlertSignal:
        if not self.match and not self.match_re:
            raise ValueError("name at least one label under match or match_re (it would match every alert)")
        for label, pattern in self.match_re.items():
            try:
                re.compile(pattern)
            except re.error as e:
                raise ValueError(f"match_re.{label}: not a valid regular expression: {e}") from e
        return self


class Alertmanager(Model):
    url: Url
    token: SecretRef | None = None
    matchers: list[str] = Field(default_factory=list, description='Alert filters, e.g. namespace="prod".')
    timeout: Duration = timedelta(seconds=10)
    signals: list[AlertSignal] = Field(
        default_factory=list, description="Firing alerts that set a signal (category=security -> security_breach)."
    )


class Observability(Model):
    prometheus: Prometheus | None = None
    alertmanager: Alertmanager | None = None
    grafana: Url | None = None


class _KeepsThresholdAsWritten(Model):
    """Keeps what the threshold field said before it became a number, so the reference checks can tell ``30%``
    from ``30s`` and refuse the one that does not fit the signal's unit."""

    _threshold_field: ClassVar[str] = "threshold"
    _threshold_written: str | float | None = PrivateAttr(None)

    @model_validator(mode="wrap")
    @classmethod
    def _keep_written(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        model = handler(data)
        if isinstance(data, dict) and isinstance(model, _KeepsThresholdAsWritten):
            written = data.get(cls._threshold_field)
            if isinstance(written, (str, int, float)) and not isinstance(written, bool):
                model._threshold_written = written
        return model

    @property
    def threshold_written(self) -> str | float | None:
        """The threshold as the runbook spells it (``30%``), or None when it was not given."""
        return self._threshold_written


class Slo(_KeepsThresholdAsWritten):
    _threshold_field: ClassVar[str] = "availability"

    availability: Threshold = Field(description="Target share of good requests, e.g. 99.9%.")
    window: Duration = timedelta(days=30)
    latency: Duration | None = Field(None, description="Requests slower than this count against the SLO.")
    counts: list[str] = Field(
        default_factory=lambda: ["P1", "P2"],
        description="Severities whose impact windows count as down time against the availability target.",
    )


# --- signals and rules -----------------------------------------------------------------------------------------

SignalUnit = Literal["ratio", "seconds", "count", "bool"]

#: Signals incidentctl computes itself from what detect sees; a runbook may use them without a query.
BUILTIN_SIGNALS: dict[str, tuple[SignalUnit, str]] = {
    "service_down": ("bool", "a user-facing component answers no request (health check fails, no ready pod)"),
    "partial_outage": ("bool", "some, but not all, components are down"),
    "components_down": ("count", "components with no ready pod or a failing health check"),
    "components_degraded": ("count", "components with a finding that is not an outage"),
    "pods_not_ready": ("ratio", "share of the components' pods that are not ready"),
    "dependency_down": ("count", "external dependencies that fail their check"),
    "datastore_down": ("count", "datastores that fail their check"),
    "security_breach": ("bool", "a security breach: set by hand, or by an alert (observability.alertmanager.signals)"),
}


class Signal(Model):
    description: str
    unit: SignalUnit
    source: Literal["prometheus", "builtin"] = "prometheus"
    query: str | None = Field(
        None, description="PromQL; $component and $namespace are replaced. Required when source is prometheus."
    )


Comparison = Literal[">", ">=", "<", "<=", "==", "!="]


class Condition(_KeepsThresholdAsWritten):
    signal: str
    op: Comparison = ">"
    threshold: Threshold | None = Field(None, description="Omit for bool signals (true means the signal is on).")
    for_: Duration | None = Field(None, alias="for", description="How long it must hold.")


class SeverityRule(Model):
    """When every condition holds, triage assigns ``severity`` (the most severe matching rule wins)."""

    id: Name
    severity: str
    description: str
    when: list[Condition] = Field(min_length=1)


class Triage(Model):
    rules: list[SeverityRule] = Field(min_length=1)
    default: str = Field(description="Severity when something is wrong but no rule matched.")


# --- classification --------------------------------------------------------------------------------------------


class SeverityEscalation(Model):
    level: str | None = Field(None, description="Escalation level id; empty means the standard process.")
    within: Duration | None = None
    description: str


class SeverityLevel(Model):
    name: str
    definition: str
    response_time: Duration
    update_interval: Duration = timedelta(minutes=15)
    escalation: SeverityEscalation
    examples: list[str] = Field(default_factory=list)
    status_page_impact: Literal["none", "minor", "major", "critical"] = "none"
    notify: list[str] = Field(default_factory=list, description="Channels told when an incident opens.")


class Category(Model):
    description: str
    kinds: dict[Name, str] = Field(min_length=1)


# --- escalation ------------------------------------------------------------------------------------------------


class Contact(Model):
    name: str | None = None
    slack: str | None = None
    email: str | None = None
    pagerduty_routing_key: SecretRef | None = None


class EscalationLevel(Model):
    id: str = Field(pattern=r"^L[0-9]$")
    role: str
    response_time: Duration
    responsibilities: list[str] = Field(min_length=1)
    contacts: list[Contact] = Field(default_factory=list)
    notify: list[Name] = Field(
        default_factory=list, description="Channels told (and paged, for PagerDuty) when an incident reaches here."
    )


class AutomaticEscalation(Model):
    id: Name
    when: list[Condition] = Field(min_length=1)
    escalate_to: str


class ManualEscalation(Model):
    id: Name
    description: str
    escalate_to: str


class EscalationRules(Model):
    automatic: list[AutomaticEscalation] = Field(default_factory=list)
    manual: list[ManualEscalation] = Field(default_factory=list)


class Escalation(Model):
    levels: list[EscalationLevel] = Field(min_length=1)
    rules: EscalationRules = Field(default_factory=EscalationRules)
    criteria: dict[str, str] = Field(default_factory=dict, description="When people escalate by judgement.")


# --- communication ---------------------------------------------------------------------------------------------

Audience = Literal["internal", "external"]


class SlackChannel(Model):
    kind: Literal["slack"]
    audience: Audience = "internal"
    description: str | None = None
    webhook_url: SecretRef | None = None
    bot_token: SecretRef | None = None
    channel: str | None = Field(None, description="Channel for announcements, e.g. #incidents.")
    incident_channel_prefix: str = "inc-"
    api_url: Url = Field("https://slack.com/api", description="The Web API's base URL (the bot token's calls).")
    invite: list[str] = Field(
        default_factory=list, description="Slack user ids invited to every incident channel (U0123...)."
    )

    @model_validator(mode="after")
    def _reachable(self) -> SlackChannel:
        # with the bot token's variable unset, the webhook is used: a channel needs at least one way in
        if self.webhook_url is None and self.bot_token is None:
            raise ValueError("a Slack channel needs webhook_url or bot_token")
        return self


class SmtpServer(Model):
    host: str
    port: Annotated[int, Field(ge=1, le=65535)] = 587
    starttls: bool = True
    username: SecretRef | None = None
    password: SecretRef | None = None

    @model_validator(mode="after")
    def _no_password_in_clear(self) -> SmtpServer:
        # without STARTTLS, AUTH sends the password readable to anyone on the path; only loopback is exempt
        if self.password is not None and not self.starttls and self.host not in ("localhost", "127.0.0.1", "::1"):
            raise ValueError(
                "a password with starttls: false would go over the network unencrypted; set starttls: true"
            )
        return self


class EmailChannel(Model):
    kind: Literal["email"]
    audience: Audience = "internal"
    description: str | None = None
    smtp: SmtpServer
    sender: str = Field(alias="from")
    to: list[str] = Field(min_length=1)


class PagerDutyChannel(Model):
    kind: Literal["pagerduty"]
    audience: Audience = "internal"
    description: str | None = None
    routing_key: SecretRef
    url: Url = "https://events.pagerduty.com/v2/enqueue"


class StatuspageChannel(Model):
    kind: Literal["statuspage"]
    audience: Audience = "external"
    description: str | None = None
    page_id: str
    api_key: SecretRef
    url: Url = "https://api.statuspage.io"
    components: dict[str, str] = Field(
        default_factory=dict, description="Runbook component name -> Statuspage component id."
    )


class ManualChannel(Model):
    """A channel people use by hand (phone bridge, social media, press): listed so the tool can remind them."""

    kind: Literal["manual"]
    audience: Audience = "internal"
    description: str
    url: Annotated[str | None, BeforeValidator(check_no_userinfo)] = Field(
        None, description="Where people go (any link, e.g. a meeting room); never with a password in it."
    )


class WebhookChannel(Model):
    """A generic JSON webhook (a chat tool, an internal bus): the message POSTed as one JSON object."""

    kind: Literal["webhook"]
    audience: Audience = "internal"
    description: str | None = None
    url: SecretRef = Field(description="The webhook's URL; a secret, since such URLs usually carry a token.")
    headers: dict[str, SecretRef] = Field(default_factory=dict, description="Header values, from secrets.")


class FileChannel(Model):
    """Messages written as files into a folder (a mail drop, a shared drive, the sandbox's outbox)."""

    kind: Literal["file"]
    audience: Audience = "internal"
    description: str | None = None
    dir: str = Field(description="The folder, relative to runbook.yaml; one file per message, named by its key.")


Channel = Annotated[
    SlackChannel | EmailChannel | PagerDutyChannel | StatuspageChannel | WebhookChannel | FileChannel | ManualChannel,
    Field(discriminator="kind"),
]

TemplateName = Literal[
    "initial_notification",
    "status_update",
    "resolution_notification",
    "executive_summary",
    "status_page",
    "customer_support",
    "escalation_notice",
    "slack_status",
    "slack_message",
    "post_mortem",
    "report",
]

#: Who a message is for; each maps to channels (``communication.audiences``).
AudienceName = Literal["team", "stakeholders", "executives", "customers", "support"]


class Delivery(Model):
    """How hard a message is pushed before it is left queued for ``communicate flush``."""

    attempts: Annotated[int, Field(ge=1, le=10)] = 4
    timeout: Duration = timedelta(seconds=10)
    #: A 429's Retry-After longer than this is not waited for: the message stays queued.
    longest_wait: Duration = timedelta(seconds=60)
    #: How long another machine's claim on a message is trusted before it counts as a sender that stopped.
    lease: Duration = timedelta(minutes=2)


class Communication(Model):
    channels: dict[Name, Channel] = Field(min_length=1)
    templates: dict[TemplateName, str] = Field(description="Template files, relative to runbook.yaml.")
    audiences: dict[AudienceName, list[Name]] = Field(
        default_factory=dict, description="Who each audience is reached through (``communicate send --to``)."
    )
    delivery: Delivery = Field(default_factory=Delivery)


# --- after the incident ----------------------------------------------------------------------------------------


class ReviewStage(Model):
    within: Duration
    description: str
    steps: list[str] = Field(default_factory=list)


class Postmortem(Model):
    required_for: list[str] = Field(default_factory=list, description="Severities that need a post-mortem.")
    stages: dict[Name, ReviewStage] = Field(min_length=1)
    improvement_areas: dict[str, list[str]] = Field(default_factory=dict)


Milestone = Literal["started", "detected", "declared", "acknowledged", "mitigated", "resolved"]


class TimeMetric(Model):
    """A response metric measured between two journal milestones (so MTTD/MTTA/MTTR come from the timeline)."""

    id: Name
    name: str
    description: str
    start: Milestone = Field(alias="from")
    end: Milestone = Field(alias="to")


class NamedMetric(Model):
    id: Name
    name: str
    description: str


class Metrics(Model):
    response: list[TimeMetric] = Field(default_factory=list)
    quality: list[NamedMetric] = Field(default_factory=list)
    process: list[NamedMetric] = Field(default_factory=list)
    reports: dict[Literal["daily", "weekly", "monthly"], list[str]] = Field(default_factory=dict)


# --- mitigation ------------------------------------------------------------------------------------------------

#: The mitigations guardrails can name (``mitigation.guardrails.severity_actions``); kept equal to
#: ``incidentctl.core.mitigation.ACTIONS`` by a test.
MitigationAction = Literal[
    "restart", "scale", "rollback", "flush-cache", "maintenance", "circuit-breaker", "redirect", "apply"
]


class JsonPatchOp(Model):
    """One RFC 6902 operation (``kubectl patch --type=json``)."""

    op: Literal["add", "remove", "replace", "test", "move", "copy"]
    path: str = Field(pattern=r"^(/.*)?$")
    value: Any = None
    from_: str | None = Field(None, alias="from")


class ObjectChange(Model):
    """One change a runbook switch makes: a patch to one object in the namespace, as ``kubectl patch`` would send it
    (``merge``: a JSON merge patch; ``json``: JSON Patch operations). Exactly one of the two."""

    resource: Literal["configmaps", "deployments", "statefulsets", "services", "ingresses"]
    name: Name
    merge: dict[str, Any] | None = Field(None, description="A JSON merge patch (RFC 7386).")
    json_patch: list[JsonPatchOp] | None = Field(None, alias="json", description="JSON Patch operations (RFC 6902).")

    @model_validator(mode="after")
    def _one_patch(self) -> ObjectChange:
        if (self.merge is None) == (self.json_patch is None):
            raise ValueError("give exactly one of merge or json")
        if self.merge is not None and not self.merge:
            raise ValueError("merge must change something")
        if self.json_patch is not None and not self.json_patch:
            raise ValueError("json must have at least one operation")
        return self


class Switch(Model):
    """A mitigation the runbook defines as changes to objects (maintenance mode, a circuit breaker, a traffic
    redirect): ``apply`` turns it on, ``revert`` puts things back, so ``mitigate undo`` never has to guess.

    The keys are ``apply``/``revert`` rather than ``on``/``off``: YAML 1.1 reads a bare ``on`` as ``true``.
    """

    description: str
    #: Components whose checks verify it (the ones whose health endpoints, logs and signals it changes).
    components: list[Name] = Field(default_factory=list)
    apply: list[ObjectChange] = Field(min_length=1)
    revert: list[ObjectChange] = Field(min_length=1)


class Guardrails(Model):
    """What mitigate refuses whatever the responder says (exit 5, the rule named, nothing changed)."""

    contexts: list[str] = Field(
        default_factory=list, description="Kubeconfig contexts mitigations may write to; empty: any."
    )
    namespaces: list[Name] = Field(
        default_factory=list, description="Namespaces mitigations may write to; empty: the runbook's namespace only."
    )
    severity_actions: dict[Annotated[str, Field(pattern=SEVERITY_ID)], list[MitigationAction]] = Field(
        default_factory=dict,
        description="The actions an incident of each severity allows; a severity not listed allows every action.",
    )


class VerifySettings(Model):
    timeout: Duration = Field(timedelta(minutes=10), description="How long to wait for rollouts to finish.")
    interval: Duration = Field(timedelta(seconds=2), description="How often the rollout status is read.")
    settle: Duration = Field(
        timedelta(minutes=5),
        description="How long the checks may take to turn healthy after the rollouts (signals over a 5m window lag).",
    )
    checks_interval: Duration = Field(timedelta(seconds=15), description="How often the checks are re-run meanwhile.")


class Mitigation(Model):
    guardrails: Guardrails = Field(default_factory=Guardrails)
    verify: VerifySettings = Field(default_factory=VerifySettings)
    maintenance: Switch | None = None
    circuit_breakers: dict[Name, Switch] = Field(
        default_factory=dict, description="By dependency name: apply opens the breaker, revert closes it."
    )
    redirects: dict[Name, Switch] = Field(default_factory=dict)
    hotfix_dir: str | None = Field(None, description="Manifests `mitigate apply` applies, relative to runbook.yaml.")


# --- TLS for the runbook's HTTP checks ------------------------------------------------------------------------


class Tls(Model):
    """Certificates every HTTP call the runbook makes (health, dependencies, Prometheus, Alertmanager) trusts.

    One setting for the whole runbook rather than one per check: the calls share one HTTP client, and a private
    CA (a company's, or a sandbox's self-signed one) signs all of a team's endpoints at once.
    """

    ca_file: str | None = Field(
        None,
        description="A PEM file of CA certificates trusted besides the usual ones, relative to runbook.yaml.",
    )

    def ca_path(self, runbook_dir: Path) -> Path | None:
        if self.ca_file is None:
            return None
        path = Path(self.ca_file).expanduser()
        return path if path.is_absolute() else runbook_dir / path


# --- the whole runbook -----------------------------------------------------------------------------------------


class Runbook(Model):
    api_version: Literal["incidentctl/v1"] = Field(alias="apiVersion")
    kind: Literal["Runbook"]
    metadata: Metadata
    cluster: Cluster
    journal: Journal = Field(default_factory=Journal)
    components: list[Component] = Field(min_length=1)
    dependencies: list[Dependency] = Field(default_factory=list)
    datastores: list[Datastore] = Field(default_factory=list)
    observability: Observability = Field(default_factory=Observability)
    slo: Slo | None = None
    signals: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")], Signal] = Field(default_factory=dict)
    severities: dict[Annotated[str, Field(pattern=SEVERITY_ID)], SeverityLevel] = Field(min_length=1)
    triage: Triage
    categories: dict[Name, Category] = Field(min_length=1)
    escalation: Escalation
    communication: Communication
    postmortem: Postmortem
    metrics: Metrics = Field(default_factory=Metrics)
    mitigation: Mitigation = Field(default_factory=Mitigation)
    tls: Tls = Field(default_factory=Tls)

    def component_names(self) -> list[str]:
        return [c.name for c in self.components]

    def component(self, name: str) -> Component:
        for c in self.components:
            if c.name == name:
                return c
        raise KeyError(name)

    def signal_unit(self, name: str) -> SignalUnit | None:
        if name in self.signals:
            return self.signals[name].unit
        builtin = BUILTIN_SIGNALS.get(name)
        return builtin[0] if builtin else None

    def severity_rank(self, severity: str) -> int:
        """0 for the most severe; the runbook lists severities from most to least severe."""
        return list(self.severities).index(severity)


Component.model_rebuild()
