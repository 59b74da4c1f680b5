"""Issue #21 §2 on the pages and the inbox (SQLite and PostgreSQL): the report form goes
through the same caps as the API and tells the volunteer when no new alert went out; the
coordinators' inbox (page and JSON) shows the held-back report flagged, and the alert's link
opens that one report."""

from __future__ import annotations

import re

from tests.integration.admin_web.conftest import ADMIN, admin_site  # noqa: F401 - fixture
from tests.integration.web.conftest import Site, second_browser, site  # noqa: F401 - fixture
from tests.support.auth import bearer, issue_token
from tests.support.factories import add_user
from watchroster.auth.models import User
from watchroster.bookings.models import Report


def _file_two_serious_reports(site: Site) -> tuple[int, list[int]]:  # noqa: F811
    """Thandi books, the shift starts, she files two serious reports through the page."""
    site.log_in()
    assert site.book().status_code == 303
    (booking_id,) = site.booking_ids()
    site.clock.advance(days=1, hours=8, minutes=30)  # Friday 18:30 local: under way
    notices = []
    for message in ("Car break-in on Main Road.", "They came back, two men."):
        sent = site.post(f"/my/{booking_id}/report", {"severity": "2", "message": message})
        assert sent.status_code == 303
        notices.append(sent.headers["location"])
    assert notices == [
        f"/my/{booking_id}?notice=alerted",
        f"/my/{booking_id}?notice=alert_held",
    ]
    with site.db.read() as session:
        reports = session.query(Report).order_by(Report.report_id).all()
        return booking_id, [report.report_id for report in reports]


def test_the_form_is_capped_and_says_so(admin_site: Site, site: Site) -> None:  # noqa: F811
    booking_id, _ids = _file_two_serious_reports(site)
    [alert] = site.messages("incident_alert")  # to Anna, the one coordinator
    assert alert.recipient == ADMIN
    page = site.client.get(f"/my/{booking_id}?notice=alert_held").text
    assert 'role="alert"' in page and "no new alert" in page
    assert "They came back, two men." in page  # stored, listed with the earlier reports


def test_the_inbox_flags_the_held_back_report(admin_site: Site, site: Site) -> None:  # noqa: F811
    _booking_id, (alerted, held) = _file_two_serious_reports(site)
    inbox = admin_site.client.get("/admin/incidents").text
    entries = {
        int(report_id): body
        for report_id, body in re.findall(r'<li id="report-(\d+)"(.*?)</li>', inbox, re.S)
    }
    assert "No alert sent" in entries[held] and "No alert sent" not in entries[alerted]
    # The alert's link: that one report, with its review form.
    [alert] = site.messages("incident_alert")
    path = f"/admin/incidents/{alerted}"
    assert alert.payload["body"].endswith(path)
    one = admin_site.client.get(path)
    assert one.status_code == 200
    assert re.findall(r'<li id="report-(\d+)"', one.text) == [str(alerted)]
    assert "Car break-in on Main Road." in one.text and "Mark as reviewed" in one.text
    assert admin_site.client.get("/admin/incidents/999999").status_code == 404
    assert site.client.get(path).status_code == 403  # Thandi is no coordinator


def test_the_json_inbox_flags_it_too(admin_site: Site, site: Site) -> None:  # noqa: F811
    _booking_id, (alerted, held) = _file_two_serious_reports(site)
    with site.db.read() as session:
        anna = session.query(User).filter(User.phone == ADMIN).one()
    headers = bearer(issue_token(site.db, site.settings, anna, site.clock))
    items = site.client.get("/incidents", headers=headers).json()["items"]
    assert {item["report_id"]: item["alert_suppressed"] for item in items} == {
        alerted: False,
        held: True,
    }
    one = site.client.get(f"/incidents/{held}", headers=headers)
    assert one.status_code == 200 and one.json()["alert_suppressed"] is True
    missing = site.client.get("/incidents/999999", headers=headers)
    assert (missing.status_code, missing.json()["code"]) == (404, "report_not_found")
    volunteer = add_user(site.db, "+27821234599", "Zodwa")
    other = bearer(issue_token(site.db, site.settings, volunteer, site.clock))
    assert site.client.get(f"/incidents/{held}", headers=other).status_code == 403
    assert "alert_suppressed" in site.client.get("/incidents.csv", headers=headers).text
