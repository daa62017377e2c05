"""The one grammar for durations and times, and the one style they and percentages are printed in.

Property-style: many generated values (a seeded random source, so every run checks the same ones) round-trip
through format and parse, besides the boundaries and the junk each parser must refuse with a clear message.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from incidentctl.core.times import (
    MAX_DURATION,
    DurationError,
    NotAPointInTime,
    format_duration,
    format_elapsed,
    format_percent,
    format_rfc3339,
    parse_duration,
    parse_point_in_time,
    parse_rfc3339,
    parse_rfc3339_or_none,
)

RNG_SEED = 20260314
US = timedelta(microseconds=1)


def _durations(count: int) -> list[timedelta]:
    rng = random.Random(RNG_SEED)
    out = [timedelta(0), US, timedelta(milliseconds=1), timedelta(days=7), timedelta(days=30), MAX_DURATION]
    for _ in range(count):
        scale = rng.choice([1, 1000, 1_000_000, 60_000_000, 3_600_000_000, 86_400_000_000])
        out.append(min(timedelta(microseconds=rng.randrange(0, 10_000) * scale + rng.randrange(0, 1000)), MAX_DURATION))
    return out


# --- parse_duration -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("500ms", timedelta(milliseconds=500)),
        ("15m", timedelta(minutes=15)),
        ("1h30m", timedelta(minutes=90)),
        ("1h 30m", timedelta(minutes=90)),
        ("1.5h", timedelta(minutes=90)),
        ("24h", timedelta(hours=24)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        ("1w2d3h4m5s6ms", timedelta(weeks=1, days=2, hours=3, minutes=4, seconds=5, milliseconds=6)),
        ("0.001ms", US),
        ("0", timedelta(0)),
        ("0s", timedelta(0)),
        (0, timedelta(0)),
        ("  5m  ", timedelta(minutes=5)),
        ("007m", timedelta(minutes=7)),
        ("3650d", MAX_DURATION),
        ("520w", timedelta(weeks=520)),
    ],
)
def test_the_grammar(text: str | int, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("h", "expected a duration such as 15m"),
        ("30", "needs a unit"),
        (30, "needs a unit"),
        (1.5, "needs a unit"),
        (float("nan"), "expected a duration"),
        (float("inf"), "expected a duration"),
        (True, "expected a duration"),
        (None, "expected a duration"),
        ([5], "expected a duration"),
        ("5x", "unknown unit 'x'"),
        ("15 minutes", "expected a duration such as 15m, 1h30m or 24h, got '15 minutes': unknown unit 'minutes'"),
        ("1y", "unknown unit 'y'"),
        ("5M", "units are lower case"),
        ("24H", "units are lower case"),
        ("5 мин", "unknown unit 'мин'"),
        ("5µs", "unknown unit 'µs'"),
        ("-5m", "cannot be negative"),
        ("-0s", "cannot be negative"),
        (-timedelta(seconds=1), "cannot be negative"),
        ("+5m", "expected a duration"),
        ("5m s", "expected a duration"),
        ("1h30", "needs a unit"),
        ("1.h", "needs a unit"),
        (".5h", "expected a duration"),
        ("1e3s", "unknown unit 'e'"),
        ("inf", "expected a duration"),
        ("nan", "expected a duration"),
        ("30m1h", "from largest to smallest"),
        ("1m1m", "from largest to smallest"),
        ("\u0663m", "digits 0-9"),  # ARABIC-INDIC DIGIT THREE
        ("\uff11h", "digits 0-9"),  # FULLWIDTH DIGIT ONE
        ("1\u0660s", "digits 0-9"),
        ("0.0000001s", "finer than a microsecond"),
        ("1." + "0" * 30 + "1s", "too many decimals"),
        ("3650d1ms", "10 years"),
        ("3651d", "10 years"),
        ("87601h", "10 years"),
        ("1000000w", "10 years"),
        ("99999999999999999999w", "10 years"),
        ("9" * 5000 + "s", "10 years"),  # beyond int()'s digit limit: still the plain message
        (MAX_DURATION + US, "10 years"),
    ],
)
def test_junk_is_refused_with_a_message_that_says_why(value: object, says: str) -> None:
    with pytest.raises(DurationError, match=says.replace("(", r"\(")):
        parse_duration(value)


def test_a_duration_error_is_a_value_error() -> None:
    """pydantic turns a ValueError raised by a validator into a located runbook error."""
    assert issubclass(DurationError, ValueError)


# --- format_duration ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(0), "0s"),
        (timedelta(seconds=90), "1m30s"),
        (timedelta(minutes=90), "1h30m"),
        (timedelta(hours=24), "24h"),
        (timedelta(hours=72), "72h"),
        (timedelta(days=6, hours=23, minutes=59), "167h59m"),
        (timedelta(days=7), "1w"),
        (timedelta(days=14), "2w"),
        (timedelta(days=30), "30d"),
        (timedelta(days=8, hours=2), "8d2h"),
        (timedelta(milliseconds=500), "500ms"),
        (timedelta(seconds=1, milliseconds=500), "1s500ms"),
        (timedelta(microseconds=1500), "1.5ms"),
        (US, "0.001ms"),
        (MAX_DURATION, "3650d"),
        (-timedelta(minutes=5), "-5m"),
    ],
)
def test_format_duration_is_the_exact_spelling(value: timedelta, text: str) -> None:
    assert format_duration(value) == text


def test_every_duration_round_trips_through_its_spelling() -> None:
    for value in _durations(3000):
        text = format_duration(value)
        assert parse_duration(text) == value, text


def test_every_spelling_parses_and_reads_back_the_same() -> None:
    """A canonical spelling survives parse and format unchanged; the spellings people write reach the same value."""
    rng = random.Random(RNG_SEED + 1)
    for _ in range(2000):
        order = ["w", "d", "h", "m", "s", "ms"]
        parts = sorted(rng.sample(order, rng.randint(1, 3)), key=order.index)
        text = "".join(f"{rng.randint(1, 40)}{u}" for u in parts)
        value = parse_duration(text)
        assert parse_duration(format_duration(value)) == value, text
        assert format_duration(parse_duration(format_duration(value))) == format_duration(value)


# --- format_elapsed -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0s"),
        (-3.0, "0s"),
        (0.0004, "0.4ms"),
        (0.012, "12ms"),
        (0.375, "375ms"),
        (0.9996, "1s"),
        (2.4137, "2.41s"),
        (9.9999, "10s"),
        (31.0, "31s"),
        (45.2, "45.2s"),
        (30.4, "30.4s"),
        (59.4, "59.4s"),
        (119.0, "1m59s"),
        (240.0, "4m"),
        (899.9, "14m59s"),
        (900.0, "15m"),
        (7200.0, "2h"),
        (3 * 3600 + 12 * 60 + 59, "3h12m"),
        (2 * 86400 + 4 * 3600 + 59, "2d4h"),
        (30 * 86400, "30d"),
        (float("nan"), "NaN"),
        (float("inf"), "+Inf"),
        (timedelta(minutes=12, seconds=30), "12m30s"),
    ],
)
def test_format_elapsed_rounds_for_people_and_never_up_to_a_whole_unit(value: float | timedelta, text: str) -> None:
    assert format_elapsed(value) == text


def test_elapsed_times_never_read_longer_than_they_were() -> None:
    for value in _durations(3000):
        shown = format_elapsed(value)
        if value >= timedelta(seconds=60):
            assert parse_duration(shown) <= value, (value, shown)
            assert value - parse_duration(shown) < max(
                timedelta(seconds=1), value / 24
            )  # one of the smaller unit, (value, shown)


# --- format_percent -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ratio", "text"),
    [
        (0.0, "0%"),
        (0.428, "42.8%"),
        (0.12, "12%"),
        (0.1234, "12.3%"),
        (0.1408, "14.1%"),
        (0.001, "0.1%"),
        (0.0004, "0.04%"),
        (0.0000001, "0.00001%"),
        (0.999, "99.9%"),
        (0.9995, "99.95%"),
        (0.99999, "99.999%"),
        (1.0, "100%"),
        (1.0004, "100.04%"),
        (10.0, "1000%"),
        (-0.05, "-5%"),
        (float("nan"), "NaN"),
        (float("inf"), "+Inf"),
    ],
)
def test_format_percent(ratio: float, text: str) -> None:
    assert format_percent(ratio) == text


def test_no_percentage_reads_as_zero_or_as_all_unless_it_is() -> None:
    rng = random.Random(RNG_SEED + 2)
    for _ in range(5000):
        ratio = rng.choice([rng.random(), rng.random() * 1e-6, 1 - rng.random() * 1e-6])
        text = format_percent(ratio)
        assert text.endswith("%"), text
        assert " " not in text, text
        assert "e" not in text, text
        if 0 < ratio < 1:
            assert text not in ("0%", "100%"), (ratio, text)
        assert abs(float(text[:-1]) / 100 - ratio) <= max(ratio, 1 - ratio, 1e-9) * 0.01, (ratio, text)


# --- RFC 3339 -----------------------------------------------------------------------------------------------

T = datetime(2026, 3, 14, 9, 30, 5, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("value", "timespec", "text"),
    [
        (T, "auto", "2026-03-14T09:30:05Z"),
        (T.replace(microsecond=120000), "auto", "2026-03-14T09:30:05.120000Z"),
        (T.replace(microsecond=123456), "seconds", "2026-03-14T09:30:05Z"),
        (T.replace(microsecond=123456), "milliseconds", "2026-03-14T09:30:05.123Z"),
        (T, "microseconds", "2026-03-14T09:30:05.000000Z"),
        (T.replace(microsecond=123456), "nanoseconds", "2026-03-14T09:30:05.123456000Z"),
        (T.replace(tzinfo=None), "auto", "2026-03-14T09:30:05Z"),
        (T.astimezone(timezone(timedelta(hours=2))), "auto", "2026-03-14T09:30:05Z"),
        (datetime(1, 1, 1, tzinfo=timezone.utc), "auto", "0001-01-01T00:00:00Z"),
    ],
)
def test_format_rfc3339_writes_utc_with_z(value: datetime, timespec: str, text: str) -> None:
    assert format_rfc3339(value, timespec) == text  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-14T09:30:05Z", T),
        ("2026-03-14t09:30:05z", T),
        ("2026-03-14 09:30:05Z", T),
        ("2026-03-14T11:30:05+02:00", T),
        ("2026-03-14T04:00:05-05:30", T),
        ("2026-03-14T09:30:05.5Z", T.replace(microsecond=500000)),
        ("2026-03-14T09:30:05.123456789Z", T.replace(microsecond=123456)),  # Kubernetes, Alertmanager: nanoseconds
        ("2026-03-14T09:30:05.999999999Z", T.replace(microsecond=999999)),  # truncated: never the next second
        ("2026-03-14T09:30Z", T.replace(second=0)),
        (" 2026-03-14T09:30:05Z\n", T),
    ],
)
def test_parse_rfc3339_reads_what_the_apis_write(text: str, expected: datetime) -> None:
    parsed = parse_rfc3339(text)
    assert parsed == expected
    assert parsed.tzinfo is timezone.utc


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("2026-03-14T09:30:05", "no time zone"),
        ("2026-03-14", "not an RFC 3339 time"),
        ("yesterday", "not an RFC 3339 time"),
        ("", "not an RFC 3339 time"),
        ("2026-13-14T09:30:05Z", "not a valid time"),
        ("2026-02-30T09:30:05Z", "not a valid time"),
        ("2026-03-14T24:00:00Z", "not a valid time"),
        ("2026-03-14T23:59:60Z", "not a valid time"),
        ("2026-03-14T09:30:05+24:00", "not a valid time"),
        ("2026-03-14T09:30:05+0200", "not an RFC 3339 time"),
        ("\u0662\u0660\u0662\u0666-03-14T09:30:05Z", "not an RFC 3339 time"),
        ("0001-01-01T00:00:00+01:00", "outside the calendar"),
        ("9999-12-31T23:59:59-05:00", "outside the calendar"),
        ("2026-03-14T09:30:05.Z", "not an RFC 3339 time"),
    ],
)
def test_parse_rfc3339_refuses_the_rest(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_rfc3339(text)
    assert parse_rfc3339_or_none(text) is None


def test_times_round_trip_at_every_precision() -> None:
    rng = random.Random(RNG_SEED + 3)
    start = datetime(1, 1, 2, tzinfo=timezone.utc)
    span = (datetime(9999, 12, 30, tzinfo=timezone.utc) - start) // US
    for _ in range(3000):
        when = start + rng.randrange(span) * US
        assert parse_rfc3339(format_rfc3339(when)) == when
        assert parse_rfc3339(format_rfc3339(when, "nanoseconds")) == when
        assert parse_rfc3339(format_rfc3339(when, "microseconds")) == when
        assert parse_rfc3339(format_rfc3339(when, "seconds")) == when.replace(microsecond=0)
        assert parse_rfc3339(format_rfc3339(when, "milliseconds")) == when.replace(
            microsecond=when.microsecond // 1000 * 1000
        )
        shifted = when.astimezone(timezone(timedelta(minutes=rng.randrange(-23 * 60, 23 * 60))))
        assert parse_rfc3339(shifted.isoformat()) == when


def test_optional_times_are_none_when_missing() -> None:
    assert parse_rfc3339_or_none(None) is None
    assert parse_rfc3339_or_none("") is None
    assert parse_rfc3339_or_none("2026-03-14T09:30:05Z") == T


# --- points in time -----------------------------------------------------------------------------------------


def test_a_point_in_time_is_a_duration_ago_a_date_or_a_time() -> None:
    assert parse_point_in_time("24h", T) == T - timedelta(hours=24)
    assert parse_point_in_time("1.5h", T) == T - timedelta(minutes=90)
    assert parse_point_in_time("500ms", T) == T - timedelta(milliseconds=500)
    assert parse_point_in_time("2026-03-01", T) == datetime(2026, 3, 1, tzinfo=timezone.utc)
    assert parse_point_in_time("2026-03-14T10:00:05+01:00", T) == T - timedelta(minutes=30)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("last tuesday", "'last tuesday' is not a duration (45m, 24h, 7d), a date (2026-03-14) or an RFC 3339"),
        ("2026-02-30", "is not a duration"),
        ("yesterday", "'yesterday' is not a duration"),
        ("1y", "unknown unit 'y'"),
        ("-5m", "cannot be negative"),
        ("\u0663m", "digits 0-9"),
        ("3651d", "10 years"),
        ("2026-03-14T09:30:05", "no time zone"),
    ],
)
def test_a_point_in_time_that_is_none_of_them(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says.replace("(", r"\(").replace(")", r"\)")) as caught:
        parse_point_in_time(text, T)
    assert isinstance(caught.value, NotAPointInTime) == ("is not a duration" in says)


def test_ten_years_ago_from_the_start_of_the_calendar_is_an_error() -> None:
    with pytest.raises(ValueError, match="before the calendar begins"):
        parse_point_in_time("3650d", datetime(1, 1, 1, tzinfo=timezone.utc))
