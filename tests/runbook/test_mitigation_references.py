"""`runbook validate` checks the mitigation section against the rest of the runbook: each mistake is one located
problem (file:line:column, key path, message), found by editing the shipped runbook.yaml the way a person would
get it wrong."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from incidentctl.runbook.loader import load_runbook
from incidentctl.runbook.problems import RunbookInvalid


@dataclass(frozen=True)
class Case:
    id: str
    old: str
    new: str
    #: text on the line (and at the column) the problem must point at, in the edited file
    at: str
    path: str
    message: str
    hint: str | None = None


CASES = [
    Case(
        "breaker-for-an-unknown-dependency",
        "  circuit_breakers:\n    openai:\n",
        "  circuit_breakers:\n    opneai:\n",
        "opneai:",
        "mitigation.circuit_breakers.opneai",
        "unknown dependency 'opneai': a circuit breaker is named after the dependency it cuts off",
        "did you mean 'openai'?",
    ),
    Case(
        "breaker-for-a-component",
        "  circuit_breakers:\n    openai:\n",
        "  circuit_breakers:\n    synthesis:\n",
        "synthesis:\n      description",
        "mitigation.circuit_breakers.synthesis",
        "unknown dependency 'synthesis'",
    ),
    Case(
        "maintenance-verifies-an-unknown-component",
        "    components: [gateway]\n    apply:\n      - {resource: configmaps, name: gateway-config",
        "    components: [gateways]\n    apply:\n      - {resource: configmaps, name: gateway-config",
        "gateways]",
        "mitigation.maintenance.components[0]",
        "unknown component 'gateways'",
        "did you mean 'gateway'?",
    ),
    Case(
        "breaker-verifies-an-unknown-component",
        "      components: [synthesis]\n",
        "      components: [synthesis, openai]\n",
        "openai]\n",
        "mitigation.circuit_breakers.openai.components[1]",
        "unknown component 'openai'",
    ),
    Case(
        "redirect-verifies-an-unknown-component",
        "      description: The sarvanom ingress sends users to the standby region (the gateway-standby Service)\n"
        "      components: [gateway]\n",
        "      description: The sarvanom ingress sends users to the standby region (the gateway-standby Service)\n"
        "      components: [ingress]\n",
        "ingress]",
        "mitigation.redirects.standby.components[0]",
        "unknown component 'ingress'",
    ),
    Case(
        "severity-actions-for-an-unknown-severity",
        "      P4: [restart, scale",
        "      P5: [restart, scale",
        "P5: [restart",
        "mitigation.guardrails.severity_actions.P5",
        "unknown severity 'P5'",
    ),
    Case(
        "revert-puts-back-another-object",
        '      - {resource: configmaps, name: gateway-config, merge: {data: {MAINTENANCE_MODE: "off"}}}',
        '      - {resource: configmaps, name: gateway-conf, merge: {data: {MAINTENANCE_MODE: "off"}}}',
        "- {resource: configmaps, name: gateway-conf,",
        "mitigation.maintenance.revert",
        "revert does not put back configmaps/gateway-config, which apply changes and changes "
        "configmaps/gateway-conf, which apply does not touch",
        "undo runs revert",
    ),
    Case(
        "revert-of-another-kind",
        "      revert:\n        - resource: ingresses\n",
        "      revert:\n        - resource: services\n",
        "- resource: services",
        "mitigation.redirects.standby.revert",
        "revert does not put back ingresses/sarvanom, which apply changes and changes services/sarvanom, "
        "which apply does not touch",
    ),
    Case(
        "revert-touches-more-than-apply",
        "merge: {data: {CIRCUIT_BREAKER: closed}}}\n",
        "merge: {data: {CIRCUIT_BREAKER: closed}}}\n"
        "        - {resource: deployments, name: synthesis, merge: {spec: {replicas: 3}}}\n",
        "- {resource: configmaps, name: synthesis-config, merge: {data: {CIRCUIT_BREAKER: closed",
        "mitigation.circuit_breakers.openai.revert",
        "revert changes deployments/synthesis, which apply does not touch",
    ),
    Case(
        "guardrail-namespaces-without-the-runbooks-own",
        "    namespaces: [sarvanom-production]\n",
        "    namespaces: [sarvanom-staging]\n",
        "[sarvanom-staging]",
        "mitigation.guardrails.namespaces",
        "the runbook's own namespace 'sarvanom-production' is not allowed, so no mitigation could run",
        "add sarvanom-production to the list",
    ),
]


def _position(text: str, marker: str) -> tuple[int, int]:
    index = text.index(marker)
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_each_mitigation_mistake_is_located_and_explained(case: Case, runbook_text: str, tmp_path: Path) -> None:
    assert case.old in runbook_text, f"case {case.id}: the runbook no longer contains {case.old!r}"
    text = runbook_text.replace(case.old, case.new, 1)
    path = tmp_path / "runbook.yaml"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(RunbookInvalid) as info:
        load_runbook(path)

    problems = [p for p in info.value.problems if case.message in p.message]
    assert len(problems) == 1, [p.located(path) for p in info.value.problems]
    problem = problems[0]
    line, column = _position(text, case.at)
    assert problem.located(path) == f"{path}:{line}:{column}: {case.path}: {problem.message}"
    if case.hint is not None:
        assert problem.hint is not None
        assert case.hint in problem.hint
    assert len(info.value.problems) == 1, [p.located(path) for p in info.value.problems]


def test_empty_guardrail_namespaces_mean_the_runbooks_own(runbook_text: str, tmp_path: Path) -> None:
    text = runbook_text.replace("    namespaces: [sarvanom-production]\n", "    namespaces: []\n", 1)
    path = tmp_path / "runbook.yaml"
    path.write_text(text, encoding="utf-8")
    assert load_runbook(path).mitigation.guardrails.namespaces == []


def test_the_shipped_mitigation_section_is_complete(runbook_text: str, tmp_path: Path) -> None:
    path = tmp_path / "runbook.yaml"
    path.write_text(runbook_text, encoding="utf-8")
    mitigation = load_runbook(path).mitigation
    assert mitigation.maintenance is not None
    assert list(mitigation.circuit_breakers) == ["openai"]
    assert list(mitigation.redirects) == ["standby"]
    assert mitigation.guardrails.namespaces == ["sarvanom-production"]
    assert "maintenance" not in mitigation.guardrails.severity_actions["P3"]
    assert "redirect" not in mitigation.guardrails.severity_actions["P4"]
