"""`incidentctl demo`: the whole flow on the built-in sandbox, with nothing but the package installed."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Invoke


def test_demo_runs_the_flow_and_leaves_a_journal(invoke: Invoke, tmp_path: Path) -> None:
    keep = tmp_path / "demo"
    result = invoke(["demo", "--scenario", "db-outage", "--keep", str(keep)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    for text in ("$ incidentctl detect", "datastore:postgres", "$ incidentctl triage --declare", "P2 High",
                 "rule p2-error-rate", "acknowledged", "— declared P2 High", "— triaged: P2"):
        assert text in out, text
    incidents = [p.name for p in (keep / "incidents").iterdir() if p.name.startswith("INC-")]
    assert len(incidents) == 1
    timeline = (keep / "incidents" / incidents[0] / "timeline.jsonl").read_text().splitlines()
    assert [json.loads(line)["kind"] for line in timeline] == ["declared", "triaged", "acknowledged"]
    assert (keep / "runbook.yaml").is_file()


def test_demo_refuses_machine_output_and_unknown_scenarios(invoke: Invoke) -> None:
    machine = invoke(["demo", "-o", "json"])
    assert machine.exit_code == 2
    assert "the demo is for people" in machine.stderr
    unknown = invoke(["demo", "--scenario", "meteor"])
    assert unknown.exit_code == 2
    assert "unknown scenario 'meteor'" in unknown.stderr
