"""The open-shifts list (days in words, the filter, paging on) and the profile form."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import NewPage
from tests.browser.pages import Audit, book_names, log_in
from tests.browser.site import ZONE, Site, new_volunteer
from watchroster.auth.models import User
from watchroster.core.i18n import format_day

pytestmark = pytest.mark.slow


def test_the_list_filters_by_schedule_and_pages_on(
    site: Site, new_page: NewPage, audit: Audit
) -> None:
    hourly = site.add_schedule("Hourly watch", "0 * * * *", minutes=60)
    evening = site.add_schedule("Evening patrol", "0 18 * * *")
    hourly_name, evening_name = site.schedule_name(hourly), site.schedule_name(evening)
    page = new_page()
    log_in(page, site, new_volunteer("Palesa"))

    page.get_by_label("Show shifts of").select_option(label=hourly_name)
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(rf"schedule_id={hourly}\b"))
    first_page = book_names(page, hourly_name)
    assert first_page and book_names(page, evening_name) == []
    tomorrow = (datetime.now(ZONE) + timedelta(days=1)).date()
    expect(page.get_by_role("heading", name=re.compile(r"^Tomorrow"))).to_be_visible()
    expect(page.get_by_text(format_day(tomorrow, "en")).first).to_be_visible()
    audit(page, "shifts-filtered")

    page.get_by_role("link", name="Show later shifts").click()
    second_page = book_names(page, hourly_name)
    assert second_page and not set(second_page) & set(first_page), "later shifts, not the same"
    audit(page, "shifts-later")


def test_the_profile_saves_name_and_reminders(site: Site, new_page: NewPage) -> None:
    volunteer = new_volunteer("Sizwe")
    page = new_page()
    log_in(page, site, volunteer)
    page.get_by_role("link", name="Profile").click()

    page.get_by_label("Your first name").fill("Sizwe-Lee")
    page.get_by_label(re.compile(r"reminders", re.IGNORECASE)).uncheck()
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    expect(page.get_by_label("Your first name")).to_have_value("Sizwe-Lee")
    with site.database.read() as session:
        user = session.scalars(select(User).where(User.phone == volunteer.e164)).one()
        assert (user.name, user.reminders) == ("Sizwe-Lee", False)
