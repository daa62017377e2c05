"""The post-mortem tests' fixtures: :mod:`tests.postmortem.harness` drafts documents,
:mod:`tests.postmortem.flow_harness` walks incidents through their review stages, meeting and action items."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.postmortem.flow_harness import Postmortems
from tests.postmortem.harness import Drafts

#: A bot token the runbook names (``communication.channels.slack.bot_token``): it must never reach a document.
TOKEN = "xoxb-s3cr3t-T0KEN-4242"


@pytest.fixture
def drafts(tmp_path: Path) -> Drafts:
    return Drafts(tmp_path, {"INCIDENTCTL_SLACK_BOT_TOKEN": TOKEN})


@pytest.fixture
def pm(tmp_path: Path) -> Postmortems:
    return Postmortems(tmp_path)
