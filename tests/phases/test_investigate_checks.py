"""`investigate datastores` and `investigate dependencies` against the sandbox: the runbook's exec and HTTP
checks, each with its latency and the exact error, the same verdict detect reaches."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from tests.conftest import Invoke
from tests.phases.conftest import Site, run


def _data(result: Any, kind: str) -> dict[str, Any]:
    doc = json.loads(result.stdout)
    assert doc["kind"] == kind, doc
    return doc["data"]  # type: ignore[no-any-return]


def _check(data: dict[str, Any], subject: str) -> dict[str, Any]:
    found = [c for c in data["checks"] if c["subject"] == subject]
    assert found, [c["subject"] for c in data["checks"]]
    return found[0]  # type: ignore[no-any-return]


def test_db_outage_names_postgres_down_with_psqls_own_error_and_the_latency(
    invoke: Invoke, site_for: Callable[..., Site]
) -> None:
    site = site_for("db-outage")
    result = run(invoke, site, "investigate", "datastores", "-o", "json")
    assert result.exit_code == 3, result.output
    data = _data(result, "InvestigateDatastores")
    postgres = _check(data, "postgres")
    assert postgres["health"] == "down"
    # the pod is not ready, and psql is still asked: its own words say why
    assert "remaining connection slots are reserved" in postgres["summary"]
    assert postgres["observed"]["exitCode"] == 2
    assert postgres["latencySeconds"] is not None
    assert _check(data, "redis")["health"] == "ok"
    assert data["health"] == "down"
    assert data["findings"][0]["problem"] is True
    assert data["findings"][0]["rank"] == "datastores"
    assert "postgres" in data["findings"][0]["text"]


def test_healthy_datastores_exit_0_each_with_its_latency(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    result = run(invoke, site, "investigate", "datastores", "-o", "json")
    assert result.exit_code == 0, result.output
    data = _data(result, "InvestigateDatastores")
    assert {c["subject"]: c["health"] for c in data["checks"]} == {"postgres": "ok", "redis": "ok"}
    assert all(c["latencySeconds"] is not None for c in data["checks"])
    assert not any(f["problem"] for f in data["findings"])


def test_dependency_outage_names_openai_with_the_timeout(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("dependency-outage")
    result = run(invoke, site, "investigate", "dependencies", "-o", "json")
    assert result.exit_code == 3, result.output
    data = _data(result, "InvestigateDependencies")
    openai = _check(data, "openai")
    assert (openai["health"], openai["failure"]) == ("down", "timeout")
    assert "no answer within" in openai["summary"]
    assert openai["latencySeconds"] is not None
    assert _check(data, "anthropic")["health"] == "ok"


def test_the_table_says_what_failed_and_how_long_it_took(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("db-outage")
    result = run(invoke, site, "investigate", "datastores")
    assert result.exit_code == 3, result.output
    assert "postgres" in result.stdout
    assert "DOWN" in result.stdout
    assert "1 of 2 datastores not OK" in result.stdout


@pytest.mark.parametrize(("view", "name"), [("datastores", "mysql"), ("dependencies", "stripe")])
def test_a_name_the_runbook_does_not_have_is_a_usage_error(
    invoke: Invoke, site_for: Callable[..., Site], view: str, name: str
) -> None:
    site = site_for("healthy")
    result = run(invoke, site, "investigate", view, name)
    assert result.exit_code == 2, result.output
    assert f"unknown {view[:-3] if view.endswith('ies') else view[:-1]}" in result.output
