"""Reading and writing instants at the API boundary.

Instants are UTC inside the service. They leave it as RFC 3339 with the offset of the zone they
belong to (a shift: its schedule's zone), and come in as RFC 3339 or, where a bare date is allowed,
as a date in the group's zone.

Every instant, date and zone a client sends goes through this module, which also fixes the range
the service accepts: 1970-01-01T00:00Z ≤ instant < 2200-01-01T00:00Z (dates 1970-01-01..2199-12-31).
Outside it, offsets and day arithmetic overflow Python's datetime, and SQLite (instants stored as
text) would compare years before 1000 wrongly.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cache
from zoneinfo import ZoneInfo

from watchroster.core.errors import ValidationFailed

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)  # exclusive
FIRST_DAY = EARLIEST.date()
LAST_DAY = LATEST.date() - timedelta(days=1)

# RFC 3339 `date-time` only: `fromisoformat` alone also takes ISO week dates (2027-W01-1),
# the basic format (20270101T100000Z), hours without minutes and offsets without a colon.
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

# The same rules for the OpenAPI schema (JSON Schema regex), years limited to the range, so
# clients and schema-driven testers see what is accepted. The parsers above stay the authority
# (their errors say which rule failed); tests keep the two in step.
_DOC_DATE = r"(19[7-9][0-9]|2[01][0-9]{2})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
_DOC_TIME = r"([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?"
_DOC_OFFSET = r"([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"
INSTANT_PATTERN = f"^{_DOC_DATE}[Tt]{_DOC_TIME}{_DOC_OFFSET}$"
BOUND_PATTERN = f"^{_DOC_DATE}([Tt]{_DOC_TIME}{_DOC_OFFSET})?$"
DATE_PATTERN = f"^{_DOC_DATE}$"  # a bare date: periods of figures

# Names the tz database ships that are not a place: `localtime` follows the host's clock
# settings, `Factory` is a placeholder, `posixrules` a template; posix/ and right/ are copies
# (right/ counts leap seconds, which no phone does).
_NOT_ZONES = frozenset({"localtime", "Factory", "posixrules"})
_NOT_ZONE_PREFIXES = ("posix/", "right/")

_EXPECTED_DATETIME = "expected an RFC 3339 datetime such as 2025-05-10T18:00:00+02:00"
RANGE_TEXT = f"between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}"


def to_rfc3339(instant: datetime, zone: tzinfo | None = None) -> str:
    """`2025-05-10T18:00:00+02:00`; seconds only when the instant has no sub-second part."""
    local = instant.astimezone(zone or UTC)
    return local.isoformat(timespec="seconds" if local.microsecond == 0 else "microseconds")


def _invalid(field: str, message: str, detail: str) -> ValidationFailed:
    return ValidationFailed(f"{field}: {message}", details=[{"field": field, "message": detail}])


def _out_of_range(field: str) -> ValidationFailed:
    return _invalid(field, f"must be {RANGE_TEXT}", "out of range")


def parse_instant(value: str, field: str) -> datetime:
    """An RFC 3339 datetime with an offset (`Z` allowed), as an aware UTC datetime in range."""
    text = value.strip()
    if not _RFC3339.fullmatch(text):
        if _RFC3339.fullmatch(text + "Z"):
            raise _invalid(
                field, "the datetime needs a UTC offset, e.g. +02:00 or Z", "missing UTC offset"
            )
        raise _invalid(field, _EXPECTED_DATETIME, "not a datetime")
    try:
        local = datetime.fromisoformat(text.upper())
    except ValueError as exc:  # the right shape, but e.g. month 13 or 25:00
        raise _invalid(field, _EXPECTED_DATETIME, "not a datetime") from exc
    # The local year bounds the UTC one within a day, so the conversion below cannot overflow.
    if not FIRST_DAY.year - 1 <= local.year <= LAST_DAY.year + 1:
        raise _out_of_range(field)
    instant = local.astimezone(UTC)
    if not EARLIEST <= instant < LATEST:
        raise _out_of_range(field)
    return instant


def parse_day(value: str, field: str) -> date:
    """A bare `YYYY-MM-DD` date in range."""
    text = value.strip()
    try:
        day = date.fromisoformat(text) if is_date_text(text) else None
    except ValueError:  # the right shape, but e.g. 2025-02-30
        day = None
    if day is None:
        raise _invalid(field, "expected a date (YYYY-MM-DD) or an RFC 3339 datetime", "not a date")
    if not FIRST_DAY <= day <= LAST_DAY:
        raise _out_of_range(field)
    return day


def parse_bound(value: str, field: str, zone: ZoneInfo, *, end_of_day: bool) -> datetime:
    """A query bound: a bare date (local midnight in `zone`, or the next midnight when it closes a
    range, so `to=2025-05-31` includes all of the 31st) or an RFC 3339 datetime."""
    text = value.strip()
    if len(text) > 10:
        return parse_instant(text, field)
    day = parse_day(text, field)
    if end_of_day:
        day += timedelta(days=1)
    midnight = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    # A day at the edge of the range starts or ends a few hours outside it in most zones.
    return min(max(midnight, EARLIEST), LATEST)


def is_date_text(text: str) -> bool:
    """`YYYY-MM-DD` with ASCII digits (not a week date, not the basic format)."""
    return _DATE.fullmatch(text) is not None


def check_day(day: date) -> date:
    """For Pydantic date fields (schedule seasons): the same range as every other date."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"must be {RANGE_TEXT}")
    return day


@cache
def _zone_names() -> frozenset[str]:
    names = zoneinfo.available_timezones() - _NOT_ZONES
    return frozenset(name for name in names if not name.startswith(_NOT_ZONE_PREFIXES))


def check_zone(name: str) -> str:
    """An IANA zone that names a place (or UTC and its aliases); host-dependent names refused."""
    if name not in _zone_names():
        raise ValueError(f"unknown IANA time zone {name!r}")
    return name
