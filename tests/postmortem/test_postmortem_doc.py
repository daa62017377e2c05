"""Re-drafting a post-mortem merges the person's file with a fresh draft: untouched generated parts refresh,
edited ones are kept and reported, the person's text is kept byte for byte, a part new in this version is
inserted at its section, and markers a person broke make the merge keep their file whole."""

from __future__ import annotations

import pytest

from incidentctl.core.postmortem_doc import MarkersUnreadable, merge, parse, part_names, seal


def draft(timeline: str, impact: str, *, extra: bool = False) -> str:
    more = (
        "## Contributing Factors\n<!-- incidentctl:begin factors -->\n- none noted\n"
        "<!-- incidentctl:end factors -->\n\n"
        if extra
        else ""
    )
    return seal(
        "# Post-Mortem\n\n## Timeline\n<!-- incidentctl:begin timeline -->\n"
        f"{timeline}<!-- incidentctl:end timeline -->\n\n**To write:** the story.\n\n"
        f"{more}## Impact\n<!-- incidentctl:begin impact -->\n{impact}<!-- incidentctl:end impact -->\n"
    )


def test_untouched_parts_refresh_and_the_persons_text_stays_byte_for_byte() -> None:
    first = draft("- 14:30 declared\n", "- 10m\n")
    mine = first.replace("**To write:** the story.\n", "It broke because of a config push.\r\n\tIndented.\n")
    merged = merge(mine, draft("- 14:30 declared\n- 14:40 resolved\n", "- 15m\n"))
    assert merged.text is not None
    assert "It broke because of a config push.\r\n\tIndented.\n" in merged.text
    assert "- 14:40 resolved\n" in merged.text
    assert "- 15m\n" in merged.text
    assert merged.kept == []
    assert merge(merged.text, draft("- 14:30 declared\n- 14:40 resolved\n", "- 15m\n")).text == merged.text


def test_an_edited_part_is_kept_and_reported_and_stays_kept() -> None:
    first = draft("- 14:30 declared\n", "- 10m\n")
    mine = first.replace("- 10m\n", "- 10m, and every EU customer\n")
    merged = merge(mine, draft("- 14:30 declared\n- 14:40 resolved\n", "- 15m\n"))
    assert merged.kept == ["impact"]
    assert merged.text is not None
    assert "- 10m, and every EU customer\n" in merged.text
    assert "- 15m" not in merged.text
    assert "- 14:40 resolved\n" in merged.text
    again = merge(merged.text, draft("- 14:30 declared\n", "- 20m\n"))
    assert again.kept == ["impact"]


def test_a_part_new_in_this_version_is_inserted_before_the_next_section() -> None:
    merged = merge(draft("- a\n", "- b\n"), draft("- a\n", "- b\n", extra=True))
    assert merged.inserted == ["factors"]
    assert merged.text is not None
    assert part_names(merged.text) == ["timeline", "factors", "impact"]
    text = merged.text
    assert text.index("**To write:** the story.") < text.index("## Contributing Factors") < text.index("## Impact")


def test_a_part_the_person_deleted_is_not_put_back() -> None:
    first = draft("- a\n", "- b\n", extra=True)
    start = first.index("## Contributing Factors")
    end = first.index("## Impact")
    mine = first[:start] + "We found no contributing factors.\n\n" + first[end:]
    merged = merge(mine, draft("- a\n", "- b\n", extra=True))
    assert merged.not_refreshed == ["factors"]
    assert merged.text is not None
    assert "We found no contributing factors.\n" in merged.text
    assert "- none noted" not in merged.text


@pytest.mark.parametrize(
    ("broken", "problem"),
    [
        (lambda t: t.replace("<!-- incidentctl:end impact -->\n", ""), "part impact never ends"),
        (lambda t: t.replace("<!-- incidentctl:begin impact", "<!-- incidentctl:begin timeline"), "appears twice"),
        (lambda t: t.replace("<!-- incidentctl:end timeline -->\n", "", 1), "begins inside part timeline"),
        (lambda t: t.replace("<!-- incidentctl:begin timeline", "<!-- incidentctl:begun timeline"), "without its"),
    ],
)
def test_mangled_markers_leave_the_persons_file_as_it_is(broken: object, problem: str) -> None:
    assert callable(broken)
    mine = broken(draft("- a\n", "- b\n")) + "My own words.\n"
    merged = merge(mine, draft("- a\n- c\n", "- d\n"))
    assert merged.text is None
    assert merged.problem is not None
    assert problem in merged.problem
    assert merged.not_refreshed == ["timeline", "impact"]


def test_only_whole_marker_lines_count() -> None:
    text = "- a note saying <!-- incidentctl:end timeline --> inline\n"
    assert parse(text) == [text]
    with pytest.raises(MarkersUnreadable):
        parse("<!-- incidentctl:end timeline -->\n")


def test_a_document_without_any_marker_is_not_filled_in() -> None:
    mine = "# Our own post-mortem\n\nWritten by hand.\n"
    merged = merge(mine, draft("- a\n", "- b\n"))
    assert merged.text is None
    assert merged.problem is not None
    assert "no incidentctl markers" in merged.problem
    assert merged.not_refreshed == ["timeline", "impact"]
