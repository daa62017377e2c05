"""Every message kind rendered from a real journal, built as a responder builds it (the CLI for the declaration,
roles, notes and statuses; the journal API for triage's look and a mitigation, in the shapes those phases
write), and saying what the journal says: the seed's fields one by one, the impact the latest look saw, the
progress the timeline holds, the downtime, the next update's time. The status page says none of the internal
names, hosts or people."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.communicate.harness import Comms

from incidentctl.core.messages import MESSAGE_KINDS

HOOK = "https://hooks.example.com/incidents/T0KEN-s3cr3t"
CHANNELS = {
    name: {"kind": "webhook", "url": {"env": "HOOK_URL"}}
    for name in ("hook", "email", "status-page", "customer-support")
}

#: triage's look, as phases.triage records it (tests/journal/data/timeline-v0.1.jsonl has the same shape)
TRIAGED = {
    "health": "degraded",
    "subjects": {"gateway": "degraded", "postgres": "ok", "redis": "ok", "retrieval": "ok", "synthesis": "ok"},
    "failing": {"alerts:gateway": "degraded", "signal:error_rate:gateway": "degraded"},
    "signals_on": ["components_degraded", "error_rate"],
    "summary": "P2: error_rate 14% > 10% on gateway (rule p2-error-rate)",
    "severity": "P2",
    "reason": "P2: error_rate 14% > 10% on gateway (rule p2-error-rate)",
    "rule": "p2-error-rate",
    "category": "application/service",
    "components": ["gateway"],
    "users_affected": 0.14,
    "evidence": ["gateway: error_rate 0.14", "gateway: 502 from upstream gateway-7d9f8-x2x9q.internal:8080"],
    "incident_severity": "P2",
    "decision": "unchanged",
}
PLANNED = {
    "id": "M1",
    "action": "rollback",
    "summary": "roll back deployment/gateway to revision 41",
    "targets": ["deployment/gateway"],
    "changes": ["deployment/gateway: image gateway:v42 -> gateway:v41"],
    "before": {"deployment/gateway": {"image": "gateway:v42"}},
    "after": {"deployment/gateway": {"image": "gateway:v41"}},
    "undo": {"action": "rollback", "args": {"revision": 42}, "summary": "roll forward to revision 42"},
    "versions": {"deployment/gateway": "1187"},
}
APPLIED = {
    "id": "M1",
    "summary": "roll back deployment/gateway to revision 41",
    "after": {"deployment/gateway": {"image": "gateway:v41"}},
    "writes": 1,
    "verifying": True,
}
VERIFIED = {
    "id": "M1",
    "healthy": True,
    "components": ["gateway"],
    "rollouts": ["deployment/gateway: 3/3 updated"],
    "seconds": 42.0,
}
INTERNAL = ["Gateway returns 502", "gateway", "carol", "dave", "internal", "INC-2026-001", "v42", "alice"]


@pytest.fixture
def comms(comms_factory: Callable[..., Comms]) -> Comms:
    return comms_factory(CHANNELS, {"HOOK_URL": HOOK})


def append(comms: Comms, incident: str, kind: str, data: dict[str, Any]) -> None:
    comms.state().phase_context(cluster=False).journal().append(incident, kind, data)


def declare(comms: Comms) -> str:
    incident = comms.ok(
        "incident",
        "declare",
        "--title",
        "Gateway returns 502",
        "--severity",
        "P2",
        "--component",
        "gateway",
        "--summary",
        "The gateway returns 502 for part of the search traffic.",
        "--commander",
        "carol",
    ).stdout.strip()
    comms.clock.advance(minutes=1)
    append(comms, incident, "triaged", TRIAGED)
    comms.clock.advance(minutes=1)
    comms.ok("incident", "assign", incident, "--tech-lead", "dave")
    return incident


def work_it(comms: Comms, incident: str) -> None:
    """Identified at 14:36, rolled back at 14:40, verified healthy at 14:44, resolved at 14:50."""
    comms.clock.advance(minutes=4)
    comms.ok("incident", "note", incident, "v42 shipped at 14:25; the errors start with it")
    comms.ok("incident", "status", incident, "identified", "-m", "bad deploy")
    comms.clock.advance(minutes=4)
    append(comms, incident, "mitigation_planned", PLANNED)
    append(comms, incident, "mitigation_applied", APPLIED)
    comms.clock.advance(minutes=4)
    append(comms, incident, "mitigation_verified", VERIFIED)
    comms.ok("incident", "status", incident, "monitoring")


def text(comms: Comms, kind: str, *args: str) -> tuple[str, str]:
    [draft] = comms.json("communicate", "preview", kind, *args)["data"]["drafts"]
    return draft["subject"], draft["text"]


def test_the_initial_notification_is_the_seeds_field_by_field_from_the_journal(comms: Comms) -> None:
    incident = declare(comms)
    subject, body = text(comms, "initial", "--to", "hook")
    assert subject == "[P2] High Incident - Gateway returns 502"
    assert body.splitlines()[:4] == [
        f"Incident ID: {incident}",
        "Severity: P2 - High",
        "Status: Investigating",
        "Start Time: 2026-03-14 14:30 UTC",
    ]
    assert "Description:\nThe gateway returns 502 for part of the search traffic.\n" in body
    # the impact the triage look saw: which part, why, how many users
    assert "- As of 14:31 UTC: gateway degraded\n" in body
    assert "- gateway: error_rate 0.14\n" in body
    assert "- Estimated 14% of users affected\n" in body
    assert "Next Update: 15m (by 2026-03-14 14:47 UTC)\n" in body  # the time, not only the interval
    assert "Incident Commander: carol\n" in body
    assert "Technical Lead: dave\n" in body


def test_a_status_update_with_no_options_says_what_the_timeline_holds(comms: Comms) -> None:
    incident = declare(comms)
    work_it(comms, incident)
    subject, body = text(comms, "update", "--to", "hook")
    assert subject == "[P2] Incident Update - Gateway returns 502"
    assert "Status: Monitoring\n" in body
    assert "Last Updated: 2026-03-14 14:44 UTC\n" in body
    progress = body.split("Progress:\n", 1)[1]
    assert "- 14:36 UTC note: v42 shipped at 14:25; the errors start with it\n" in progress
    assert "- 14:36 UTC status investigating → identified: bad deploy\n" in progress
    assert "- 14:40 UTC mitigation M1 applied: roll back deployment/gateway to revision 41 (1 write)\n" in progress
    assert "- 14:44 UTC mitigation M1 verified (gateway): healthy\n" in progress
    assert "- ETA for resolution: not yet known\n" in progress
    assert "Next Update: 15m (by 2026-03-14 14:59 UTC)\n" in body


def test_a_status_update_carries_the_responders_eta_root_cause_and_words(comms: Comms) -> None:
    declare(comms)
    _, body = text(
        comms,
        "update",
        "--to",
        "hook",
        "--update",
        "We found the cause.",
        "--root-cause",
        "a bad deploy (v42)",
        "--eta",
        "30 minutes",
        "--impact",
        "Search fails for 1 in 7 requests",
    )
    assert "Update:\nWe found the cause.\n" in body
    assert "- Root cause: a bad deploy (v42)\n" in body
    assert "- ETA for resolution: 30 minutes\n" in body
    assert "Impact:\n- Search fails for 1 in 7 requests\n\n" in body  # the responder's impact replaces the look's


def test_the_resolution_says_the_root_cause_the_downtime_and_the_impact(comms: Comms) -> None:
    incident = declare(comms)
    work_it(comms, incident)
    comms.clock.advance(minutes=6)
    comms.ok("incident", "status", incident, "resolved")
    _, body = text(
        comms, "resolution", incident, "--to", "hook", "--root-cause", "gateway v42 dropped upstream keep-alive"
    )
    assert "Status: Resolved\n" in body
    assert "Resolved Time: 2026-03-14 14:50 UTC\n" in body
    assert "- Root cause: gateway v42 dropped upstream keep-alive\n" in body
    assert "- Downtime: 14m\n" in body  # impact start 14:30 to the healthy verification at 14:44
    assert "- User impact: As of 14:31 UTC: gateway degraded; " in body
    assert "Estimated 14% of users affected\n" in body
    assert "Post-incident review will be conducted within 24h.\n" in body  # P2 needs one
    assert "Next Update" not in body


def test_the_executive_summary_and_the_support_note_say_the_journals_facts(comms: Comms) -> None:
    incident = declare(comms)
    work_it(comms, incident)
    _, summary = text(comms, "executive-summary", "--customer-impact", "1 in 7 searches failed", "--eta", "1 hour")
    assert "What happened: The gateway returns 502 for part of the search traffic.\n" in summary
    assert "Status: Monitoring (as of 2026-03-14 14:44 UTC)\n" in summary
    assert "- Estimated 14% of users affected\n" in summary
    assert "Customer impact: 1 in 7 searches failed\n" in summary
    assert "ETA for resolution: 1 hour\n" in summary
    assert "Downtime: 14m\n" in summary
    assert "Next update: by 2026-03-14 14:59 UTC\n" in summary

    _, support = text(comms, "support", "--customer-impact", "Some searches fail with an error")
    assert "What customers may notice:\nSome searches fail with an error\n" in support
    assert "Next update for support: 15m (by 2026-03-14 14:59 UTC)\n" in support


def test_the_status_page_names_no_internal_part_host_or_person(comms: Comms) -> None:
    incident = declare(comms)
    subject, body = text(comms, "status-page")
    assert subject == "Degraded performance"
    assert body == "We are investigating reports of degraded service. Next update by 14:47 UTC.\n"
    work_it(comms, incident)
    for status, says in [("identified", "identified the cause"), ("resolved", "has been resolved")]:
        comms.ok("incident", "status", incident, status)
        subject, body = text(comms, "status-page", incident, "--eta", "30 minutes")
        assert says in body
        for word in INTERNAL:
            assert word.lower() not in (subject + body).lower(), (status, word)


@pytest.mark.parametrize("kind", MESSAGE_KINDS)
def test_every_kind_renders_from_a_worked_journal_without_a_blank(comms: Comms, kind: str) -> None:
    incident = declare(comms)
    work_it(comms, incident)
    [draft] = comms.json("communicate", "preview", kind, "--to", "hook")["data"]["drafts"]
    rendered = draft["subject"] + "\n" + draft["text"]
    assert draft["subject"]
    for bad in ("None", "Undefined", "IncidentStatus."):
        assert bad not in rendered.split(), (kind, rendered)
    if kind != "status-page":
        assert incident in rendered or "Gateway returns 502" in rendered


def test_a_longer_update_can_come_from_a_file_or_stdin(comms: Comms, tmp_path: Path) -> None:
    declare(comms)
    notes = tmp_path / "update.txt"
    notes.write_text("We rolled back.\nErrors are falling.\n", encoding="utf-8")
    _, body = text(comms, "update", "--to", "hook", "--text-file", str(notes))
    assert "Update:\nWe rolled back.\nErrors are falling.\n" in body
    missing = comms.run("communicate", "preview", "update", "--text-file", str(tmp_path / "nope.txt"))
    assert missing.exit_code == 2
    assert "nope.txt" in missing.stderr.splitlines()[0]


def test_a_template_naming_what_the_journal_lacks_is_one_line_naming_file_and_line(comms: Comms) -> None:
    broken = comms.root / "status_update.md.j2"
    broken.write_text("Subject: {{ incident.title }}\n\nOwner: {{ incident.owner }}\n", encoding="utf-8")
    data = yaml.safe_load(comms.runbook_path.read_text(encoding="utf-8"))
    data["communication"]["templates"]["status_update"] = "status_update.md.j2"
    comms.runbook_path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    incident = declare(comms)
    for command in ("preview", "send"):
        result = comms.run("communicate", command, "update", "--to", "hook")
        assert result.exit_code == 2, result.stdout
        assert f"{broken}:3" in result.stderr
        assert "owner" in result.stderr
        assert "Traceback" not in result.stderr
    assert "messages_queued" not in [e["kind"] for e in comms.timeline(incident)]
