"""Every template that ships with incidentctl renders, strictly (a name the context lacks is an error, never a
silent fallback), from the context the tool builds for it: for an incident just declared, and for one worked
through to resolution with its roles, notes and a reopening. A template added to templates/ is covered here
without a change."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from incidentctl.adapters.templates import names_used, render_template
from incidentctl.bundled import bundled_templates_dir
from incidentctl.core.incident import Event, EventKind, fold
from incidentctl.errors import RunbookError
from incidentctl.runbook.loader import load_runbook
from incidentctl.runbook.model import Runbook
from incidentctl.runbook.templates import ActionItem, template_context

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2025, 9, 9, 14, 30, tzinfo=timezone.utc)
#: Block Kit templates are rendered as JSON with the message too: tests/communicate/test_slack_templates.py; the
#: report's template is about many incidents and has a context of its own: tests/report/test_report_markdown.py
TEMPLATES = sorted(
    p for p in bundled_templates_dir().glob("*.j2") if not p.name.endswith(".json.j2") and p.name != "report.md.j2"
)


@pytest.fixture(scope="module")
def rb() -> Runbook:
    return load_runbook(REPO / "runbook.yaml")


def at(minutes: float, kind: str, actor: str = "alice", **data: Any) -> Event:
    return Event(T0 + timedelta(minutes=minutes), actor, kind, data)


DECLARED = at(
    0,
    EventKind.DECLARED,
    id="INC-2025-001",
    title="Service Outage",
    severity="P1",
    status="investigating",
    components=["gateway", "postgres"],
    category="infrastructure/database",
    summary="All API endpoints return errors",
    started_at="2025-09-09T14:22:00Z",
)

WORKED = [
    DECLARED,
    at(2, EventKind.ACKNOWLEDGED, actor="bob"),
    at(3, EventKind.ROLES_ASSIGNED, commander="carol", tech_lead="dave"),
    at(10, EventKind.NOTE, actor="dave", text="connection pool exhausted on postgres-0"),
    at(12, EventKind.STATUS_CHANGED, **{"from": "investigating", "to": "identified"}),
    at(30, EventKind.STATUS_CHANGED, **{"from": "identified", "to": "monitoring", "message": "pool raised"}),
    at(45, EventKind.STATUS_CHANGED, **{"from": "monitoring", "to": "resolved"}),
    at(50, EventKind.STATUS_CHANGED, **{"from": "resolved", "to": "investigating", "message": "errors back"}),
    at(60, EventKind.STATUS_CHANGED, **{"from": "investigating", "to": "resolved"}),
]


def fresh(rb: Runbook) -> dict[str, Any]:
    """What a phase has right after the declaration: nothing but the incident and the runbook."""
    return template_context(rb, fold([DECLARED]), [DECLARED], now=T0 + timedelta(minutes=1))


def worked(rb: Runbook) -> dict[str, Any]:
    """Everything a phase may give, for an incident worked through to its end."""
    return template_context(
        rb,
        fold(WORKED),
        WORKED,
        now=T0 + timedelta(minutes=70),
        impact=["Complete service unavailability", "Estimated 100% user impact"],
        update="Root cause identified: database connection failure",
        progress=["Fix in progress: restarting database services"],
        resolution="Database services restarted; all systems operational",
        summary=["Root cause: database connection failure", "Downtime: 45 minutes"],
        root_cause="The connection pool was sized for last year's traffic",
        impact_summary="All users, 38 minutes",
        lessons="Alert on pool saturation",
        customer_impact="API unavailable for all customers",
        next_steps="Resize the pool in every region",
        action_items=[ActionItem("Alert on pool saturation", owner="dave", due="2025-09-16", done=True)],
    )


def test_templates_are_bundled() -> None:
    assert {p.name for p in TEMPLATES} >= {"initial_notification.md.j2", "post_mortem.md.j2"}


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_the_context_names_everything_a_bundled_template_uses(rb: Runbook, template: Path) -> None:
    """Checked on the source, so a name in a branch the renders below do not take is covered too."""
    assert names_used(template) <= set(fresh(rb)), template.name


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
@pytest.mark.parametrize("context", [fresh, worked], ids=["fresh", "worked"])
def test_every_bundled_template_renders_strictly(rb: Runbook, template: Path, context: Any) -> None:
    text = render_template(template, context(rb))
    assert text.strip()
    assert "Undefined" not in text
    assert "IncidentStatus." not in text  # an enum's repr instead of its value
    if template.name == "status_page.md.j2":  # public: names neither the incident's internal id nor its title
        assert "INC-2025-001" not in text
        assert "Service Outage" not in text
    else:
        assert "INC-2025-001" in text or "Service Outage" in text
    for line in text.splitlines():
        assert "None" not in line.split(), (template.name, line)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_a_template_that_names_the_roles_shows_who_holds_them(rb: Runbook, template: Path) -> None:
    source = template.read_text(encoding="utf-8")
    if "Technical Lead" not in source:
        pytest.skip("this template does not name the roles")
    assert "Technical Lead: not assigned" in render_template(template, fresh(rb))
    text = render_template(template, worked(rb))
    assert "Incident Commander: carol" in text
    assert "Technical Lead: dave" in text


def test_the_notifications_read_like_the_runbook(rb: Runbook) -> None:
    folder = bundled_templates_dir()
    initial = render_template(folder / "initial_notification.md.j2", fresh(rb))
    assert initial.startswith("Subject: [P1] Critical Incident - Service Outage\n")
    assert "Status: Investigating\n" in initial
    assert "Start Time: 2025-09-09 14:22 UTC\n" in initial
    assert "Next Update: 15m (by 2025-09-09 14:46 UTC)\n" in initial  # the P1's interval, and when that is

    resolution = render_template(folder / "resolution_notification.md.j2", worked(rb))
    assert "Resolved Time: 2025-09-09 15:30 UTC\n" in resolution  # the last resolution, after the reopening
    assert "Post-incident review will be conducted within 24h.\n" in resolution

    summary = render_template(folder / "executive_summary.md.j2", worked(rb))
    assert "Status: Resolved (as of 2025-09-09 15:40 UTC)" in summary
    assert "- Mean Time to Response: 2m\n" in summary  # declared -> acknowledged, from the journal's milestones

    post_mortem = render_template(folder / "post_mortem.md.j2", worked(rb))
    # impact start -> resolution (nothing was verified healthy, so the service was back when it was resolved)
    assert "**Duration**: 1h8m (2025-09-09 14:22 UTC until 2025-09-09 15:30 UTC)\n" in post_mortem
    assert "- 2025-09-09 14:40 UTC - connection pool exhausted on postgres-0 (dave)\n" in post_mortem
    assert "- 2025-09-09 14:33 UTC - roles: incident commander carol, technical lead dave (alice)\n" in post_mortem


def test_user_text_cannot_forge_a_header_or_reach_a_terminal(rb: Runbook) -> None:
    hostile = "Gateway slow\nBcc: everyone@example.com\x1b]0;pwned\x07"
    declared = at(0, EventKind.DECLARED, id="INC-2025-002", title=hostile, severity="P2", status="investigating")
    roles = at(1, EventKind.ROLES_ASSIGNED, commander="eve\r\nTechnical Lead: mallory")
    timeline = [declared, roles]
    context = template_context(rb, fold(timeline), timeline, now=T0 + timedelta(minutes=2))
    text = render_template(bundled_templates_dir() / "initial_notification.md.j2", context)
    assert "\nBcc:" not in text
    assert "\x1b" not in text
    assert "\x07" not in text
    assert [line for line in text.splitlines() if line.startswith("Technical Lead:")] == [
        "Technical Lead: not assigned"
    ]
    assert text.splitlines()[0].startswith("Subject: [P2] High Incident - Gateway slow ⏎ Bcc:")


def test_a_template_naming_what_the_context_lacks_is_an_error_that_says_where(tmp_path: Path, rb: Runbook) -> None:
    broken = tmp_path / "status_update.md.j2"
    broken.write_text("Subject: {{ incident.title }}\n\nOwner: {{ incident.owner }}\n", encoding="utf-8")
    with pytest.raises(RunbookError) as caught:
        render_template(broken, fresh(rb))
    assert caught.value.where == f"{broken}:3"
    assert "owner" in caught.value.message


def test_a_template_that_is_not_jinja_says_where(tmp_path: Path, rb: Runbook) -> None:
    broken = tmp_path / "status_update.md.j2"
    broken.write_text("Subject: fine\n{% if incident.title %}\nno end\n", encoding="utf-8")
    with pytest.raises(RunbookError) as caught:
        render_template(broken, fresh(rb))
    assert caught.value.where is not None
    assert caught.value.where.startswith(f"{broken}:")
