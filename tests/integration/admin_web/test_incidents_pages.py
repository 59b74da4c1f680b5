"""The incident inbox page (`/admin/incidents`) through its forms: the list in inbox order,
filters, "Mark as reviewed" (CSRF-protected), and the CSV download."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

from tests.integration.attendance.support import past_booking
from tests.integration.incidents.support import file_report
from tests.integration.web.conftest import Site
from tests.support.factories import add_user

SHIFT = datetime(2025, 4, 25, 16, 0, tzinfo=UTC)  # Friday 18:00 Johannesburg


def _reports(site: Site) -> dict[str, int]:
    thandi = add_user(site.db, "+27821234001", "Thandi Mokoena")
    booking = past_booking(site.db, site.schedule, thandi, SHIFT)
    at = SHIFT + timedelta(hours=2)
    return {
        "serious": file_report(site.db, booking, thandi.user_id, 2, "Break-in at no. 4", at),
        "quiet": file_report(
            site.db, booking, thandi.user_id, 0, "All fine", at + timedelta(hours=1)
        ),
    }


def _order(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'<li id="report-(\d+)"', html)]


def test_the_inbox_shows_severity_in_words_the_shift_and_the_reporter(admin_site: Site) -> None:
    ids = _reports(admin_site)
    page = admin_site.client.get("/admin/incidents")
    assert page.status_code == 200
    assert _order(page.text) == [ids["serious"], ids["quiet"]]  # the serious one on top
    assert 'class="incident severity-2"' in page.text
    assert '<span class="severity-badge">Serious</span>' in page.text
    assert '<span class="severity-badge">All quiet</span>' in page.text
    assert "Friday patrol, Friday 25 April 18:00–21:00" in page.text
    assert "by Thandi" in page.text and "Mokoena" not in page.text


def test_filters_keep_their_values(admin_site: Site) -> None:
    ids = _reports(admin_site)
    page = admin_site.client.get("/admin/incidents?severity=0&from=2025-04-25&to=2025-04-25")
    assert _order(page.text) == [ids["quiet"]]
    assert '<option value="0" selected>' in page.text
    assert 'value="2025-04-25"' in page.text
    assert _order(admin_site.client.get("/admin/incidents?from=2025-04-26").text) == []
    refused = admin_site.client.get("/admin/incidents?from=2025-04-27&to=2025-04-26")
    assert refused.status_code == 400 and "Check the filter" in refused.text
    assert admin_site.client.get("/admin/incidents?severity=7").status_code == 400


def test_mark_as_reviewed_comes_back_to_the_same_view(admin_site: Site) -> None:
    ids = _reports(admin_site)
    page = admin_site.client.get("/admin/incidents?severity=2")
    assert "Mark as reviewed" in page.text
    back = re.search(r'name="back" value="([^"]*)"', page.text)
    assert back and back.group(1) == "severity=2"
    path = f"/admin/incidents/{ids['serious']}/review"
    done = admin_site.post(path, {"note": "Police informed", "back": "severity=2"})
    assert done.status_code == 303
    assert (
        done.headers["location"]
        == f"/admin/incidents?severity=2&done=reviewed#report-{ids['serious']}"
    )
    after = admin_site.client.get("/admin/incidents?severity=2&done=reviewed")
    assert "Marked as reviewed." in after.text
    assert "Reviewed by Anna" in after.text and "Police informed" in after.text
    # A second coordinator's late click: told, nothing changed.
    again = admin_site.post(path, {"note": "me too"})
    assert again.headers["location"].startswith("/admin/incidents?done=already")
    assert "me too" not in admin_site.client.get("/admin/incidents").text


def test_review_needs_the_csrf_token_and_a_real_report(admin_site: Site) -> None:
    ids = _reports(admin_site)
    path = f"/admin/incidents/{ids['quiet']}/review"
    forged = admin_site.client.post(path, data={"note": "x"}, follow_redirects=False)
    assert forged.status_code == 403
    assert admin_site.post("/admin/incidents/999999/review", {}).status_code == 404
    assert admin_site.post("/admin/incidents/abc/review", {}).status_code == 404
    too_long = admin_site.post(path, {"note": "x" * 1001})
    assert too_long.status_code == 400 and "1000 characters" in too_long.text
    nul = admin_site.post(path, {"note": "bad\x00note"})
    assert nul.status_code == 400
    assert "Mark as reviewed" in admin_site.client.get("/admin/incidents").text


def test_the_csv_download_follows_the_filter(admin_site: Site) -> None:
    ids = _reports(admin_site)
    page = admin_site.client.get("/admin/incidents?severity=2")
    link = re.search(r'href="(/admin/incidents\.csv[^"]*)"', page.text)
    assert link and link.group(1) == "/admin/incidents.csv?severity=2"
    download = admin_site.client.get(link.group(1))
    assert download.headers["content-type"].startswith("text/csv")
    (row,) = csv.DictReader(io.StringIO(download.text))
    assert (row["report_id"], row["severity_words"], row["message"]) == (
        str(ids["serious"]),
        "Serious",
        "Break-in at no. 4",
    )


def test_volunteers_cannot_open_the_inbox(site: Site) -> None:
    ids = _reports(site)
    site.log_in()
    for path in ("/admin/incidents", "/admin/incidents.csv"):
        assert site.client.get(path).status_code == 403
    refused = site.post(f"/admin/incidents/{ids['serious']}/review", {"note": "x"})
    assert refused.status_code == 403


def test_older_reports_are_a_page_further(admin_site: Site) -> None:
    thandi = add_user(admin_site.db, "+27821234001", "Thandi Mokoena")
    booking = past_booking(admin_site.db, admin_site.schedule, thandi, SHIFT)
    ids = [
        file_report(
            admin_site.db, booking, thandi.user_id, 1, f"Note {n}", SHIFT + timedelta(minutes=n)
        )
        for n in range(26)
    ]
    first = admin_site.client.get("/admin/incidents?severity=1")
    assert _order(first.text) == ids[::-1][:25]
    link = re.search(r'href="(/admin/incidents\?[^"]*offset=25[^"]*)"', first.text)
    assert link and "severity=1" in link.group(1)
    second = admin_site.client.get(link.group(1).replace("&amp;", "&"))
    assert _order(second.text) == [ids[0]]
    assert "Older reports" not in second.text
