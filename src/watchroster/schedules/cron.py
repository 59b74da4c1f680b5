"""Parse 5-field cron expressions into sets, and match calendar days against them.

The grammar and its corner cases follow cronsim (the reference the rest of the project and the
tests compare against), restricted to the standard Debian/Vixie subset: `*`, values, names,
ranges, steps and lists. cronsim extensions (`L`, `W`, `#`, seconds field) are rejected.
"""

from __future__ import annotations

import calendar
import functools
from dataclasses import dataclass, field
from datetime import date

__all__ = ["CronError", "CronSpec", "parse_cron"]

_MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
# Longest each month can be (February counts its leap day), for rejecting "30 2"-style dates.
_MAX_MONTH_DAYS = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_FIELD_ORDER = "minute hour day-of-month month day-of-week"

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


class CronError(ValueError):
    """Invalid cron expression; str(exc) is a human message naming the problem."""


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    first_name_value: int = 0

    def error(self, message: str) -> CronError:
        return CronError(f"{self.name} field: {message}")


_FIELDS = (
    _Field("minute", 0, 59),
    _Field("hour", 0, 23),
    _Field("day-of-month", 1, 31),
    _Field("month", 1, 12, _MONTH_NAMES, 1),
    _Field("day-of-week", 0, 7, _DAY_NAMES, 0),
)


@dataclass(frozen=True)
class CronSpec:
    """A parsed cron expression.

    `weekdays` uses cron numbering (0 = Sunday … 6 = Saturday; a 7 in the expression is folded
    onto 0). `day_and` is the Debian/Vixie rule: when the day-of-month or the day-of-week field
    starts with `*` (including `*/n`) a day must match both fields, otherwise either one.
    `fixed_time` is cronsim's switch for its Debian-cron DST handling: True when neither the
    minute nor the hour field starts with `*`; such expressions are evaluated on wall-clock time
    (a missing local time fires at the end of the gap, a repeated one only in the first fold).
    """

    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days_of_month: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    day_and: bool
    fixed_time: bool
    # Derived tables, filled in by __post_init__.
    minutes_of_day: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _month_days: tuple[tuple[int, ...], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        times = tuple(h * 60 + m for h in self.hours for m in self.minutes)
        object.__setattr__(self, "minutes_of_day", times)
        # Which days of a month match depends only on the weekday of the 1st and the month's
        # length, so all 7 x 4 shapes are computed once and days need no per-day test later.
        table = tuple(
            tuple(
                dom
                for dom in range(1, length + 1)
                if self._day_rule(dom, (first_weekday + dom - 1) % 7)
            )
            for first_weekday in range(7)
            for length in range(28, 32)
        )
        object.__setattr__(self, "_month_days", table)

    def _day_rule(self, day_of_month: int, iso_weekday0: int) -> bool:
        """Day rule for a day given as day-of-month and Python weekday (Monday = 0)."""
        dom_ok = day_of_month in self.days_of_month
        dow_ok = (iso_weekday0 + 1) % 7 in self.weekdays
        return (dom_ok and dow_ok) if self.day_and else (dom_ok or dow_ok)

    def matches_date(self, day: date) -> bool:
        """True if the expression fires on some time of this calendar day."""
        return day.month in self.months and self._day_rule(day.day, day.weekday())

    def matches_time(self, hour: int, minute: int) -> bool:
        return hour in self.hours and minute in self.minutes

    def matching_days(self, year: int, month: int) -> tuple[int, ...]:
        """The days of `month` (as day-of-month numbers, ascending) the expression fires on."""
        if month not in self.months:
            return ()
        first_weekday, length = calendar.monthrange(year, month)
        return self._month_days[first_weekday * 4 + length - 28]


def _parse_value(token: str, fld: _Field) -> int:
    if token in fld.names:
        return fld.names.index(token) + fld.first_name_value
    if not token:
        raise fld.error("empty value")
    # str.isdigit() also accepts other scripts' digits, which int() would silently convert.
    if any(ch not in "0123456789" for ch in token):
        hint = ""
        if any(ch in "LW#?" for ch in token):
            hint = " (the L, W, # and ? extensions are not supported)"
        raise fld.error(f"{token!r} is not a valid value{hint}")
    value = int(token)
    if not fld.low <= value <= fld.high:
        raise fld.error(f"{value} is out of range {fld.low}-{fld.high}")
    return value


def _parse_range(text: str, fld: _Field) -> set[int]:
    low_text, high_text = text.split("-", 1)
    low, high = _parse_value(low_text, fld), _parse_value(high_text, fld)
    if high < low:
        raise fld.error(f"range {text!r} is reversed ({low} > {high})")
    return set(range(low, high + 1))


def _parse_step(text: str, fld: _Field) -> set[int]:
    term, step_text = text.split("/", 1)
    if not step_text or any(ch not in "0123456789" for ch in step_text):
        raise fld.error(f"step in {text!r} must be a positive integer")
    step = int(step_text)
    if step == 0:
        raise fld.error(f"step in {text!r} must be at least 1")
    items = _parse_term(term, fld)
    if len(items) == 1:
        # As in cronsim, a single value before the slash is a start: "5/15" means 5-59/15.
        # (cronsim applies this to a one-value range like "5-5/15" too; kept for parity.)
        return set(range(items.pop(), fld.high + 1)[::step])
    return set(sorted(items)[::step])


def _parse_term(text: str, fld: _Field) -> set[int]:
    if text == "*":
        return set(range(fld.low, fld.high + 1))
    if "-" in text:
        return _parse_range(text, fld)
    return {_parse_value(text, fld)}


def _parse_field(text: str, fld: _Field) -> set[int]:
    values: set[int] = set()
    for item in text.split(","):
        if not item:
            raise fld.error(f"empty item in list {text!r}")
        values |= _parse_step(item, fld) if "/" in item else _parse_term(item, fld)
    return values


def _expand_macro(expr: str) -> str:
    text = expr.strip()
    if not text.startswith("@"):
        return text
    try:
        return MACROS[text.lower()]
    except KeyError:
        supported = ", ".join(MACROS)
        raise CronError(f"unsupported macro {text!r} (supported: {supported})") from None


@functools.lru_cache(maxsize=1024)
def parse_cron(expr: str) -> CronSpec:
    """Parse a 5-field cron expression or macro; raise CronError naming the problem."""
    parts = _expand_macro(expr).upper().split()
    if not parts:
        raise CronError("empty cron expression")
    if len(parts) != 5:
        raise CronError(f"expected 5 fields ({_FIELD_ORDER}), got {len(parts)}")
    minutes, hours, doms, months, dows = (
        _parse_field(text, fld) for text, fld in zip(parts, _FIELDS, strict=True)
    )
    # Both rules below look at the field text, not the parsed set: "*/2" counts as a star.
    day_and = parts[2].startswith("*") or parts[4].startswith("*")
    if day_and and min(doms) > max(_MAX_MONTH_DAYS[m] for m in months):
        raise _FIELDS[2].error(f"day {min(doms)} never occurs in the selected month(s)")
    return CronSpec(
        minutes=tuple(sorted(minutes)),
        hours=tuple(sorted(hours)),
        days_of_month=frozenset(doms),
        months=frozenset(months),
        weekdays=frozenset(d % 7 for d in dows),
        day_and=day_and,
        fixed_time=not parts[0].startswith("*") and not parts[1].startswith("*"),
    )
