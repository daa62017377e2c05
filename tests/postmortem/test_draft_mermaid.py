"""The post-mortem's timeline chart parses with the real mermaid parser (what GitHub and GitLab render with),
for the golden documents and for every hostile text the safety tests use."""

from __future__ import annotations

import pytest
from tests.docs_check import markdown_structure, mermaid_problems, mermaid_types, require_mermaid
from tests.postmortem.harness import DAY, GOLDEN, Drafts
from tests.postmortem.test_draft_safety import HOSTILE, _hostile_incident


@pytest.mark.parametrize("name", ["resolved-p1.md", "open-declared.md"])
def test_the_golden_post_mortems_charts_parse(name: str) -> None:
    require_mermaid()
    document = (GOLDEN / name).read_text(encoding="utf-8")
    assert mermaid_types(document) == ["gantt"]
    assert mermaid_problems(document) == []
    assert markdown_structure(document).outline()[0].startswith("# Post-Mortem: ")


def test_hostile_text_never_breaks_the_chart(drafts: Drafts) -> None:
    require_mermaid()
    documents = []
    for text in HOSTILE:
        inc = _hostile_incident(drafts, text)
        drafts.at(DAY)
        drafts.draft(inc)
        documents.append(drafts.path(inc).read_text(encoding="utf-8"))
    for document in documents:
        assert mermaid_types(document) == ["gantt"]
        assert mermaid_problems(document) == []
