"""Public holidays a schedule may skip, computed on the fly with the `holidays` package.

No hand-kept list: the package knows each country's rules (Easter, observed days, one-off
election days). Building a year is not free, so each (country, subdivision, year) is built once
per process and kept. Measured on this machine (`holidays` 0.85): the first use of a country
loads its class (~230 ms, once per process); each further year ~0.15-0.3 ms; a cached lookup
~0.4 µs. A schedule that does not skip holidays never reaches this module.

The test is on the occurrence's LOCAL date in the schedule's zone: a shift at 23:30 on the eve
of a holiday is held; one at 00:30 on the holiday is not.

Names are always asked for in a language the package has for that country (issue #21 §10): told
nothing, or a language it lacks, the package takes one from LANGUAGE/LC_ALL/LC_MESSAGES/LANG,
so a server started with LANG=de_DE.UTF-8 named Epiphany "Heilige Drei Könige". The viewer's
language when the package has it (none of en/af/zu's African names exist today), else the
country's own English ("Labour Day" in Canada), else American English.
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from types import MappingProxyType
from typing import NamedTuple
from zoneinfo import ZoneInfo

from watchroster.core.errors import ValidationFailed
from watchroster.core.settings_values import check_holiday_country

# WATCHROSTER_HOLIDAY_COUNTRY's default; callers with settings pass the configured one.
DEFAULT_HOLIDAY_COUNTRY = "ZA"
# The language of names where nobody reads them in a language of their own: the API's messages,
# which are English throughout, and checks that only ask whether a day is a holiday.
ENGLISH = "en"


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


@functools.lru_cache(maxsize=64)
def package_language(country: str, lang: str) -> str | None:
    """The package's language code for names of `country` read in `lang` (en, af, zu).

    None only for a country the package has no translations of at all: its names exist in one
    language (English for each such country in `holidays` 0.109) and no locale changes them."""
    import holidays

    entity = holidays.country_holidays(country)
    own = entity.default_language or ""
    offered = sorted(entity.supported_languages)
    for wanted in (lang, ENGLISH):
        # The country's own variant first (en_CA for Canada), then the plain code, then en_US.
        for candidate in (own, wanted, f"{wanted}_US", *offered):
            if candidate in offered and candidate.split("_")[0] == wanted:
                return candidate
    # No English name either (no such country today): its own language, never the locale's.
    return own if own in offered else None


@functools.lru_cache(maxsize=512)
def _year(
    country: str, subdivision: str | None, year: int, language: str | None
) -> MappingProxyType[date, str]:
    import holidays  # on first use: ~0.1 s of imports off every start (issue #14 §3)

    built = holidays.country_holidays(country, subdiv=subdivision, years=year, language=language)
    return MappingProxyType(dict(built.items()))


def _names(rule: HolidayRule, year: int, lang: str) -> MappingProxyType[date, str]:
    return _year(rule.country, rule.subdivision, year, package_language(rule.country, lang))


def holiday_name(rule: HolidayRule, day: date, lang: str = ENGLISH) -> str | None:
    """The holiday's name in `lang` (several joined by "; ") on this local date, or None."""
    return _names(rule, day.year, lang).get(day)


def holiday_at(
    rule: HolidayRule | None, zone: ZoneInfo, start: datetime, lang: str = ENGLISH
) -> str | None:
    """The holiday an occurrence starting at `start` falls on (its local date in `zone`)."""
    if rule is None:
        return None
    return holiday_name(rule, start.astimezone(zone).date(), lang)


def holidays_between(
    rule: HolidayRule, first: date, last: date, lang: str = ENGLISH
) -> list[tuple[date, str]]:
    """The holidays on local dates first..last (inclusive), in date order (for pages)."""
    found: list[tuple[date, str]] = []
    for year in range(first.year, last.year + 1):
        found += list(_names(rule, year, lang).items())
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
