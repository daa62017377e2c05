"""What `detect` and `triage --declare` write into an open incident, against the sandbox: a person's severity is
kept (and triage says what it would choose and why), only changes are recorded, and the impact starts with the
earliest evidence."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from tests.conftest import Invoke
from tests.phases.conftest import Site, run

from incidentctl.core.incident import parse_timestamp


def _triage(result: Any) -> dict[str, Any]:
    assert result.exit_code == 3, result.output
    doc = json.loads(result.stdout)
    assert doc["kind"] == "Triage"
    return doc["data"]  # type: ignore[no-any-return]


def _events(invoke: Invoke, site: Site, incident_id: str) -> list[dict[str, Any]]:
    doc = json.loads(run(invoke, site, "incident", "timeline", incident_id, "-o", "json").stdout)
    return list(doc["data"]["events"])


def _incident(invoke: Invoke, site: Site, incident_id: str) -> dict[str, Any]:
    doc = json.loads(run(invoke, site, "incident", "show", incident_id, "-o", "json").stdout)
    data = doc["data"]
    return dict(data.get("incident", data))


ALICE = {"INCIDENTCTL_ACTOR": "alice"}
BROKEN = "customers report checkout totally broken"


# --- a person's severity ----------------------------------------------------------------------------------------


def test_triage_keeps_a_severity_a_person_raised_and_says_what_it_would_choose(
    invoke: Invoke, site_for: Callable[..., Site]
) -> None:
    site = site_for("bad-deploy")
    incident_id = _triage(run(invoke, site, "triage", "--declare", "-o", "json"))["incident"]
    changed = invoke(site.args("incident", "severity", incident_id, "P1", "-m", BROKEN), env=ALICE)
    assert changed.exit_code == 0, changed.output

    data = _triage(run(invoke, site, "triage", "--declare", "-o", "json"))

    assert data["severity"] == "P2"  # what the runbook's rules choose
    decision = data["severityDecision"]
    assert decision["action"] == "kept"
    assert (decision["current"], decision["severity"], decision["proposed"]) == ("P1", "P1", "P2")
    assert decision["setBy"]["actor"] == "alice"
    assert decision["setBy"]["byPerson"] is True
    assert decision["setBy"]["message"] == BROKEN
    assert "(rule p2-error-rate)" in decision["because"]
    assert data["action"] == "unchanged"
    assert _incident(invoke, site, incident_id)["severity"] == "P1"
    changes = [e for e in _events(invoke, site, incident_id) if e["kind"] == "severity_changed"]
    assert [(c["actor"], c["data"]["to"]) for c in changes] == [("alice", "P1")]

    table = run(invoke, site, "triage", "--declare")
    assert table.exit_code == 3, table.output
    assert "kept P1 set by alice" in table.stdout
    assert BROKEN in table.stdout
    assert "triage would choose P2 because error_rate" in table.stdout
    assert "--force-severity" in table.stdout


def test_a_severity_a_person_declared_is_kept_too(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("bad-deploy")
    declared = invoke(site.args("incident", "declare", "-t", "checkout broken", "-s", "P1", "-o", "json"), env=ALICE)
    assert declared.exit_code == 0, declared.output
    incident_id = json.loads(declared.stdout)["data"]["id"]

    data = _triage(run(invoke, site, "triage", "--declare", "-o", "json"))

    assert data["incident"] == incident_id
    assert data["severityDecision"]["action"] == "kept"
    assert data["severityDecision"]["setBy"]["actor"] == "alice"
    assert _incident(invoke, site, incident_id)["severity"] == "P1"


def test_force_severity_lowers_a_persons_severity_and_says_so(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("bad-deploy")
    incident_id = _triage(run(invoke, site, "triage", "--declare", "-o", "json"))["incident"]
    invoke(site.args("incident", "severity", incident_id, "P1", "-m", BROKEN), env=ALICE)

    data = _triage(run(invoke, site, "triage", "--declare", "--force-severity", "-o", "json"))

    assert data["severityDecision"]["action"] == "lowered"
    assert data["severityDecision"]["forced"] is True
    assert data["action"] == "updated"
    assert _incident(invoke, site, incident_id)["severity"] == "P2"
    last = [e for e in _events(invoke, site, incident_id) if e["kind"] == "severity_changed"][-1]
    assert (last["data"]["from"], last["data"]["to"], last["data"]["rule"]) == ("P1", "P2", "p2-error-rate")
    assert last["data"]["forced"] is True


def test_force_severity_without_declare_is_a_usage_error(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    result = run(invoke, site_for("bad-deploy"), "triage", "--force-severity")
    assert result.exit_code == 2
    assert "--force-severity only applies with --declare" in result.stderr


def test_worse_evidence_raises_a_persons_severity_and_says_so(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("bad-deploy")
    incident_id = _triage(run(invoke, site, "triage", "--declare", "-o", "json"))["incident"]
    invoke(site.args("incident", "severity", incident_id, "P4", "-m", "looked cosmetic"), env=ALICE)

    data = _triage(run(invoke, site, "triage", "--declare", "-o", "json"))
    assert data["severityDecision"]["action"] == "raised"
    assert _incident(invoke, site, incident_id)["severity"] == "P2"

    invoke(site.args("incident", "severity", incident_id, "P3"), env=ALICE)
    table = run(invoke, site, "triage", "--declare")
    assert "raised P3 → P2" in table.stdout
    assert "worse than when P3 was set by alice" in table.stdout


# --- only changes are recorded ----------------------------------------------------------------------------------


def test_repeated_looks_that_see_the_same_record_nothing(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("bad-deploy")
    incident_id = _triage(run(invoke, site, "triage", "--declare", "-o", "json"))["incident"]
    for _ in range(3):
        assert run(invoke, site, "triage", "--declare", "-o", "json").exit_code == 3
        detected = run(invoke, site, "detect")
        assert detected.exit_code == 3
        assert "recorded in" not in detected.stderr
        assert f"{incident_id}: no change since" in detected.stderr
    again = run(invoke, site, "triage", "--declare", "-o", "json")
    assert json.loads(again.stdout)["data"]["action"] == "unchanged"

    assert [e["kind"] for e in _events(invoke, site, incident_id)] == ["declared", "triaged"]


def test_a_change_is_recorded(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    from kubernetes import client

    from incidentctl.sandbox.testing import load_client

    site = site_for("bad-deploy")
    incident_id = _triage(run(invoke, site, "triage", "--declare", "-o", "json"))["incident"]
    invoke(site.args("incident", "severity", incident_id, "P1", "-m", BROKEN), env=ALICE)
    assert run(invoke, site, "triage", "--declare", "-o", "json").exit_code == 3  # now it keeps P1: a change
    assert run(invoke, site, "triage", "--declare", "-o", "json").exit_code == 3  # the same again

    api = client.AppsV1Api(load_client(site.sandbox, site.kubeconfig.parent / "client-kubeconfig"))
    api.patch_namespaced_deployment_scale("gateway", "sarvanom-production", {"spec": {"replicas": 0}})
    site.sandbox.advance(120)
    worse = run(invoke, site, "detect")
    assert f"recorded in {incident_id}" in worse.stderr
    assert f"{incident_id}: no change since" in run(invoke, site, "detect").stderr

    kinds = [e["kind"] for e in _events(invoke, site, incident_id)]
    assert kinds == ["declared", "triaged", "severity_changed", "triaged", "detected"]


def test_a_report_that_cannot_be_written_is_an_error_and_the_record_says_so(site_for: Callable[..., Site]) -> None:
    """detect and triage record first (the timeline is the record of what was seen), then print; when stdout is
    full the command fails with one line that says so and what was recorded, never "internal error"."""
    if not os.path.exists("/dev/full"):
        pytest.skip("needs /dev/full (a device that is always full)")
    site = site_for("bad-deploy")
    env = {**os.environ, "INCIDENTCTL_ACTOR": "tester"}
    env.pop("INCIDENTCTL_RUNBOOK", None)
    base = [sys.executable, "-m", "incidentctl", *site.args()]

    def cli(*args: str, stdout: Any = subprocess.PIPE) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*base, *args], stdout=stdout, stderr=subprocess.PIPE, text=True, env=env, timeout=120, check=False
        )

    for n, args in enumerate((["triage", "--declare"], ["-o", "json", "detect"], ["detect"], ["-o", "json", "triage"])):
        with open("/dev/full", "w") as full:
            done = cli(*args, stdout=full)
        assert done.returncode == 2, (args, done.stderr)
        # the declaration was recorded, and says so; the later looks saw the same and recorded nothing
        assert ("INC-2026-001 has it recorded in its timeline" in done.stderr) is (n == 0), done.stderr
        assert "Traceback" not in done.stderr
        assert "internal error" not in done.stderr
        assert "cannot write the output to stdout: No space left on device" in done.stderr
    [incident] = json.loads(cli("incident", "list", "-o", "json").stdout)["data"]["items"]
    timeline = json.loads(cli("incident", "timeline", incident["id"], "-o", "json").stdout)["data"]["events"]
    assert [e["kind"] for e in timeline] == ["declared", "triaged"]


# --- when the impact began --------------------------------------------------------------------------------------


def test_the_impact_starts_with_the_oldest_firing_alert(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("bad-deploy")
    before = json.loads(run(invoke, site, "detect", "-o", "json").stdout)["data"]
    starts = [
        parse_timestamp(a["startsAt"])
        for c in before["checks"]
        if c["kind"] == "alerts"
        for a in c["observed"]["alerts"]
    ]
    oldest = min(starts)
    assert site.sandbox.clock.now() - oldest >= timedelta(minutes=5)  # the scenario has been on for a while

    result = run(invoke, site, "triage", "--declare", "-o", "json")
    data = _triage(result)

    incident = _incident(invoke, site, data["incident"])
    assert parse_timestamp(incident["startedAt"]) == oldest
    impact = data["impactStart"]
    assert parse_timestamp(impact["at"]) == oldest
    assert impact["source"] == "alert"
    assert "HighErrorRate" in impact["basis"]
    triaged = next(e for e in _events(invoke, site, data["incident"]) if e["kind"] == "triaged")
    assert triaged["data"]["impactStart"]["source"] == "alert"
    assert parse_timestamp(triaged["data"]["impactStart"]["at"]) == oldest

    table = run(invoke, site, "triage")
    assert "impact began" in table.stdout
    assert "oldest firing alert HighErrorRate" in table.stdout
