"""Schedules in plain words: the form's fields as cron, the sentence (Babel's names), the OR
warning, and the next shifts across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from watchroster.schedules.cron import parse_cron
from watchroster.schedules.describe import (
    describe,
    duration_words,
    is_or_rule,
    or_rule_warning,
    read_cron,
    season_words,
    write_cron,
)
from watchroster.schedules.holidays import HolidayRule, holiday_at
from watchroster.schedules.preview import next_shifts
from watchroster.schedules.recurrence import ScheduleRule, occurrences

FRI, MON, WED, SAT, SUN = 4, 0, 2, 5, 6


def rule(
    cron: str,
    start: date | None = date(2026, 5, 1),
    end: date | None = date(2026, 8, 31),
    minutes: int = 180,
    zone: str = "Africa/Johannesburg",
) -> ScheduleRule:
    return ScheduleRule(cron, zone, start, end, minutes)


@pytest.mark.parametrize(
    ("weekdays", "start", "cron"),
    [
        ({FRI}, time(18, 0), "0 18 * * FRI"),
        ({MON, WED, FRI}, time(6, 30), "30 6 * * MON,WED,FRI"),
        ({SUN, MON}, time(0, 5), "5 0 * * MON,SUN"),
        (set(range(7)), time(22, 0), "0 22 * * *"),
    ],
)
def test_write_cron_and_read_it_back(weekdays: set[int], start: time, cron: str) -> None:
    assert write_cron(weekdays, start) == cron
    parse_cron(cron)
    back = read_cron(cron)
    assert back is not None
    assert (set(back.weekdays), back.start) == (weekdays, start)


def test_write_cron_refuses_no_weekday() -> None:
    with pytest.raises(ValueError, match="at least one weekday"):
        write_cron([], time(18, 0))


@pytest.mark.parametrize(
    "cron", ["0 */2 * * *", "0 18 1-7 * FRI", "0 18 * 5-8 FRI", "0 18,20 * * *", "0 18 1 * *"]
)
def test_what_the_form_cannot_say_stays_cron(cron: str) -> None:
    assert read_cron(cron) is None


def test_the_cron_the_form_writes_fires_on_the_chosen_days_only() -> None:
    cron = write_cron({MON, FRI}, time(18, 0))
    starts = list(
        occurrences(rule(cron), datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 5, 12, tzinfo=UTC))
    )
    local = [o.start.astimezone(ZoneInfo("Africa/Johannesburg")).date() for o in starts]
    assert [d.weekday() for d in local] == [FRI, MON, FRI, MON]


def test_sentence_in_english_with_season_and_holidays() -> None:
    sentence = describe(rule("0 18 * * FRI"), "en", skip_holidays=True)
    assert (
        sentence
        == "Every Friday from 18:00 to 21:00, 1 May – 31 August 2026, except public holidays"
    )


def test_sentence_in_afrikaans_uses_babel_day_and_month_names() -> None:
    sentence = describe(rule("0 18 * * MON,FRI"), "af")
    assert "Maandag en Vrydag" in sentence
    assert "1 Mei – 31 Augustus 2026" in sentence
    assert "Friday" not in sentence and "May" not in sentence


def test_sentence_in_isizulu_uses_babel_names() -> None:
    assert "ULwesihlanu" in describe(rule("0 18 * * FRI"), "zu")


@pytest.mark.parametrize(
    ("cron", "minutes", "expected"),
    [
        ("0 18 * * *", 180, "Every day from 18:00 to 21:00"),
        ("30 22 * * SAT", 480, "Every Saturday from 22:30 to 06:30 the next day"),
        ("0 18 * * MON,WED,FRI", 60, "Every Monday, Wednesday and Friday from 18:00 to 19:00"),
        ("0 */2 * * *", 60, "Starts 12 times a day, every day, each for 1 hour"),
        (
            "0 18 1-7 * *",
            90,
            "Starts at 18:00, on days 1–7 of the month, each for 1 hour 30 minutes",
        ),
        (
            "0 18 * 5-8 FRI",
            180,
            "Starts at 18:00, every Friday in May, June, July and August, each for 3 hours",
        ),
        ("0 18 1-31 * FRI", 60, "Starts at 18:00, every day, each for 1 hour"),
    ],
)
def test_sentences_without_a_season(cron: str, minutes: int, expected: str) -> None:
    assert describe(rule(cron, None, None, minutes), "en") == expected


def test_seasons_in_words() -> None:
    assert (
        season_words(date(2026, 12, 1), date(2027, 2, 28), "en")
        == "1 December 2026 – 28 February 2027"
    )
    assert season_words(date(2026, 5, 1), None, "en") == "from 1 May 2026"
    assert season_words(None, date(2026, 8, 31), "af") == "tot 31 Augustus 2026"
    assert season_words(None, None, "en") is None
    assert duration_words(150, "en") == "2 hours 30 minutes"
    assert duration_words(60, "en") == "1 hour"
    assert duration_words(45, "en") == "45 minutes"


def test_the_or_rule_is_recognised_and_explained() -> None:
    assert is_or_rule("0 18 1-7 * FRI")
    assert not is_or_rule("0 18 * * FRI")
    assert not is_or_rule("0 18 1-7 * *")
    assert not is_or_rule("0 18 */2 * FRI")  # a star-step is an AND in Vixie cron
    message = or_rule_warning("0 18 1-7 * FRI", "en")
    assert "days 1–7 OR every Friday" in message
    assert "tick them in the form" in message
    # What it says is what cron does: Thursday 2 July 2026 (day 2) fires although no Friday.
    starts = occurrences(
        rule("0 18 1-7 * FRI"), datetime(2026, 7, 1, tzinfo=UTC), datetime(2026, 7, 11, tzinfo=UTC)
    )
    days = [o.start.date().day for o in starts]
    assert days == [1, 2, 3, 4, 5, 6, 7, 10]


def test_next_shifts_show_the_spring_change_in_london() -> None:
    # Saturdays 22:00 for 8 hours: the night of 28-29 March 2026 the clocks go forward.
    london = rule("0 22 * * SAT", None, None, 480, "Europe/London")
    shifts, skipped = next_shifts(london, datetime(2026, 3, 14, tzinfo=UTC), "en", count=4)
    assert skipped == []
    assert [s.start.strftime("%d %H:%M") for s in shifts] == [
        "14 22:00",
        "21 22:00",
        "28 22:00",
        "04 22:00",
    ]
    assert [s.clock_change for s in shifts] == [
        None,
        None,
        "clocks change during this shift: UTC+00:00 → UTC+01:00",
        None,
    ]
    assert shifts[2].end.strftime("%H:%M") == "07:00"  # 8 hours, of which one hour is skipped


def test_next_shifts_show_the_autumn_change_in_london_between_shifts() -> None:
    london = rule("0 18 * * FRI", None, None, 180, "Europe/London")
    shifts, _ = next_shifts(london, datetime(2026, 10, 16, tzinfo=UTC), "en", count=3)
    assert [s.start.strftime("%d %H:%M") for s in shifts] == ["16 18:00", "23 18:00", "30 18:00"]
    assert [s.clock_change for s in shifts] == [None, None, "clocks change: UTC+01:00 → UTC+00:00"]
    assert shifts[-1].start.utcoffset() == timedelta(0)


def test_next_shifts_leave_out_what_is_not_held() -> None:
    season = rule("0 18 * * FRI")
    za = HolidayRule("ZA")
    zone = season.timezone

    def not_held(start: datetime) -> str | None:
        return holiday_at(za, ZoneInfo(zone), start)

    shifts, skipped = next_shifts(season, datetime(2026, 4, 1, tzinfo=UTC), "en", not_held)
    # Friday 1 May 2026 is Workers' Day: the season's first Friday is not offered.
    assert [(s.start.date(), s.reason) for s in skipped] == [(date(2026, 5, 1), "Workers' Day")]
    assert [s.start.date() for s in shifts][:2] == [date(2026, 5, 8), date(2026, 5, 15)]
    assert len(shifts) == 10
