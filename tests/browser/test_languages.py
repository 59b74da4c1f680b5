"""Pages in Afrikaans (the profile's choice) and isiZulu (the browser's Accept-Language).

The expected words come from the catalogues and from Babel's CLDR day and month names, never
from a table written here.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from babel.dates import get_day_names, get_month_names
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.browser.conftest import NewPage
from tests.browser.pages import Audit, log_in, open_shifts_of
from tests.browser.site import ZONE, Site, new_volunteer
from watchroster.auth.models import User
from watchroster.core.i18n import gettext_for

pytestmark = pytest.mark.slow

EVERY_EVENING = "0 18 * * *"


def _day_in_words(day: date, lang: str) -> tuple[str, str]:
    """The weekday and month names of `day` in `lang`, from Babel's locale data."""
    return get_day_names("wide", locale=lang)[day.weekday()], get_month_names("wide", locale=lang)[
        day.month
    ]


def _assert_translated(page: Page, lang: str, *english: str) -> None:
    _ = gettext_for(lang)
    expect(page.locator("html")).to_have_attribute("lang", lang)
    for text in english:
        assert _(text) != text, f"{text!r} has a {lang} translation"
        expect(page.get_by_text(_(text), exact=True).first).to_be_visible()


def _assert_dates_in(page: Page, lang: str) -> None:
    # Three days on: neither "tonight" nor "tomorrow", so the heading is a date in words.
    day = (datetime.now(ZONE) + timedelta(days=3)).date()
    weekday, month = _day_in_words(day, lang)
    heading = page.get_by_role("heading", name=re.compile(rf"\b{day.day}\b"))
    expect(heading.filter(has_text=weekday).filter(has_text=month).first).to_be_visible()


def test_a_page_in_afrikaans_chosen_in_the_profile(
    site: Site, new_page: NewPage, audit: Audit
) -> None:
    schedule_id = site.add_schedule("Aandpatrollie", EVERY_EVENING)
    volunteer = new_volunteer("Anri")
    page = new_page()
    log_in(page, site, volunteer)

    page.goto(f"{site.url}/profile")
    radio = page.get_by_role("radio", name="Afrikaans")
    if radio.count():
        radio.check()
    else:
        page.get_by_label("Language").select_option(label="Afrikaans")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    with site.database.read() as session:
        language = session.scalar(select(User.language).where(User.phone == volunteer.e164))
        assert language == "af"

    open_shifts_of(page, site, schedule_id)
    _assert_translated(page, "af", "My shifts")
    _assert_dates_in(page, "af")
    audit(page, "afrikaans-shifts")


def test_a_page_in_isizulu_from_the_browser_language(
    site: Site, new_page: NewPage, audit: Audit
) -> None:
    schedule_id = site.add_schedule("Ukugada kwakusihlwa", EVERY_EVENING)
    page = new_page(locale="zu-ZA")
    page.goto(f"{site.url}/login")
    _assert_translated(page, "zu", "Send code")
    audit(page, "isizulu-login")

    log_in(page, site, new_volunteer("Sipho"), gettext_for("zu"))
    open_shifts_of(page, site, schedule_id)
    _assert_translated(page, "zu", "My shifts")
    _assert_dates_in(page, "zu")
    audit(page, "isizulu-shifts")
