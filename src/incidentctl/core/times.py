"""Times, durations and percentages: the one grammar incidentctl reads and the one style it writes.

Everything a person or an API hands us as a time goes through here, so ``--since 90m``, a runbook's
``timeout: 5s``, a Kubernetes ``creationTimestamp`` and an Alertmanager ``startsAt`` are read by the same rules and
refused with the same messages; and everything we print reads the same in a table, a summary and a next step.

Durations are read in one grammar, Prometheus's (``1h30m``, ``90s``, ``500ms``, ``7d``, ``2w``), with decimals
as Go allows (``1.5h``). They are written in two styles, because two different things get printed:

* :func:`format_duration` spells a duration *exactly* in that grammar (``1h30m``, ``4w``, ``30d``, ``1.5ms``):
  for what someone configured (runbook fields, ``runbook show``, SLO windows, probe timeouts, post-mortem
  deadlines, a check's look-back window), so the text reads as it was written and parses back to the same value.
* :func:`format_elapsed` rounds a *measured* time for people: milliseconds below a second, three significant
  digits below a minute (``375ms``, ``2.41s``, ``30.4s``: a response time next to its 30s threshold must not
  read "30s > 30s"), then the two largest whole units, truncated like kubectl's AGE (``14m59s``, ``3h12m``,
  ``2d4h``): for response times, how long a condition has held, ages and durations of incidents. From a minute
  on truncated, never rounded up, so 14m59s of a 15m rule never reads "15m of 15m".

Times are RFC 3339 in UTC with a ``Z``, as Kubernetes, Prometheus and Alertmanager write them. Percentages are
``42.8%`` (no space, as the runbook and kubectl spell them), three significant digits, never rounded to ``0%`` or
``100%`` when they are not.

Pure and stdlib only: this module sits in ``core`` and everything above may use it.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from typing import Literal

#: The longest duration anything accepts (a runbook field, --since, --started-at): far beyond any SLO window or
#: incident, and well inside what datetime, timedelta and the system clock can hold, so "1000000w" is a clear
#: error instead of an overflow deep inside a check.
MAX_DURATION = timedelta(days=3650)
MAX_DURATION_TEXT = "10 years (3650d)"

#: Microseconds per unit, largest first (the order a duration must be written in).
_UNITS: dict[str, int] = {
    "w": 7 * 86_400_000_000,
    "d": 86_400_000_000,
    "h": 3_600_000_000,
    "m": 60_000_000,
    "s": 1_000_000,
    "ms": 1_000,
}
UNITS_TEXT = "ms, s, m, h, d, w"
#: The JSON Schema pattern of a duration (the runbook schema publishes it; editors check runbook.yaml with it).
DURATION_PATTERN = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h|d|w))+$"
_EXAMPLES = "such as 15m, 1h30m or 24h"

_MAX_US = MAX_DURATION // timedelta(microseconds=1)
#: More digits than this in one number cannot be a duration within the limit (or a useful fraction of one); the
#: check keeps int() away from thousand-digit strings.
_MAX_INT_DIGITS = 15
_MAX_FRACTION_DIGITS = 20

_NUMBER = re.compile(r"([0-9]+)(?:\.([0-9]+))?", re.ASCII)
_UNIT = re.compile(r"[^\W\d_]+")  # letters of any script, so that "5 мин" is named as the unit it is
_BARE_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?", re.ASCII)


class DurationError(ValueError):
    """A duration that cannot be read; the message says what is wrong and shows an example of what works."""


class NotAPointInTime(ValueError):
    """Text that is none of the forms :func:`parse_point_in_time` reads (rather than a bad one of them)."""


def parse_duration(value: object) -> timedelta:
    """Read a duration in the one grammar: ``90s``, ``15m``, ``1h30m``, ``1.5h``, ``500ms``, ``7d``, ``2w``.

    Units go from the largest to the smallest, each once (Prometheus's rule: ``30m1h`` is a typo more often
    than a choice); spaces between parts are allowed (``1h 30m``). A bare ``0`` is zero; any other bare number
    is refused because nobody can tell whether ``30`` meant seconds or minutes. Digits are ASCII only (``٣m``
    would otherwise read as three minutes), a duration is never negative, is a whole number of microseconds and
    is at most :data:`MAX_DURATION`. Raises :class:`DurationError` (a ValueError) with a message fit for a user.
    """
    if isinstance(value, timedelta):
        return _checked(value // timedelta(microseconds=1), value)
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise DurationError(f"expected a duration {_EXAMPLES}, got {value!r}")
    if not isinstance(value, str):
        if not math.isfinite(value):
            raise DurationError(f"expected a duration {_EXAMPLES}, got {value!r}")
        if value == 0:
            return timedelta(0)
        raise DurationError(f"a duration needs a unit ({UNITS_TEXT}): did you mean '{value:g}m'?")
    text = value.strip()
    if not text:
        raise DurationError(f"expected a duration {_EXAMPLES}, got an empty value")
    if text.startswith("-"):
        raise DurationError(f"a duration cannot be negative, got {value!r}")
    if any(ch.isdigit() and not ch.isascii() for ch in text):
        raise DurationError(f"write a duration with the digits 0-9, got {value!r}")
    if _BARE_NUMBER.fullmatch(text):
        if float(text) == 0:
            return timedelta(0)
        raise DurationError(f"a duration needs a unit ({UNITS_TEXT}): did you mean '{text}m'?")
    return _checked(_microseconds(text, value), value)


def _microseconds(text: str, value: str) -> int:
    total = Fraction(0)
    pos, last = 0, None
    while pos < len(text):
        number = _NUMBER.match(text, pos)
        if number is None:
            raise DurationError(f"expected a duration {_EXAMPLES}, got {value!r}")
        whole, fraction = number.group(1).lstrip("0"), number.group(2) or ""
        pos = _skip_spaces(text, number.end())
        unit = _UNIT.match(text, pos)
        if unit is None:
            raise DurationError(f"a duration needs a unit ({UNITS_TEXT}) after each number, got {value!r}")
        name = unit.group(0)
        if name not in _UNITS:
            hint = "; units are lower case" if name.lower() in _UNITS else ""
            raise DurationError(
                f"expected a duration {_EXAMPLES}, got {value!r}: unknown unit {name!r} (use {UNITS_TEXT}{hint})"
            )
        size = _UNITS[name]
        if last is not None and size >= last:
            raise DurationError(f"write the units of {value!r} from largest to smallest, each once, as in 1h30m")
        last = size
        if len(whole) > _MAX_INT_DIGITS:
            raise _too_long(value)
        if len(fraction) > _MAX_FRACTION_DIGITS:
            raise DurationError(f"too many decimals in {value!r}")
        amount = Fraction(int(whole or "0")) + (Fraction(int(fraction), 10 ** len(fraction)) if fraction else 0)
        total += amount * size
        pos = _skip_spaces(text, unit.end())
    if total.denominator != 1:
        raise DurationError(f"{value!r} is finer than a microsecond, the smallest step a duration can take")
    return int(total)


def _skip_spaces(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def _checked(microseconds: int, value: object) -> timedelta:
    if microseconds < 0:
        raise DurationError(f"a duration cannot be negative, got {value!r}")
    if microseconds > _MAX_US:
        raise _too_long(value)
    return timedelta(microseconds=microseconds)


def _too_long(value: object) -> DurationError:
    return DurationError(f"{value!r} is longer than the longest duration allowed, {MAX_DURATION_TEXT}")


def check_duration_limit(seconds: float, value: object) -> None:
    """Refuse a number of seconds beyond :data:`MAX_DURATION` (also inf and nan), naming the limit."""
    if not seconds <= MAX_DURATION.total_seconds():
        raise _too_long(value)


def format_duration(value: timedelta) -> str:
    """The exact spelling of a configured duration in the grammar of :func:`parse_duration`: ``1h30m``, ``30d``.

    ``parse_duration(format_duration(d)) == d`` for every duration the grammar allows. Spelled as runbooks spell
    them: hours up to a week (``24h``, ``72h``: a post-mortem deadline), days from a week on (``8d``, ``30d``:
    an SLO window), weeks only for a whole number of them (``1w``, ``2w``); below a second, milliseconds with
    as many decimals as the microseconds need (``1s500ms``, ``1.5ms``). A negative duration (never parsed, but
    a difference of two times can be one) gets a leading ``-``.
    """
    us = value // timedelta(microseconds=1)
    if us < 0:
        return "-" + format_duration(timedelta(microseconds=-us))
    if us == 0:
        return "0s"
    week = _UNITS["w"]
    if us % week == 0:
        return f"{us // week}w"
    parts = []
    for unit in ("d", "h", "m", "s") if us >= week else ("h", "m", "s"):
        count, us = divmod(us, _UNITS[unit])
        if count:
            parts.append(f"{count}{unit}")
    if us:
        ms, micro = divmod(us, 1000)
        parts.append(f"{ms}ms" if not micro else f"{ms}.{micro:03d}".rstrip("0") + "ms")
    return "".join(parts)


def format_elapsed(value: timedelta | float) -> str:
    """A measured time for people (``375ms``, ``2.41s``, ``45.2s``, ``14m59s``, ``3h12m``, ``2d4h``); seconds as a
    float are accepted too (a signal's value), with ``NaN``/``+Inf`` spelled as Prometheus does.

    A negative time (a clock that stepped back) reads ``0s``: an age or a response time is never negative.
    """
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if math.isnan(seconds):
        return "NaN"
    if math.isinf(seconds):
        return "+Inf" if seconds > 0 else "-Inf"
    if seconds <= 0:
        return "0s"
    if seconds < 1:
        ms = seconds * 1000
        if ms < 1:
            return f"{_significant(ms, 2)}ms"
        if round(ms) < 1000:
            return f"{round(ms)}ms"
    if seconds < 60:
        return f"{_significant(seconds, 3)}s"
    whole = int(seconds)
    for big, small, name_big, name_small in (
        (86400, 3600, "d", "h"),
        (3600, 60, "h", "m"),
        (60, 1, "m", "s"),
    ):
        if whole >= big:
            count, rest = divmod(whole, big)
            below = rest // small
            return f"{count}{name_big}{below}{name_small}" if below else f"{count}{name_big}"
    return f"{whole}s"


def format_percent(ratio: float) -> str:
    """A ratio as a percentage, ``0.428`` -> ``42.8%``: three significant digits in fixed notation, so a small
    value keeps its digits (``0.04%``, never ``0.0%`` or ``4e-05%``), and more digits where rounding would
    print an exact ``100%`` that is not (an availability of 99.995% is not 100%)."""
    if math.isnan(ratio):
        return "NaN"
    if math.isinf(ratio):
        return "+Inf" if ratio > 0 else "-Inf"
    pct = ratio * 100
    if pct == 0:
        return "0%"
    size = abs(pct)
    decimals = max(0, 2 - math.floor(math.log10(size)))
    text = f"{size:.{decimals}f}"
    while size != 100 and float(text) == 100 and decimals < 12:
        decimals += 1
        text = f"{size:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{'-' if pct < 0 else ''}{text}%"


def _significant(value: float, digits: int) -> str:
    """``value`` (positive) with ``digits`` significant digits in fixed notation, trailing zeros dropped."""
    decimals = max(0, digits - 1 - math.floor(math.log10(value)))
    text = f"{value:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


# --- RFC 3339 -----------------------------------------------------------------------------------------------

Timespec = Literal["auto", "seconds", "milliseconds", "microseconds", "nanoseconds"]

_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]+))?)?"
    r"(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))?",
    re.ASCII,
)


def format_rfc3339(value: datetime, timespec: Timespec = "auto") -> str:
    """RFC 3339 in UTC with a ``Z``, as Kubernetes and Prometheus write it; a naive time is taken as UTC.

    ``auto`` writes whole seconds unless the time has microseconds (the journal, ``-o json``, API requests);
    the fixed precisions are what the Kubernetes API emits: ``seconds`` for ``metav1.Time`` (truncated),
    ``microseconds`` for ``MicroTime``, ``nanoseconds`` for log time stamps (Python has no nanoseconds, so the
    last three digits are zeros), ``milliseconds`` for application logs.
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    value = value.astimezone(timezone.utc)
    head = value.replace(microsecond=0, tzinfo=None).isoformat()  # strftime("%Y") drops zeros before year 1000
    micro = value.microsecond
    if timespec == "seconds" or (timespec == "auto" and micro == 0):
        return f"{head}Z"
    if timespec == "milliseconds":
        return f"{head}.{micro // 1000:03d}Z"
    if timespec == "nanoseconds":
        return f"{head}.{micro:06d}000Z"
    return f"{head}.{micro:06d}Z"


def parse_rfc3339(text: str) -> datetime:
    """Read an RFC 3339 time into an aware UTC datetime: ``Z`` or an offset, any number of fractional digits
    (Kubernetes and Alertmanager send nanoseconds; digits beyond microseconds are dropped, not rounded, so a
    time never moves into the next second). Seconds may be left out (``2026-03-14T14:30Z``) for people typing.

    A time without an offset is refused rather than guessed: an incident timeline that silently shifts by the
    reader's time zone is worse than an error. Raises ValueError naming the text.
    """
    match = _RFC3339.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not an RFC 3339 time such as 2026-03-14T14:30:00Z")
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    if zulu is None and sign is None:
        raise ValueError(f"{text!r} has no time zone (add Z for UTC)")
    try:
        offset = timedelta(0) if zulu else int(sign + "1") * timedelta(hours=int(off_h), minutes=int(off_m))
        micro = int(((fraction or "") + "000000")[:6])
        local = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro, timezone(offset)
        )
        return local.astimezone(timezone.utc)
    except OverflowError as e:  # 0001-01-01T00:00+01:00 is before year 1 in UTC
        raise ValueError(f"{text!r} is outside the calendar Python can hold (years 1 to 9999 in UTC)") from e
    except ValueError as e:  # month 13, a leap second, an offset of 24 hours or more
        raise ValueError(f"{text!r} is not a valid time: {e}") from e


def parse_rfc3339_or_none(text: str | None) -> datetime | None:
    """:func:`parse_rfc3339` for a field an API may leave out or fill badly: None instead of an error, because
    a pod or an alert with one odd time stamp is still evidence worth reading."""
    if not text:
        return None
    try:
        return parse_rfc3339(text)
    except ValueError:
        return None


def parse_log_stamp(text: str) -> datetime | None:
    """The kubelet's time stamp in front of a log line (``2026-12-01T14:29:23.211442000Z``), as
    :func:`parse_rfc3339_or_none` reads it. The kubelet always writes this one shape, and a fan-out reads it on
    every line of every pod (tens of thousands a second), so that shape takes the C parser first (a few times
    faster than the general one, which still reads every other form)."""
    rest = text[26:29]
    if (
        len(text) == 30
        and text[10] == "T"
        and text[19] == "."
        and text[29] == "Z"
        and text.isascii()
        and rest.isdigit()
    ):
        try:
            return datetime.fromisoformat(text[:26]).replace(tzinfo=timezone.utc)  # nanoseconds cut to micro
        except ValueError:
            pass
    return parse_rfc3339_or_none(text)


def parse_point_in_time(text: str, now: datetime) -> datetime:
    """A duration ago (``24h``), a date (``2026-03-14``, midnight UTC) or an RFC 3339 time, as options such as
    ``--since`` and ``--started-at`` take them. :class:`NotAPointInTime` listing the three forms when the text is
    none of them; when it is clearly a duration or a time, that parser's own ValueError says what is wrong."""
    value = text.strip()
    date = re.fullmatch(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", value, re.ASCII)
    if date is not None:
        try:
            return datetime(int(date[1]), int(date[2]), int(date[3]), tzinfo=timezone.utc)
        except ValueError as e:
            raise NotAPointInTime(f"{text!r} is not {_POINT_FORMS}") from e
    if _RFC3339.fullmatch(value):
        return parse_rfc3339(value)
    try:
        ago = parse_duration(value)
    except DurationError as e:
        if value[:1].isdigit() or value.startswith("-"):
            raise
        raise NotAPointInTime(f"{text!r} is not {_POINT_FORMS}") from e
    try:
        return now - ago
    except OverflowError as e:
        raise ValueError(f"{text!r} ago is before the calendar begins") from e


_POINT_FORMS = "a duration (45m, 24h, 7d), a date (2026-03-14) or an RFC 3339 time (2026-03-14T14:30:00Z)"
