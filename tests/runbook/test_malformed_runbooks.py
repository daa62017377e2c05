"""The malformed-runbook table: every kind of mistake people make gets one clear, located message.

Each case edits the real runbook.yaml the way a person would get it wrong, then checks the message's line, key
path, wording and suggestion. The expected line is found from a marker in the edited text, so the table stays
right when the runbook grows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from incidentctl.runbook.loader import load_runbook, parse_runbook
from incidentctl.runbook.problems import RunbookInvalid


@dataclass(frozen=True)
class Case:
    id: str
    old: str
    new: str
    #: text on the line the error must point at (first occurrence in the edited file)
    line_of: str
    message: str
    path: str | None = None
    hint: str | None = None


CASES = [
    Case(
        "yaml-syntax",
        "  namespace: sarvanom-production\n",
        "  namespace: sarvanom: production\n",
        "namespace: sarvanom: production",
        "YAML syntax error: mapping values are not allowed here",
        hint="indentation",
    ),
    Case(
        "tab-indentation",
        "\n  namespace: sarvanom-production",
        "\n\tnamespace: sarvanom-production",
        "\tnamespace",
        "YAML syntax error",
        hint="tabs",
    ),
    Case(
        "wrong-type",
        "    user_facing: true\n",
        "    user_facing: maybe\n",
        "user_facing: maybe",
        "expected true or false, got string 'maybe'",
        path="components[0].user_facing",
    ),
    Case(
        "unknown-key-misspelt",
        "      timeout: 5s\n      slow_after",
        "      timout: 5s\n      slow_after",
        "timout: 5s",
        "unknown key 'timout'",
        path="components[0].health.timout",
        hint="did you mean 'timeout'?",
    ),
    Case(
        "missing-required-key",
        "    deployment: retrieval\n",
        "",
        "- name: retrieval",
        "missing required key 'deployment'",
        path="components[1].deployment",
    ),
    Case(
        "unknown-severity-in-rule",
        "      severity: P3\n      description: Single",
        "      severity: P5\n      description: Single",
        "severity: P5",
        "unknown severity 'P5'",
        path="triage.rules[4].severity",
    ),
    Case(
        "duplicate-component",
        "  - name: synthesis\n",
        "  - name: gateway\n",
        "  - name: gateway\n    description: Writes",
        "duplicate name 'gateway' (already used at components[0])",
        path="components[2].name",
    ),
    Case(
        "bad-duration",
        "    response_time: 15m\n",
        "    response_time: 15 minutes\n",
        "response_time: 15 minutes",
        "expected a duration such as 15m, 1h30m or 24h, got '15 minutes'",
        path="severities.P2.response_time",
    ),
    Case(
        "duration-without-unit",
        "    update_interval: 4h\n",
        "    update_interval: 4\n",
        "update_interval: 4\n",
        "a duration needs a unit",
        path="severities.P4.update_interval",
    ),
    Case(
        "bad-url",
        "url: https://api.sarvanom.com/health",
        "url: htps://api.sarvanom.com/health",
        "htps://",
        "expected an http:// or https:// URL with a host",
        path="components[0].health.url",
    ),
    Case(
        "secret-written-in-runbook",
        "webhook_url: {env: INCIDENTCTL_SLACK_WEBHOOK_URL}",
        "webhook_url: https://hooks.slack.com/services/T000/B000/XXXX",
        "webhook_url: https://hooks",
        "secrets are never written in the runbook",
        path="communication.channels.slack.webhook_url",
    ),
    Case(
        "unknown-channel-kind",
        "      kind: statuspage\n",
        "      kind: statuspag\n",
        "kind: statuspag",
        "unknown kind 'statuspag'",
        path="communication.channels.status-page.kind",
        hint="did you mean 'statuspage'?",
    ),
    Case(
        "unknown-key-in-channel",
        '      channel: "#incidents"',
        '      chanel: "#incidents"',
        "chanel:",
        "unknown key 'chanel'",
        path="communication.channels.slack.chanel",
        hint="did you mean 'channel'?",
    ),
    Case(
        "unknown-signal",
        'signal: error_rate, op: ">", threshold: 10%',
        'signal: eror_rate, op: ">", threshold: 10%',
        "eror_rate",
        "unknown signal 'eror_rate'",
        path="triage.rules[1].when[0].signal",
        hint="did you mean 'error_rate'?",
    ),
    Case(
        "ratio-threshold-without-percent",
        "threshold: 20%",
        "threshold: 20",
        "threshold: 20}",
        "'error_rate' is a ratio (0..1) but the threshold is 20",
        path="escalation.rules.automatic[1].when[0].threshold",
        hint="did you mean 20%?",
    ),
    Case(
        "invalid-regex",
        "expect_output: PONG",
        'expect_output: "PONG("',
        "PONG(",
        "not a valid regular expression",
        path="datastores[1].check.expect_output",
    ),
    Case(
        "duplicate-yaml-key",
        "  namespace: sarvanom-production\n",
        "  namespace: sarvanom-production\n  namespace: sarvanom-staging\n",
        "namespace: sarvanom-staging",
        "duplicate key 'namespace' (first set on line",
        path="cluster.namespace",
    ),
    Case(
        "unknown-escalation-level",
        "        description: Business impact\n        escalate_to: L3",
        "        description: Business impact\n        escalate_to: L7",
        "escalate_to: L7",
        "unknown escalation level 'L7'",
        path="escalation.rules.manual[1].escalate_to",
    ),
    Case(
        "missing-template-file",
        "post_mortem: templates/post_mortem.md.j2",
        "post_mortem: templates/postmortem.md.j2",
        "postmortem.md.j2",
        "template file not found: templates/postmortem.md.j2",
        path="communication.templates.post_mortem",
    ),
    Case(
        "invalid-name",
        "  - name: synthesis\n",
        "  - name: Synthesis\n",
        "- name: Synthesis",
        "'Synthesis' is not valid (expected lowercase letters, digits and '-'",
        path="components[2].name",
    ),
    Case(
        "wrong-api-version",
        "apiVersion: incidentctl/v1",
        "apiVersion: incidentctl/v2",
        "apiVersion:",
        "expected one of incidentctl/v1, got string 'incidentctl/v2'",
        path="apiVersion",
    ),
    Case(
        "unknown-component-reference",
        "depends_on: [retrieval, synthesis]",
        "depends_on: [retrieval, synthesys]",
        "synthesys",
        "unknown component 'synthesys'",
        path="components[0].depends_on[1]",
        hint="did you mean 'synthesis'?",
    ),
    Case(
        "unknown-notify-channel",
        "    notify: [slack, email, status-page]\n",
        "    notify: [slack, email, statuspage]\n",
        "statuspage]",
        "unknown channel 'statuspage'",
        path="severities.P2.notify[2]",
        hint="did you mean 'status-page'?",
    ),
    Case(
        "bad-severity-id",
        "  P4:\n",
        "  Low:\n",
        "  Low:",
        "'Low' is not a valid key here (expected a severity id",
        path="severities.Low",
    ),
    Case(
        "list-instead-of-mapping",
        "cluster:\n  namespace: sarvanom-production\n",
        "cluster:\n  - sarvanom-production\n",
        "- sarvanom-production",
        "expected a mapping, got a list",
        path="cluster",
    ),
    Case(
        "threshold-on-bool-signal",
        "when: [{signal: partial_outage}]",
        "when: [{signal: partial_outage, threshold: 1}]",
        "partial_outage, threshold",
        "'partial_outage' is on or off: drop the threshold",
        path="triage.rules[3].when[0].threshold",
    ),
]


def _edited(text: str, case: Case) -> str:
    assert case.old in text, f"case {case.id}: the runbook no longer contains {case.old!r}"
    return text.replace(case.old, case.new, 1)


def _line_of(text: str, marker: str) -> int:
    index = text.index(marker)
    return text.count("\n", 0, index) + 1 + (1 if marker.startswith("\n") else 0)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_each_mistake_is_located_and_explained(case: Case, runbook_text: str, tmp_path: Path) -> None:
    text = _edited(runbook_text, case)
    path = tmp_path / "runbook.yaml"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(RunbookInvalid) as info:
        load_runbook(path)

    err = info.value
    problem = next((p for p in err.problems if case.message in p.message), None)
    assert problem is not None, f"no problem says {case.message!r}; got {[p.message for p in err.problems]}"
    assert problem.line == _line_of(text, case.line_of)
    if case.path is not None:
        assert problem.located(path).split(": ")[1] == case.path
    if case.hint is not None:
        assert problem.hint is not None
        assert case.hint in problem.hint
    # the one-line message: file:line:column: path: message
    first = str(err)
    assert "\n" not in first
    assert re.match(rf"{re.escape(str(path))}:\d+:\d+: ", first)


def test_table_covers_at_least_fifteen_kinds_of_mistake() -> None:
    assert len({c.id for c in CASES}) >= 15


def test_the_shipped_runbook_is_valid(runbook_text: str, tmp_path: Path) -> None:
    rb = parse_runbook(runbook_text, tmp_path / "runbook.yaml")
    assert rb.cluster.namespace == "sarvanom-production"
    assert rb.component_names() == ["gateway", "retrieval", "synthesis"]
    assert list(rb.severities) == ["P1", "P2", "P3", "P4"]
    assert [lvl.role for lvl in rb.escalation.levels] == [
        "Operations Engineer",
        "Senior Operations Engineer",
        "Engineering Manager",
        "CTO",
    ]


def test_empty_file_says_so(tmp_path: Path) -> None:
    path = tmp_path / "runbook.yaml"
    path.write_text("# nothing yet\n", encoding="utf-8")
    with pytest.raises(RunbookInvalid, match="the file is empty"):
        load_runbook(path)


def test_several_problems_are_all_reported(runbook_text: str, tmp_path: Path) -> None:
    text = runbook_text.replace("      timeout: 5s\n      slow_after", "      timout: 5s\n      slow_after", 1)
    text = text.replace("    response_time: 15m\n", "    response_time: soon\n", 1)
    path = tmp_path / "runbook.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RunbookInvalid) as info:
        load_runbook(path)
    messages = [p.message for p in info.value.problems]
    assert any("unknown key 'timout'" in m for m in messages)
    assert any("got 'soon'" in m for m in messages)
    assert "1 more problem" in (info.value.hint or "")
