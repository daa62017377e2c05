"""The datastore check (the runbook's ``kubectl exec postgres-0 -- psql -c "SELECT 1;"``): DOWN when the datastore
is seen to be broken, UNKNOWN when the check could not run, decided by the type of what went wrong and never by
the words of an error message (an API server's message is its own text, in any wording)."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from tests.core import kube_objects as k
from tests.core import results as R

from incidentctl.adapters.kube import (
    ExecResult,
    KubeApiError,
    KubeError,
    KubeExecTimeout,
    KubeForbidden,
    KubeNotFound,
    KubeUnreachable,
)
from incidentctl.core.checks import CheckKind, DatastoreObservation, Failure, Health
from incidentctl.phases.detect import _datastore_check, _Snapshot
from incidentctl.runbook.model import Datastore


class FakeKube:
    """The one call the datastore check makes, answering as told."""

    server = "https://kube.test"

    def __init__(self, answer: ExecResult | KubeError, *, takes: float = 0.0) -> None:
        self.answer = answer
        self.takes = takes

    def exec(self, namespace: str, pod: str, command: list[str], *, container: str | None, timeout: float) -> Any:
        time.sleep(self.takes)
        if isinstance(self.answer, KubeError):
            raise self.answer
        return self.answer


def postgres(timeout: timedelta = timedelta(seconds=10)) -> Datastore:
    ds = next(d for d in R.runbook().datastores if d.name == "postgres")
    return ds.model_copy(update={"check": ds.check.model_copy(update={"timeout": timeout})})


def snapshot(client: FakeKube, *pods: k.JSON) -> _Snapshot:
    snap = _Snapshot()
    snap.client = client  # type: ignore[assignment]
    snap.items["pods"] = list(pods) or [k.healthy_pod("postgres-0", app="postgres")]
    return snap


def judge(client: FakeKube, ds: Datastore | None = None, *pods: k.JSON) -> Any:
    return _datastore_check(ds or postgres(), snapshot(client, *pods), "sarvanom", k.NOW, k.WINDOW)


@pytest.mark.parametrize(
    ("error", "failure"),
    [
        (KubeForbidden("exec in pod postgres-0: no answer within 10s (HTTP 403)"), Failure.FORBIDDEN),
        (KubeNotFound("exec in pod postgres-0: timed out, no answer within 10s"), Failure.NOT_FOUND),
        (KubeApiError("exec in pod postgres-0: no answer within 10s (HTTP 422)"), Failure.API_ERROR),
        (KubeUnreachable("exec in pod postgres-0: no answer within 10s"), Failure.UNREACHABLE),
    ],
    ids=["forbidden", "not-found", "api-error", "unreachable"],
)
def test_an_exec_the_api_refused_or_could_not_carry_is_unknown_whatever_its_message(
    error: KubeError, failure: Failure
) -> None:
    result = judge(FakeKube(error))
    assert (result.health, result.failure) == (Health.UNKNOWN, failure)
    assert result.kind is CheckKind.DATASTORE


def test_a_command_that_does_not_answer_within_its_timeout_is_down() -> None:
    ds = postgres(timeout=timedelta(milliseconds=50))
    result = judge(FakeKube(KubeExecTimeout("exec in pod postgres-0: no answer within 0.05s"), takes=0.06), ds)
    assert (result.health, result.failure) == (Health.DOWN, Failure.TIMEOUT)


def test_an_api_that_cannot_be_reached_for_as_long_as_the_timeout_is_unknown_not_down() -> None:
    # how long the call took says nothing: only the exec's own timeout is a finding about the datastore
    ds = postgres(timeout=timedelta(milliseconds=50))
    result = judge(FakeKube(KubeUnreachable("exec in pod postgres-0: connect timeout"), takes=0.06), ds)
    assert (result.health, result.failure) == (Health.UNKNOWN, Failure.UNREACHABLE)


def test_a_failed_command_and_unexpected_output_are_down_with_their_output() -> None:
    failed = judge(FakeKube(ExecResult(2, "", "psql: error: connection to server failed\n")))
    assert (failed.health, failed.failure) == (Health.DOWN, Failure.COMMAND_FAILED)
    assert failed.observation == DatastoreObservation(
        exit_code=2, stdout="", stderr="psql: error: connection to server failed\n"
    )
    odd = judge(FakeKube(ExecResult(0, "(0 rows)\n", "")))
    assert (odd.health, odd.failure) == (Health.DOWN, Failure.OUTPUT_MISMATCH)
    ok = judge(FakeKube(ExecResult(0, " ?column? \n----------\n        1\n(1 row)\n", "")))
    assert (ok.health, ok.failure) == (Health.OK, None)


def test_a_missing_or_crashing_datastore_pod_is_down_with_the_pods_failure() -> None:
    missing = judge(FakeKube(ExecResult(0, "", "")), None, k.healthy_pod("redis-0", app="redis"))
    assert (missing.health, missing.failure) == (Health.DOWN, Failure.NOT_FOUND)
    crashing = judge(FakeKube(ExecResult(0, "", "")), None, k.crashloop_pod("postgres-0"))
    assert (crashing.health, crashing.failure) == (Health.DOWN, Failure.CRASH_LOOP)
