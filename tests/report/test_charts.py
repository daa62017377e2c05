"""The report's charts as text: sparklines and bars for the terminal, Mermaid for the markdown document."""

from __future__ import annotations

import pytest

from incidentctl.core.charts import Series, bar, mermaid_label, pie, sparkline, xychart


def test_sparkline_scales_from_zero_and_leaves_gaps_for_missing_values() -> None:
    assert sparkline([0, 1, 2, 4, 8]) == "▁▁▂▄█"
    assert sparkline([3, None, 3]) == "█ █"
    assert sparkline([]) == ""
    assert sparkline([None, None]) == "  "
    assert sparkline([0, 0]) == "▁▁"


def test_bar_uses_eighths_and_never_hides_a_small_value() -> None:
    assert bar(10, 10, 4) == "████"
    assert bar(5, 10, 4) == "██"
    assert bar(1, 10, 4) == "▍"  # 3.2 eighths
    assert bar(1, 1000, 4) == "▏"
    assert bar(0, 10, 4) == ""
    assert bar(20, 10, 4) == "████"


def test_xychart_is_standard_mermaid_with_one_value_per_label() -> None:
    text = xychart(
        "Incidents per day", ["03-01", "03-02"], [Series("bar", [2, 0]), Series("line", [1.5, 0.25])], y_label="n"
    )
    assert text.splitlines() == [
        "xychart-beta",
        '    title "Incidents per day"',
        '    x-axis ["03-01", "03-02"]',
        '    y-axis "n" 0 --> 2',
        "    bar [2, 0]",
        "    line [1.5, 0.25]",
    ]
    with pytest.raises(ValueError, match="1 values for 2 labels"):
        xychart("t", ["a", "b"], [Series("bar", [1])], y_label="n")
    with pytest.raises(ValueError, match="not a number"):
        xychart("t", ["a"], [Series("line", [float("nan")])], y_label="n")
    with pytest.raises(ValueError, match="at least one"):
        xychart("t", [], [], y_label="n")


@pytest.mark.parametrize("hostile", ['a"b', "a\nb", "a;b", "a#b", "a%%b", "a]b", "a:b", "a`b"])
def test_labels_cannot_end_the_string_or_start_a_directive(hostile: str) -> None:
    label = mermaid_label(hostile)
    assert label == "a b"
    chart = pie(hostile, [(hostile, 1)])
    assert chart == 'pie title a b\n    "a b" : 1'


def test_pie_drops_empty_slices_and_draws_nothing_of_nothing() -> None:
    assert pie("By severity", [("P1", 2), ("P2", 0), ("P3", 1)]) == 'pie title By severity\n    "P1" : 2\n    "P3" : 1'
    assert pie("By severity", [("P1", 0)]) is None
