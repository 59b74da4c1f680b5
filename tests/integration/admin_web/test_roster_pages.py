"""The roster: the page (gaps, "N of M filled", a chosen week), its CSV download parsed back by
the csv module, and GET /roster and /roster.csv, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest

from tests.integration.web.conftest import Site
from tests.support.auth import bearer, issue_token
from tests.support.factories import add_booking, add_schedule, add_user
from watchroster.schedules.models import Schedule, ScheduleException

# The clock: Thursday 1 May 2025, 10:00 in Johannesburg (Workers' Day, a public holiday).
FRIDAY = datetime(2025, 5, 2, 16, 0, tzinfo=UTC)  # 18:00 local


@pytest.fixture
def week(admin_site: Site) -> Site:
    """Fridays 18:00-21:00 (one place): Thandi with her buddy Sipho on 2 May, 9 May open.
    Evenings 19:00-22:00 with two places, skipping holidays: one volunteer on Saturday 3 May,
    and Sunday 4 May cancelled for a street festival."""
    site = admin_site
    thandi = add_user(site.db, "+27821234501", "Thandi Mokoena")
    sipho = add_user(site.db, "+27821234502", "Sipho Dlamini")
    lindiwe = add_user(site.db, "+27821234503", "Lindiwe")
    booking = add_booking(site.db, site.schedule, thandi, FRIDAY)
    evenings = add_schedule(site.db, name="Evening walk", cron_expr="0 19 * * *", seats=2)
    saturday = datetime(2025, 5, 3, 17, 0, tzinfo=UTC)
    sunday = datetime(2025, 5, 4, 17, 0, tzinfo=UTC)
    admin = add_user(site.db, "+27821234504", "Other Admin", role="admin")
    add_booking(site.db, evenings, lindiwe, saturday, seat=2)
    with site.db.write() as session:
        session.merge(booking).buddy_user_id = sipho.user_id
        schedule = session.get(Schedule, evenings.schedule_id)
        assert schedule is not None
        schedule.skip_holidays = True
        session.add(
            ScheduleException(
                schedule_id=evenings.schedule_id,
                shift_start=sunday,
                reason="Street festival",
                created_by_user_id=admin.user_id,
            )
        )
    return site


def _day(html: str, day: str) -> str:
    return html.split(f'id="day-{day}"', 1)[1].split("</section>", 1)[0]


def test_the_next_14_days_with_gaps_and_names(week: Site) -> None:
    page = week.client.get("/admin/roster")
    assert page.status_code == 200
    html = page.text
    assert html.count('class="roster-day') == 14
    # Thursday 1 May is Workers' Day: the evening walk skips it, and no Friday patrol on Thursday.
    assert "No shifts." in _day(html, "2025-05-01")
    friday = _day(html, "2025-05-02")
    assert "Thandi with Sipho" in friday
    assert '<tr class="filled">' in friday
    assert "Mokoena" not in html and "Dlamini" not in html  # first names only
    assert "2 of 3 filled" not in friday
    assert "1 of 3 filled" in friday  # 1 of 1 Friday patrol, 0 of 2 evening walk
    assert "Friday patrol: 1 of 1 filled" in friday
    assert "Evening walk: 0 of 2 filled" in friday
    saturday = _day(html, "2025-05-03")
    assert "Lindiwe" in saturday and "Gap: 1 of 2 places open" in saturday
    assert "1 of 2 filled" in saturday
    sunday = _day(html, "2025-05-04")
    assert "Cancelled: Street festival" in sunday
    assert '<tr class="cancelled">' in sunday
    next_friday = _day(html, "2025-05-09")
    assert "Gap: nobody yet" in next_friday
    cancel = re.search(r'href="(/admin/schedules/\d+/cancel\?start=[^"]+)"', next_friday)
    assert cancel is not None
    assert cancel.group(1).endswith("start=2025-05-09T18%3A00%3A00%2B02%3A00")
    assert 'href="/admin/roster.csv?start=2025-05-01&amp;days=14"' in html


def test_a_chosen_week_runs_monday_to_sunday_with_print_link(week: Site) -> None:
    page = week.client.get("/admin/roster?week=2025-05-07")  # a Wednesday
    assert page.status_code == 200
    days = re.findall(r'id="day-(\d{4}-\d{2}-\d{2})"', page.text)
    assert days == [f"2025-05-{n:02d}" for n in range(5, 12)]
    assert 'href="/admin/roster?week=2025-04-28"' in page.text  # previous week
    assert "Print this week" in page.text
    assert week.client.get("/admin/roster?week=someday").status_code == 400


def test_csv_download_parses_back(week: Site) -> None:
    answer = week.client.get("/admin/roster.csv?week=2025-04-28")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert 'filename="roster-2025-04-28-2025-05-04.csv"' in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    picked = [
        (r["date"], r["schedule"], r["start"], r["place"], r["volunteer"], r["buddy"], r["status"])
        for r in rows
    ]
    # Monday 28 April (Freedom Day observed) and Thursday 1 May (Workers' Day) are skipped by
    # the evening walk; the days already past stay on the roster as they were.
    assert picked == [
        ("2025-04-29", "Evening walk", "19:00", "1", "", "", "gap"),
        ("2025-04-29", "Evening walk", "19:00", "2", "", "", "gap"),
        ("2025-04-30", "Evening walk", "19:00", "1", "", "", "gap"),
        ("2025-04-30", "Evening walk", "19:00", "2", "", "", "gap"),
        ("2025-05-02", "Friday patrol", "18:00", "1", "Thandi", "Sipho", "filled"),
        ("2025-05-02", "Evening walk", "19:00", "1", "", "", "gap"),
        ("2025-05-02", "Evening walk", "19:00", "2", "", "", "gap"),
        ("2025-05-03", "Evening walk", "19:00", "1", "", "", "gap"),
        ("2025-05-03", "Evening walk", "19:00", "2", "Lindiwe", "", "filled"),
        ("2025-05-04", "Evening walk", "19:00", "", "", "", "cancelled"),
    ]
    assert rows[-1]["note"] == "Street festival"
    assert rows[4]["start_time"] == "2025-05-02T18:00:00+02:00"


def test_api_roster_and_csv(week: Site) -> None:
    admin = add_user(week.db, "+27821234509", "Api Admin", role="admin")
    headers = bearer(issue_token(week.db, week.settings, admin, week.clock))
    body = week.client.get("/roster?start=2025-05-02&days=2", headers=headers).json()
    assert (body["start"], body["end"]) == ("2025-05-02", "2025-05-03")
    friday, saturday = body["days"]
    assert [s["schedule_name"] for s in friday["slots"]] == ["Friday patrol", "Evening walk"]
    patrol = friday["slots"][0]
    assert patrol["volunteers"] == [{"seat": 1, "name": "Thandi", "buddy": "Sipho"}]
    assert (patrol["seats"], patrol["filled"], patrol["gap"]) == (1, 1, False)
    assert patrol["start_time"] == "2025-05-02T18:00:00+02:00"
    walk = saturday["slots"][0]
    assert (walk["seats"], walk["filled"], walk["gap"]) == (2, 1, True)
    assert (saturday["filled"], saturday["places"]) == (1, 2)
    assert {(c["schedule_name"], c["filled"], c["places"]) for c in body["schedules"]} == {
        ("Friday patrol", 1, 1),
        ("Evening walk", 1, 4),
    }
    default = week.client.get("/roster", headers=headers).json()
    assert default["start"] == "2025-05-01" and len(default["days"]) == 14
    for bad in ({"days": 32}, {"days": 0}, {"start": "2025-02-30"}, {"start": "soon"}):
        assert week.client.get("/roster", params=bad, headers=headers).status_code == 400, bad
    for edge in ({"start": "1970-01-01", "days": 31}, {"start": "2199-12-31", "days": 31}):
        assert week.client.get("/roster", params=edge, headers=headers).status_code == 200, edge
    text = week.client.get("/roster.csv?start=2025-05-04&days=1", headers=headers).text
    assert list(csv.reader(io.StringIO(text)))[1][-2:] == ["cancelled", "Street festival"]


def test_roster_is_for_admins(site: Site) -> None:
    assert site.client.get("/roster").status_code == 401
    assert site.client.get("/roster.csv").status_code == 401
    site.log_in()
    for path in ("/admin/roster", "/admin/roster.csv", "/admin/roster?week=2025-05-05"):
        assert site.client.get(path).status_code == 403, path
