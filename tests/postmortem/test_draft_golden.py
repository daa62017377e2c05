"""``postmortem draft`` on journals with known times matches the golden documents to the byte: a resolved P1 worked
through root cause, mitigation, escalation, messages and action items; and an incident with nothing but its
declaration, where every section says it is being assessed or still to be written and nothing is invented.

After an intended change of the document: ``INCIDENTCTL_UPDATE_GOLDEN=1 pytest tests/postmortem`` rewrites the
golden files; review their diff like any other change.
"""

from __future__ import annotations

import json
import os

from tests.postmortem.harness import DAY, GOLDEN, Drafts, resolved_p1

from incidentctl.core.postmortem_doc import part_names

EVERY_SECTION = [
    "Summary",
    "Root Cause",
    "Impact",
    "Resolution",
    "Lessons Learned",
    "Contributing Factors",
    "Action Items",
    "Improvement Areas",
]


def _matches(name: str, text: str) -> None:
    golden = GOLDEN / name
    if os.environ.get("INCIDENTCTL_UPDATE_GOLDEN") == "1":
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


def test_a_resolved_p1_matches_its_golden_post_mortem(drafts: Drafts) -> None:
    inc = resolved_p1(drafts)
    drafts.at(6 * DAY)
    data = drafts.draft(inc)
    assert data["path"] == str(drafts.path(inc))
    assert data["created"] is True
    assert data["written"] is True
    assert data["toWrite"] == EVERY_SECTION
    _matches("resolved-p1.md", drafts.path(inc).read_text(encoding="utf-8"))


def test_the_p1_post_mortem_says_what_the_journal_knows(drafts: Drafts) -> None:
    inc = resolved_p1(drafts)
    drafts.at(6 * DAY)
    drafts.draft(inc)
    text = drafts.path(inc).read_text(encoding="utf-8")
    # the corrected impact start counts: 14:21:40 until the rollback was verified healthy at 14:50
    assert "**Duration**: 28m20s (2026-03-14 14:21 UTC until 2026-03-14 14:50 UTC)\n" in text
    assert "0.066% availability lost against the 99.9% SLO" in text  # 1700 s of 30 days
    assert "65.6% of the error budget (43m12s) consumed" in text
    assert "- Suspect change (investigate, 14:40 UTC): synthesis revision 4" in text
    assert "New error template (investigate, 14:40 UTC): ERROR upstream \\<\\*\\> timed out" in text
    assert "WARN slow query" not in text  # a steady template is not a new one
    assert "- Fixed by: mitigation M1: roll synthesis back to revision 3, verified healthy" in text
    assert "- [ ] A2 Page on timeout changes (Owner: erin, Due: 2026-03-16) (overdue)\n" in text
    assert "- Detailed analysis (within 72h of the resolution): overdue since 2026-03-17 15:10 UTC\n" in text
    assert "    Impact :crit, t1, 2026-03-14 14:21:40, 2026-03-14 14:50:00\n" in text


def test_an_incident_with_only_its_declaration_invents_nothing(drafts: Drafts) -> None:
    inc = drafts.declare(0, title="Checkout slow", severity="P2", components=("gateway",))
    drafts.at(10)
    data = drafts.draft(inc)
    assert data["toWrite"] == EVERY_SECTION
    text = drafts.path(inc).read_text(encoding="utf-8")
    _matches("open-declared.md", text)
    assert "users affected: being assessed" in text
    assert "- Users affected: being assessed (no detect or triage look)\n" in text
    assert "- No note tagged root-cause yet\n" in text
    assert "- Fixed by: no mitigation verified healthy yet\n" in text
    assert "- Not resolved yet\n" in text
    assert "the deadline starts when the incident is resolved" in text
    assert "healthy" not in text.replace("verified healthy yet", "")


def test_the_draft_is_journalled_with_what_is_left_to_write(drafts: Drafts) -> None:
    inc = drafts.declare(0)
    drafts.at(5)
    drafts.draft(inc)
    lines = (drafts.journal_dir / inc / "timeline.jsonl").read_text(encoding="utf-8").splitlines()
    last = json.loads(lines[-1])
    assert last["kind"] == "postmortem_drafted"
    assert last["data"]["path"] == str(drafts.path(inc))
    assert last["data"]["to_write"] == EVERY_SECTION
    assert last["data"]["kept"] == []
    assert part_names(drafts.path(inc).read_text(encoding="utf-8"))[:3] == ["header", "summary", "timeline"]
