"""Every kind of ``-o json|yaml`` document, its data model, and the JSON Schema published for it.

A command's result is one of :data:`KINDS`; :func:`incidentctl.render.envelope.envelope` refuses any other, so a
new command cannot print a hand-built dict past the schema. ``incidentctl schema output KIND`` prints
:func:`output_schema`, the envelope with the kind's data inside, for CI jobs that validate what they read.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, TypeAdapter, create_model

from incidentctl.render.communicate_output import DeliveryOutput, DueOutput, OutboxOutput, PreviewOutput
from incidentctl.render.detect_output import DetectReportOutput, TriageOutput
from incidentctl.render.envelope import API_VERSION
from incidentctl.render.escalate_output import CheckOutput, EscalationOutput, MatrixOutput
from incidentctl.render.incident_output import (
    EventChangeOutput,
    IncidentListOutput,
    IncidentOutput,
    TimelineEventOutput,
    TimelineOutput,
)
from incidentctl.render.investigate_changes_output import ChangesOutput
from incidentctl.render.investigate_errors_output import ErrorTemplatesOutput
from incidentctl.render.investigate_events import InvestigateEventsOutput
from incidentctl.render.investigate_logs_output import LogLineOutput, LogProblemOutput
from incidentctl.render.investigate_output import (
    InvestigateDatastoresOutput,
    InvestigateDependenciesOutput,
    InvestigateOutput,
)
from incidentctl.render.investigate_resources import InvestigateResourcesOutput
from incidentctl.render.journal_copy_output import JournalCopyOutput
from incidentctl.render.journal_status_output import JournalMigrateOutput, JournalStatusOutput
from incidentctl.render.mitigate_output import MitigationOutput, VerifyResultOutput
from incidentctl.render.output_model import OutputModel
from incidentctl.render.postmortem_actions_output import ActionItemChangeOutput, ActionItemsOutput
from incidentctl.render.postmortem_output import PostmortemDraftOutput
from incidentctl.render.postmortem_review_output import (
    PostmortemMeetingOutput,
    PostmortemStatusOutput,
    ReviewCompletedOutput,
)
from incidentctl.render.report_output import ReportOutput

if TYPE_CHECKING:
    from incidentctl.errors import IncidentctlError

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


# --- runbook, sandbox and schema commands -------------------------------------------------------------------------


class RunbookProblemOutput(OutputModel):
    file: str
    line: int | None
    column: int | None
    path: str | None = Field(description="The key path in the runbook, e.g. components[1].health.timeout.")
    message: str
    hint: str | None


class RunbookCountsOutput(OutputModel):
    components: int
    dependencies: int
    datastores: int
    severities: int
    triage_rules: int
    escalation_levels: int
    channels: int


class RunbookValidationOutput(OutputModel):
    """``runbook validate``: valid, or every problem with its file:line:column."""

    valid: bool
    path: str
    counts: RunbookCountsOutput | None = None
    problems: list[RunbookProblemOutput]


class RunbookInitOutput(OutputModel):
    """``runbook init``: the files written."""

    directory: str
    files: list[str]


class SandboxScenarioOutput(OutputModel):
    name: str
    summary: str
    symptoms: str
    mitigation: str
    fix: list[str] = Field(
        description="The incidentctl arguments (after `incidentctl`) that fix it; empty where no single command does."
    )


class SandboxSignalOutput(OutputModel):
    """What a sandbox service suffers now."""

    ready: int
    desired: int
    request_rate: float | None = None
    error_rate: float
    p95_seconds: float
    cause: str | None
    attack: str = Field("", description="An attack on it (credential-stuffing), which no error rate shows.")


class SandboxPlayingOutput(OutputModel):
    """What a running sandbox plays."""

    scenario: str
    url: str
    time: str
    signals: dict[str, SandboxSignalOutput] = Field(description="By service name.")
    switched: list[str] = Field(
        default_factory=list,
        description="What responders switched that changes what users get (maintenance mode, a breaker, a redirect).",
    )


class SandboxSlackMessageOutput(OutputModel):
    ts: str
    via: str = Field(description="api (chat.postMessage) or webhook.")
    text: str
    thread_ts: str | None = Field(description="The message it replies to, in a thread.")
    edits: int = Field(description="How many times chat.update edited it in place.")
    key: str | None = Field(description="The idempotency key in its metadata.")


class SandboxSlackChannelOutput(OutputModel):
    id: str
    name: str
    topic: str
    members: list[str]
    messages: list[SandboxSlackMessageOutput] = Field(description="Oldest first.")


class SandboxSlackOutput(OutputModel):
    channels: list[SandboxSlackChannelOutput]


class SandboxStatuspageUpdateOutput(OutputModel):
    status: str
    body: str
    created_at: str


class SandboxStatuspageIncidentOutput(OutputModel):
    id: str
    name: str
    status: str
    impact: str
    shortlink: str
    components: dict[str, str] = Field(description="Component name -> its status.")
    updates: list[SandboxStatuspageUpdateOutput] = Field(description="Oldest first.")


class SandboxStatuspageOutput(OutputModel):
    page_id: str
    incidents: list[SandboxStatuspageIncidentOutput]


class SandboxPagerDutyEventOutput(OutputModel):
    action: str
    at: str
    summary: str | None
    severity: str | None = None


class SandboxPagerDutyIncidentOutput(OutputModel):
    dedup_key: str
    status: str = Field(description="triggered, acknowledged or resolved.")
    events: list[SandboxPagerDutyEventOutput]


class SandboxPagerDutyOutput(OutputModel):
    incidents: list[SandboxPagerDutyIncidentOutput]


class SandboxFileOutput(OutputModel):
    channel: str
    path: str = Field(description="Relative to the sandbox's folder.")
    bytes: int


class SandboxChannelsOutput(OutputModel):
    """What each channel stand-in received."""

    slack: SandboxSlackOutput
    statuspage: SandboxStatuspageOutput
    pagerduty: SandboxPagerDutyOutput
    files: list[SandboxFileOutput] = Field(description="The file channels' messages (the sandbox's email).")


class SandboxStatusOutput(SandboxPlayingOutput):
    """``sandbox status``: what a running sandbox plays, and what its channel stand-ins received."""

    channels: SandboxChannelsOutput


class SandboxFaultOutput(OutputModel):
    kind: str = Field(description="latency (a hang), status (an error answer) or forbidden.")
    target: str
    seconds: float
    status: int
    retry_after: int | None
    verb: str | None
    resource: str | None
    path: str | None
    remaining: int | None = Field(description="How many more requests it answers; null: until cleared.")


class SandboxFaultsOutput(OutputModel):
    """``sandbox fault``: the faults a running sandbox now applies."""

    url: str
    faults: list[SandboxFaultOutput]


class SandboxScenarioChangeOutput(SandboxPlayingOutput):
    """``sandbox inject``: the scenario the sandbox plays now, and the one it replaced."""

    replaced: str | None


class SandboxHistoryOutput(OutputModel):
    """``sandbox history``: the journal of generated past incidents it wrote, and what is in it."""

    journal: str = Field(description="The journal folder written.")
    incidents: int
    events: int = Field(description="Timeline lines written, declarations included.")
    open: int = Field(description="Incidents not resolved at `now`.")
    reopened: int = Field(description="Times a resolved incident was reopened.")
    corrected: int = Field(description="Incidents whose impact start was corrected after the fact.")
    escalated: int = Field(description="Incidents escalated at least once.")
    by_severity: dict[str, int]
    first_start: str = Field(description="The oldest incident's impact start (RFC 3339).")
    last_start: str = Field(description="The newest incident's impact start (RFC 3339).")
    now: str = Field(description="The end of the history (RFC 3339): events after it were not written.")
    seed: int


class OutputKindOutput(OutputModel):
    kind: str
    description: str


class OutputKindListOutput(OutputModel):
    """``schema output``: the kinds of document incidentctl prints."""

    items: list[OutputKindOutput]


class ErrorOutput(OutputModel):
    """What went wrong, in the envelope of kind ``Error`` (on stdout with ``-o json|yaml``; stderr has the line)."""

    reason: str = Field(description="Usage, NotFound, InvalidRunbook, InvalidKubeconfig, Unreachable, ...")
    message: str
    where: str | None = Field(description="file:line:column when one is known.")
    hint: str | None
    exit_code: int
    details: list[str] = Field(description="Every further problem, one line each.")


#: kind -> the type of its ``data``. ``Runbook`` is the one document in another's spelling: the runbook with the
#: keys runbook.yaml has (``incidentctl runbook schema`` is its schema), so a key reads as it does in the file.
KINDS: dict[str, Any] = {
    "DetectReport": DetectReportOutput,
    "Triage": TriageOutput,
    "Incident": IncidentOutput,
    "IncidentList": IncidentListOutput,
    "Event": EventChangeOutput,
    "Timeline": TimelineOutput,
    "TimelineEvent": TimelineEventOutput,
    "InvestigateChanges": ChangesOutput,
    "Mitigation": MitigationOutput,
    "Verification": VerifyResultOutput,
    "MessagePreview": PreviewOutput,
    "MessageDelivery": DeliveryOutput,
    "Outbox": OutboxOutput,
    "UpdatesDue": DueOutput,
    "EscalationMatrix": MatrixOutput,
    "EscalationCheck": CheckOutput,
    "Escalation": EscalationOutput,
    "PostmortemDraft": PostmortemDraftOutput,
    "RunbookValidation": RunbookValidationOutput,
    "Runbook": dict[str, Any],
    "RunbookInit": RunbookInitOutput,
    "SandboxScenarioList": list[SandboxScenarioOutput],
    "SandboxScenario": SandboxScenarioChangeOutput,
    "SandboxStatus": SandboxStatusOutput,
    "SandboxFaults": SandboxFaultsOutput,
    "SandboxHistory": SandboxHistoryOutput,
    "OutputKindList": OutputKindListOutput,
    "LogLine": LogLineOutput,
    "LogProblem": LogProblemOutput,
    "ErrorTemplates": ErrorTemplatesOutput,
    "Investigate": InvestigateOutput,
    "InvestigateDatastores": InvestigateDatastoresOutput,
    "InvestigateDependencies": InvestigateDependenciesOutput,
    "InvestigateResources": InvestigateResourcesOutput,
    "InvestigateEvents": InvestigateEventsOutput,
    "Report": ReportOutput,
    "PostmortemStatus": PostmortemStatusOutput,
    "ReviewCompleted": ReviewCompletedOutput,
    "PostmortemMeeting": PostmortemMeetingOutput,
    "ActionItems": ActionItemsOutput,
    "ActionItem": ActionItemChangeOutput,
    "JournalCopy": JournalCopyOutput,
    "JournalMigrate": JournalMigrateOutput,
    "JournalStatus": JournalStatusOutput,
}

#: The kind of the error envelope; it has no data model of its own (see :func:`envelope_model`).
ERROR_KIND = "Error"


def kind_names() -> list[str]:
    """What ``schema output`` lists: every result kind, then the error envelope."""
    return [*KINDS, ERROR_KIND]


#: What a kind is, where its model's docstring does not say it (a list, or no model of ours).
_DESCRIPTIONS = {
    ERROR_KIND: "Any command that failed: what, where, the exit code (detect adds what it saw as data).",
    "Runbook": "runbook show: the runbook as resolved, in runbook.yaml's own keys (its schema: runbook schema).",
    "SandboxScenarioList": "sandbox scenarios: the scripted incidents and what a responder sees.",
}


def description(kind: str) -> str:
    """One line: which command prints the kind, and what it holds."""
    if kind in _DESCRIPTIONS:
        return _DESCRIPTIONS[kind]
    doc = KINDS[kind].__doc__ or kind
    return " ".join(doc.split()).replace("``", "")


@cache
def adapter(kind: str) -> TypeAdapter[Any]:
    return TypeAdapter(KINDS[kind])


def data_document(kind: str, data: Any) -> Any:
    """``data`` (a result model, or the values to build it from by attribute) as the kind's wire document."""
    if kind not in KINDS:
        raise TypeError(f"no output model for kind {kind!r}: add it to incidentctl.render.output_kinds.KINDS")
    ta = adapter(kind)
    value = ta.validate_python(data, from_attributes=True)
    return ta.dump_python(value, mode="json", by_alias=True)


def error_document(err: IncidentctlError) -> dict[str, Any]:
    return ErrorOutput(
        reason=err.reason,
        message=err.message,
        where=err.where,
        hint=err.hint,
        exit_code=int(err.exit_code),
        details=list(err.details()),
    ).to_wire()


@cache
def envelope_model(kind: str) -> type[OutputModel]:
    """The envelope of one kind, as a model (only its schema is used: :func:`output_schema`)."""
    base = {"api_version": (Literal[API_VERSION], ...), "kind": (Literal[kind], ...)}
    if kind == ERROR_KIND:
        fields: dict[str, Any] = {
            **base,
            "error": (ErrorOutput, ...),
            "data": (
                DetectReportOutput | None,
                Field(None, description="What the command could still see (detect: the partial report)."),
            ),
        }
    else:
        fields = {**base, "data": (KINDS[kind], ...)}
    model: type[OutputModel] = create_model(f"{kind}Envelope", __base__=OutputModel, **fields)
    return model


def output_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a whole ``-o json`` document of ``kind``."""
    schema = envelope_model(kind).model_json_schema(by_alias=True, mode="serialization")
    if kind == ERROR_KIND:
        schema["required"] = [name for name in schema["required"] if name != "data"]
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": f"{API_VERSION} {kind}",
        "description": description(kind),
        **{k: v for k, v in schema.items() if k != "title"},
    }
