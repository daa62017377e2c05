"""`incidentctl sandbox history`: a journal of realistic past incidents, written as real runs write them, that
every reader reads back; its proportions as promised; the same seed, the same bytes; bad input refused clearly."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from incidentctl.cli.app import app
from incidentctl.cli.state import AppState
from incidentctl.core import events
from incidentctl.core.events import CorrectedPayload, DeclaredPayload, EventKind, Milestone
from incidentctl.core.incident import Event, Incident, IncidentStatus
from incidentctl.core.postmortem import action_items, completed_stages
from incidentctl.core.times import parse_rfc3339
from incidentctl.journal.store import Journal
from incidentctl.runbook.loader import load_runbook
from incidentctl.runbook.model import Runbook

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
#: The machine's clock in these tests: a day after NOW, so that a default --now would show.
LATER = NOW + timedelta(days=1)


def run(root: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    state = AppState(cwd=root, env={"INCIDENTCTL_ACTOR": "tester", **(env or {})}, clock=lambda: LATER)
    return CliRunner().invoke(app, list(args), obj=state)


def _workdir(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "runbook.yaml").write_text((REPO / "runbook.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    return root


class Written:
    """One generated history, read back through the journal store as every command reads it."""

    def __init__(self, root: Path, document: dict[str, Any]) -> None:
        self.root = root
        self.document = document
        self.journal = Journal(root / "incidents", clock=lambda: NOW, actor="reader")
        self.incidents: list[Incident] = self.journal.incidents()
        self.timelines: dict[str, list[Event]] = {i.id: self.journal.timeline(i.id) for i in self.incidents}
        self.runbook: Runbook = load_runbook(root / "runbook.yaml")


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Written:
    root = _workdir(tmp_path_factory.mktemp("history"))
    args = ["sandbox", "history", "--incidents", "200", "--days", "90", "--now", "2026-12-01T12:00:00Z", "-o", "json"]
    result = run(root, *args)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return Written(root, json.loads(result.stdout))


def test_the_journal_reads_back_through_the_store_and_the_cli(written: Written) -> None:
    assert len(written.incidents) == 200
    assert written.journal.drain_warnings() == []
    assert not any(i.damaged for i in written.incidents)
    for incident_id, timeline in written.timelines.items():
        assert timeline[0].kind == EventKind.DECLARED
        assert [e.time for e in timeline] == sorted(e.time for e in timeline), incident_id
        for event in timeline:
            events.parse(event.kind, event.data)  # every line is a registered kind with its payload
    listed = run(written.root, "incident", "list", "--all", "-o", "json")
    assert listed.exit_code == 0, listed.stderr
    assert len(json.loads(listed.stdout)["data"]["items"]) == 200
    oldest = min(written.incidents, key=lambda i: i.declared_at)
    shown = run(written.root, "incident", "timeline", oldest.id)
    assert shown.exit_code == 0, shown.stderr
    assert "acknowledged" in shown.stdout


def test_the_summary_says_what_was_written(written: Written) -> None:
    data = written.document["data"]
    assert written.document["kind"] == "SandboxHistory"
    assert data["incidents"] == 200
    assert data["events"] == sum(len(t) for t in written.timelines.values())
    assert data["bySeverity"] == dict(Counter(i.severity for i in _declared(written)))
    assert data["open"] == sum(i.status is not IncidentStatus.RESOLVED for i in written.incidents)
    assert data["now"] == "2026-12-01T12:00:00Z"


def _declared(written: Written) -> list[Any]:
    return [_declaration(t) for t in written.timelines.values()]


def _declaration(timeline: Sequence[Event]) -> DeclaredPayload:
    return DeclaredPayload.model_validate(dict(timeline[0].data))


def test_severities_in_realistic_proportions_and_the_runbook_s_names(written: Written) -> None:
    declared = _declared(written)
    assert Counter(d.severity for d in declared) == {"P1": 10, "P2": 40, "P3": 80, "P4": 70}
    components = {c.name for c in written.runbook.components}
    categories = {f"{g}/{k}" for g, c in written.runbook.categories.items() for k in c.kinds}
    assert {c for d in declared for c in d.components} == components
    assert {d.category for d in declared} <= categories
    groups = Counter(d.category.split("/")[0] for d in declared)
    assert groups["application"] > groups["infrastructure"] > groups["security"] > 0


def test_impacts_start_before_declaration_within_the_window_and_some_are_corrected(written: Written) -> None:
    begin = NOW - timedelta(days=90)
    corrected = 0
    for incident in written.incidents:
        timeline = written.timelines[incident.id]
        assert begin <= incident.started_at < incident.declared_at <= NOW
        assert all(e.time <= NOW for e in timeline)
        fixes = [CorrectedPayload.model_validate(dict(e.data)) for e in timeline if e.kind == EventKind.CORRECTED]
        if fixes:
            corrected += 1
            fix = fixes[-1]
            assert fix.started_at is not None
            assert fix.was_started_at is not None
            assert incident.started_at == parse_rfc3339(fix.started_at)  # the fold uses the corrected start
            assert parse_rfc3339(fix.was_started_at) > incident.started_at
    assert 10 <= corrected <= 60
    assert corrected == written.document["data"]["corrected"]


def test_acknowledgement_mostly_within_the_response_time_and_escalations_for_some(written: Written) -> None:
    within = beyond = 0
    for incident in written.incidents:
        if incident.acknowledged_at is None:
            continue
        declared = _declaration(written.timelines[incident.id])
        limit = written.runbook.severities[declared.severity].response_time
        late = incident.acknowledged_at - incident.declared_at > limit
        beyond += late
        within += not late
    assert beyond > 0
    assert within > 3 * beyond
    escalated = [i for i in written.incidents if any(e.kind == EventKind.ESCALATED for e in written.timelines[i.id])]
    assert 0 < len(escalated) < len(written.incidents)
    assert all(any(e.kind == EventKind.ESCALATED for e in written.timelines[i.id]) for i in _of(written, "P1"))


def _of(written: Written, severity: str) -> list[Incident]:
    return [i for i in written.incidents if _declaration(written.timelines[i.id]).severity == severity]


def test_the_flow_of_each_resolved_incident_and_a_few_reopened(written: Written) -> None:
    reopened = [i for i in written.incidents if i.reopened]
    assert 1 <= len(reopened) <= 20
    for incident in written.incidents:
        timeline = written.timelines[incident.id]
        kinds = [e.kind for e in timeline]
        reached = events.milestones(timeline)
        if incident.status is not IncidentStatus.RESOLVED:
            continue
        for kind in (EventKind.MITIGATION_PLANNED, EventKind.MITIGATION_APPLIED, EventKind.MITIGATION_VERIFIED):
            assert kind in kinds, (incident.id, kind)
        statuses = [e.data["to"] for e in timeline if e.kind == EventKind.STATUS_CHANGED]
        assert statuses[:3] == ["identified", "monitoring", "resolved"], incident.id
        assert reached[Milestone.DETECTED] <= reached[Milestone.ACKNOWLEDGED] <= reached[Milestone.MITIGATED]
        assert reached[Milestone.MITIGATED] <= reached[Milestone.RESOLVED] == incident.resolved_at


def test_the_newest_incidents_are_still_open(written: Written) -> None:
    still_open = [i for i in written.incidents if i.status is not IncidentStatus.RESOLVED]
    assert 1 <= len(still_open) <= 6
    newest = sorted(written.incidents, key=lambda i: i.declared_at)[-10:]
    assert set(still_open) <= set(newest)


def test_messages_queued_then_sent_and_updates_mostly_on_time(written: Written) -> None:
    on_time = late = 0
    for incident in written.incidents:
        timeline = written.timelines[incident.id]
        queued = {m["key"]: e.time for e in timeline if e.kind == EventKind.MESSAGES_QUEUED for m in e.data["messages"]}
        sent = {e.data["key"]: e.time for e in timeline if e.kind == EventKind.MESSAGE_SENT}
        assert queued or incident.acknowledged_at is None, incident.id
        assert set(sent) <= set(queued)
        assert all(sent[key] >= queued[key] for key in sent)
        interval = written.runbook.severities[incident.severity].update_interval
        cadence = sorted(
            e.time for e in timeline if e.kind == EventKind.MESSAGES_QUEUED and e.data["kind"] in ("initial", "update")
        )
        for before, after in itertools.pairwise(cadence):
            on_time += after - before <= interval
            late += after - before > interval
    assert late > 0
    assert on_time > 3 * late


def test_post_mortems_action_items_and_review_stages(written: Written) -> None:
    required = written.runbook.postmortem.required_for
    stages = set(written.runbook.postmortem.stages)
    complete = needing = 0
    fates: Counter[str] = Counter()
    for incident in written.incidents:
        timeline = written.timelines[incident.id]
        items = action_items(incident.id, timeline)
        if incident.severity not in required:
            continue
        if incident.status is not IncidentStatus.RESOLVED:
            continue
        needing += 1
        complete += set(completed_stages(timeline)) == stages
        for item in items:
            assert item.owner
            assert item.due
            fates[
                "on time"
                if item.done_on_time
                else "late"
                if item.done_at
                else "overdue"
                if item.is_overdue(NOW)
                else "open"
            ] += 1
    assert needing >= 40
    assert 0.6 * needing <= complete < needing
    assert fates["on time"] > fates["late"] > 0
    assert fates["overdue"] > 0


def test_the_same_seed_writes_the_same_bytes_and_another_seed_another_history(tmp_path: Path) -> None:
    def files(root: Path, *args: str) -> dict[str, bytes]:
        _workdir(root)
        result = run(
            root, "sandbox", "history", "--incidents", "25", "--days", "20", "--now", "2026-12-01T12:00Z", *args
        )
        assert result.exit_code == 0, result.stderr
        folder = root / "incidents"
        return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}

    first = files(tmp_path / "a", "--seed", "5")
    assert any(name.endswith("timeline.jsonl") for name in first)
    assert files(tmp_path / "b", "--seed", "5") == first
    assert files(tmp_path / "c", "--seed", "6") != first


def test_the_configured_journal_is_written_and_the_clock_ends_it_by_default(tmp_path: Path) -> None:
    root = _workdir(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    result = run(
        root, "sandbox", "history", "--incidents", "3", "--days", "2", env={"INCIDENTCTL_JOURNAL": str(elsewhere)}
    )
    assert result.exit_code == 0, result.stderr
    assert str(elsewhere) in result.stdout
    assert not (root / "incidents").exists()
    written = Journal(elsewhere, clock=lambda: LATER, actor="reader").incidents()
    assert len(written) == 3
    assert all(LATER - timedelta(days=2) <= i.started_at <= LATER for i in written)
    flag = run(root, "sandbox", "history", "--incidents", "2", "--journal", "mine", "-o", "json")
    assert flag.exit_code == 0, flag.stderr
    assert json.loads(flag.stdout)["data"]["journal"] == str(root / "mine")


def test_a_journal_that_has_incidents_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    root = _workdir(tmp_path)
    declared = run(root, "incident", "declare", "--title", "a real one", "--severity", "P2")
    assert declared.exit_code == 0, declared.stderr
    before = (root / "incidents" / declared.stdout.strip() / "timeline.jsonl").read_bytes()
    result = run(root, "sandbox", "history", "--incidents", "5")
    assert result.exit_code == 2
    assert result.stdout == ""
    line = result.stderr.splitlines()[0]
    assert line.startswith("error: ")
    assert str(root / "incidents") in line
    assert "1 incident" in line
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in (root / "incidents").iterdir() if p.is_dir()) == [declared.stdout.strip()]
    assert (root / "incidents" / declared.stdout.strip() / "timeline.jsonl").read_bytes() == before


BAD = [
    pytest.param(["--incidents", "0"], "--incidents", id="no-incidents"),
    pytest.param(["--incidents", "-1"], "--incidents", id="negative-incidents"),
    pytest.param(["--incidents", str(10**9)], "--incidents", id="too-many-incidents"),
    pytest.param(["--incidents", "many"], "--incidents", id="not-a-number"),
    pytest.param(["--days", "0"], "--days", id="no-days"),
    pytest.param(["--days", "-5"], "--days", id="negative-days"),
    pytest.param(["--days", "100000"], "--days", id="too-many-days"),
    pytest.param(["--now", "yesterday-ish"], "--now", id="bad-now"),
    pytest.param(["--seed", "x"], "--seed", id="bad-seed"),
]


@pytest.mark.parametrize(("args", "mentions"), BAD)
def test_bad_input_is_one_clear_line_and_writes_nothing(tmp_path: Path, args: Sequence[str], mentions: str) -> None:
    root = _workdir(tmp_path)
    result = run(root, "sandbox", "history", *args)
    assert result.exit_code == 2, result.stdout
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: "), result.stderr
    assert mentions in lines[0]
    assert "Traceback" not in result.stderr
    assert not (root / "incidents").exists()


@pytest.mark.parametrize(("incidents", "days"), [(0, 10), (-1, 10), (10**9, 10), (5, 0), (5, -1)])
def test_the_generator_refuses_the_same_counts_for_callers_in_python(tmp_path: Path, incidents: int, days: int) -> None:
    from incidentctl.errors import UsageError
    from incidentctl.sandbox.past_incidents import write_history

    runbook = load_runbook(REPO / "runbook.yaml")
    with pytest.raises(UsageError, match="--incidents" if days > 0 else "--days"):
        write_history(runbook, tmp_path / "j", incidents=incidents, days=days, seed=1, now=NOW)
    assert not (tmp_path / "j").exists()


def test_a_journal_folder_that_cannot_be_written_is_said_before_any_work(tmp_path: Path) -> None:
    root = _workdir(tmp_path)
    (root / "a-file").write_text("not a folder", encoding="utf-8")
    result = run(root, "sandbox", "history", "--incidents", "5", "--journal", "a-file/incidents")
    assert result.exit_code == 2, result.stdout
    line = result.stderr.splitlines()[0]
    assert line.startswith("error: ")
    assert str(root / "a-file" / "incidents") in line
    assert "Traceback" not in result.stderr
    assert (root / "a-file").read_text(encoding="utf-8") == "not a folder"
