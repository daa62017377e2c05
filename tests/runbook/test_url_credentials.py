"""A user name or password written into a runbook URL is a validation error, in every URL the runbook has, located
at the URL and pointing at the secret references the runbook supports; the error never repeats the password."""

from __future__ import annotations

from pathlib import Path

import pytest

from incidentctl.runbook.loader import load_runbook
from incidentctl.runbook.problems import RunbookInvalid

SECRET = "hunter2"

#: (where the URL is, the text replaced, the text put instead, the key path the problem names)
URL_FIELDS = [
    (
        "component-health",
        "url: https://api.sarvanom.com/health",
        f"url: https://admin:{SECRET}@api.sarvanom.com/health",
        "components[0].health.url",
    ),
    (
        "dependency-check",
        "url: https://api.openai.com/v1/models",
        f"url: https://key:{SECRET}@api.openai.com/v1/models",
        "dependencies[0].check.url",
    ),
    (
        "prometheus",
        "url: http://prometheus.monitoring.svc:9090",
        f"url: http://ops:{SECRET}@prometheus.monitoring.svc:9090",
        "observability.prometheus.url",
    ),
    (
        "alertmanager",
        "url: http://alertmanager.monitoring.svc:9093",
        f"url: http://{SECRET}@alertmanager.monitoring.svc:9093",
        "observability.alertmanager.url",
    ),
    (
        "grafana",
        "  alertmanager:\n",
        f"  grafana: https://viewer:{SECRET}@grafana.sarvanom.com/d/abc\n  alertmanager:\n",
        "observability.grafana",
    ),
    (
        "pagerduty",
        "      routing_key: {env: INCIDENTCTL_PAGERDUTY_ROUTING_KEY}\n",
        "      routing_key: {env: INCIDENTCTL_PAGERDUTY_ROUTING_KEY}\n"
        f"      url: https://pd:{SECRET}@events.pagerduty.com/v2/enqueue\n",
        "communication.channels.pagerduty.url",
    ),
    (
        "statuspage",
        "      api_key: {env: INCIDENTCTL_STATUSPAGE_API_KEY}\n",
        f"      api_key: {{env: INCIDENTCTL_STATUSPAGE_API_KEY}}\n      url: https://sp:{SECRET}@api.statuspage.io\n",
        "communication.channels.status-page.url",
    ),
    (
        "manual-channel",
        "      description: Video conference - incident war room\n",
        "      description: Video conference - incident war room\n"
        f"      url: https://meet:{SECRET}@meet.sarvanom.com/war-room\n",
        "communication.channels.war-room.url",
    ),
]


@pytest.mark.parametrize(("old", "new", "path"), [c[1:] for c in URL_FIELDS], ids=[c[0] for c in URL_FIELDS])
def test_userinfo_in_any_runbook_url_is_a_located_error(
    runbook_text: str, tmp_path: Path, old: str, new: str, path: str
) -> None:
    assert old in runbook_text
    text = runbook_text.replace(old, new, 1)
    file = tmp_path / "runbook.yaml"
    file.write_text(text, encoding="utf-8")

    with pytest.raises(RunbookInvalid) as info:
        load_runbook(file)

    (problem,) = info.value.problems
    assert problem.located(file).split(": ")[1] == path
    assert "user name or password" in problem.message
    assert problem.hint is not None
    assert "{env: NAME}" in problem.hint
    assert "{file: PATH}" in problem.hint
    assert problem.line == text[: text.index(SECRET)].count("\n") + 1
    everything = str(info.value) + problem.message + problem.hint
    assert SECRET not in everything


def test_a_bad_url_is_echoed_without_its_secrets(runbook_text: str, tmp_path: Path) -> None:
    old = "url: https://api.sarvanom.com/health"
    file = tmp_path / "runbook.yaml"
    file.write_text(runbook_text.replace(old, f"url: ftp://api.sarvanom.com/health?token={SECRET}", 1))

    with pytest.raises(RunbookInvalid) as info:
        load_runbook(file)

    assert "expected an http:// or https:// URL" in str(info.value)
    assert SECRET not in str(info.value)


def test_a_token_in_the_query_still_validates(runbook_text: str, tmp_path: Path) -> None:
    old = "url: https://api.sarvanom.com/health"
    file = tmp_path / "runbook.yaml"
    file.write_text(runbook_text.replace(old, f"{old}?token={SECRET}", 1))
    assert load_runbook(file).components[0].health is not None
