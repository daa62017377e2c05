"""Kubernetes quantities are read exactly as the API server writes and accepts them, and anything else is refused
with a line that quotes it, never read as zero."""

from __future__ import annotations

from decimal import Decimal

import pytest

from incidentctl.core.quantity import QuantityError, format_cpu, format_memory, parse_quantity


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("500m", Decimal("0.5")),
        ("1", Decimal(1)),
        ("3920m", Decimal("3.92")),
        ("5012345n", Decimal("0.005012345")),
        ("250u", Decimal("0.00025")),
        ("1.5", Decimal("1.5")),
        (".5", Decimal("0.5")),
        ("2.", Decimal(2)),
        ("+1", Decimal(1)),
        ("-1", Decimal(-1)),
        ("512Mi", Decimal(512 * 1024**2)),
        ("1Gi", Decimal(1024**3)),
        ("1.5Gi", Decimal(3 * 512 * 1024**2)),
        ("13349880Ki", Decimal(13349880 * 1024)),
        ("2Ti", Decimal(2 * 1024**4)),
        ("1Pi", Decimal(1024**5)),
        ("1Ei", Decimal(1024**6)),
        ("128k", Decimal(128_000)),
        ("129M", Decimal(129_000_000)),
        ("4G", Decimal(4_000_000_000)),
        ("1T", Decimal(10**12)),
        ("1P", Decimal(10**15)),
        ("1E", Decimal(10**18)),
        ("129e6", Decimal(129_000_000)),
        ("1E3", Decimal(1000)),
        ("12e-3", Decimal("0.012")),
        ("47060071478", Decimal(47060071478)),
        (3, Decimal(3)),
    ],
)
def test_every_spelling_kubernetes_writes_is_read_exactly(text: object, value: Decimal) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "1 Gi",
        " 1Gi",
        "1Gi ",
        "1Gb",
        "1gi",
        "1MB",
        "1KI",
        "1K",
        "Mi",
        "m",
        ".",
        "1.5.3",
        "1..5",
        "1e",
        "1e+",
        "1e1.5",
        "1e3Mi",
        "--1",
        "+-1",
        "0x10",
        "1_000",
        "NaN",
        "inf",
        "Infinity",
        "1e99999999",
        "1e-99999",
        "１Gi",  # a full-width digit: \\d in Python would take it, the API server does not
        "1\n",
        None,
        1.5,
        True,
        [],
        {"memory": "1Gi"},
    ],
)
def test_anything_else_is_refused_with_a_line_quoting_it(text: object) -> None:
    with pytest.raises(QuantityError) as caught:
        parse_quantity(text)
    assert repr(text) in str(caught.value)
    assert "\n" not in str(caught.value).replace("\\n", "")


def test_top_formats_cpu_in_millicores_and_memory_in_mebibytes() -> None:
    assert format_cpu(parse_quantity("474666666n")) == "475m"
    assert format_cpu(parse_quantity("500m")) == "500m"
    assert format_memory(parse_quantity("242688Ki")) == "237Mi"
    assert format_memory(parse_quantity("1Gi")) == "1024Mi"
