"""Alertmanager alerts set signals through the runbook's ``observability.alertmanager.signals``: a firing alert
whose labels match turns the signal on for its component, so the rules on it (security-breach -> L3) fire from
what monitoring sees; alerts that could not be read leave the signal unknown, never off."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from incidentctl.core.checks import AlertsObservation, CheckKind, CheckResult, Failure, FiringAlert, Health
from incidentctl.core.looks import escalations_on, signals_on
from incidentctl.core.signals import alert_signals, builtin_signals, merged
from incidentctl.runbook.loader import load_runbook
from incidentctl.runbook.model import Runbook
from incidentctl.runbook.problems import RunbookInvalid

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def rb() -> Runbook:
    return load_runbook(REPO / "runbook.yaml")


def alerts(component: str, *labelled: dict[str, str]) -> CheckResult:
    firing = tuple(
        FiringAlert(name=labels.get("alertname", "A"), state="active", labels={"service": component, **labels})
        for labels in labelled
    )
    health = Health.DEGRADED if firing else Health.OK
    return CheckResult(
        f"alerts:{component}",
        CheckKind.ALERTS,
        "http://alertmanager",
        health,
        f"{len(firing)} alerts firing",
        subject=component,
        observation=AlertsObservation(count=len(firing), alerts=firing),
    )


def test_an_alert_labelled_category_security_sets_security_breach(rb: Runbook) -> None:
    seen = merged(
        builtin_signals(rb, []),
        alert_signals(
            rb,
            [
                alerts("gateway", {"alertname": "CredentialStuffing", "category": "security", "severity": "critical"}),
                alerts("retrieval", {"alertname": "RetrievalSlow", "severity": "warning"}),
            ],
        ),
    )
    breach = {sv.subject: (sv.value, sv.detail) for sv in seen["security_breach"] if sv.source == "alertmanager"}
    assert breach == {"gateway": (True, "CredentialStuffing"), "retrieval": (False, None)}
    assert "security_breach" in signals_on(rb, seen)
    assert escalations_on(rb, seen) == ["security-breach"]


def test_other_alerts_and_other_values_of_the_label_set_nothing(rb: Runbook) -> None:
    seen = merged(
        builtin_signals(rb, []),
        alert_signals(rb, [alerts("gateway", {"alertname": "X", "category": "securityish"}, {"alertname": "Y"})]),
    )
    assert "security_breach" not in signals_on(rb, seen)
    assert escalations_on(rb, seen) == []


def test_alerts_that_could_not_be_read_leave_the_signal_unknown(rb: Runbook) -> None:
    unread = CheckResult(
        "alerts:gateway",
        CheckKind.ALERTS,
        "http://alertmanager",
        Health.UNKNOWN,
        "alerts: connection refused",
        subject="gateway",
        failure=Failure.REFUSED,
    )
    [from_alerts] = alert_signals(rb, [unread])["security_breach"]
    assert from_alerts.value is None


def test_every_label_of_a_mapping_must_match_and_match_re_is_anchored(rb: Runbook, tmp_path: Path) -> None:
    text = (REPO / "runbook.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "{match: {category: security},", "{match: {category: security}, match_re: {severity: 'critical|page'},"
    )
    path = tmp_path / "runbook.yaml"
    path.write_text(text, encoding="utf-8")
    strict = load_runbook(path)

    def on(*labels: dict[str, str]) -> bool:
        found = alert_signals(strict, [alerts("gateway", *labels)])["security_breach"]
        return any(sv.value for sv in found)

    assert on({"category": "security", "severity": "page"})
    assert not on({"category": "security", "severity": "warning"})
    assert not on({"category": "security", "severity": "critical-ish"})
    assert not on({"severity": "critical"})


@pytest.mark.parametrize(
    ("old", "new", "message", "where"),
    [
        (
            "signal: security_breach}]",
            "signal: security_breech}]",
            "unknown signal 'security_breech'",
            "observability.alertmanager.signals[0].signal",
        ),
        (
            "signal: security_breach}]",
            "signal: error_rate}]",
            "'error_rate' is measured in ratio: an alert can only set an on/off signal",
            "observability.alertmanager.signals[0].signal",
        ),
        (
            "{match: {category: security},",
            "{match: {},",
            "name at least one label under match or match_re",
            "observability.alertmanager.signals[0]",
        ),
        (
            "{match: {category: security},",
            "{match_re: {category: 'sec('},",
            "match_re.category: not a valid regular expression",
            "observability.alertmanager.signals[0]",
        ),
        (
            "      notify: [slack]\n",
            "      notify: [slak]\n",
            "unknown channel 'slak'",
            "escalation.levels[1].notify[0]",
        ),
    ],
)
def test_runbook_validate_locates_a_bad_mapping_or_notify_list(
    tmp_path: Path, old: str, new: str, message: str, where: str
) -> None:
    text = (REPO / "runbook.yaml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "runbook.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(RunbookInvalid) as info:
        load_runbook(path)
    problem = next((p for p in info.value.problems if message in p.message), None)
    assert problem is not None, [p.message for p in info.value.problems]
    assert re.search(rf": {re.escape(where)}(:|$)", problem.located(path))
