"""Every exit code incidentctl can return, in one place, so scripts and CI can rely on them.

The numbers are part of the public interface (documented in the README): changing one is a breaking change.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    #: The command did what was asked; for checks: everything is healthy.
    OK = 0
    #: A bug in incidentctl (an unexpected exception). Run again with --debug for the traceback.
    INTERNAL_ERROR = 1
    #: The command line, the configuration or the environment is wrong: bad option, unknown incident id, invalid or
    #: unreadable runbook.yaml or kubeconfig, a duration beyond the maximum, a journal folder that cannot be read
    #: or written (read-only, a full disk, a damaged file). Something for the user to fix, never a bug.
    USAGE = 2
    #: Checks ran and found problems (a CI job can fail on an unhealthy service).
    PROBLEMS_FOUND = 3
    #: The cluster or an endpoint could not be reached, or refused our credentials (401/403).
    UNREACHABLE = 4
    #: A guardrail refused the action, the user did not confirm it, or the Kubernetes API refused the change (409
    #: conflict, 422 invalid). Nothing was changed.
    REFUSED = 5
    #: Interrupted by Ctrl-C (128 + SIGINT), as shells report it.
    INTERRUPTED = 130
    #: The reader of stdout (or stderr) went away, as in ``incidentctl detect | head -1``: 128 + SIGPIPE, what a
    #: shell reports for any Unix tool in that spot. Nothing more is printed; the rest of the output is dropped.
    #: Every command ends this way, whatever its result would have been.
    BROKEN_PIPE = 141
