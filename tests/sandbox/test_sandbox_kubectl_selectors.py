"""Real kubectl 1.37 and the project's label-selector parser agree: what `kubectl get pods -l SEL` lists from the
sandbox is what `LabelSelector.parse(SEL)` selects from the same pods, and a bad selector is the server's 400."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from incidentctl.core.labels import LabelSelector
from incidentctl.sandbox.sandbox import Sandbox
from incidentctl.sandbox.testing import Kubectl, kubectl_for, running_sandbox

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def healthy() -> Iterator[Sandbox]:
    with running_sandbox("healthy") as sb:
        yield sb


@pytest.fixture
def k(healthy: Sandbox, tmp_path: Path) -> Kubectl:
    return kubectl_for(healthy, tmp_path)


@pytest.mark.parametrize(
    "selector",
    [
        "app in (synthesis,gateway)",
        "app notin (synthesis,gateway)",
        "app!=gateway,app.kubernetes.io/part-of",
        "!pod-template-hash",
        "statefulset.kubernetes.io/pod-name",
        "app==redis",
        "app in (synthesis, gateway),!statefulset.kubernetes.io/pod-name",
        "apps.kubernetes.io/pod-index<1",
        "app=nosuch",
    ],
)
def test_kubectl_lists_what_the_parser_selects(k: Kubectl, selector: str) -> None:
    pods = json.loads(k("get", "pods", "-o", "json").stdout)["items"]
    parsed = LabelSelector.parse(selector)
    expected = sorted(f"pod/{p['metadata']['name']}" for p in pods if parsed.matches(p["metadata"].get("labels")))
    result = k("get", "pods", "-l", selector, "-o", "name")
    assert result.returncode == 0, result.stderr
    assert sorted(result.stdout.split()) == expected
    if selector != "app=nosuch":
        assert expected  # each case selects something, so an empty answer could not pass by accident


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ("bad selector!!", "found 'selector', expected: in, notin, =, ==, !=, gt, lt"),
        ("app in (a", "found '', expected: ',' or ')'"),
        ("app=a,", "found '', expected: identifier after ','"),
    ],
)
def test_kubectl_gets_the_parsers_error_as_a_bad_request(k: Kubectl, selector: str, message: str) -> None:
    result = k("get", "pods", "-l", selector)
    assert result.returncode == 1
    assert "Error from server (BadRequest)" in result.stderr
    assert message in result.stderr
