"""The kubelet's log time stamps read fast, and exactly as the general RFC 3339 reader reads them."""

from __future__ import annotations

import pytest

from incidentctl.core.times import parse_log_stamp, parse_rfc3339_or_none


@pytest.mark.parametrize(
    "stamp",
    [
        "2026-12-01T14:29:23.211442999Z",  # nanoseconds: cut, never rounded into the next microsecond
        "2026-12-01T14:29:23.000000000Z",
        "2026-12-31T23:59:59.999999999Z",
        "2026-12-01T14:29:23.211442Z",
        "2026-12-01T14:29:23Z",
        "2026-12-01T14:29:23.211442000+01:00",
        "2026-12-01T14:29:23.2114420000",  # no zone: refused, as everywhere
        "2026-13-01T14:29:23.211442000Z",
        "2026-02-30T14:29:23.211442000Z",
        "2026-12-01T14:29:23.21144200xZ",
        "2026-12-01 14:29:23.211442000Z",
        "2026-12-01T14:29:23,211442000Z",
        "２026-12-01T14:29:23.211442000Z",  # a full-width digit
        "not a time",
        "",
    ],
)
def test_same_answer_as_the_general_reader(stamp: str) -> None:
    assert parse_log_stamp(stamp) == parse_rfc3339_or_none(stamp)
    when = parse_log_stamp(stamp)
    assert when is None or when.utcoffset() is not None
