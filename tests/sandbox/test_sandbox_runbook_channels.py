"""The sandbox's runbook points every channel at the sandbox: the stand-ins with secrets in files beside it (no
environment variable needed), email to files, manual channels as they are."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import yaml

from incidentctl.adapters.secrets import Secrets
from incidentctl.runbook.loader import load_runbook
from incidentctl.runbook.model import (
    FileChannel,
    ManualChannel,
    PagerDutyChannel,
    SlackChannel,
    StatuspageChannel,
)
from incidentctl.sandbox.notify_standins import Credentials
from incidentctl.sandbox.sandbox import Sandbox
from incidentctl.sandbox.sandbox_runbook import bundled_runbook_data, write_runbook

OWN = Credentials(
    slack_bot_token="xoxb-1111111111-2222222222-drillTOKEN",
    slack_webhook_secret="drillHOOK0001",
    statuspage_api_key="drill-statuspage-key",
    pagerduty_routing_key="fedcba9876543210fedcba9876543210",
)


def _env_refs(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return (["env"] if "env" in value else []) + [r for v in value.values() for r in _env_refs(v)]
    if isinstance(value, list):
        return [r for v in value for r in _env_refs(v)]
    return []


def test_channels_point_at_the_stand_ins_with_their_secrets_in_files(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    sb = sandbox_factory("healthy", credentials=OWN)
    path = write_runbook(tmp_path / "drill" / "runbook.yaml", sb.url, credentials=OWN)
    rb = load_runbook(path)  # the schema takes it
    assert rb.communication is not None
    channels = rb.communication.channels
    bundled = bundled_runbook_data()["communication"]["channels"]
    assert set(channels) == set(bundled)
    assert _env_refs(yaml.safe_load(path.read_text(encoding="utf-8"))["communication"]) == []

    for name, original in bundled.items():
        channel = channels[name]
        assert channel.audience == original.get("audience", channel.audience)
        if original["kind"] == "email":
            assert isinstance(channel, FileChannel)
            assert channel.dir == f"outbox/{name}"
        elif original["kind"] == "manual":
            assert isinstance(channel, ManualChannel)
            assert channel.description == original["description"]

    secrets = Secrets({}, base_dir=path.parent)  # an empty environment: nothing comes from it
    folder = path.parent / "secrets"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for file in folder.iterdir():
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file

    slack = channels["slack"]
    assert isinstance(slack, SlackChannel)
    assert slack.bot_token is not None
    assert slack.webhook_url is not None
    assert str(slack.api_url).startswith(sb.url)
    token = secrets.resolve(slack.bot_token)
    assert token == OWN.slack_bot_token
    with httpx.Client(timeout=10) as web:
        auth = web.post(f"{slack.api_url}/auth.test", headers={"Authorization": f"Bearer {token}"}, json={})
        assert auth.json()["ok"] is True
        invited = web.post(
            f"{slack.api_url}/conversations.create",
            headers={"Authorization": f"Bearer {token}"},
            json={"name": "inc-2026-001-drill"},
        ).json()
        joined = web.post(
            f"{slack.api_url}/conversations.invite",
            headers={"Authorization": f"Bearer {token}"},
            json={"channel": invited["channel"]["id"], "users": ",".join(slack.invite)},
        ).json()
        assert joined["ok"] is True, joined  # the runbook invites the stand-in's people
        hook = web.post(secrets.resolve(slack.webhook_url), json={"text": "drill"})
        assert (hook.status_code, hook.text) == (200, "ok")

        page = channels["status-page"]
        assert isinstance(page, StatuspageChannel)
        key = secrets.resolve(page.api_key)
        listed = web.get(f"{page.url}/v1/pages/{page.page_id}/components", headers={"Authorization": f"OAuth {key}"})
        assert listed.status_code == 200
        ids = {c["id"] for c in listed.json()}
        assert set(page.components.values()) <= ids
        assert "gateway" in page.components

        pager = channels["pagerduty"]
        assert isinstance(pager, PagerDutyChannel)
        trigger = web.post(
            str(pager.url),
            json={
                "routing_key": secrets.resolve(pager.routing_key),
                "event_action": "trigger",
                "dedup_key": "INC-2026-001",
                "payload": {"summary": "drill", "source": "incidentctl", "severity": "critical"},
            },
        )
        assert trigger.status_code == 202
