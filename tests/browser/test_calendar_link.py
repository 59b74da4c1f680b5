"""The calendar link on the profile page (issue #12 §4), in a phone-sized browser."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import NewPage
from tests.browser.pages import Audit, log_in
from tests.browser.site import Site, new_volunteer

pytestmark = pytest.mark.slow


def _feed_path(page: Page) -> str:
    link = page.locator('a[href$=".ics"]:not([href^="webcal:"])')
    href = link.get_attribute("href")
    assert href is not None
    return urlsplit(href).path


def test_the_profile_shows_the_calendar_link_and_resets_it(
    site: Site, new_page: NewPage, audit: Audit
) -> None:
    page = new_page()
    log_in(page, site, new_volunteer("Naledi"))
    page.get_by_role("link", name="Profile").click()
    heading = page.get_by_role("heading", name="Calendar")
    heading.scroll_into_view_if_needed()
    expect(heading).to_be_visible()
    subscribe = page.get_by_role("link", name="Add to my calendar")
    assert (subscribe.get_attribute("href") or "").startswith("webcal://")
    audit(page, "profile-calendar")
    old = _feed_path(page)
    feed = httpx.get(site.url + old)
    assert feed.status_code == 200
    assert feed.headers["content-type"] == "text/calendar; charset=utf-8"

    page.get_by_role("button", name="Reset calendar link").click()
    page.wait_for_load_state()
    expect(page.get_by_role("status")).to_contain_text("Your calendar link is replaced")
    page.get_by_role("heading", name="Calendar").scroll_into_view_if_needed()
    audit(page, "profile-calendar-reset")
    new = _feed_path(page)
    assert new != old
    assert httpx.get(site.url + old).status_code == 404
    assert httpx.get(site.url + new).status_code == 200
