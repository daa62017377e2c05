"""``escalate check`` fires each of the seed's rules at the right moment, on journals with known times: the looks
detect records and the incident's severity, judged against the clock."""

from __future__ import annotations

from tests.communicate.harness import T0
from tests.escalate.harness import Escalations, at

from incidentctl.core.rules import SignalValue

DOWN = [SignalValue("service_down", "bool", True, "gateway", detail="http:gateway: connection refused")]


def test_service_down_for_14_minutes_is_not_due_and_at_15_it_is_l2(esc: Escalations) -> None:
    incident = esc.declare(severity="P4")  # P4 has no time-based rule: only the signals speak
    assert esc.look(incident, service_down=DOWN)
    esc.clock.advance(minutes=14)
    assert not esc.look(incident, service_down=DOWN)  # unchanged: detect records nothing new
    rule = esc.rules(code=0)["service-down-15m"]
    assert (rule["state"], rule["level"]) == ("pending", "L2")
    assert at(rule["dueAt"]) == at(rule["since"]).replace(minute=45) == T0.replace(minute=45)

    esc.clock.advance(minutes=1)
    data = esc.check(code=3)
    rule = {r["rule"]: r for r in data["assessment"]["rules"]}["service-down-15m"]
    assert (rule["state"], rule["level"], rule["role"]) == ("due", "L2", "Senior Operations Engineer")
    assert "service_down for 15m" in rule["why"]


def test_a_look_without_the_outage_restarts_the_15_minutes(esc: Escalations) -> None:
    incident = esc.declare(severity="P4")
    esc.look(incident, service_down=DOWN)
    esc.clock.advance(minutes=10)
    assert esc.look(incident)  # it came back
    esc.clock.advance(minutes=1)
    esc.look(incident, service_down=DOWN)
    esc.clock.advance(minutes=14)
    assert esc.rules(code=0)["service-down-15m"]["state"] == "pending"
    esc.clock.advance(minutes=1)
    assert esc.rules(code=3)["service-down-15m"]["state"] == "due"


def test_an_error_rate_of_21_percent_is_l2_and_15_percent_is_not(esc: Escalations) -> None:
    incident = esc.declare(severity="P4")
    esc.look(incident, error_rate=[SignalValue("error_rate", "ratio", 0.15, "gateway", source="prometheus")])
    # 15% is "on" for triage's 10% rule, still below escalation's 20%
    assert esc.rules(code=0)["error-rate-20"]["state"] == "off"
    assert esc.look(incident, error_rate=[SignalValue("error_rate", "ratio", 0.21, "gateway", source="prometheus")])
    rule = esc.rules(code=3)["error-rate-20"]
    assert (rule["state"], rule["level"]) == ("due", "L2")
    assert "error_rate > 20%" in rule["why"]


def test_a_response_time_of_61_seconds_is_l2_and_59_is_not(esc: Escalations) -> None:
    incident = esc.declare(severity="P4")
    esc.look(incident, response_time=[SignalValue("response_time", "seconds", 59.0, "gateway")])
    assert esc.rules(code=0)["response-time-60s"]["state"] == "off"
    esc.look(incident, response_time=[SignalValue("response_time", "seconds", 61.0, "gateway")])
    rule = esc.rules(code=3)["response-time-60s"]
    assert (rule["state"], rule["level"]) == ("due", "L2")


def test_a_security_breach_is_l3_at_once(esc: Escalations) -> None:
    incident = esc.declare(severity="P4")
    esc.look(incident, security_breach=[SignalValue("security_breach", "bool", True, None, source="alertmanager")])
    data = esc.check(code=3)
    due = [(r["rule"], r["level"], r["role"]) for r in data["assessment"]["rules"] if r["state"] == "due"]
    assert due == [("security-breach", "L3", "Engineering Manager")]


def test_p2_is_not_due_at_29_minutes_and_is_l3_at_30(esc: Escalations) -> None:
    incident = esc.declare(severity="P2")
    esc.look(incident)
    esc.clock.advance(minutes=29)
    rule = esc.rules(incident, code=0)["severity:P2"]
    assert (rule["state"], rule["level"], at(rule["dueAt"])) == ("pending", "L3", T0.replace(minute=0, hour=15))
    esc.clock.advance(minutes=1)
    rule = esc.rules(incident, code=3)["severity:P2"]
    assert (rule["state"], rule["level"], rule["role"]) == ("due", "L3", "Engineering Manager")


def test_p1_is_l4_at_once(esc: Escalations) -> None:
    esc.declare(severity="P1")
    rule = esc.rules(code=3)["severity:P1"]
    assert (rule["state"], rule["level"], rule["role"], at(rule["dueAt"])) == ("due", "L4", "CTO", T0)


def test_the_time_counts_from_when_the_incident_took_its_severity(esc: Escalations) -> None:
    incident = esc.declare(severity="P3")
    esc.look(incident)
    esc.clock.advance(minutes=40)
    esc.ok("incident", "severity", incident, "P2", "--reason", "more users affected")
    esc.clock.advance(minutes=29)
    assert esc.rules(code=0)["severity:P2"]["state"] == "pending"
    esc.clock.advance(minutes=1)
    assert esc.rules(code=3)["severity:P2"]["state"] == "due"


def test_without_a_look_the_signal_rules_are_unknown_never_not_due(esc: Escalations) -> None:
    esc.declare(severity="P4")
    result = esc.run("escalate", "check")
    assert result.exit_code == 4, result.stdout
    assert "cannot tell whether an escalation is due" in result.stdout
    rules = esc.rules(code=4)
    assert {r["state"] for name, r in rules.items()} == {"unknown"}
    assert "no look recorded yet" in rules["service-down-15m"]["why"]


def test_a_level_reached_is_not_due_again_and_a_rule_for_a_lower_one_is_covered(esc: Escalations) -> None:
    incident = esc.declare(severity="P4")
    esc.look(incident, security_breach=[SignalValue("security_breach", "bool", True, None)])
    applied = esc.check(None, "--apply", code=0)["applied"]
    assert (applied["level"], applied["recorded"], applied["automatic"]) == ("L3", True, True)
    esc.look(
        incident,
        security_breach=[SignalValue("security_breach", "bool", True, None)],
        error_rate=[SignalValue("error_rate", "ratio", 0.5, "gateway")],
    )
    rules = esc.rules(code=0)
    assert rules["security-breach"]["state"] == "covered"
    assert rules["error-rate-20"]["state"] == "covered"  # L2 is below the L3 reached
    again = esc.check(None, "--apply", code=0)
    assert again["applied"] is None
    escalated = [e for e in esc.timeline(incident) if e["kind"] == "escalated"]
    assert [(e["data"]["level"], e["data"]["rule"]) for e in escalated] == [("L3", "security-breach")]


def test_check_apply_escalates_to_the_highest_level_due(esc: Escalations) -> None:
    incident = esc.declare(severity="P1")
    esc.look(incident, error_rate=[SignalValue("error_rate", "ratio", 0.4, "gateway")])
    applied = esc.check(None, "--apply", code=0)["applied"]
    assert (applied["level"], applied["rule"]) == ("L4", "severity:P1")
    assert esc.check(code=0)["assessment"]["reached"][0]["level"] == "L4"
