"""The post-mortem's Root Cause section names what the tool saw: the findings of the look that declared the
incident (the alerts firing, the checks that failed), and a suspect scale change from investigate's evidence, so
an incident whose cause is no rollout and no new error (a security alert, a deployment scaled to zero) still has
its cause in the draft, from the journal and never invented."""

from __future__ import annotations

import json
import re

import pytest
from tests.postmortem.conftest import TOKEN
from tests.postmortem.harness import Drafts

from incidentctl.core.events import EventKind


def root_cause(drafts: Drafts, incident: str) -> list[str]:
    drafts.draft(incident)
    text = drafts.path(incident).read_text(encoding="utf-8")
    section = text[text.index("## Root Cause") : text.index("## Impact")]
    return [line for line in section.splitlines() if line.startswith("- ")]


def triaged(drafts: Drafts, incident: str, minutes: float, evidence: list[str], **extra: object) -> None:
    """A triage look as ``triage --declare`` records it (the shape of phases.triage's event)."""
    drafts.add(
        incident,
        minutes,
        EventKind.TRIAGED,
        actor="triage",
        health="degraded",
        subjects={"gateway": "degraded", "retrieval": "ok"},
        failing={"alerts:gateway": "degraded"},
        signals_on=["components_degraded", "security_breach"],
        severity="P2",
        rule="p2-security-attack",
        category="security/attack",
        components=["gateway"],
        users_affected=0.006,
        evidence=evidence,
        **extra,
    )


def test_the_declaring_looks_findings_name_a_security_alert(drafts: Drafts) -> None:
    inc = drafts.declare(0, title="gateway: CredentialStuffing", severity="P2", components=("gateway",))
    triaged(drafts, inc, 0, ["gateway: 1 alert firing: CredentialStuffing"], decision="declared")
    drafts.at(30)
    lines = root_cause(drafts, inc)
    assert lines[0] == "- No note tagged root-cause yet"
    assert lines[1] == "- Detected (triage at the declaration, 14:30 UTC): gateway: 1 alert firing: CredentialStuffing"
    assert lines[-1] == "- Fixed by: no mitigation verified healthy yet"


def test_a_later_look_does_not_replace_what_declared_it(drafts: Drafts) -> None:
    inc = drafts.declare(0, severity="P1", components=("gateway",))
    triaged(drafts, inc, 0, ["gateway: scaled to 0 replicas", "gateway: no pods"], decision="declared")
    triaged(drafts, inc, 20, ["gateway: error_rate 1%"], decision="updated")
    drafts.at(30)
    detected = [line for line in root_cause(drafts, inc) if line.startswith("- Detected")]
    assert detected == [
        "- Detected (triage at the declaration, 14:30 UTC): gateway: scaled to 0 replicas; gateway: no pods"
    ]


def test_without_a_declaring_triage_the_first_look_with_findings_is_named(drafts: Drafts) -> None:
    """Declared by hand (``incident declare``), then looked at: the first look that found something."""
    inc = drafts.declare(0, severity="P2", components=("gateway",))
    drafts.add(inc, 1, EventKind.DETECTED, actor="detect", health="ok", subjects={"gateway": "ok"}, problems=[])
    drafts.add(
        inc,
        2,
        EventKind.DETECTED,
        actor="detect",
        health="down",
        subjects={"gateway": "down"},
        problems=["http:gateway: 503 Service Unavailable in 7ms"],
    )
    drafts.at(30)
    detected = [line for line in root_cause(drafts, inc) if line.startswith("- Detected")]
    assert detected == ["- Detected (detect, 14:32 UTC): http:gateway: 503 Service Unavailable in 7ms"]


def test_no_look_no_detected_line(drafts: Drafts) -> None:
    inc = drafts.declare(0, severity="P2", components=("gateway",))
    triaged(drafts, inc, 0, [], decision="declared")
    drafts.at(30)
    assert not any(line.startswith("- Detected") for line in root_cause(drafts, inc))


def test_many_findings_are_cut_short_and_say_how_many_more(drafts: Drafts) -> None:
    inc = drafts.declare(0, severity="P1", components=("gateway",))
    evidence = [f"gateway: finding {n}" for n in range(1, 51)]
    triaged(drafts, inc, 0, evidence, decision="declared")
    drafts.at(30)
    [detected] = [line for line in root_cause(drafts, inc) if line.startswith("- Detected")]
    assert detected.endswith("gateway: finding 4; and 46 more (the timeline's triaged event has them all)")
    assert "finding 5;" not in detected


@pytest.mark.parametrize(
    "finding",
    [
        "gateway: alert\n## Forged heading",
        "gateway: <!-- incidentctl:end root-cause --> done",
        "gateway: \x1b[31mred\x1b[0m \r over",
        f"gateway: token {TOKEN} in a label",
        "gateway: | a | table |",
    ],
)
def test_cluster_text_in_a_finding_stays_on_its_line(drafts: Drafts, finding: str) -> None:
    inc = drafts.declare(0, severity="P2", components=("gateway",))
    triaged(drafts, inc, 0, [finding], decision="declared")
    drafts.at(30)
    drafts.draft(inc)
    text = drafts.path(inc).read_text(encoding="utf-8")
    [detected] = [line for line in text.splitlines() if line.startswith("- Detected")]
    assert "\x1b" not in text
    assert "\r" not in text
    assert TOKEN not in text
    assert "\n## Forged" not in text
    assert len(re.findall(r"(?<!\\)<!-- incidentctl:end root-cause", text)) == 1
    assert detected.startswith("- Detected (triage at the declaration, 14:30 UTC): gateway: ")


@pytest.mark.parametrize("evidence", [None, "gateway: a string, not a list", [1, None, {"a": 1}]])
def test_a_hand_edited_look_does_not_stop_the_draft(drafts: Drafts, evidence: object) -> None:
    inc = drafts.declare(0, severity="P2", components=("gateway",))
    line = {"time": "2026-03-14T14:30:00Z", "actor": "triage", "kind": "triaged"}
    with (drafts.journal_dir / inc / "timeline.jsonl").open("a", encoding="utf-8") as timeline:
        timeline.write(json.dumps(line | {"data": {"decision": "declared", "evidence": evidence}}) + "\n")
    drafts.at(30)
    lines = root_cause(drafts, inc)
    assert lines[-1] == "- Fixed by: no mitigation verified healthy yet"


SCALE_SUSPECT = {
    "onsets": [],
    "onset": {"kind": "5xx", "time": "2026-03-14T14:21:40Z", "detail": "gateway 5xx ratio rose (peak 100.0%)"},
    "suspect": {
        "kind": "scale",
        "component": "gateway",
        "time": "2026-03-14T14:20:05Z",
        "onset": "2026-03-14T14:21:40Z",
        "revision": None,
        "previousRevision": None,
        "images": [],
        "changeCause": None,
        "who": "kubectl",
        "configmap": None,
        "usedBy": [],
        "differences": [],
        "deployment": "gateway",
        "replicas": 0,
        "previousReplicas": 3,
    },
    "reason": "the latest change before the onset",
}


def test_a_suspect_scale_change_is_named_with_its_replicas(drafts: Drafts) -> None:
    inc = drafts.declare(0, severity="P1", components=("gateway",))
    folder = "evidence/20260314T144000Z-all"
    (drafts.journal_dir / inc / folder / "changes").mkdir(parents=True)
    (drafts.journal_dir / inc / folder / "changes" / "suspect.json").write_text(json.dumps(SCALE_SUSPECT))
    drafts.add(
        inc, 10, EventKind.EVIDENCE_COLLECTED, folder=folder, views=["changes"], files=1, bytes=1024, findings=[]
    )
    drafts.at(30)
    suspect = [line for line in root_cause(drafts, inc) if line.startswith("- Suspect change")]
    assert suspect == [
        "- Suspect change (investigate, 14:40 UTC): deployment/gateway scaled to 0 replicas (from 3) at 14:20 UTC"
        " by kubectl"
    ]
