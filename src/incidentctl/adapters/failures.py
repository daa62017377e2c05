"""The project's errors as a check's typed :class:`~incidentctl.core.checks.Failure`, by their type.

A check that could not run (the Kubernetes API said 403, Prometheus cannot be reached, a secret is missing) ends
as an UNKNOWN result that says what kept it from running. Which failure that is comes from the error's class
(and its HTTP status where it has one), never from its message: messages are written for people and change, and
an API server's message is its own text.
"""

from __future__ import annotations

from incidentctl.adapters.kube_errors import KubeTimeout
from incidentctl.core.checks import Failure
from incidentctl.errors import ConfigError, IncidentctlError, NotFoundError, UnauthorizedError, UnreachableError


def failure_of(error: BaseException) -> Failure:
    """The failure an error stands for; a Kubernetes error's class is a subclass of one of these bases."""
    if isinstance(error, UnauthorizedError):  # before UnreachableError, its base
        return Failure.UNAUTHORIZED if getattr(error, "status", None) == 401 else Failure.FORBIDDEN
    if isinstance(error, NotFoundError):
        return Failure.NOT_FOUND
    if isinstance(error, KubeTimeout):  # before UnreachableError, its base: the API took too long to answer
        return Failure.TIMEOUT
    if isinstance(error, UnreachableError):
        return Failure.UNREACHABLE
    if isinstance(error, ConfigError):
        return Failure.NOT_CONFIGURED
    if isinstance(error, IncidentctlError):
        return Failure.API_ERROR
    return Failure.INTERNAL
