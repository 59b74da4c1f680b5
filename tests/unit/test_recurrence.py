"""Occurrences of schedule rules: exact instants around DST, seasons, windows, is_occurrence."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from watchroster.schedules import recurrence
from watchroster.schedules.cron import CronError
from watchroster.schedules.recurrence import (
    Occurrence,
    ScheduleRule,
    is_occurrence,
    occurrences,
)


def rule(
    expr: str,
    zone: str,
    start_date: date | None = None,
    end_date: date | None = None,
    duration: int = 60,
) -> ScheduleRule:
    return ScheduleRule(expr, zone, start_date, end_date, duration)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def utc_times(year: int, month: int, day: int, *times: str) -> list[datetime]:
    """UTC instants on one date, from "HH:MM" strings."""
    return [utc(year, month, day, int(t[:2]), int(t[3:])) for t in times]


def starts(schedule: ScheduleRule, window_start: datetime, window_end: datetime) -> list[datetime]:
    return [occ.start for occ in occurrences(schedule, window_start, window_end)]


def local_day(schedule: ScheduleRule, day: date) -> list[datetime]:
    """Starts from local midnight of `day` to local midnight of the next day."""
    zone = ZoneInfo(schedule.timezone)
    begin = datetime(day.year, day.month, day.day, tzinfo=zone)
    end = begin.replace(tzinfo=None) + timedelta(days=1)
    return starts(schedule, begin, end.replace(tzinfo=zone))


# --- daylight saving, as cronsim does it -----------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "expr", "day", "expected"),
    [
        # A missing local time fires once, at the end of the gap.
        ("Europe/London", "30 1 * * *", date(2025, 3, 30), [utc(2025, 3, 30, 1, 0)]),
        ("Europe/Berlin", "30 2 * * *", date(2025, 3, 30), [utc(2025, 3, 30, 1, 0)]),
        ("America/New_York", "30 2 * * *", date(2025, 3, 9), [utc(2025, 3, 9, 7, 0)]),
        # A repeated local time fires once, in the first fold (summer time).
        ("Europe/London", "30 1 * * *", date(2025, 10, 26), [utc(2025, 10, 26, 0, 30)]),
        ("Europe/Berlin", "30 2 * * *", date(2025, 10, 26), [utc(2025, 10, 26, 0, 30)]),
        ("America/New_York", "30 1 * * *", date(2025, 11, 2), [utc(2025, 11, 2, 5, 30)]),
        # Several missing times collapse into the one instant at the end of the gap.
        ("Europe/London", "15,30,45 1 * * *", date(2025, 3, 30), [utc(2025, 3, 30, 1, 0)]),
        # Midnight is missing in Santiago when DST starts.
        ("America/Santiago", "0 0 * * *", date(2025, 9, 7), [utc(2025, 9, 7, 4, 0)]),
    ],
)
def test_fixed_local_times_across_dst(
    zone: str, expr: str, day: date, expected: list[datetime]
) -> None:
    assert local_day(rule(expr, zone), day) == expected


def test_gap_end_is_not_repeated_when_it_is_also_a_firing_time() -> None:
    # 01:00-01:45 do not exist; all resolve to 02:00 BST, which the expression also names.
    got = starts(rule("0-59/15 1,2 * * *", "Europe/London"), utc(2025, 3, 30), utc(2025, 3, 30, 3))
    assert got == utc_times(2025, 3, 30, "01:00", "01:15", "01:30", "01:45")


def test_every_half_hour_fires_in_both_folds() -> None:
    got = starts(rule("*/30 * * * *", "Europe/London"), utc(2025, 10, 26), utc(2025, 10, 26, 2))
    london = ZoneInfo("Europe/London")
    as_local = [s.astimezone(london).strftime("%H:%M%z") for s in got]
    assert got == utc_times(2025, 10, 26, "00:00", "00:30", "01:00", "01:30")
    assert as_local == ["01:00+0100", "01:30+0100", "01:00+0000", "01:30+0000"]


def test_every_quarter_hour_across_a_gap_has_no_missing_instant() -> None:
    got = starts(
        rule("*/15 * * * *", "Europe/London"), utc(2025, 3, 30, 0, 30), utc(2025, 3, 30, 1, 30)
    )
    assert got == utc_times(2025, 3, 30, "00:30", "00:45", "01:00", "01:15")


def test_hour_with_minute_star_does_not_fire_when_the_hour_is_missing() -> None:
    # cronsim evaluates "*/30 1" on absolute time: no instant has local hour 1 that day.
    assert local_day(rule("*/30 1 * * *", "Europe/London"), date(2025, 3, 30)) == []
    assert len(local_day(rule("*/30 1 * * *", "Europe/London"), date(2025, 3, 31))) == 2


def test_friday_evenings_in_london_october() -> None:
    got = starts(rule("0 18 * * FRI", "Europe/London"), utc(2025, 10, 1), utc(2025, 11, 1))
    assert got == [utc(2025, 10, d, 17) for d in (3, 10, 17, 24)] + [utc(2025, 10, 31, 18)]


def test_design_case_friday_patrols_in_may_johannesburg() -> None:
    schedule = rule("0 18 * * FRI", "Africa/Johannesburg", date(2025, 5, 1), date(2025, 5, 31))
    got = starts(schedule, utc(2025, 1, 1), utc(2026, 1, 1))
    sast = timezone(timedelta(hours=2))
    assert got == [datetime(2025, 5, d, 18, tzinfo=sast) for d in (2, 9, 16, 23, 30)]
    assert all(s.tzinfo is UTC for s in got)


# cronsim's search on absolute time has quirks on days with half-hour DST changes and gaps at
# midnight; the engine reproduces them (these instants are what cronsim 2.8 yields).


def test_lord_howe_half_hour_gap_skips_what_cronsim_skips() -> None:
    got = starts(
        rule("*/15 1,3 * * *", "Australia/Lord_Howe"), utc(2025, 10, 4, 12), utc(2025, 10, 5, 12)
    )
    # 01:00-01:45 +10:30, then 03:30 and 03:45 +11: cronsim's hour step lands on 03:30.
    assert got == utc_times(2025, 10, 4, "14:30", "14:45", "15:00", "15:15", "16:30", "16:45")


def test_lord_howe_misalignment_leaks_into_the_next_day() -> None:
    got = starts(
        rule("*/15 0 * * *", "Australia/Lord_Howe"), utc(2025, 10, 5, 13), utc(2025, 10, 5, 14)
    )
    assert got == [utc(2025, 10, 5, 13, 30), utc(2025, 10, 5, 13, 45)]


def test_santiago_missing_midnight_fires_at_gap_end_for_hour_steps() -> None:
    got = starts(rule("0 */2 * * SUN", "America/Santiago"), utc(2025, 9, 7, 3), utc(2025, 9, 7, 9))
    assert got == [utc(2025, 9, 7, 4), utc(2025, 9, 7, 5), utc(2025, 9, 7, 7)]


# --- durations ------------------------------------------------------------------------------


def test_end_is_start_plus_duration_in_absolute_time_across_dst() -> None:
    spring = rule("30 0 * * *", "Europe/London", duration=120)
    (occ,) = occurrences(spring, utc(2025, 3, 30), utc(2025, 3, 30, 12))
    assert occ == Occurrence(utc(2025, 3, 30, 0, 30), utc(2025, 3, 30, 2, 30))
    assert occ.end.astimezone(ZoneInfo("Europe/London")).hour == 3  # 3 wall-clock hours later

    autumn = rule("30 0 * * *", "Europe/London", duration=120)
    (occ,) = occurrences(autumn, utc(2025, 10, 25, 12), utc(2025, 10, 26, 12))
    assert occ == Occurrence(utc(2025, 10, 25, 23, 30), utc(2025, 10, 26, 1, 30))
    assert occ.end.tzinfo is UTC


# --- seasonal window and query window --------------------------------------------------------


def test_season_bounds_are_inclusive_local_dates() -> None:
    # 23:30 in New York is 03:30 UTC the next day: it belongs to the local date.
    late = rule("30 23 * * *", "America/New_York", date(2025, 7, 4), date(2025, 7, 4))
    assert starts(late, utc(2025, 7, 1), utc(2025, 7, 10)) == [utc(2025, 7, 5, 3, 30)]
    # 01:30 in Kolkata is 20:00 UTC the previous day.
    early = rule("30 1 * * *", "Asia/Kolkata", date(2025, 7, 4), date(2025, 7, 4))
    assert starts(early, utc(2025, 7, 1), utc(2025, 7, 10)) == [utc(2025, 7, 3, 20, 0)]


@pytest.mark.parametrize(
    ("start_date", "end_date", "months"),
    [
        (None, None, list(range(1, 13))),
        (date(2025, 6, 15), None, list(range(7, 13))),
        (None, date(2025, 6, 15), list(range(1, 7))),
        (date(2025, 6, 1), date(2025, 6, 1), [6]),
        (date(2025, 6, 2), date(2025, 6, 30), []),
        (date(2025, 6, 1), date(2025, 5, 1), []),
    ],
)
def test_season_bounds(start_date: date | None, end_date: date | None, months: list[int]) -> None:
    monthly = rule("0 12 1 * *", "UTC", start_date, end_date)
    assert starts(monthly, utc(2025, 1, 1), utc(2026, 1, 1)) == [
        utc(2025, m, 1, 12) for m in months
    ]


def test_season_outside_the_window_yields_nothing() -> None:
    daily = "0 12 * * *"
    ended = rule(daily, "Europe/Berlin", date(2025, 1, 1), date(2025, 1, 31))
    assert starts(ended, utc(2025, 2, 1), utc(2025, 3, 1)) == []
    not_started = rule(daily, "Europe/Berlin", date(2025, 4, 1), None)
    assert starts(not_started, utc(2025, 2, 1), utc(2025, 3, 1)) == []


def test_window_is_half_open_and_accepts_any_offset() -> None:
    daily = rule("0 12 * * *", "UTC")
    assert starts(daily, utc(2025, 1, 1, 12), utc(2025, 1, 3, 12)) == [
        utc(2025, 1, 1, 12),
        utc(2025, 1, 2, 12),
    ]
    plus_two = timezone(timedelta(hours=2))
    window_start = datetime(2025, 1, 1, 14, tzinfo=plus_two)  # 12:00 UTC
    assert starts(daily, window_start, window_start + timedelta(days=1)) == [utc(2025, 1, 1, 12)]
    assert starts(daily, window_start + timedelta(microseconds=1), utc(2025, 1, 2, 12)) == []


def test_empty_or_reversed_window_yields_nothing() -> None:
    daily = rule("0 12 * * *", "UTC")
    assert starts(daily, utc(2025, 1, 5), utc(2025, 1, 1)) == []
    assert starts(daily, utc(2025, 1, 1, 12), utc(2025, 1, 1, 12)) == []


def test_naive_datetimes_are_rejected() -> None:
    daily = rule("0 12 * * *", "UTC")
    with pytest.raises(ValueError, match="window_start must be timezone-aware"):
        occurrences(daily, datetime(2025, 1, 1), utc(2025, 1, 2))
    with pytest.raises(ValueError, match="instant must be timezone-aware"):
        is_occurrence(daily, datetime(2025, 1, 1, 12))


def test_far_windows_are_clamped_instead_of_overflowing() -> None:
    daily = rule("0 12 * * *", "Pacific/Kiritimati")  # UTC+14
    latest = datetime.max.replace(tzinfo=UTC)
    assert starts(daily, latest - timedelta(days=3), latest) == []
    earliest = datetime.min.replace(tzinfo=timezone(timedelta(hours=14)))  # before year 1 UTC
    first = next(occurrences(daily, earliest, utc(2025, 1, 1)))
    assert first.start.year == 2
    midnight = rule("0 0 * * *", "UTC")
    assert not is_occurrence(midnight, datetime(1, 1, 1, tzinfo=UTC))
    assert is_occurrence(midnight, datetime(2, 1, 1, tzinfo=UTC))


# --- laziness and merging --------------------------------------------------------------------


def test_generation_is_lazy() -> None:
    every_minute = rule("* * * * *", "Europe/London")
    stream = occurrences(every_minute, utc(2025, 1, 1), utc(3025, 1, 1))
    assert isinstance(stream, Iterator)
    first = [occ.start for occ in itertools.islice(stream, 3)]
    assert first == [utc(2025, 1, 1, 0, m) for m in range(3)]


def test_streams_merge_in_time_order() -> None:
    rules = [rule("0 18 * * FRI", "Europe/London"), rule("30 17 * * *", "Africa/Johannesburg")]
    window = (utc(2025, 10, 1), utc(2025, 11, 1))
    merged = list(heapq.merge(*(occurrences(r, *window) for r in rules)))
    assert merged == sorted(occ for r in rules for occ in occurrences(r, *window))
    assert len(merged) == 5 + 31
    assert all(a.start <= b.start for a, b in itertools.pairwise(merged))


def test_occurrences_order_by_start_then_end() -> None:
    a = Occurrence(utc(2025, 1, 1), utc(2025, 1, 1, 2))
    b = Occurrence(utc(2025, 1, 1), utc(2025, 1, 1, 3))
    c = Occurrence(utc(2025, 1, 2), utc(2025, 1, 2, 1))
    assert sorted([c, b, a]) == [a, b, c]


# --- rule validation ------------------------------------------------------------------------


@pytest.mark.parametrize("duration", [0, -5, 1441])
def test_duration_must_be_1_to_1440_minutes(duration: int) -> None:
    with pytest.raises(ValueError, match=r"duration_minutes must be 1\.\.1440"):
        rule("0 12 * * *", "UTC", duration=duration)


def test_valid_edges_and_bad_zone_or_cron() -> None:
    assert rule("0 12 * * *", "UTC", duration=1).duration_minutes == 1
    assert rule("0 12 * * *", "UTC", duration=1440).duration_minutes == 1440
    with pytest.raises(ValueError, match="unknown IANA time zone 'Mars/Olympus'"):
        rule("0 12 * * *", "Mars/Olympus")
    with pytest.raises(CronError, match="hour field: 24 is out of range 0-23"):
        rule("0 24 * * *", "UTC")


# --- is_occurrence --------------------------------------------------------------------------


def test_is_occurrence_exact_instants_only() -> None:
    patrol = rule("0 18 * * FRI", "Africa/Johannesburg", date(2025, 5, 1), date(2025, 5, 31))
    assert is_occurrence(patrol, utc(2025, 5, 2, 16))
    assert is_occurrence(patrol, datetime(2025, 5, 2, 18, tzinfo=ZoneInfo("Africa/Johannesburg")))
    for wrong in (
        utc(2025, 5, 2, 16) + timedelta(microseconds=1),
        utc(2025, 5, 2, 16, 1),
        utc(2025, 5, 2, 15, 59),
        utc(2025, 5, 1, 16),  # a Thursday
        utc(2025, 4, 25, 16),  # a Friday before the season
        utc(2025, 6, 6, 16),  # a Friday after it
    ):
        assert not is_occurrence(patrol, wrong), wrong


def test_is_occurrence_around_dst() -> None:
    nightly = rule("30 1 * * *", "Europe/London")
    assert is_occurrence(nightly, utc(2025, 10, 26, 0, 30))
    assert not is_occurrence(nightly, utc(2025, 10, 26, 1, 30))  # second fold does not fire
    assert is_occurrence(nightly, utc(2025, 3, 30, 1, 0))  # end of the gap
    half_hourly = rule("*/30 * * * *", "Europe/London")
    assert is_occurrence(half_hourly, utc(2025, 10, 26, 1, 30))
    assert is_occurrence(half_hourly, utc(2025, 10, 26, 0, 30))


def test_is_occurrence_looks_only_at_days_around_the_instant(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spans: list[int] = []
    real_expand = recurrence._expand

    def spy(
        plan: recurrence._Plan,
        tz: ZoneInfo,
        days: tuple[int, int],
        window: tuple[datetime, datetime],
    ) -> Iterator[recurrence.Chunk]:
        spans.append(days[1] - days[0] + 1)
        return real_expand(plan, tz, days, window)

    monkeypatch.setattr(recurrence, "_expand", spy)
    forever = rule("0 18 * * *", "Europe/London")
    assert is_occurrence(forever, utc(2400, 6, 1, 17))
    assert not is_occurrence(forever, utc(2400, 6, 1, 18))
    assert spans and max(spans) <= 3
