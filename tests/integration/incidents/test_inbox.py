"""The incident inbox (`incidents.service` and its API) on SQLite and PostgreSQL: order,
filters, marking as reviewed once, and the CSV parsed back."""

from __future__ import annotations

import csv
import io
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from tests.integration.attendance.support import past_booking
from tests.integration.incidents.support import file_report
from tests.support.auth import bearer, issue_token
from tests.support.factories import add_schedule, add_user
from watchroster.auth.deps import Principal
from watchroster.bookings.models import Booking
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.core.errors import Conflict, NotFound, ValidationFailed
from watchroster.db.engine import Database
from watchroster.incidents import service

SHIFT = datetime(2025, 4, 25, 16, 0, tzinfo=UTC)  # Friday 18:00 Johannesburg
NOW = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)


@dataclass
class Inbox:
    admin: Principal
    reports: dict[str, int]
    night_schedule_id: int


def _inbox(db: Database) -> Inbox:
    friday = add_schedule(db)
    night = add_schedule(db, name="Night patrol", cron_expr="0 22 * * *")
    thandi = add_user(db, "+27821234567", "Thandi Mokoena")
    sipho = add_user(db, "+27821234568", "Sipho Dlamini")
    anna = add_user(db, "+27821230000", "Anna Admin", role="admin")
    first = past_booking(db, friday, thandi, SHIFT)
    with db.write() as session:
        booking = session.get(Booking, first)
        assert booking is not None
        booking.buddy_user_id, booking.buddy_name = sipho.user_id, "Sipho Dlamini"
    later = past_booking(db, night, sipho, datetime(2025, 4, 28, 20, 0, tzinfo=UTC))
    at = SHIFT + timedelta(hours=2)
    reports = {
        "serious_old": file_report(db, first, thandi.user_id, 2, "Break-in at no. 4", at),
        "quiet": file_report(db, first, thandi.user_id, 0, "All fine", at + timedelta(hours=1)),
        "follow": file_report(db, later, sipho.user_id, 1, "Light out", at + timedelta(days=3)),
        "serious_new": file_report(db, later, sipho.user_id, 2, "Fire", at + timedelta(days=4)),
    }
    admin = Principal(anna.user_id, "admin", anna.name, anna.phone, session_id=0)
    return Inbox(admin, reports, night.schedule_id)


def _ids(db: Database, where: service.InboxFilter = service.InboxFilter()) -> list[int]:
    with db.read() as session:
        items, _next = service.inbox(session, where, 50)
        return [item.report.report_id for item in items]


def test_unreviewed_serious_reports_first_then_newest_first(db: Database) -> None:
    inbox = _inbox(db)
    r = inbox.reports
    assert _ids(db) == [r["serious_new"], r["serious_old"], r["follow"], r["quiet"]]
    with db.write() as session:
        service.mark_reviewed(session, inbox.admin, r["serious_old"], None, NOW)
    # Reviewed, it takes its place by date again: last but one.
    assert _ids(db) == [r["serious_new"], r["follow"], r["quiet"], r["serious_old"]]


def test_filters_by_severity_schedule_period_and_review(db: Database) -> None:
    inbox = _inbox(db)
    r = inbox.reports
    assert _ids(db, service.InboxFilter(severity=2)) == [r["serious_new"], r["serious_old"]]
    night = service.InboxFilter(schedule_id=inbox.night_schedule_id)
    assert _ids(db, night) == [r["serious_new"], r["follow"]]
    zone = Settings(_env_file=None).zone
    april = service.inbox_filter(zone, None, None, "2025-04-25", "2025-04-25")
    assert _ids(db, april) == [r["serious_old"], r["quiet"]]
    with db.write() as session:
        service.mark_reviewed(session, inbox.admin, r["quiet"], "ok", NOW)
    unreviewed = _ids(db, service.InboxFilter(unreviewed=True))
    assert r["quiet"] not in unreviewed and len(unreviewed) == 3
    with pytest.raises(ValidationFailed):
        service.inbox_filter(zone, None, None, "2025-05-02", "2025-05-01")


def test_marked_as_reviewed_once_with_who_when_and_note(db: Database) -> None:
    inbox = _inbox(db)
    report_id = inbox.reports["follow"]
    with db.write() as session:
        item = service.mark_reviewed(session, inbox.admin, report_id, "  Called the city  ", NOW)
        assert item.report.reviewed_at == NOW
        assert item.report.reviewed_by_user_id == inbox.admin.user_id
        assert item.report.review_note == "Called the city"
        assert item.reviewer_name == "Anna Admin"
    with pytest.raises(Conflict), db.write() as session:
        service.mark_reviewed(session, inbox.admin, report_id, "again", NOW + timedelta(hours=1))
    with db.read() as session:
        kept = service.get_item(session, report_id).report
        assert (kept.review_note, kept.reviewed_at) == ("Called the city", NOW)
    with pytest.raises(NotFound), db.write() as session:
        service.mark_reviewed(session, inbox.admin, 999_999, None, NOW)
    with pytest.raises(ValidationFailed), db.write() as session:
        service.mark_reviewed(session, inbox.admin, inbox.reports["quiet"], "x" * 1001, NOW)


@pytest.fixture
def admin_headers(db: Database, settings: Settings, clock: FrozenClock) -> dict[str, str]:
    admin = add_user(db, "+27821239999", "Bongi Coordinator", role="admin")
    return bearer(issue_token(db, settings, admin, clock))


def test_api_lists_reviews_and_exports(
    client: TestClient, db: Database, admin_headers: dict[str, str]
) -> None:
    inbox = _inbox(db)
    r = inbox.reports
    listed = client.get("/incidents", headers=admin_headers)
    assert listed.status_code == 200
    items = listed.json()["items"]
    assert [item["report_id"] for item in items][:2] == [r["serious_new"], r["serious_old"]]
    old = items[1]
    assert old["severity_words"] == "Serious"
    assert old["start_time"] == "2025-04-25T18:00:00+02:00"
    assert (old["reporter_first_name"], old["buddy_name"]) == ("Thandi", "Sipho")
    assert old["reviewed_at"] is None

    path = f"/incidents/{r['serious_old']}/review"
    reviewed = client.post(path, json={"note": "Police informed"}, headers=admin_headers)
    assert reviewed.status_code == 200, reviewed.text
    assert reviewed.json()["reviewed_by_first_name"] == "Bongi"
    assert reviewed.json()["reviewed_at"] == "2025-05-01T08:00:00+00:00"
    again = client.post(path, json={}, headers=admin_headers)
    assert (again.status_code, again.json()["code"]) == (409, "already_reviewed")

    exported = client.get("/incidents.csv", params={"severity": 2}, headers=admin_headers)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [row["report_id"] for row in rows] == [str(r["serious_new"]), str(r["serious_old"])]
    assert rows[1]["message"] == "Break-in at no. 4"
    assert (rows[1]["reviewed_by"], rows[1]["review_note"]) == ("Bongi", "Police informed")
    assert rows[1]["start_time"] == "2025-04-25T18:00:00+02:00"


def test_csv_cells_never_start_a_formula(
    client: TestClient, db: Database, admin_headers: dict[str, str]
) -> None:
    schedule = add_schedule(db)
    user = add_user(db, "+27821234567", "=HYPERLINK Mokoena")
    booking = past_booking(db, schedule, user, SHIFT)
    file_report(db, booking, user.user_id, 1, '=HYPERLINK("http://x.example","hi")', SHIFT)
    exported = client.get("/incidents.csv", headers=admin_headers)
    (row,) = csv.DictReader(io.StringIO(exported.text))
    assert row["message"] == '\'=HYPERLINK("http://x.example","hi")'
    assert row["reporter"] == "'=HYPERLINK"


def test_api_refuses_bad_filters_and_notes(
    client: TestClient, db: Database, admin_headers: dict[str, str]
) -> None:
    inbox = _inbox(db)
    for params in ({"from": "2025-05-02", "to": "2025-05-01"}, {"severity": 3}, {"from": ""}):
        response = client.get("/incidents", params=params, headers=admin_headers)
        assert response.status_code == 400, params
    path = f"/incidents/{inbox.reports['quiet']}/review"
    long_note = client.post(path, json={"note": "x" * 1001}, headers=admin_headers)
    assert long_note.status_code == 400
    unknown = client.post(path, json={"note": "ok", "by": 1}, headers=admin_headers)
    assert unknown.status_code == 400
    assert (
        client.post("/incidents/999999/review", json={}, headers=admin_headers).status_code == 404
    )


def test_two_coordinators_at_once_one_review_stands(db: Database) -> None:
    inbox = _inbox(db)
    report_id = inbox.reports["serious_new"]
    other = add_user(db, "+27821230001", "Bongi Admin", role="admin")
    callers = [inbox.admin, Principal(other.user_id, "admin", other.name, other.phone, 0)]
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def review(caller: Principal) -> None:
        start.wait()
        try:
            with db.write() as session:
                service.mark_reviewed(session, caller, report_id, caller.name, NOW)
            outcomes.append("reviewed")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=review, args=(caller,)) for caller in callers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "reviewed"]
    with db.read() as session:
        report = service.get_item(session, report_id).report
    winner = next(c for c in callers if c.user_id == report.reviewed_by_user_id)
    assert report.review_note == winner.name  # the note and the reviewer of one review
