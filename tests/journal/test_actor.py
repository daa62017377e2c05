"""Every event names who wrote it: the explicit actor, else git's user.name, else the login name."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from incidentctl.journal.actor import resolve_actor


def test_the_explicit_actor_wins() -> None:
    assert resolve_actor({"INCIDENTCTL_ACTOR": " ci-deploy-bot ", "USER": "root"}) == "ci-deploy-bot"


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_git_user_name_comes_before_the_login_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "gitconfig"
    config.write_text("[user]\n\tname = Alice Example\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # outside any repository, so only the global config answers
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "GIT_CONFIG_GLOBAL": str(config),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CEILING_DIRECTORIES": str(tmp_path.parent),
        "USER": "oncall",
    }
    assert resolve_actor(env) == "Alice Example"


def test_the_login_name_when_git_has_no_answer(tmp_path: Path) -> None:
    # no PATH: git cannot even be found, which must not be an error
    assert resolve_actor({"LOGNAME": "bob", "HOME": str(tmp_path)}) == "bob"
