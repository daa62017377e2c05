"""`detect -l` and `triage -l` against the sandbox: a selector is read as Kubernetes reads it (set-based too), a
selector that cannot be parsed is a usage error before any check runs, and one that selects nothing says so."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from tests.conftest import Invoke
from tests.phases.conftest import Site, run


def _components(result: Any) -> set[str]:
    doc = json.loads(result.stdout)
    assert doc["kind"] == "DetectReport", result.output
    return {s["name"] for s in doc["data"]["subjects"] if s["kind"] == "component"}


@pytest.mark.parametrize(
    ("selector", "components"),
    [
        ("app in (synthesis,gateway)", {"gateway", "synthesis"}),
        ("app notin (synthesis,gateway)", {"retrieval"}),
        ("app.kubernetes.io/part-of=sarvanom,app!=retrieval", {"gateway", "synthesis"}),
        ("app.kubernetes.io/name", {"gateway", "retrieval", "synthesis"}),
        ("app==gateway", {"gateway"}),
    ],
)
def test_set_based_selectors_pick_components(
    invoke: Invoke, site_for: Callable[..., Site], selector: str, components: set[str]
) -> None:
    site = site_for("healthy")
    result = run(invoke, site, "detect", "-l", selector, "-o", "json")
    assert result.exit_code == 0, result.output
    assert _components(result) == components


def test_datastores_and_dependencies_follow_the_selected_components(
    invoke: Invoke, site_for: Callable[..., Site]
) -> None:
    site = site_for("healthy")
    data = json.loads(run(invoke, site, "detect", "-l", "app=retrieval", "-o", "json").stdout)["data"]
    assert {(s["name"], s["kind"]) for s in data["subjects"] if s["kind"] != "ingress"} >= {
        ("retrieval", "component"),
        ("postgres", "datastore"),
        ("redis", "datastore"),
    }
    assert not {s["name"] for s in data["subjects"]} & {"gateway", "synthesis", "openai", "anthropic"}


@pytest.mark.parametrize(
    ("selector", "problem"),
    [
        ("bad selector!!", "found 'selector', expected: in, notin, =, ==, !=, gt, lt"),
        ("app in (gateway", "expected: ',' or ')'"),
        ("app=gateway,", "expected: identifier after ','"),
        ("app in gateway", "found 'gateway' expected: '('"),
        ("-app=x", "name part must consist of alphanumeric characters"),
        ("app=bad value", "found 'value', expected: ',' or 'end of string'"),
        ("replicas>three", "the value must be an integer"),
    ],
)
def test_an_unparsable_selector_is_a_usage_error_before_any_check(
    invoke: Invoke, site_for: Callable[..., Site], selector: str, problem: str
) -> None:
    site = site_for("healthy")
    site.sandbox.stop()  # nothing may be contacted: the error must come first, not "cannot reach"
    for command in ("detect", "triage"):
        result = run(invoke, site, command, "-l", selector)
        assert result.exit_code == 2, result.output
        lines = result.stderr.strip().splitlines()
        assert lines[0].startswith(f"error: -l {selector!r}: "), lines
        assert problem in lines[0]
        assert "Traceback" not in result.output
        assert result.stdout == ""


def test_a_selector_that_matches_nothing_is_never_healthy(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("traffic-spike")
    for args in (["detect"], ["detect", "-o", "json"], ["triage"], ["triage", "--declare"], ["triage", "-o", "json"]):
        result = run(invoke, site, *args, "-l", "app=nosuch")
        assert result.exit_code == 3, (args, result.output)
        assert "healthy" not in result.stdout
        assert "no incident" not in result.stdout
        assert "no component matches -l 'app=nosuch'" in result.stderr.splitlines()[0]
        if "json" in args:
            doc = json.loads(result.stdout)
            assert doc["kind"] == "Error"
            assert doc["error"]["reason"] == "NothingSelected"
            assert doc["error"]["exitCode"] == 3
    listed = run(invoke, site, "incident", "list", "-A", "-o", "json")
    assert json.loads(listed.stdout)["data"]["items"] == []  # --declare opened nothing


def test_a_missing_deployment_still_counts_as_possibly_selected(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    """Without its deployment a component's labels are unknown: it stays in the report, DOWN, not unselected."""
    from kubernetes import client

    from incidentctl.sandbox.testing import load_client

    site = site_for("healthy")
    api = client.AppsV1Api(load_client(site.sandbox, site.kubeconfig.parent / "client-kubeconfig"))
    api.delete_namespaced_deployment("gateway", "sarvanom-production")
    result = run(invoke, site, "detect", "-l", "app=gateway", "-o", "json")
    assert result.exit_code == 3, result.output
    assert _components(result) == {"gateway"}
