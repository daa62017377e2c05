"""Who is writing to the journal: every event names its actor, so the timeline says who did what."""

from __future__ import annotations

import getpass
import subprocess
from collections.abc import Mapping

#: ``git config`` answers in milliseconds; anything slower (a hung network home) is not worth waiting for.
GIT_TIMEOUT_SECONDS = 2.0


def resolve_actor(env: Mapping[str, str]) -> str:
    """``INCIDENTCTL_ACTOR`` (for CI jobs and bots), else git's ``user.name``, else the login name.

    git's name comes first among the guesses because a shared on-call box logs everyone in as the same
    user, while people usually configure git with their own name.
    """
    explicit = env.get("INCIDENTCTL_ACTOR", "").strip()
    if explicit:
        return explicit
    return _git_user_name(env) or _login_name(env) or "unknown"


def _git_user_name(env: Mapping[str, str]) -> str | None:
    """git sees the same environment as the rest of the command (HOME, GIT_CONFIG_GLOBAL), injected or not."""
    try:
        done = subprocess.run(
            ["git", "config", "user.name"],
            env=dict(env),
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    name = done.stdout.strip()
    return name if done.returncode == 0 and name else None


def _login_name(env: Mapping[str, str]) -> str | None:
    for key in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        value = env.get(key, "").strip()
        if value:
            return value
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no passwd entry (some containers run as an arbitrary uid)
        return None
