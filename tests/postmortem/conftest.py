"""The post-mortem tests' fixtures; the harness itself is :mod:`tests.postmortem.harness`."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.postmortem.harness import Drafts

#: A bot token the runbook names (``communication.channels.slack.bot_token``): it must never reach a document.
TOKEN = "xoxb-s3cr3t-T0KEN-4242"


@pytest.fixture
def drafts(tmp_path: Path) -> Drafts:
    return Drafts(tmp_path, {"INCIDENTCTL_SLACK_BOT_TOKEN": TOKEN})
