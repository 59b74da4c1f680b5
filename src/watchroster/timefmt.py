"""Reading and writing instants at the API boundary.

Instants are UTC inside the service. They leave it as RFC 3339 with the offset of the zone they
belong to (a shift: its schedule's zone), and come in as RFC 3339 or, where a bare date is allowed,
as a date in the group's zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from watchroster.errors import ValidationFailed


def to_rfc3339(instant: datetime, zone: ZoneInfo | None = None) -> str:
    """`2025-05-10T18:00:00+02:00`; seconds only when the instant has no sub-second part."""
    local = instant.astimezone(zone or UTC)
    return local.isoformat(timespec="seconds" if local.microsecond == 0 else "microseconds")


def parse_instant(value: str, field: str) -> datetime:
    """An RFC 3339 datetime with an offset (`Z` allowed), as an aware UTC datetime."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValidationFailed(
            f"{field}: expected an RFC 3339 datetime such as 2025-05-10T18:00:00+02:00",
            details=[{"field": field, "message": "not a datetime"}],
        ) from exc
    if parsed.tzinfo is None:
        raise ValidationFailed(
            f"{field}: the datetime needs a UTC offset, e.g. +02:00 or Z",
            details=[{"field": field, "message": "missing UTC offset"}],
        )
    return parsed.astimezone(UTC)


def parse_bound(value: str, field: str, zone: ZoneInfo, *, end_of_day: bool) -> datetime:
    """A query bound: a bare date (local midnight in `zone`, or the next midnight when it closes a
    range, so `to=2025-05-31` includes all of the 31st) or an RFC 3339 datetime."""
    text = value.strip()
    if len(text) == 10:
        try:
            day = date.fromisoformat(text)
        except ValueError as exc:
            raise ValidationFailed(
                f"{field}: expected a date (YYYY-MM-DD) or an RFC 3339 datetime",
                details=[{"field": field, "message": "not a date"}],
            ) from exc
        if end_of_day:
            day += timedelta(days=1)
        return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    return parse_instant(text, field)
