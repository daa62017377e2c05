"""Drafting again after a person worked on the document: what they wrote survives, what the journal wrote and
nobody touched follows the journal, and a file that cannot be merged or written is left as it was with one line
saying why."""

from __future__ import annotations

import json
import os

import pytest
from tests.postmortem.harness import DAY, Drafts, resolved_p1

from incidentctl.core.events import EventKind
from incidentctl.core.postmortem_doc import Part, parse, part_names

PROMPT = "**To write:** the root cause in your words: why the change or the fault had this effect, and why nothing "


def _kinds(d: Drafts, inc: str) -> list[str]:
    lines = (d.journal_dir / inc / "timeline.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["kind"] for line in lines]


def test_edits_survive_and_untouched_parts_follow_new_events(drafts: Drafts) -> None:
    inc = resolved_p1(drafts)
    drafts.at(6 * DAY)
    drafts.draft(inc)
    path = drafts.path(inc)
    text = path.read_text(encoding="utf-8")
    # the person writes the root cause, edits the generated lessons, and adds a section of their own
    start = text.index(PROMPT)
    end = text.index("\n", start)
    mine = "The 2.5.0 release halved the upstream timeout;\nthe canary never called that upstream.\n"
    text = text[:start] + mine.rstrip("\n") + text[end:]
    text = text.replace(
        "- the canary saw no traffic to the slow upstream (carol, 15:15 UTC)\n",
        "- the canary saw no traffic to the slow upstream (carol, 15:15 UTC)\n- and we knew it\n",
    )
    text = text.replace(
        "## Review\n", "## Appendix: customer emails\n\nTwo enterprise customers wrote in.\n\n## Review\n"
    )
    path.write_text(text, encoding="utf-8")

    drafts.add(inc, 7 * DAY, EventKind.ACTION_DONE, actor="erin", id="A2")
    drafts.add(inc, 7 * DAY + 1, EventKind.NOTE, actor="carol", text="timeouts need a review", tag="lesson")
    drafts.at(7 * DAY + 5)
    data = drafts.draft(inc)

    after = path.read_text(encoding="utf-8")
    assert mine in after
    assert "## Appendix: customer emails\n\nTwo enterprise customers wrote in.\n\n## Review\n" in after
    assert "- and we knew it\n" in after
    lessons = after[after.index("## Lessons Learned") : after.index("## Contributing Factors")]
    assert "timeouts need a review" not in lessons  # the edited part is kept as it was
    assert "- lesson: timeouts need a review (carol)\n" in after  # while the timeline follows the journal
    assert data["kept"] == ["lessons"]
    assert "Root Cause" not in data["toWrite"]
    assert "Summary" in data["toWrite"]
    # untouched parts follow the journal: A2 is done now, and the new events are in the timeline
    assert "- [x] A2 Page on timeout changes (Owner: erin, Due: 2026-03-16, done 2026-03-21 14:30 UTC)\n" in after
    assert "action item A2 done (erin)" in after
    # the journal says what was kept
    assert _kinds(drafts, inc).count("postmortem_drafted") == 2
    last = json.loads((drafts.journal_dir / inc / "timeline.jsonl").read_text(encoding="utf-8").splitlines()[-1])
    assert last["data"]["kept"] == ["lessons"]


def test_drafting_twice_with_nothing_new_changes_only_the_timeline(drafts: Drafts) -> None:
    inc = resolved_p1(drafts)
    drafts.at(6 * DAY)
    drafts.draft(inc)
    first = parse(drafts.path(inc).read_text(encoding="utf-8"))
    # the first draft's own journal line is in the second draft's timeline: that part refreshes, nothing else
    data = drafts.draft(inc)
    second = parse(drafts.path(inc).read_text(encoding="utf-8"))
    assert data["kept"] == []
    assert len(first) == len(second)
    changed = [a.name for a, b in zip(first, second, strict=True) if a != b and isinstance(a, Part)]
    assert changed == ["timeline"]
    assert [a for a in first if isinstance(a, str)] == [b for b in second if isinstance(b, str)]


def test_a_part_new_in_this_version_is_inserted_into_an_older_draft(drafts: Drafts) -> None:
    inc = resolved_p1(drafts)
    drafts.at(6 * DAY)
    drafts.draft(inc)
    path = drafts.path(inc)
    text = path.read_text(encoding="utf-8")
    # an older version's draft: no contributing factors section, and its parts line does not list it
    start = text.index("## Contributing Factors")
    end = text.index("## Action Items")
    older = (text[:start] + text[end:]).replace(",contributing-factors,", ",")
    path.write_text(older, encoding="utf-8")
    data = drafts.draft(inc)
    assert data["inserted"] == ["contributing-factors"]
    after = path.read_text(encoding="utf-8")
    assert after.index("## Lessons Learned") < after.index("## Contributing Factors") < after.index("## Action Items")
    assert "- release on a Friday afternoon (carol, 15:16 UTC)\n" in after
    assert part_names(after) == part_names(text)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t.replace("<!-- incidentctl:end impact -->\n", ""),
        lambda t: t.replace("<!-- incidentctl:begin summary", "<!-- incidentctl:begin impact"),
        lambda t: t.replace("<!-- incidentctl:begin timeline ", "<!-- incidentctl:begin  timeline "),
    ],
    ids=["end-deleted", "duplicated", "begin-mangled"],
)
def test_broken_markers_leave_the_file_as_it_was(drafts: Drafts, mangle: object) -> None:
    assert callable(mangle)
    inc = resolved_p1(drafts)
    drafts.at(6 * DAY)
    drafts.draft(inc)
    path = drafts.path(inc)
    mine = mangle(path.read_text(encoding="utf-8")) + "\nMy notes from the call.\n"
    path.write_text(mine, encoding="utf-8")
    drafts.add(inc, 7 * DAY, EventKind.ACTION_DONE, actor="erin", id="A2")
    result = drafts.run("postmortem", "draft", inc)
    assert result.exit_code == 3
    assert path.read_text(encoding="utf-8") == mine
    assert "not refreshed" in result.stdout
    assert "line " in result.stdout
    assert _kinds(drafts, inc).count("postmortem_drafted") == 1  # nothing written, nothing recorded
    data = drafts.draft(inc, code=3)
    assert data["written"] is False
    assert data["problem"]
    assert "timeline" in data["notRefreshed"]


def test_a_link_or_a_folder_at_the_path_is_refused_in_one_line(drafts: Drafts) -> None:
    inc = drafts.declare(0)
    target = drafts.root / "elsewhere.md"
    target.write_text("someone else's file\n", encoding="utf-8")
    os.symlink(target, drafts.path(inc))
    result = drafts.run("postmortem", "draft", inc)
    assert result.exit_code == 2
    assert "symbolic link" in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2  # the error and its hint
    assert "Traceback" not in result.stderr
    assert target.read_text(encoding="utf-8") == "someone else's file\n"
    folder = drafts.root / "a-folder"
    folder.mkdir()
    result = drafts.run("postmortem", "draft", inc, "--file", "a-folder")
    assert result.exit_code == 2
    assert "is a folder" in result.stderr
    assert "postmortem_drafted" not in _kinds(drafts, inc)


def test_file_writes_where_asked_relative_to_the_working_folder(drafts: Drafts) -> None:
    inc = drafts.declare(0)
    data = drafts.draft(inc, "--file", "docs-pm.md")
    assert data["path"] == str(drafts.root / "docs-pm.md")
    assert (drafts.root / "docs-pm.md").read_text(encoding="utf-8").startswith("<!-- incidentctl:begin header")
    missing = drafts.run("postmortem", "draft", inc, "--file", "no/such/folder/pm.md")
    assert missing.exit_code == 2
    assert "does not exist" in missing.stderr


def test_no_temporary_file_is_left_behind(drafts: Drafts) -> None:
    inc = drafts.declare(0)
    drafts.draft(inc)
    drafts.draft(inc)
    assert sorted(p.name for p in (drafts.journal_dir / inc).iterdir() if p.name.startswith(".")) == []


def test_an_empty_file_is_drafted_anew(drafts: Drafts) -> None:
    inc = drafts.declare(0)
    drafts.path(inc).write_text("", encoding="utf-8")
    data = drafts.draft(inc)
    assert data["written"] is True
    assert data["inserted"] == []
    assert len(data["toWrite"]) == 8  # every prompt is there, as in a first draft
    assert part_names(drafts.path(inc).read_text(encoding="utf-8"))[0] == "header"
