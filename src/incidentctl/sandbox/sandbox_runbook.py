"""The SarvanOM runbook pointed at a sandbox: the bundled runbook with every URL the checks reach replaced by
the sandbox's loopback stand-ins, and the journal kept beside it.

Its channels are the sandbox's too, so a drill and the demo deliver end to end without an environment variable or
a real workspace: Slack's Web API and webhook, Statuspage and PagerDuty go to the stand-ins
(:mod:`incidentctl.sandbox.notify_standins`), their secrets are ``{file: ...}`` references to files written beside
the runbook (0600) with the sandbox's values, every email (and generic webhook) channel becomes a ``file``
channel (one file per message under ``outbox/<channel>/``: nothing leaves the machine), and manual channels stay
manual."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from incidentctl.sandbox import world
from incidentctl.sandbox.hotfix import HOTFIX_DIR, write_hotfixes
from incidentctl.sandbox.notify_standins import (
    SLACK_ANNOUNCE,
    SLACK_USERS,
    STATUSPAGE_PAGE,
    Credentials,
    component_id,
)

#: Beside the runbook: the folder of the channels' secret files, and the file channels' folder.
SECRETS_DIR = "secrets"
OUTBOX_DIR = "outbox"
#: secret file name -> what it holds
SECRET_FILES = {
    "slack-bot-token": "the Slack stand-in's bot token",
    "slack-webhook-url": "the Slack stand-in's incoming webhook URL",
    "statuspage-api-key": "the Statuspage stand-in's API key",
    "pagerduty-routing-key": "the PagerDuty stand-in's routing key",
}


def bundled_runbook_path() -> Path:
    try:
        from incidentctl.bundled import bundled_runbook_path as bundled

        return bundled()
    except (ImportError, FileNotFoundError):
        return Path(__file__).resolve().parents[3] / "runbook.yaml"


def bundled_runbook_data() -> dict[str, Any]:
    data = yaml.safe_load(bundled_runbook_path().read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError("the bundled runbook is not a mapping")
    return data


def runbook_for(
    base_url: str,
    journal_dir: str = "incidents",
    data: dict[str, Any] | None = None,
    *,
    check_timeout: str | None = None,
    ca_file: str | None = None,
) -> dict[str, Any]:
    """A copy of the runbook whose namespace, health checks, dependencies, Prometheus, Alertmanager and journal
    all point at the sandbox serving on ``base_url``; ``check_timeout`` replaces every health and dependency
    check's timeout (the demo's, so a hung stand-in costs seconds, not the production runbook's budget);
    ``ca_file`` is the certificate of a TLS sandbox, which every HTTP check must trust."""
    runbook = dict(data if data is not None else bundled_runbook_data())
    base = base_url.rstrip("/")
    runbook["cluster"] = dict(runbook.get("cluster") or {}) | {"namespace": world.NAMESPACE}
    runbook["cluster"].pop("context", None)
    components = []
    for original in runbook.get("components") or []:
        component = dict(original)
        health = dict(component.get("health") or {"timeout": "5s"})
        health["url"] = f"{base}/components/{component['name']}/health"
        if check_timeout is not None:
            health["timeout"] = check_timeout
        component["health"] = health
        components.append(component)
    runbook["components"] = components
    dependencies = []
    for original in runbook.get("dependencies") or []:
        dependency = dict(original)
        check = dict(dependency.get("check") or {})
        check["url"] = f"{base}/deps/{dependency['name']}/v1/models"
        if check_timeout is not None:
            check["timeout"] = check_timeout
        dependency["check"] = check
        dependencies.append(dependency)
    runbook["dependencies"] = dependencies
    observability = dict(runbook.get("observability") or {})
    observability["prometheus"] = dict(observability.get("prometheus") or {}) | {"url": f"{base}/prometheus"}
    observability["alertmanager"] = dict(observability.get("alertmanager") or {}) | {"url": f"{base}/alertmanager"}
    runbook["observability"] = observability
    runbook["journal"] = dict(runbook.get("journal") or {}) | {"dir": journal_dir}
    if isinstance(runbook.get("mitigation"), dict):
        # mitigations may write to the sandbox's namespace, under whatever context its kubeconfig names
        mitigation = dict(runbook["mitigation"])
        guardrails = dict(mitigation.get("guardrails") or {})
        guardrails["contexts"] = []
        guardrails["namespaces"] = [world.NAMESPACE]
        mitigation["guardrails"] = guardrails
        mitigation["hotfix_dir"] = HOTFIX_DIR  # written beside the runbook by write_runbook
        runbook["mitigation"] = mitigation
    if isinstance(runbook.get("communication"), dict):
        communication = dict(runbook["communication"])
        channels = communication.get("channels") or {}
        names = {c.get("name") for c in components}
        communication["channels"] = {
            name: _channel(dict(channel), name, base, names) for name, channel in channels.items()
        }
        runbook["communication"] = communication
    if ca_file is not None:
        runbook["tls"] = {"ca_file": ca_file}
    return runbook


def _secret(name: str) -> dict[str, str]:
    return {"file": f"{SECRETS_DIR}/{name}"}


def _channel(channel: dict[str, Any], name: str, base: str, components: set[Any]) -> dict[str, Any]:
    """One channel pointed at the sandbox: the stand-in of its kind, or a file channel where there is none."""
    kept = {k: channel[k] for k in ("kind", "audience", "description") if k in channel}
    kind = channel.get("kind")
    if kind == "slack":
        return kept | {
            "webhook_url": _secret("slack-webhook-url"),
            "bot_token": _secret("slack-bot-token"),
            "channel": f"#{SLACK_ANNOUNCE}",
            "incident_channel_prefix": channel.get("incident_channel_prefix", "inc-"),
            "api_url": f"{base}/slack/api",
            "invite": [user for user, who in SLACK_USERS.items() if who != "incidentctl"],
        }
    if kind == "statuspage":
        return kept | {
            "page_id": STATUSPAGE_PAGE,
            "api_key": _secret("statuspage-api-key"),
            "url": f"{base}/statuspage",
            "components": {c.name: component_id(c.name) for c in world.SERVICES if c.name in components},
        }
    if kind == "pagerduty":
        return kept | {"routing_key": _secret("pagerduty-routing-key"), "url": f"{base}/pagerduty/v2/enqueue"}
    if kind in ("email", "webhook", "file"):
        return kept | {"kind": "file", "dir": f"{OUTBOX_DIR}/{name}"}
    return channel  # manual: a checklist item, whatever the runbook


def write_secrets(runbook_dir: Path, base_url: str, credentials: Credentials) -> Path:
    """The channels' secret files (0600, in a 0700 folder), holding the values the sandbox's stand-ins accept."""
    folder = runbook_dir / SECRETS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    values = {
        "slack-bot-token": credentials.slack_bot_token,
        "slack-webhook-url": base_url.rstrip("/") + credentials.slack_webhook_path(),
        "statuspage-api-key": credentials.statuspage_api_key,
        "pagerduty-routing-key": credentials.pagerduty_routing_key,
    }
    for name, value in values.items():
        path = folder / name
        path.touch(mode=0o600, exist_ok=True)
        path.chmod(0o600)  # before the secret is in it
        path.write_text(value + "\n", encoding="utf-8")
    return folder


def write_runbook(
    path: Path,
    base_url: str,
    journal_dir: str = "incidents",
    *,
    check_timeout: str | None = None,
    ca_file: str | None = None,
    credentials: Credentials | None = None,
) -> Path:
    """Write the runbook, its hotfix folder and its channels' secret files (``credentials``: the sandbox's,
    :class:`Credentials` by default, which is also a sandbox's default)."""
    header = (
        "# The SarvanOM runbook pointed at a local sandbox (written by `incidentctl sandbox up`).\n"
        "# Health checks, dependencies, Prometheus, Alertmanager, Slack, Statuspage and PagerDuty are the sandbox's\n"
        "# stand-ins (secrets in secrets/); email goes to files under outbox/.\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    write_hotfixes(path.parent)
    write_secrets(path.parent, base_url, credentials or Credentials())
    path.write_text(
        header
        + yaml.safe_dump(
            runbook_for(base_url, journal_dir, check_timeout=check_timeout, ca_file=ca_file),
            sort_keys=False,
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    return path
