"""Attendance figures and the incident inbox in the browser: the chart with its table, and both
CSV downloads parsed back by Python's csv module with the expected rows.

A real server and Chromium. The history (bookings of the past days, their attendance and
reports) is written to the database directly: a browser cannot go back in time, and the pages
read whatever the database holds.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import NewPage
from tests.browser.pages import LAPTOP, Audit, log_in
from tests.browser.site import ZONE, Site, new_coordinator, new_volunteer
from watchroster.auth.models import User
from watchroster.bookings.models import Booking, Report


@dataclass(frozen=True)
class History:
    schedule_id: int
    volunteer: str
    serious_id: int
    quiet_id: int


def _history(site: Site) -> History:
    """Four evenings of a daily patrol before today: attended, absent, not recorded, and one
    cancelled two hours before its start; two reports on the attended one."""
    schedule_id = site.add_schedule("Figures patrol", "0 18 * * *")
    person = new_volunteer("Zodwa")
    name = f"Zodwa Figures {person.e164[-4:]}"
    today = datetime.now(ZONE).replace(hour=18, minute=0, second=0, microsecond=0)
    starts = [(today - timedelta(days=days)).astimezone(UTC) for days in (1, 2, 3, 4)]
    with site.database.write() as session:
        user = User(phone=person.e164, name=name)
        session.add(user)
        session.flush()
        bookings = []
        for index, start in enumerate(starts):
            booking = Booking(
                user_id=user.user_id,
                schedule_id=schedule_id,
                shift_start=start,
                shift_end=start + timedelta(hours=3),
                created_at=start - timedelta(days=2),
            )
            if index < 2:
                booking.attended, booking.attendance_recorded_at = index == 0, start
            if index == 3:
                booking.canceled_at = start - timedelta(hours=2)
            bookings.append(booking)
        session.add_all(bookings)
        session.flush()
        filed = starts[0] + timedelta(hours=2)
        serious = Report(
            booking_id=bookings[0].booking_id,
            user_id=user.user_id,
            severity=2,
            message="Fence cut behind the school",
            created_at=filed,
        )
        quiet = Report(
            booking_id=bookings[0].booking_id,
            user_id=user.user_id,
            severity=0,
            message="Quiet night, all well",
            created_at=filed + timedelta(minutes=30),
        )
        session.add_all([serious, quiet])
        session.flush()
        return History(schedule_id, name, serious.report_id, quiet.report_id)


def _download(page: Page, link_name: str, directory: Path) -> list[dict[str, str]]:
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name).click()
    target = directory / info.value.suggested_filename
    info.value.save_as(target)
    with target.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def test_attendance_chart_table_and_csv(
    site: Site, new_page: NewPage, audit: Audit, tmp_path: Path
) -> None:
    history = _history(site)
    laptop = new_page(**LAPTOP)
    log_in(laptop, site, new_coordinator(site, "Anna", "Anna Coordinator"))
    laptop.goto(f"{site.url}/admin/attendance")

    chart = laptop.get_by_role("img", name="Fill rate per week")
    expect(chart).to_be_visible()
    expect(chart.locator("rect.bar")).to_have_count(12)
    weeks = laptop.locator("#weeks-table tbody tr")
    expect(weeks).to_have_count(12)
    expect(laptop.locator("#weeks-table caption")).to_have_text("The chart's numbers")
    laptop.screenshot(path=audit.directory / "admin-attendance-1280.png", full_page=True)

    rows = _download(laptop, "Download CSV", tmp_path)
    assert list(rows[0]) == [
        "user_id",
        "name",
        "booked",
        "attended",
        "absent",
        "not_recorded",
        "canceled_late",
    ]
    (mine,) = [row for row in rows if row["name"] == history.volunteer]
    counts = [mine[key] for key in ("booked", "attended", "absent", "not_recorded")]
    assert counts == ["3", "1", "1", "1"]
    assert mine["canceled_late"] == "1"

    # Sorting is a link: "Absent" largest first, then the other way.
    laptop.get_by_role("link", name=re.compile(r"^Absent")).click()
    expect(laptop).to_have_url(re.compile(r"sort=-absent"))
    expect(laptop.locator('th[aria-sort="descending"]')).to_contain_text("Absent")

    phone = new_page()
    log_in(phone, site, new_coordinator(site, "Bongani", "Bongani Coordinator"))
    phone.goto(f"{site.url}/admin/attendance")
    expect(phone.get_by_role("img", name="Fill rate per week")).to_be_visible()
    audit(phone, "attendance")


def test_incident_inbox_review_and_csv(
    site: Site, new_page: NewPage, audit: Audit, tmp_path: Path
) -> None:
    history = _history(site)
    laptop = new_page(**LAPTOP)
    log_in(laptop, site, new_coordinator(site, "Carol", "Carol Coordinator"))
    laptop.goto(f"{site.url}/admin/incidents")
    laptop.get_by_label("Schedule").select_option(str(history.schedule_id))
    laptop.get_by_role("button", name="Filter").click()
    items = laptop.locator("li.incident")
    expect(items).to_have_count(2)
    expect(items.first).to_have_id(f"report-{history.serious_id}")
    expect(items.first.locator(".severity-badge")).to_have_text("Serious")
    laptop.screenshot(path=audit.directory / "admin-incidents-1280.png", full_page=True)

    serious = laptop.locator(f"#report-{history.serious_id}")
    serious.get_by_label("Note (optional)").fill("Reported to the police")
    serious.get_by_role("button", name="Mark as reviewed").click()
    expect(laptop.get_by_role("status")).to_have_text("Marked as reviewed.")
    expect(serious).to_contain_text("Reviewed by Carol")

    rows = _download(laptop, "Download CSV", tmp_path)
    assert [row["report_id"] for row in rows] == [str(history.quiet_id), str(history.serious_id)]
    assert rows[1]["message"] == "Fence cut behind the school"
    assert (rows[1]["severity_words"], rows[1]["reviewed_by"]) == ("Serious", "Carol")
    assert rows[1]["review_note"] == "Reported to the police"
    assert rows[0]["severity_words"] == "All quiet"

    phone = new_page()
    log_in(phone, site, new_coordinator(site, "Dumisani", "Dumisani Coordinator"))
    phone.goto(f"{site.url}/admin/incidents?schedule_id={history.schedule_id}")
    expect(phone.locator("li.incident")).to_have_count(2)
    audit(phone, "incidents")
