"""next_occurrence: the jump to a schedule's next start, against the day-by-day expansion."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.unit.test_recurrence_properties import EXPRESSIONS, Case, cases
from watchroster.schedules import cron
from watchroster.schedules.cron import CronError, parse_cron
from watchroster.schedules.recurrence import ScheduleRule, next_occurrence, occurrences

DAY = timedelta(days=1)
DST_ZONES = ("Europe/London", "America/New_York", "Australia/Lord_Howe", "Africa/Johannesburg")
# Expressions that fire rarely, so that a long window makes the search jump far.
SPARSE = (
    "0 18 29 2 *",  # 29 February only
    "30 1 29 2 *",
    "0 0 1 1 *",
    "30 2 * 3 SUN",  # New York's spring-forward Sundays hold a missing 02:30
    "30 1 * 10,11 SUN",  # London's and New York's fall-back Sundays repeat 01:30
    "0 18 * * FRI",
    "*/30 1-2 * 3,10,11 SUN",
    "0 12 13 * FRI",
)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def day_by_day(rule: ScheduleRule, at: datetime, before: datetime) -> Iterator[datetime]:
    """Starts in [at, before), expanding one UTC day at a time (the walk the jump replaces)."""
    day = at.replace(hour=0, minute=0, second=0, microsecond=0)
    while day < before:
        low, high = max(day, at), min(day + DAY, before)
        yield from (occ.start for occ in occurrences(rule, low, high))
        day += DAY


def first_day_by_day(rule: ScheduleRule, at: datetime, before: datetime) -> datetime | None:
    return next(day_by_day(rule, at, before), None)


def jumps(rule: ScheduleRule, at: datetime, before: datetime) -> Iterator[datetime]:
    """Starts in [at, before), each found by jumping from just after the previous one."""
    while (found := next_occurrence(rule, at, before)) is not None:
        yield found.start
        at = found.start + timedelta(microseconds=1)


@st.composite
def long_windows(draw: st.DrawFn) -> tuple[ScheduleRule, datetime, datetime]:
    """A rule (sparse or random) in a DST zone, and a window of up to 400 days."""
    expr = draw(st.sampled_from(SPARSE) | EXPRESSIONS)
    try:
        parse_cron(expr)
    except CronError:
        assume(False)
    zone = draw(st.sampled_from(DST_ZONES))
    at = utc(2024, 1, 1) + draw(st.integers(0, 3 * 365 * 24 * 60)) * timedelta(minutes=1)
    at += timedelta(seconds=draw(st.sampled_from([0, 0, 1, 59])))
    before = at + draw(st.integers(1, 400 * 24 * 60)) * timedelta(minutes=1)
    bounds = st.none() | st.integers(-30, 400).map(lambda n: at.date() + timedelta(days=n))
    start_date, end_date = draw(bounds), draw(bounds)
    rule = ScheduleRule(expr, zone, start_date, end_date, draw(st.integers(1, 1440)))
    return rule, at, before


@settings(deadline=None, max_examples=150)
@given(long_windows())
def test_the_jump_lands_where_the_day_by_day_walk_does(
    case: tuple[ScheduleRule, datetime, datetime],
) -> None:
    rule, at, before = case
    found = next_occurrence(rule, at, before)
    assert (found and found.start) == first_day_by_day(rule, at, before)
    if found is not None:
        assert found.end - found.start == timedelta(minutes=rule.duration_minutes)


@settings(deadline=None, max_examples=100)
@given(long_windows())
def test_jumping_from_start_to_start_gives_the_whole_expansion(
    case: tuple[ScheduleRule, datetime, datetime],
) -> None:
    rule, at, before = case
    expected = list(itertools.islice(day_by_day(rule, at, before), 60))
    assert list(itertools.islice(jumps(rule, at, before), 60)) == expected


@settings(deadline=None, max_examples=100)
@given(cases())
def test_around_every_kind_of_dst_change_the_jump_agrees(case: Case) -> None:
    # The short windows around DST changes (and zones such as Lord Howe and Santiago) of the
    # recurrence property tests, whose expansion is checked against cronsim there.
    rule, at, before = case.rule, case.window_start, case.window_end
    expected = list(day_by_day(rule, at, before))
    found = next_occurrence(rule, at, before)
    assert (found and found.start) == (expected[0] if expected else None)
    # From just after each start (at most 40, spread over the window) to the next one.
    step = max(1, len(expected) // 40)
    for index in range(0, len(expected), step):
        following = expected[index + 1] if index + 1 < len(expected) else None
        found = next_occurrence(rule, expected[index] + timedelta(microseconds=1), before)
        assert (found and found.start) == following


def test_29_february_jumps_to_the_next_leap_year() -> None:
    leap_day = ScheduleRule("0 18 29 2 *", "Europe/London", None, None, 60)
    found = next_occurrence(leap_day, utc(2025, 3, 1), utc(2029, 1, 1))
    assert found is not None and found.start == utc(2028, 2, 29, 18)
    assert next_occurrence(leap_day, utc(2025, 3, 1), utc(2028, 2, 29, 18)) is None  # exclusive
    assert next_occurrence(leap_day, utc(2028, 2, 29, 18), utc(2029, 1, 1)) == found  # inclusive


def test_daylight_saving_edges() -> None:
    london = ScheduleRule("30 1 * * *", "Europe/London", None, None, 60)
    # 01:30 does not exist on 30 March 2025: the end of the gap, 02:00 BST = 01:00Z.
    spring = next_occurrence(london, utc(2025, 3, 29, 1, 31), utc(2025, 4, 1))
    assert spring is not None and spring.start == utc(2025, 3, 30, 1)
    # 01:30 happens twice on 26 October 2025: only the first, 00:30Z; the next is a day later.
    autumn = next_occurrence(london, utc(2025, 10, 26, 0, 31), utc(2025, 11, 1))
    assert autumn is not None and autumn.start == utc(2025, 10, 27, 1, 30)
    new_york = ScheduleRule("30 2 * * *", "America/New_York", None, None, 60)
    gap = next_occurrence(new_york, utc(2025, 3, 8, 7, 31), utc(2025, 3, 10))
    assert gap is not None and gap.start == utc(2025, 3, 9, 7)  # 03:00 EDT, end of the gap


def test_seasons_bound_the_search() -> None:
    summer = ScheduleRule("0 18 * * *", "Europe/London", date(2026, 6, 1), date(2026, 8, 31), 60)
    found = next_occurrence(summer, utc(2025, 9, 1), utc(2026, 12, 1))
    assert found is not None and found.start == utc(2026, 6, 1, 17)
    assert next_occurrence(summer, utc(2026, 9, 1), utc(2027, 9, 1)) is None


def test_a_rare_schedule_costs_a_few_month_lookups_not_a_day_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    months: list[tuple[int, int]] = []
    real = cron.CronSpec.matching_days

    def spy(spec: cron.CronSpec, year: int, month: int) -> tuple[int, ...]:
        months.append((year, month))
        return real(spec, year, month)

    monkeypatch.setattr(cron.CronSpec, "matching_days", spy)
    leap_day = ScheduleRule("0 18 29 2 *", "UTC", None, None, 60)
    assert next_occurrence(leap_day, utc(2025, 3, 1), utc(2026, 4, 5)) is None  # 400 days
    assert len(months) <= 2 * 15  # two probes, each over at most the 14 months it spans


def test_instants_must_be_aware() -> None:
    daily = ScheduleRule("0 18 * * *", "UTC", None, None, 60)
    with pytest.raises(ValueError, match="at must be timezone-aware"):
        next_occurrence(daily, datetime(2025, 1, 1), utc(2025, 2, 1))
