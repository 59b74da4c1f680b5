"""The one parser of instants, dates and zones at the API boundary (issue #9, section 1)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from watchroster.core.config import Settings
from watchroster.core.errors import ValidationFailed
from watchroster.core.timefmt import (
    BOUND_PATTERN,
    EARLIEST,
    FIRST_DAY,
    INSTANT_PATTERN,
    LAST_DAY,
    LATEST,
    check_day,
    check_zone,
    parse_bound,
    parse_day,
    parse_instant,
    to_rfc3339,
)

JOHANNESBURG = ZoneInfo("Africa/Johannesburg")
# Every offset RFC 3339 can write: -23:59..+23:59 in whole minutes.
offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
in_range = st.datetimes(
    min_value=EARLIEST.replace(tzinfo=None), max_value=LATEST.replace(tzinfo=None) - timedelta(1)
).map(lambda naive: naive.replace(tzinfo=UTC))


def field_of(error: ValidationFailed) -> str:
    return str(error.details[0]["field"])


@given(instant=in_range, zone=offsets)
def test_an_instant_in_range_survives_any_offset(instant: datetime, zone: timezone) -> None:
    assert parse_instant(to_rfc3339(instant, zone), "start_time") == instant


@given(
    local=st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59)),
    zone=offsets,
)
def test_any_written_instant_is_in_range_or_refused(local: datetime, zone: timezone) -> None:
    text = local.replace(tzinfo=zone).isoformat(timespec="seconds")
    try:
        instant = parse_instant(text, "start_time")
    except ValidationFailed as error:  # never OverflowError
        assert field_of(error) == "start_time"
        assert not EARLIEST <= local.replace(tzinfo=zone) < LATEST
    else:
        assert EARLIEST <= instant < LATEST


@given(text=st.text(max_size=40))
def test_any_text_is_an_instant_or_a_validation_error(text: str) -> None:
    try:
        instant = parse_instant(text, "from")
    except ValidationFailed as error:
        assert field_of(error) == "from"
    else:
        assert instant.tzinfo is UTC and EARLIEST <= instant < LATEST


@given(day=st.dates(), end_of_day=st.booleans())
def test_any_date_bound_is_in_range_or_refused(day: date, end_of_day: bool) -> None:
    try:
        bound = parse_bound(day.isoformat(), "to", JOHANNESBURG, end_of_day=end_of_day)
    except ValidationFailed as error:
        assert field_of(error) == "to" and not FIRST_DAY <= day <= LAST_DAY
    else:
        assert FIRST_DAY <= day <= LAST_DAY and EARLIEST <= bound <= LATEST


@pytest.mark.parametrize(
    "text",
    [
        "2027-W01-1T10:00:00Z",
        "20270101T100000Z",
        "2027-01-01T10:00Z",
        "2027-01-01T10Z",
        "2027-01-01T10:00:00+0200",
        "2027-01-01T10:00:00+02",
        "2027-01-01 10:00:00Z",
        "2027-01-01T10:00:00.1234567890Z",
        "2027-13-01T10:00:00Z",
        "2027-02-29T10:00:00Z",
        "2027-01-01T24:00:00Z",
        "2027-01-01T10:00:00+24:00",
        "٢٠٢٧-01-01T10:00:00Z",
        "0999-12-31T00:00:00Z",
        "9999-12-31T23:59:59-01:00",
        "1969-12-31T23:59:59.999999Z",
        "2200-01-01T00:00:00Z",
        "2199-12-31T23:00:00-02:00",
    ],
)
def test_refused_instants(text: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_instant(text, "start_time")
    assert field_of(refused.value) == "start_time"


def test_a_missing_offset_says_so() -> None:
    with pytest.raises(ValidationFailed, match="needs a UTC offset"):
        parse_instant("2027-01-01T10:00:00", "start_time")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2027-01-01T10:00:00Z", datetime(2027, 1, 1, 10, tzinfo=UTC)),
        ("2027-01-01t10:00:00z", datetime(2027, 1, 1, 10, tzinfo=UTC)),
        (" 2027-01-01T12:00:00.5+02:00 ", datetime(2027, 1, 1, 10, 0, 0, 500000, tzinfo=UTC)),
        ("1970-01-01T00:00:00Z", EARLIEST),
        ("1970-01-01T02:00:00+02:00", EARLIEST),
        ("2199-12-31T23:59:59.999999Z", LATEST - timedelta(microseconds=1)),
    ],
)
def test_accepted_instants(text: str, expected: datetime) -> None:
    assert parse_instant(text, "start_time") == expected


def test_bare_date_bounds_are_local_days_clamped_to_the_range() -> None:
    start = parse_bound("2025-05-02", "from", JOHANNESBURG, end_of_day=False)
    end = parse_bound("2025-05-02", "to", JOHANNESBURG, end_of_day=True)
    assert (start, end) == (
        datetime(2025, 5, 1, 22, tzinfo=UTC),
        datetime(2025, 5, 2, 22, tzinfo=UTC),
    )
    # Local midnight of 1970-01-01 in Johannesburg is 1969-12-31T22:00Z.
    assert parse_bound("1970-01-01", "from", JOHANNESBURG, end_of_day=False) == EARLIEST
    new_york = ZoneInfo("America/New_York")
    assert parse_bound("2199-12-31", "to", new_york, end_of_day=True) == LATEST


@pytest.mark.parametrize("text", ["2025-W18-5", "20250502", "2025-5-2", "2025-02-30", "0001-01-01"])
def test_refused_dates(text: str) -> None:
    with pytest.raises(ValidationFailed):
        parse_day(text, "from")


def test_schedule_dates_share_the_range() -> None:
    assert check_day(FIRST_DAY) == FIRST_DAY and check_day(LAST_DAY) == LAST_DAY
    for day in (FIRST_DAY - timedelta(days=1), LAST_DAY + timedelta(days=1), date.max):
        with pytest.raises(ValueError, match="1970-01-01"):
            check_day(day)


@pytest.mark.parametrize("name", ["localtime", "Factory", "posixrules", "posix/UTC", "right/UTC"])
def test_zones_that_follow_the_host_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="unknown IANA time zone"):
        check_zone(name)
    with pytest.raises(ValidationError, match="timezone"):
        Settings(_env_file=None, timezone=name)


@pytest.mark.parametrize("name", ["Africa/Johannesburg", "Europe/London", "UTC", "Etc/GMT-2"])
def test_place_zones_are_accepted(name: str) -> None:
    assert check_zone(name) == name
    assert Settings(_env_file=None, timezone=name).timezone == name


@pytest.mark.parametrize("name", ["", "africa/johannesburg", "../../etc/passwd", "Mars/Olympus"])
def test_unknown_zones_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="unknown IANA time zone"):
        check_zone(name)


@given(text=st.from_regex(INSTANT_PATTERN))
def test_the_documented_instant_pattern_names_what_is_read(text: str) -> None:
    # The schema's pattern cannot know month lengths or the offset at the range's two edges.
    year, month, day = int(text[:4]), int(text[5:7]), int(text[8:10])
    try:
        date(year, month, day)
    except ValueError:
        return
    if 1970 < year < 2199:
        assert EARLIEST <= parse_instant(text, "start_time") < LATEST


@given(instant=in_range, zone=offsets)
def test_what_is_read_matches_the_documented_patterns(instant: datetime, zone: timezone) -> None:
    text = to_rfc3339(instant, zone)
    if 1970 <= int(text[:4]) <= 2199:  # the local year; the UTC one is in range by construction
        assert re.fullmatch(INSTANT_PATTERN, text) and re.fullmatch(BOUND_PATTERN, text)
        assert re.fullmatch(BOUND_PATTERN, text[:10])
