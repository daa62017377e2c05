"""`incidentctl incident assign`: the incident commander and the technical lead, journaled, folded, shown."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from tests.cli.test_incident_cli import Cli

HOSTILE = "\x1b]0;pwned\x07eve\nTechnical Lead: mallory\u202e"


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path / "incidents")


def timeline_lines(cli: Cli, incident_id: str) -> list[dict[str, object]]:
    path = cli.journal_dir / incident_id / "timeline.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def show_rows(cli: Cli, incident_id: str) -> dict[str, str]:
    out = cli.ok("incident", "show", incident_id).stdout
    return {line.split("  ", 1)[0]: line.split("  ", 1)[1].strip() for line in out.splitlines() if "  " in line}


def test_roles_are_assigned_journaled_and_shown(cli: Cli) -> None:
    incident_id = cli.declare()
    cli.clock.advance(minutes=3)
    result = cli.ok("incident", "assign", incident_id, "--commander", "carol", "--tech-lead", "dave")
    assert result.stdout == f"{incident_id}: roles: incident commander carol, technical lead dave\n"

    last = timeline_lines(cli, incident_id)[-1]
    assert uuid.UUID(str(last.pop("id")))
    assert last == {
        "time": "2026-03-14T14:33:00Z",
        "actor": "alice",
        "kind": "roles_assigned",
        "data": {"commander": "carol", "tech_lead": "dave"},
    }
    incident = cli.json("incident", "show", incident_id)["data"]
    assert incident["commander"] == "carol"
    assert incident["techLead"] == "dave"
    rows = show_rows(cli, incident_id)
    assert rows["Commander"] == "carol"
    assert rows["Tech lead"] == "dave"
    markdown = cli.ok("incident", "timeline", incident_id, "-o", "markdown").stdout.splitlines()
    assert markdown[-1] == "- 14:33:00 UTC — roles: incident commander carol, technical lead dave (alice)"


def test_one_role_changes_alone_and_the_other_stays(cli: Cli) -> None:
    incident_id = cli.declare("Search is slow", "P2", "--commander", "carol", "--tech-lead", "dave")
    assert show_rows(cli, incident_id)["Tech lead"] == "dave"
    document = cli.json("incident", "assign", incident_id, "--tech-lead", "erin")
    assert document["kind"] == "Event"
    assert document["data"]["recorded"] is True
    assert document["data"]["event"]["data"] == {"techLead": "erin"}
    assert document["data"]["incident"]["commander"] == "carol"
    assert document["data"]["incident"]["techLead"] == "erin"


def test_assigning_whom_the_role_already_has_records_nothing(cli: Cli) -> None:
    incident_id = cli.declare("x", "P3", "--commander", "carol")
    again = cli.ok("incident", "assign", incident_id, "--commander", " carol ")
    assert again.stdout == ""
    assert f"{incident_id} already has these roles; nothing recorded" in again.stderr
    document = cli.json("incident", "assign", incident_id, "--commander", "carol")
    assert document["data"]["recorded"] is False
    assert len(timeline_lines(cli, incident_id)) == 1


@pytest.mark.parametrize("empty", ["", "   ", "\t\n"])
def test_an_empty_name_clears_the_role(cli: Cli, empty: str) -> None:
    incident_id = cli.declare("x", "P3", "--commander", "carol", "--tech-lead", "dave")
    result = cli.ok("incident", "assign", incident_id, "--tech-lead", empty)
    assert result.stdout == f"{incident_id}: roles: no technical lead\n"
    assert timeline_lines(cli, incident_id)[-1]["data"] == {"tech_lead": None}
    incident = cli.json("incident", "show", incident_id)["data"]
    assert incident["techLead"] is None
    assert incident["commander"] == "carol"
    assert show_rows(cli, incident_id)["Tech lead"] == "-"
    cleared_again = cli.ok("incident", "assign", incident_id, "--tech-lead", "")
    assert "nothing recorded" in cleared_again.stderr


def test_naming_no_role_is_a_usage_error(cli: Cli) -> None:
    incident_id = cli.declare()
    result = cli("incident", "assign", incident_id)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: name a role to assign: --commander NAME, --tech-lead NAME")
    assert "Traceback" not in result.stderr
    assert len(timeline_lines(cli, incident_id)) == 1


def test_assigning_in_an_incident_that_does_not_exist_says_so(cli: Cli) -> None:
    result = cli("incident", "assign", "INC-2026-999", "--commander", "carol")
    assert result.exit_code == 2
    assert "error: incident INC-2026-999 not found" in result.stderr


def test_a_name_is_kept_as_given_and_shown_safely(cli: Cli) -> None:
    incident_id = cli.declare()
    shown = cli.ok("incident", "assign", incident_id, "--commander", HOSTILE, "--tech-lead", "dave")
    assert timeline_lines(cli, incident_id)[-1]["data"] == {"commander": HOSTILE, "tech_lead": "dave"}  # evidence
    outputs = [
        shown.stdout,
        cli.ok("incident", "show", incident_id).stdout,
        cli.ok("incident", "timeline", incident_id).stdout,
        cli.ok("incident", "timeline", incident_id, "-o", "markdown").stdout,
    ]
    for out in outputs:
        assert "\x1b" not in out
        assert "\x07" not in out
        assert "\u202e" not in out
        assert not any(line.startswith("Technical Lead: mallory") for line in out.splitlines())
    assert show_rows(cli, incident_id)["Commander"] == "eve ⏎ Technical Lead: mallory\\u202e"
