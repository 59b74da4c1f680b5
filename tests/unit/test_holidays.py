"""Public holidays from the `holidays` package: names, local dates, validation, the cache."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from watchroster.core.config import Settings, SettingsError, get_settings
from watchroster.core.errors import ValidationFailed
from watchroster.schedules import holidays
from watchroster.schedules.holidays import HolidayRule, check_rule, holiday_at, holiday_name

ZA = HolidayRule("ZA")


def test_south_african_holidays_by_name() -> None:
    assert holiday_name(ZA, date(2026, 4, 3)) == "Good Friday"
    assert holiday_name(ZA, date(2026, 12, 16)) == "Day of Reconciliation"
    assert holiday_name(ZA, date(2026, 4, 10)) is None


def test_subdivisions_have_their_own_holidays() -> None:
    assert holiday_name(HolidayRule("DE", "BY"), date(2026, 1, 6)) == "Epiphany"
    assert holiday_name(HolidayRule("DE", "BE"), date(2026, 1, 6)) is None


@pytest.fixture
def german_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process runs under a German locale, as a server started with LANG=de_DE.UTF-8 does
    (the `holidays` package reads LANGUAGE, LC_ALL, LC_MESSAGES and LANG when not told)."""
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.setenv(variable, "de_DE.UTF-8")
    # Names built before (in English) would hide what this locale does to new ones.
    holidays._year.cache_clear()
    yield
    holidays._year.cache_clear()


@pytest.mark.usefixtures("german_process")
def test_names_do_not_depend_on_the_process_locale() -> None:
    bavaria = HolidayRule("DE", "BY")
    assert holiday_name(bavaria, date(2026, 1, 6)) == "Epiphany"
    assert holiday_name(bavaria, date(2026, 10, 3), "en") == "German Unity Day"
    # The package has no Afrikaans or isiZulu names for Germany (nor for South Africa): English.
    assert holiday_name(bavaria, date(2026, 1, 6), "af") == "Epiphany"
    assert holiday_name(bavaria, date(2026, 1, 6), "zu") == "Epiphany"
    assert holiday_name(ZA, date(2026, 4, 3), "zu") == "Good Friday"
    zone = ZoneInfo("Europe/Berlin")
    assert holiday_at(bavaria, zone, datetime(2026, 1, 6, 9, tzinfo=UTC)) == "Epiphany"


@pytest.mark.usefixtures("german_process")
def test_a_country_with_its_own_english_keeps_it() -> None:
    # Canada's names are in Canadian English (the package's en_CA), not American.
    assert holiday_name(HolidayRule("CA"), date(2026, 9, 7), "af") == "Labour Day"
    # Belgium's own language is Dutch; its English names are the package's en_US.
    assert holiday_name(HolidayRule("BE"), date(2026, 7, 21)) == "National Day"


def test_the_local_date_decides() -> None:
    johannesburg = ZoneInfo("Africa/Johannesburg")
    eve = datetime(2026, 4, 2, 21, 30, tzinfo=UTC)  # 23:30 on Thursday 2 April, local
    night = datetime(2026, 4, 2, 22, 30, tzinfo=UTC)  # 00:30 on Good Friday, local
    assert holiday_at(ZA, johannesburg, eve) is None
    assert holiday_at(ZA, johannesburg, night) == "Good Friday"
    assert holiday_at(None, johannesburg, night) is None


def test_each_year_is_built_once() -> None:
    holidays._year.cache_clear()
    for _ in range(3):
        holiday_name(ZA, date(2031, 1, 1))
        holiday_name(ZA, date(2031, 6, 16))
    info = holidays._year.cache_info()
    assert (info.misses, info.hits) == (1, 5)


def test_rules_are_checked_and_normalised() -> None:
    assert check_rule("za", None) == ("ZA", None)
    assert check_rule("de", "by") == ("DE", "BY")
    assert check_rule("GB", "GB-ENG") == ("GB", "ENG")
    assert check_rule("ZA", "  ") == ("ZA", None)
    with pytest.raises(ValidationFailed, match="holiday_country"):
        check_rule("XX", None)
    with pytest.raises(ValidationFailed, match="holiday_subdivision"):
        check_rule("DE", "ZZ")
    with pytest.raises(ValidationFailed, match="ZA has no subdivisions"):
        check_rule("ZA", "GP")


def test_the_setting_is_checked_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(_env_file=None, holiday_country="na").holiday_country == "NA"
    monkeypatch.setenv("WATCHROSTER_HOLIDAY_COUNTRY", "Narnia")
    get_settings.cache_clear()
    try:
        with pytest.raises(SettingsError, match="WATCHROSTER_HOLIDAY_COUNTRY"):
            get_settings()
    finally:
        get_settings.cache_clear()
