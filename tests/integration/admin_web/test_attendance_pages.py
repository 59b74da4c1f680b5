"""The attendance page (`/admin/attendance`) through its links, as a browser without
JavaScript uses it: the tables, sorting, the chart with its table, the CSV download."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.integration.attendance.support import past_booking
from tests.integration.web.conftest import Site
from tests.support.factories import add_user

JHB = ZoneInfo("Africa/Johannesburg")
# The `site` clock: Thursday 2025-05-01 10:00 in Johannesburg; the period ends today.
FRIDAY_25 = datetime(2025, 4, 25, 18, 0, tzinfo=JHB).astimezone(UTC)


def _roster(site: Site) -> None:
    thandi = add_user(site.db, "+27821234001", "Thandi Mokoena")
    sipho = add_user(site.db, "+27821234002", "Sipho Dlamini")
    past_booking(site.db, site.schedule, thandi, FRIDAY_25, attended=True)
    for weeks in (1, 2):
        start = FRIDAY_25 - timedelta(weeks=weeks)
        past_booking(site.db, site.schedule, sipho, start, attended=False)
    late = FRIDAY_25 - timedelta(weeks=3)
    past_booking(site.db, site.schedule, sipho, late, canceled_at=late - timedelta(hours=5))


def _rows(html: str, table_id: str) -> list[list[str]]:
    table = html.split(f'aria-labelledby="{table_id}"', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in rows
    ]


def test_the_page_shows_volunteers_schedules_and_the_chart_with_its_table(
    admin_site: Site,
) -> None:
    _roster(admin_site)
    page = admin_site.client.get("/admin/attendance")
    assert page.status_code == 200
    volunteers = _rows(page.text, "volunteers-title")
    assert volunteers == [
        ["Sipho Dlamini", "2", "0", "2", "0", "1"],
        ["Thandi Mokoena", "1", "1", "0", "0", "0"],
    ]
    assert _rows(page.text, "schedules-title") == [["Friday patrol", "12", "3", "25 %"]]
    assert 'role="img"' in page.text
    assert '<title id="chart-title">Fill rate per week</title>' in page.text
    assert page.text.count('<rect class="bar"') == 12
    weeks = page.text.split('id="weeks-table"', 1)[1].split("</table>", 1)[0]
    assert weeks.count("<tr>") == 13  # the heading and one row per week
    assert "25 Apr – 1 May" in weeks and "100 %" in weeks


def test_sorting_is_a_link_that_turns_around(admin_site: Site) -> None:
    _roster(admin_site)
    page = admin_site.client.get("/admin/attendance")
    link = re.search(r'href="([^"]*sort=-attended)"', page.text)
    assert link, "the Attended heading sorts largest first"
    by_attended = admin_site.client.get(link.group(1).replace("&amp;", "&"))
    assert [row[0] for row in _rows(by_attended.text, "volunteers-title")] == [
        "Thandi Mokoena",
        "Sipho Dlamini",
    ]
    assert 'aria-sort="descending"' in by_attended.text
    assert re.search(r'href="[^"]*sort=attended"', by_attended.text)  # next click: ascending


def test_the_csv_download_has_the_tables_columns(admin_site: Site) -> None:
    _roster(admin_site)
    page = admin_site.client.get("/admin/attendance?sort=-absent")
    link = re.search(r'href="(/admin/attendance\.csv\?[^"]+)"', page.text)
    assert link
    download = admin_site.client.get(link.group(1).replace("&amp;", "&"))
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    filename = "attendance-2025-02-07-2025-05-01.csv"
    assert filename in download.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert [(r["name"], r["booked"], r["absent"], r["canceled_late"]) for r in rows] == [
        ("Sipho Dlamini", "2", "2", "1"),
        ("Thandi Mokoena", "1", "0", "0"),
    ]


def test_a_chosen_period_and_a_bad_one(admin_site: Site) -> None:
    _roster(admin_site)
    page = admin_site.client.get("/admin/attendance?from=2025-04-14&to=2025-05-01&sort=name")
    assert page.status_code == 200
    assert [row[0] for row in _rows(page.text, "volunteers-title")] == [
        "Sipho Dlamini",
        "Thandi Mokoena",
    ]
    assert page.text.count('<rect class="bar"') == 2  # 14-17 April offers no Friday
    for query in ("from=2025-05-02&to=2025-05-01", "from=yesterday", "sort=phone"):
        refused = admin_site.client.get(f"/admin/attendance?{query}")
        assert refused.status_code == 400, query
        assert refused.headers["content-type"].startswith("text/html")
        assert "Check the period" in refused.text
    assert admin_site.client.get("/admin/attendance.csv?from=x").status_code == 400
    # Empty date fields (the form sent as is) mean the default period.
    assert admin_site.client.get("/admin/attendance?from=&to=&sort=name").status_code == 200


def test_volunteers_cannot_see_the_figures(site: Site) -> None:
    site.log_in()
    for path in ("/admin/attendance", "/admin/attendance.csv"):
        page = site.client.get(path)
        assert page.status_code == 403
        assert "For coordinators only" in page.text
