"""The roster stays bounded (issue #22 §7): a day of the 14-day roster shows at most 48 slots,
shared between its schedules, with "N more" linking to that day and schedule in full (paged);
the chosen week (the print view) and the CSV stay complete. A booked shift offers "Cancel this
shift" too. On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, datetime

from tests.integration.web.conftest import Site
from tests.support.factories import add_booking, add_schedule, add_user

FRIDAY = datetime(2025, 5, 2, 16, 0, tzinfo=UTC)  # the Friday patrol, 18:00 local


def _day(page: str, day: str) -> str:
    return page.split(f'id="day-{day}"', 1)[1].split("</section>", 1)[0]


def _rows(section: str, schedule: str) -> list[str]:
    """The start times of `schedule`'s rows in one day's table."""
    pattern = r'<td class="time">(\d\d:\d\d)–\d\d:\d\d</td>\s*<td>' + re.escape(schedule) + "<"
    return re.findall(pattern, section)


def test_an_every_minute_day_shows_48_rows_and_a_link_to_the_rest(admin_site: Site) -> None:
    minutes = add_schedule(
        admin_site.db, name="Every minute", cron_expr="* * * * *", duration_minutes=1
    )
    friday = _day(admin_site.client.get("/admin/roster").text, "2025-05-02")
    shown = _rows(friday, "Every minute")
    patrol = _rows(friday, "Friday patrol")
    assert patrol == ["18:00"], "the sparse schedule keeps its place in the day"
    assert len(shown) + len(patrol) == 48
    assert shown == sorted(shown) and shown[0] == "00:00"
    assert "1,440 of 1,440" not in friday
    assert "0 of 1441 filled" in friday, "the day's count still counts every slot"
    link = re.search(r'<a href="([^"]+)">([^<]*more[^<]*)</a>', friday)
    assert link is not None
    assert html.unescape(link.group(1)) == (
        f"/admin/roster?day=2025-05-02&schedule_id={minutes.schedule_id}"
    )
    assert "1393 more" in link.group(2)
    seen: list[str] = []
    address: str | None = html.unescape(link.group(1))
    while address is not None:
        page = admin_site.client.get(address)
        assert page.status_code == 200
        assert len(page.content) < 400_000, "a page of the full day is bounded too"
        section = _day(page.text, "2025-05-02")
        assert not _rows(section, "Friday patrol"), "only the chosen schedule"
        seen += _rows(section, "Every minute")
        later = re.search(r'<a href="([^"]+)" rel="next">', page.text)
        address = html.unescape(later.group(1)) if later else None
    assert len(seen) == 1440
    assert len(set(seen)) == 1440, "every minute of the day, once"


def test_the_week_and_the_csv_stay_complete(admin_site: Site) -> None:
    add_schedule(admin_site.db, name="Half-hourly", cron_expr="*/30 * * * *", duration_minutes=30)
    week = admin_site.client.get("/admin/roster?week=2025-04-28").text
    assert len(_rows(_day(week, "2025-05-02"), "Half-hourly")) == 48
    assert "more</a>" not in week
    listed = admin_site.client.get("/admin/roster.csv?week=2025-04-28").text
    rows = list(csv.DictReader(io.StringIO(listed)))
    assert sum(1 for row in rows if row["schedule"] == "Half-hourly") == 7 * 48


def test_bad_day_or_schedule_is_a_readable_400(admin_site: Site) -> None:
    for query in ("day=someday&schedule_id=1", "day=2025-05-02&schedule_id=x", "day=2025-05-02"):
        page = admin_site.client.get(f"/admin/roster?{query}")
        assert page.status_code == 400, query
        assert "<h1>" in page.text


def test_a_booked_shift_offers_cancel_this_shift(admin_site: Site) -> None:
    thandi = add_user(admin_site.db, "+27821234501", "Thandi Mokoena")
    add_booking(admin_site.db, admin_site.schedule, thandi, FRIDAY)
    friday = _day(admin_site.client.get("/admin/roster").text, "2025-05-02")
    row = friday.split('<tr class="filled">', 1)[1].split("</tr>", 1)[0]
    assert "Thandi" in row
    cancel = re.search(r'href="(/admin/schedules/(\d+)/cancel\?start=[^"]+)"', row)
    assert cancel is not None and cancel.group(2) == str(admin_site.schedule.schedule_id)
    assert cancel.group(1).endswith("start=2025-05-02T18%3A00%3A00%2B02%3A00")
    assert admin_site.client.get(html.unescape(cancel.group(1))).status_code == 200
