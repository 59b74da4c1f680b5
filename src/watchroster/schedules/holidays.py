"""Public holidays a schedule may skip, computed on the fly with the `holidays` package.

No hand-kept list: the package knows each country's rules (Easter, observed days, one-off
election days). Building a year is not free, so each (country, subdivision, year) is built once
per process and kept. Measured on this machine (`holidays` 0.85): the first use of a country
loads its class (~230 ms, once per process); each further year ~0.15-0.3 ms; a cached lookup
~0.4 µs. A schedule that does not skip holidays never reaches this module.

The test is on the occurrence's LOCAL date in the schedule's zone: a shift at 23:30 on the eve
of a holiday is held; one at 00:30 on the holiday is not.
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from types import MappingProxyType
from typing import NamedTuple
from zoneinfo import ZoneInfo

from watchroster.errors import ValidationFailed
from watchroster.settings_values import check_holiday_country

# WATCHROSTER_HOLIDAY_COUNTRY's default; callers with settings pass the configured one.
DEFAULT_HOLIDAY_COUNTRY = "ZA"


class HolidayRule(NamedTuple):
    """Whose public holidays a schedule skips; hashable, so it is part of the slot cache key."""

    country: str
    subdivision: str | None = None


def rule_of(skip: object, country: str | None, subdivision: str | None) -> HolidayRule | None:
    """The rule of a schedule row (`skip` as the driver returns it: bool or 0/1); None when the
    schedule does not skip holidays."""
    if not skip or not country:
        return None
    return HolidayRule(country, subdivision or None)


@functools.lru_cache(maxsize=512)
def _year(country: str, subdivision: str | None, year: int) -> MappingProxyType[date, str]:
    import holidays  # on first use: ~0.1 s of imports off every start (issue #14 §3)

    built = holidays.country_holidays(country, subdiv=subdivision, years=year)
    return MappingProxyType(dict(built.items()))


def holiday_name(rule: HolidayRule, day: date) -> str | None:
    """The holiday's name (several joined by "; ") on this local date, or None."""
    return _year(rule.country, rule.subdivision, day.year).get(day)


def holiday_at(rule: HolidayRule | None, zone: ZoneInfo, start: datetime) -> str | None:
    """The holiday an occurrence starting at `start` falls on (its local date in `zone`)."""
    if rule is None:
        return None
    return holiday_name(rule, start.astimezone(zone).date())


def holidays_between(rule: HolidayRule, first: date, last: date) -> list[tuple[date, str]]:
    """The holidays on local dates first..last (inclusive), in date order (for pages)."""
    found: list[tuple[date, str]] = []
    for year in range(first.year, last.year + 1):
        found += [(d, n) for d, n in _year(rule.country, rule.subdivision, year).items()]
    return sorted((d, n) for d, n in found if first <= d <= last)


def check_rule(country: str, subdivision: str | None) -> tuple[str, str | None]:
    """A country and subdivision the package knows, normalised (upper-cased); 400 otherwise.

    Subdivision codes are the package's (ISO 3166-2 without the country prefix, e.g. "BY" for
    Bavaria); some countries have none.
    """
    try:
        country = check_holiday_country(country)
    except ValueError as exc:
        raise _invalid("holiday_country", str(exc)) from None
    if subdivision is None or not subdivision.strip():
        return country, None
    known = _subdivisions(country)
    wanted = subdivision.strip().upper().removeprefix(f"{country}-")
    match = next((code for code in known if code.upper() == wanted), None)
    if match is None:
        listed = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
        hint = f"one of {listed}" if known else f"{country} has no subdivisions"
        raise _invalid("holiday_subdivision", f"{subdivision!r} is not known ({hint})")
    return country, match


@functools.lru_cache(maxsize=64)
def _subdivisions(country: str) -> list[str]:
    """The country's subdivision codes (loads that country's rules only, not every country's)."""
    import holidays

    return list(holidays.country_holidays(country).subdivisions)


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        f"{field}: {message}",
        code="invalid_holidays",
        details=[{"field": field, "message": message}],
    )
