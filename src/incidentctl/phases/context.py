"""What every phase is handed: one frozen context, built once per command by the CLI.

The phase contract is ``run_<phase>(ctx, request) -> <Phase>Result``. ``ctx`` is a :class:`PhaseContext`: the
runbook, the clock, the journal, the adapters and the secrets, with every setting already resolved (flag > env >
runbook > default, in :func:`resolve_settings` and nowhere else). ``request`` is what the user asked for, and the
result carries its own exit code. A phase writes its own journal events; where what it writes depends on what is
already recorded, it decides inside ``append_if``/``append_if_timeline``, on the journal as it is at that moment.

Adapters are factories, called when first needed: a phase that never talks to Prometheus never imports its
client, and a test hands a phase other adapters without patching anything.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from incidentctl.runbook.locate import JOURNAL_ENV

if TYPE_CHECKING:
    import httpx

    from incidentctl.adapters.alertmanager import AlertmanagerClient
    from incidentctl.adapters.kube import KubeClient
    from incidentctl.adapters.notify.base import Delivery
    from incidentctl.adapters.notify.channels import ChannelDeps
    from incidentctl.adapters.prometheus import PrometheusClient
    from incidentctl.adapters.secrets import Secrets
    from incidentctl.journal.base import JournalStore
    from incidentctl.runbook.model import Alertmanager, Prometheus, Runbook

T = TypeVar("T")

#: Where a setting's value came from, most binding first.
Source = Literal["flag", "env", "runbook", "default"]


@dataclass(frozen=True)
class Resolved(Generic[T]):
    """A setting's value and where it came from (messages name the source: "the runbook's cluster.context")."""

    value: T
    source: Source


@dataclass(frozen=True)
class Flags:
    """The global options as given on the command line; None where the option was not given."""

    namespace: str | None = None
    context: str | None = None
    kubeconfig: str | None = None


@dataclass(frozen=True)
class Settings:
    """Where the phases point, each setting resolved once."""

    namespace: Resolved[str]
    #: None: the kubeconfig's current-context.
    context: Resolved[str | None]
    journal_dir: Resolved[Path]
    #: ``--kubeconfig``, else None: ``$KUBECONFIG`` (several files, merged) and then ``~/.kube/config`` are read
    #: by kubectl's rules in ``adapters.kubeconfig``, which a single path here could not express.
    kubeconfig: str | None = None


def resolve_settings(flags: Flags, env: Mapping[str, str], runbook: Runbook, runbook_path: Path) -> Settings:
    """Every setting a phase reads, by one rule: flag > environment > runbook > default.

    ======================  ===============  =======================  ======================  ==========================
    setting                 flag             environment              runbook                 default
    ======================  ===============  =======================  ======================  ==========================
    namespace               ``-n``           (none, as for kubectl)   ``cluster.namespace``   (required by the runbook)
    context                 ``--context``    (none, as for kubectl)   ``cluster.context``     kubeconfig current-context
    journal folder          (none)           ``$INCIDENTCTL_JOURNAL`` ``journal.dir``         ``incidents`` beside it
    ======================  ===============  =======================  ======================  ==========================

    The runbook's own location (``--runbook`` > ``$INCIDENTCTL_RUNBOOK`` > ``./runbook.yaml``) is found before
    it is read, by ``runbook.locate``; a relative ``journal.dir`` is relative to runbook.yaml, so a team can keep
    its incidents in git beside the runbook.
    """
    namespace: Resolved[str] = (
        Resolved(flags.namespace, "flag") if flags.namespace else Resolved(runbook.cluster.namespace, "runbook")
    )
    context: Resolved[str | None]
    if flags.context:
        context = Resolved(flags.context, "flag")
    elif runbook.cluster.context:
        context = Resolved(runbook.cluster.context, "runbook")
    else:
        context = Resolved(None, "default")
    journal: Resolved[Path]
    if env.get(JOURNAL_ENV):
        journal = Resolved(Path(env[JOURNAL_ENV]).expanduser(), "env")
    else:
        configured = Path(runbook.journal.dir).expanduser()
        source: Source = "runbook" if "dir" in runbook.journal.model_fields_set else "default"
        journal = Resolved(configured if configured.is_absolute() else runbook_path.parent / configured, source)
    return Settings(namespace=namespace, context=context, journal_dir=journal, kubeconfig=flags.kubeconfig)


@dataclass(frozen=True)
class Adapters:
    """The outside world, one factory each. ``kube`` and ``http`` make a new client per call (a phase closes
    what it opened); ``prometheus`` and ``alertmanager`` wrap an HTTP client the phase already holds."""

    kube: Callable[[], KubeClient]
    http: Callable[[], httpx.Client]
    prometheus: Callable[[httpx.Client, Prometheus], PrometheusClient]
    alertmanager: Callable[[httpx.Client, Alertmanager], AlertmanagerClient]
    #: A runbook channel (its section) opened for delivery; a test wraps it to stop a sender mid-way.
    channel: Callable[[Any, ChannelDeps], Delivery] = field(default_factory=lambda: _open_channel)


def _open_channel(config: Any, deps: ChannelDeps) -> Delivery:
    from incidentctl.adapters.notify.channels import open_channel

    return open_channel(config, deps)


@dataclass(frozen=True)
class PhaseContext:
    """Everything a phase may use besides its request; frozen, so a phase cannot change what the next one sees."""

    runbook: Runbook
    settings: Settings
    clock: Callable[[], datetime]
    #: The journal, opened on first use (a detect run that cannot reach the cluster never touches it).
    journal: Callable[[], JournalStore]
    adapters: Adapters
    secrets: Secrets
    #: How a phase waits (mitigate's verification between looks at a rollout); a test's sandbox moves its own
    #: clock here instead of sleeping.
    sleep: Callable[[float], None] = time.sleep
    #: The folder runbook.yaml is in: files the runbook names (hotfix manifests) are relative to it.
    runbook_dir: Path | None = None
    #: The kubeconfig context the client uses, resolved (``--context``, the runbook's, else the kubeconfig's
    #: current-context); None when it is not known (in-cluster configuration), which a guardrail never assumes.
    kube_context: str | None = None


def learn_runbook_secrets(ctx: PhaseContext) -> None:
    """Resolve every secret the runbook names, so output and evidence are masked of them even when this command
    used none (a log line may echo a token another command sends). A secret that cannot be resolved here has no
    value this run could leak."""
    from incidentctl.errors import IncidentctlError
    from incidentctl.runbook.types import SecretRef

    for ref in _walk(ctx.runbook, SecretRef):
        with contextlib.suppress(IncidentctlError):
            ctx.secrets.resolve(ref)


def _walk(value: Any, kind: type[Any]) -> Iterable[Any]:
    from pydantic import BaseModel

    if isinstance(value, kind):
        yield value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _walk(getattr(value, name), kind)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _walk(v, kind)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _walk(v, kind)
