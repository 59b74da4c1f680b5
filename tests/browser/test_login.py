"""Logging in by phone in a real browser: the two steps, errors in words, and `next`."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import NewPage
from tests.browser.pages import Audit, ask_for_code, code_field, enter_code
from tests.browser.site import ZONE, Site, new_volunteer

pytestmark = pytest.mark.slow


def test_the_login_page_asks_for_a_phone_then_a_code(
    site: Site, new_page: NewPage, audit: Audit
) -> None:
    page = new_page()
    page.goto(f"{site.url}/")
    phone = page.get_by_label("Phone number")
    expect(phone).to_have_attribute("type", "tel")
    expect(phone).to_have_attribute("autocomplete", "tel")
    expect(page.get_by_label("Your first name")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    audit(page, "login")

    volunteer = new_volunteer("Thandi")
    before = ask_for_code(page, site, volunteer)
    code = code_field(page)
    expect(code).to_have_attribute("inputmode", "numeric")
    expect(code).to_have_attribute("autocomplete", "one-time-code")
    expect(page.get_by_text(re.compile(r"SMS|WhatsApp")).first).to_be_visible()
    assert volunteer.e164 not in page.url and "0101" not in page.url, "no phone in the URL"
    audit(page, "login-code")

    enter_code(page, site, volunteer, before)
    expect(page).to_have_url(re.compile(r"/shifts$"))
    page.goto(f"{site.url}/")
    expect(page).to_have_url(re.compile(r"/shifts$"))


def test_a_wrong_code_is_announced_and_the_right_one_still_works(
    site: Site, new_page: NewPage, audit: Audit
) -> None:
    page = new_page()
    volunteer = new_volunteer("Pieter")
    before = ask_for_code(page, site, volunteer)
    right = int(site.wait_for_code(volunteer, before))
    code_field(page).fill(f"{(right + 1) % 1_000_000:06d}")
    page.get_by_role("button", name="Log in", exact=True).click()

    expect(page.get_by_role("alert")).to_be_visible()
    expect(code_field(page)).to_be_visible()
    audit(page, "wrong-code")

    enter_code(page, site, volunteer, before)
    expect(page).to_have_url(re.compile(r"/shifts$"))


def test_asking_again_too_soon_says_how_long_to_wait_in_words(
    site: Site, new_page: NewPage, audit: Audit
) -> None:
    page = new_page()
    volunteer = new_volunteer("Ayesha")
    ask_for_code(page, site, volunteer)
    asked_at = datetime.now(ZONE)
    site.wait_for_code(volunteer, 0)

    page.goto(f"{site.url}/login")
    page.get_by_label("Phone number").fill(volunteer.national)
    page.get_by_role("button", name="Send code").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(re.compile(r"\b\d+ seconds?\b"))
    # The wait ends one resend interval (60 s) after the first code, shown as a local time.
    allowed = {f"{asked_at + timedelta(seconds=s):%H:%M}" for s in (55, 60, 65)}
    text = alert.inner_text()
    assert any(clock in text for clock in allowed), f"{text!r} names none of {allowed}"
    assert site.codes_sent(volunteer) == 1
    audit(page, "resend-too-soon")


def test_a_page_asked_for_while_logged_out_comes_back_after_login(
    site: Site, new_page: NewPage
) -> None:
    page = new_page()
    page.goto(f"{site.url}/my")
    expect(page).to_have_url(re.compile(r"/login\?next=(%2F|/)my$"))

    volunteer = new_volunteer("Johan")
    before = ask_for_code(page, site, volunteer)
    enter_code(page, site, volunteer, before)
    expect(page).to_have_url(re.compile(r"/my$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("My shifts")


def test_next_never_leads_to_another_site(site: Site, new_page: NewPage) -> None:
    page = new_page()
    page.goto(f"{site.url}/login?next=https://evil.example/x")
    volunteer = new_volunteer("Naledi")
    before = ask_for_code(page, site, volunteer)
    enter_code(page, site, volunteer, before)
    expect(page).to_have_url(f"{site.url}/shifts")
