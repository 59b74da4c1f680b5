"""A coordinator sets up a season through the schedule form, without writing cron, and reads the
roster with its gaps; a real server (embedded worker) and Chromium, with and without htmx."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
from playwright.sync_api import Page, expect

from tests.browser.conftest import NewPage
from tests.browser.pages import LAPTOP, Audit, confirm_booking, first_open_slot, log_in
from tests.browser.site import Site, new_coordinator, new_volunteer
from watchroster.schedules.models import Schedule

# 2028, a season still ahead: Friday 16 June 2028 is Youth Day, a South African public holiday.
EXPECTED_SHIFTS = [
    "Friday 5 May, 18:00–21:00",
    "Friday 12 May, 18:00–21:00",
    "Friday 19 May, 18:00–21:00",
    "Friday 26 May, 18:00–21:00",
    "Friday 2 June, 18:00–21:00",
    "Friday 9 June, 18:00–21:00",
    "Friday 23 June, 18:00–21:00",
    "Friday 30 June, 18:00–21:00",
    "Friday 7 July, 18:00–21:00",
    "Friday 14 July, 18:00–21:00",
]


def _fill_season(page: Page, name: str) -> None:
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Friday", exact=True).check()
    page.get_by_label("Start time", exact=True).fill("18:00")
    page.get_by_label("hours", exact=True).fill("3")
    page.get_by_label("minutes", exact=True).fill("0")
    page.get_by_label("From", exact=True).fill("2028-05-01")
    page.get_by_label("Until", exact=True).fill("2028-08-31")
    page.get_by_label("Skip public holidays", exact=True).check()


def _shown_shifts(page: Page) -> list[str]:
    return [text.strip() for text in page.locator(".next-shifts .when").all_inner_texts()]


def test_a_season_of_fridays_through_the_form(site: Site, new_page: NewPage, audit: Audit) -> None:
    laptop = new_page(**LAPTOP)
    log_in(laptop, site, new_coordinator(site, "Anna"))
    laptop.goto(f"{site.url}/admin/schedules/new")
    name = f"Winter Fridays {datetime.now(UTC).timestamp():.0f}"
    _fill_season(laptop, name)
    # htmx: the preview follows the fields as they change, before anything is saved.
    sentence = "Every Friday from 18:00 to 21:00, 1 May – 31 August 2028, except public holidays"
    expect(laptop.locator("#preview .sentence")).to_have_text(sentence)
    expect(laptop.locator(".next-shifts li")).to_have_count(10)
    assert _shown_shifts(laptop) == EXPECTED_SHIFTS
    expect(laptop.locator(".skipped-shifts")).to_contain_text("Friday 16 June")
    expect(laptop.locator(".skipped-shifts")).to_contain_text("Youth Day")
    laptop.evaluate("window.scrollTo(0, 0)")
    laptop.screenshot(path=audit.directory / "admin-schedule-form.png")

    laptop.get_by_role("button", name="Save").click()
    expect(laptop).to_have_url(re.compile(r"/admin/schedules\?done=created$"))
    expect(laptop.get_by_role("status")).to_contain_text("The schedule is saved")
    expect(laptop.get_by_role("row", name=re.compile(name))).to_contain_text(sentence)
    with site.database.read() as session:
        saved = session.query(Schedule).filter(Schedule.name == name).one()
        assert (saved.cron_expr, saved.duration_minutes, saved.skip_holidays) == (
            "0 18 * * FRI",
            180,
            True,
        )
    phone = new_page()
    phone.context.add_cookies(laptop.context.cookies())  # type: ignore[arg-type]
    phone.goto(f"{site.url}/admin/schedules")
    audit(phone, "schedule-list-phone")
    phone.goto(f"{site.url}/admin/schedules/new")
    _fill_season(phone, "Phone check")
    expect(phone.locator(".next-shifts li")).to_have_count(10)
    audit(phone, "schedule-form-phone")
    # What volunteers will be offered is what the preview said: no 16 June 2028.
    starts = [s.isoformat() for s in _open_2028(site, saved.schedule_id)]
    assert "2028-06-16T16:00:00+00:00" not in starts
    assert "2028-06-23T16:00:00+00:00" in starts


def _open_2028(site: Site, schedule_id: int) -> list[datetime]:
    answer = httpx.get(
        f"{site.url}/shifts/available",
        params={"schedule_id": schedule_id, "from": "2028-06-01", "to": "2028-06-30"},
    )
    answer.raise_for_status()
    return [datetime.fromisoformat(s["start_time"]).astimezone(UTC) for s in answer.json()]


def test_the_form_without_javascript_and_on_a_phone(
    site: Site, new_page: NewPage, audit: Audit
) -> None:
    phone = new_page(java_script_enabled=False)
    log_in(phone, site, new_coordinator(site, "Bongani"))
    phone.goto(f"{site.url}/admin/schedules/new")
    _fill_season(phone, "Phone Fridays")
    phone.get_by_role("button", name="Preview").click()
    expect(phone.locator("#preview .sentence")).to_contain_text("Every Friday from 18:00 to 21:00")
    assert _shown_shifts(phone) == EXPECTED_SHIFTS
    # axe-core needs JavaScript; the same template is axe-checked on the roster test's phone.
    audit.without_axe()(phone, "schedule-form-preview-no-js")


def test_the_roster_shows_a_gap_and_a_filled_slot(
    site: Site, new_page: NewPage, audit: Audit
) -> None:
    schedule_id = site.add_schedule("Roster patrol", "0 18 * * *")
    name = site.schedule_name(schedule_id)
    slot = first_open_slot(site, schedule_id)
    volunteer = new_volunteer("Zanele")
    phone = new_page()
    log_in(phone, site, volunteer)
    confirm_booking(phone, site, slot)

    laptop = new_page(**LAPTOP)
    log_in(laptop, site, new_coordinator(site, "Carmen"))
    laptop.goto(f"{site.url}/admin/roster")
    rows = laptop.locator("tr", has_text=name)
    expect(rows.first).to_be_visible()
    filled = laptop.locator("tr.filled", has_text=name)
    expect(filled).to_have_count(1)
    expect(filled).to_contain_text("Zanele")
    expect(filled).to_contain_text("18:00–21:00")
    gap = laptop.locator("tr.gap", has_text=name).first
    expect(gap).to_contain_text("Gap: nobody yet")
    expect(gap.get_by_role("link", name="Cancel this shift")).to_be_visible()
    laptop.screenshot(path=audit.directory / "admin-roster.png", full_page=False)
    # The gap's button submits the day's shared form (its `form` attribute), with no script.
    gap.get_by_role("button", name="Ask for volunteers").click()
    expect(laptop.get_by_text("Volunteers have been asked.")).to_be_visible()

    week = new_page()
    week.context.add_cookies(laptop.context.cookies())  # type: ignore[arg-type]
    week.goto(f"{site.url}/admin/roster?week={slot.local_start.date().isoformat()}")
    expect(week.locator("section.roster-day")).to_have_count(7)
    expect(week.locator("tr.filled", has_text=name)).to_contain_text("Zanele")
    audit(week, "roster-week-phone")
