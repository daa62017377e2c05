"""The project's own error classes.

Adapters translate library errors (``ApiException``, ``httpx.HTTPError``, ``yaml.MarkedYAMLError``, pydantic's
``ValidationError``) into these with ``raise ... from e``; the CLI turns them into one line on stderr, an exit code
and, with ``-o json|yaml``, an error envelope. Nothing else in the code base decides how an error looks.
"""

from __future__ import annotations

from incidentctl.exitcodes import ExitCode


class IncidentctlError(Exception):
    """An error a user can cause and fix; shown as one line (plus an optional hint), never as a traceback."""

    exit_code: ExitCode = ExitCode.INTERNAL_ERROR
    reason: str = "Error"

    def __init__(self, message: str, *, hint: str | None = None, where: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.where = where

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message

    def details(self) -> list[str]:
        """Every further line after the first (for example each other problem in a runbook): the envelope
        carries them all, so a script never has to parse the hint."""
        return []

    def shown_details(self) -> list[str]:
        """The further lines worth printing for a person on stderr; an error whose hint points to a fuller view
        (``runbook validate``) keeps the terminal to one line and prints none."""
        return self.details()


class UsageError(IncidentctlError):
    """The command line asks for something that does not exist or cannot be combined."""

    exit_code = ExitCode.USAGE
    reason = "Usage"


class NotFoundError(UsageError):
    """A named thing (an incident id, a component) does not exist."""

    reason = "NotFound"


class ConfigError(UsageError):
    """A configuration the user gave is invalid or cannot be read (a secret file, a query, a setting)."""

    reason = "InvalidConfig"


class RunbookError(ConfigError):
    """runbook.yaml cannot be found, read or validated."""

    reason = "InvalidRunbook"


class KubeconfigError(ConfigError):
    """The kubeconfig cannot be used: missing, unreadable, not YAML, or naming a context, cluster, user or file
    that is not there.

    Exit 2, as for a bad runbook: the kubeconfig is the user's own configuration and fixing it is theirs, and
    nothing was contacted. Exit 4 stays for a cluster the configuration is fine for but that cannot be reached or
    refuses the credentials, which calls for another remedy (is the cluster up, log in again).
    """

    reason = "InvalidKubeconfig"


class OutputError(UsageError):
    """The command's output could not be written (stdout on a full disk): nothing in incidentctl to fix."""

    reason = "OutputError"


class UnreachableError(IncidentctlError):
    """The cluster or an endpoint could not be reached at all."""

    exit_code = ExitCode.UNREACHABLE
    reason = "Unreachable"


class UnauthorizedError(UnreachableError):
    """Credentials were refused (HTTP 401/403)."""

    reason = "Unauthorized"


class RefusedError(IncidentctlError):
    """A guardrail refused an action, or the user did not confirm it."""

    exit_code = ExitCode.REFUSED
    reason = "Refused"


class RejectedError(RefusedError):
    """The server understood a change and refused it: invalid (HTTP 422) or in conflict with the object as it is
    now (HTTP 409). Exit 5, as for a guardrail: nothing was changed, and the message says what was refused."""

    reason = "Rejected"


class JournalError(IncidentctlError):
    """The incident journal on disk cannot be read or written (permissions, a full disk, a corrupt record).

    Exit 2, not 1: a read-only folder, a full disk or a hand-edited file is the user's environment to fix, not a
    bug in incidentctl, and the message says which file and what the system refused.
    """

    exit_code = ExitCode.USAGE
    reason = "JournalError"
