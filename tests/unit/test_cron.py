"""The cron parser: grammar, error messages, the day rule, and parity with cronsim's parser."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from cronsim import CronSim, CronSimError
from hypothesis import given, settings
from hypothesis import strategies as st

from watchroster.schedules.cron import MACROS, CronError, CronSpec, parse_cron

MINUTE, HOUR, DOM, MONTH, DOW = range(5)


def field_values(spec: CronSpec, index: int) -> set[int]:
    fields = (spec.minutes, spec.hours, spec.days_of_month, spec.months, spec.weekdays)
    return set(fields[index])


def with_field(index: int, text: str) -> str:
    parts = ["0", "0", "1", "1", "*"]
    parts[index] = text
    return " ".join(parts)


@pytest.mark.parametrize(
    ("index", "text", "expected"),
    [
        (MINUTE, "*", set(range(60))),
        (MINUTE, "7", {7}),
        (MINUTE, "07", {7}),
        (MINUTE, "10-13", {10, 11, 12, 13}),
        (MINUTE, "*/15", {0, 15, 30, 45}),
        (MINUTE, "10-40/10", {10, 20, 30, 40}),
        (MINUTE, "50/4", {50, 54, 58}),
        (MINUTE, "1,5,9-10", {1, 5, 9, 10}),
        (MINUTE, "*/20,7", {0, 7, 20, 40}),
        (HOUR, "*/6", {0, 6, 12, 18}),
        (HOUR, "18-23", set(range(18, 24))),
        (DOM, "*/10", {1, 11, 21, 31}),
        (MONTH, "JAN", {1}),
        (MONTH, "jun-Aug", {6, 7, 8}),
        (MONTH, "FEB,11", {2, 11}),
        (MONTH, "*/3", {1, 4, 7, 10}),
        (DOW, "FRI", {5}),
        (DOW, "mon-fri", {1, 2, 3, 4, 5}),
        (DOW, "7", {0}),
        (DOW, "0,7", {0}),
        (DOW, "5-7", {5, 6, 0}),
        (DOW, "SAT,sun", {6, 0}),
    ],
)
def test_field_grammar(index: int, text: str, expected: set[int]) -> None:
    assert field_values(parse_cron(with_field(index, text)), index) == expected


@pytest.mark.parametrize(
    ("index", "text", "expected"),
    [
        # cronsim reads a single value before "/" as a start running to the field's maximum,
        # even when written as a one-value range, and the day-of-week maximum is 7 (Sunday).
        (MINUTE, "5-5/20", {5, 25, 45}),
        (DOW, "1/2", {1, 3, 5, 0}),
        (DOW, "*/3", {0, 3, 6}),
    ],
)
def test_cronsim_quirks_are_kept(index: int, text: str, expected: set[int]) -> None:
    assert field_values(parse_cron(with_field(index, text)), index) == expected


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("0 25 * * *", "hour field: 25 is out of range 0-23"),
        ("60 * * * *", "minute field: 60 is out of range 0-59"),
        ("0 0 0 * *", "day-of-month field: 0 is out of range 1-31"),
        ("0 0 * 13 *", "month field: 13 is out of range 1-12"),
        ("0 0 * * 8", "day-of-week field: 8 is out of range 0-7"),
        ("0 0 L * *", "day-of-month field: 'L' is not a valid value (the L, W, # and ?"),
        ("0 0 15W * *", "day-of-month field: '15W' is not a valid value (the L, W, #"),
        ("0 0 * * 5#2", "day-of-week field: '5#2' is not a valid value (the L, W, #"),
        ("0 0 * * 5L", "day-of-week field: '5L' is not a valid value"),
        ("0 0 ? * *", "day-of-month field: '?' is not a valid value"),
        ("@reboot", "unsupported macro '@reboot'"),
        ("0 0 0 * * *", "expected 5 fields (minute hour day-of-month month day-of-week), got 6"),
        ("0 0 * *", "expected 5 fields"),
        ("", "empty cron expression"),
        ("   ", "empty cron expression"),
        ("30-10 * * * *", "minute field: range '30-10' is reversed (30 > 10)"),
        ("0 0 * * FRI-MON", "day-of-week field: range 'FRI-MON' is reversed (5 > 1)"),
        ("*/0 * * * *", "minute field: step in '*/0' must be at least 1"),
        ("*/ * * * *", "minute field: step in '*/' must be a positive integer"),
        ("*/x * * * *", "minute field: step in '*/X' must be a positive integer"),
        ("1,,2 * * * *", "minute field: empty item in list '1,,2'"),
        ("1, * * * *", "minute field: empty item in list '1,'"),
        ("5- * * * *", "minute field: empty value"),
        ("-5 * * * *", "minute field: empty value"),
        ("/5 * * * *", "minute field: empty value"),
        ("1-2-3 * * * *", "minute field: '2-3' is not a valid value"),
        ("JAN * * * *", "minute field: 'JAN' is not a valid value"),
        ("0 0 * MON *", "month field: 'MON' is not a valid value"),
        ("0 0 * * JAN", "day-of-week field: 'JAN' is not a valid value"),
        ("٣ * * * *", "minute field: '٣' is not a valid value"),
        ("0 0 30 2 *", "day-of-month field: day 30 never occurs in the selected month(s)"),
        ("0 0 31 4,6,9 *", "day-of-month field: day 31 never occurs"),
    ],
)
def test_invalid_expressions_name_the_problem(expr: str, message: str) -> None:
    with pytest.raises(CronError) as caught:
        parse_cron(expr)
    assert str(caught.value).startswith(message)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(("macro", "expansion"), sorted(MACROS.items()))
def test_macros_equal_their_expansion(macro: str, expansion: str) -> None:
    assert parse_cron(macro) == parse_cron(expansion)
    assert parse_cron(macro.upper()) == parse_cron(expansion)


def test_macro_meanings() -> None:
    assert parse_cron("@weekly").weekdays == {0}
    assert parse_cron("@hourly").minutes_of_day == tuple(range(0, 1440, 60))
    yearly = parse_cron("@yearly")
    assert yearly.months == {1}
    assert yearly.days_of_month == {1}
    assert yearly.minutes_of_day == (0,)


@pytest.mark.parametrize(
    ("expr", "day_and"),
    [
        ("0 0 * * *", True),
        ("0 0 13 * *", True),
        ("0 0 * * FRI", True),
        ("0 0 */2 * FRI", True),  # "*/2" starts with a star, so it still means AND
        ("0 0 13 * */2", True),
        ("0 0 13 * FRI", False),
        ("0 0 1-31 * FRI", False),  # every day of the month, but written without a star
        ("0 0 13 * 0-7", False),
    ],
)
def test_day_rule_follows_the_field_text_like_cronsim(expr: str, day_and: bool) -> None:
    assert parse_cron(expr).day_and is day_and
    assert CronSim(expr, datetime(2025, 1, 1)).day_and is day_and


def test_day_of_month_or_day_of_week_when_both_are_restricted() -> None:
    spec = parse_cron("0 0 13 * FRI")
    june_2025 = [d for d in range(1, 31) if spec.matches_date(date(2025, 6, d))]
    assert june_2025 == [6, 13, 20, 27]  # Fridays, plus Friday the 13th itself
    july_2025 = [d for d in range(1, 32) if spec.matches_date(date(2025, 7, d))]
    assert july_2025 == [4, 11, 13, 18, 25]


def test_day_of_month_and_day_of_week_when_one_starts_with_a_star() -> None:
    spec = parse_cron("0 0 */2 * FRI")  # odd days of the month that are Fridays
    assert spec.matching_days(2025, 5) == (9, 23)
    assert [d for d in range(1, 32) if spec.matches_date(date(2025, 5, d))] == [9, 23]


def test_matching_days() -> None:
    assert parse_cron("0 18 * * FRI").matching_days(2025, 5) == (2, 9, 16, 23, 30)
    leap_day = parse_cron("0 0 29 2 *")
    assert leap_day.matching_days(2024, 2) == (29,)
    assert leap_day.matching_days(2025, 2) == ()
    assert leap_day.matching_days(2024, 3) == ()
    assert parse_cron("0 0 31 * *").matching_days(2025, 4) == ()


def test_time_tables() -> None:
    spec = parse_cron("15,45 9-10 * * *")
    assert spec.minutes_of_day == (555, 585, 615, 645)
    assert spec.matches_time(10, 45)
    assert not spec.matches_time(11, 15)
    assert not spec.matches_time(9, 30)


@pytest.mark.parametrize(
    ("expr", "fixed_time"),
    [
        ("30 1 * * *", True),
        ("0,30 1-3 * * *", True),
        ("@daily", True),
        ("*/30 1 * * *", False),
        ("30 * * * *", False),
        ("0 */2 * * *", False),
        ("@hourly", False),
    ],
)
def test_fixed_time_flag(expr: str, fixed_time: bool) -> None:
    assert parse_cron(expr).fixed_time is fixed_time


def test_parsing_is_cached() -> None:
    assert parse_cron("0 18 * * 1-5") is parse_cron("0 18 * * 1-5")


def test_spec_is_hashable_and_compares_by_fields() -> None:
    assert parse_cron("0 18 * * 5") == parse_cron("0 18 * * FRI")
    assert hash(parse_cron("0 18 * * 5")) == hash(parse_cron("0 18 * * FRI"))
    assert parse_cron("0 18 * * 5") != parse_cron("0 18 * * SAT")


# --- parity with cronsim's parser on random text -------------------------------------------

# Numbers (in and out of range), operators, names and the unsupported extension characters.
NUMBERS = ["0", "1", "2", "5", "7", "12", "15", "23", "30", "31", "59", "60", "00"]
SYMBOLS = ["*", "-", "/", ",", "L", "W", "#", "?"]
NAMES = ["JAN", "dec", "MON", "sun", "Fri"]
TOKENS = st.sampled_from([*NUMBERS, *SYMBOLS, *NAMES])
FIELD_TEXT = st.lists(TOKENS, min_size=1, max_size=5).map("".join)


@settings(deadline=None, max_examples=300)
@given(st.lists(FIELD_TEXT, min_size=5, max_size=5).map(" ".join))
def test_parsing_agrees_with_cronsim(expr: str) -> None:
    try:
        reference = CronSim(expr, datetime(2025, 1, 1))
    except CronSimError:
        with pytest.raises(CronError):
            parse_cron(expr)
        return
    try:
        spec = parse_cron(expr)
    except CronError:
        # The only expressions cronsim takes and we refuse use its L, W and # extensions.
        assert any(ch in expr.upper() for ch in "LW#"), expr
        return
    assert set(spec.minutes) == reference.minutes
    assert set(spec.hours) == reference.hours
    assert spec.days_of_month == reference.days
    assert spec.months == reference.months
    weekdays = [d for d in reference.weekdays if isinstance(d, int)]
    assert len(weekdays) == len(reference.weekdays)  # no "last"/"nth" weekday items
    assert spec.weekdays == {d % 7 for d in weekdays}
    assert spec.day_and is reference.day_and
