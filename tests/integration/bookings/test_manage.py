"""Reading, listing, cancelling bookings; attendance; incident reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.integration.bookings.conftest import FRIDAY, NEXT_FRIDAY, Member, Roster
from tests.support.factories import TEST_RULES, add_schedule

SHIFT_STARTED = datetime(2025, 5, 2, 16, 0, tzinfo=UTC)
LATER = "2025-05-01T08:00:00+00:00"


def _start_shift(roster: Roster) -> None:
    roster.clock.now = SHIFT_STARTED + timedelta(minutes=30)


# --- listing -------------------------------------------------------------------------------


def test_volunteers_see_their_own_bookings_newest_shift_first_paginated(
    roster: Roster, thandi: Member, sipho: Member, admin: Member
) -> None:
    fridays = [f"2025-05-{day:02d}T18:00:00+02:00" for day in (2, 9, 16, 23, 30)]
    for start in fridays:
        roster.booked(thandi, start)
    roster.booked(sipho, "2025-06-06T18:00:00+02:00")
    page = roster.client.get("/bookings", params={"limit": 2}, headers=thandi.headers).json()
    assert [b["start_time"] for b in page["items"]] == fridays[::-1][:2]
    assert page["next_offset"] == 2
    rest = roster.client.get(
        "/bookings", params={"limit": 2, "offset": 4}, headers=thandi.headers
    ).json()
    assert [b["start_time"] for b in rest["items"]] == [fridays[0]]
    assert rest["next_offset"] is None
    everyone = roster.client.get("/bookings", headers=admin.headers).json()["items"]
    assert len(everyone) == 6
    only_sipho = roster.client.get(
        "/bookings", params={"user_id": sipho.user_id}, headers=admin.headers
    ).json()["items"]
    assert [b["user_id"] for b in only_sipho] == [sipho.user_id]


def test_filters_and_cancelled_bookings(roster: Roster, thandi: Member, admin: Member) -> None:
    other = add_schedule(roster.db, name="Saturday", cron_expr="0 8 * * SAT")
    first = roster.booked(thandi, FRIDAY)
    roster.booked(thandi, "2025-05-09T18:00:00+02:00")
    roster.booked(thandi, "2025-05-03T08:00:00+02:00", schedule_id=other.schedule_id)
    roster.client.delete(f"/bookings/{first['booking_id']}", headers=thandi.headers)

    def starts(**params: Any) -> list[str]:
        response = roster.client.get("/bookings", params=params, headers=admin.headers)
        assert response.status_code == 200, response.text
        return [b["start_time"][:10] for b in response.json()["items"]]

    assert starts() == ["2025-05-09", "2025-05-03"]
    assert starts(include_canceled="true") == ["2025-05-09", "2025-05-03", "2025-05-02"]
    assert starts(schedule_id=other.schedule_id) == ["2025-05-03"]
    assert starts(**{"from": "2025-05-04"}) == ["2025-05-09"]
    assert starts(to="2025-05-03", include_canceled="true") == ["2025-05-03", "2025-05-02"]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 201},
        {"limit": 0},
        {"offset": -1},
        {"from": "soon"},
        {"from": "2025-05-09", "to": "2025-05-01"},
    ],
)
def test_bad_list_parameters_are_400(
    roster: Roster, thandi: Member, params: dict[str, Any]
) -> None:
    assert roster.client.get("/bookings", params=params, headers=thandi.headers).status_code == 400


def test_user_id_filter_is_for_admins(roster: Roster, thandi: Member) -> None:
    response = roster.client.get(
        "/bookings", params={"user_id": thandi.user_id}, headers=thandi.headers
    )
    assert (response.status_code, response.json()["code"]) == (403, "admin_required")


# --- one booking ---------------------------------------------------------------------------


def test_detail_access(roster: Roster, thandi: Member, sipho: Member, admin: Member) -> None:
    booking_id = roster.booked(thandi)["booking_id"]
    assert (
        roster.client.get(f"/bookings/{booking_id}", headers=thandi.headers).json()["reports"] == []
    )
    assert roster.client.get(f"/bookings/{booking_id}", headers=admin.headers).status_code == 200
    assert roster.client.get(f"/bookings/{booking_id}", headers=sipho.headers).status_code == 403
    missing = roster.client.get("/bookings/99999", headers=thandi.headers)
    assert (missing.status_code, missing.json()["code"]) == (404, "booking_not_found")
    assert roster.client.get("/bookings/99999999999", headers=thandi.headers).status_code == 400


def test_cancel_rules_and_buddy_notice(
    roster: Roster, thandi: Member, sipho: Member, admin: Member
) -> None:
    booking_id = roster.booked(thandi, buddy_user_id=sipho.user_id)["booking_id"]
    # The buddy may read, not cancel.
    assert roster.client.delete(f"/bookings/{booking_id}", headers=sipho.headers).status_code == 403
    assert (
        roster.client.delete(f"/bookings/{booking_id}", headers=thandi.headers).status_code == 204
    )
    assert (
        roster.client.delete(f"/bookings/{booking_id}", headers=thandi.headers).status_code == 204
    )
    [notice] = roster.messages("buddy_canceled")
    assert notice.recipient == "+27821234568"
    assert roster.messages("booking_canceled") == []  # she cancelled herself
    detail = roster.client.get(f"/bookings/{booking_id}", headers=thandi.headers).json()
    assert detail["canceled_at"] == LATER
    # A coordinator cancelling tells the volunteer too.
    second = roster.booked(thandi, "2025-05-09T18:00:00+02:00")["booking_id"]
    assert roster.client.delete(f"/bookings/{second}", headers=admin.headers).status_code == 204
    [told] = roster.messages("booking_canceled")
    assert (told.recipient, told.dedupe_key) == ("+27821234567", f"booking:{second}:canceled")


def test_cannot_cancel_after_the_shift_started(roster: Roster, thandi: Member) -> None:
    booking_id = roster.booked(thandi)["booking_id"]
    roster.clock.now = SHIFT_STARTED
    response = roster.client.delete(f"/bookings/{booking_id}", headers=thandi.headers)
    assert (response.status_code, response.json()["code"]) == (409, "shift_started")
    assert roster.count_bookings(active_only=True) == 1


# --- attendance ----------------------------------------------------------------------------


def test_attendance_only_after_start_and_correctable(
    roster: Roster, thandi: Member, sipho: Member, admin: Member
) -> None:
    booking_id = roster.booked(thandi, buddy_name="Neighbour")["booking_id"]
    path = f"/bookings/{booking_id}"
    early = roster.client.patch(path, json={"attended": True}, headers=thandi.headers)
    assert (early.status_code, early.json()["code"]) == (409, "shift_not_started")
    _start_shift(roster)
    assert (
        roster.client.patch(path, json={"attended": True}, headers=sipho.headers).status_code == 403
    )
    first = roster.client.patch(
        path, json={"attended": True, "buddy_attended": False}, headers=thandi.headers
    )
    assert first.status_code == 200
    assert (first.json()["attended"], first.json()["buddy_attended"]) == (True, False)
    assert first.json()["attendance_recorded_at"] == "2025-05-02T16:30:00+00:00"
    roster.clock.advance(hours=1)
    corrected = roster.client.post(
        f"{path}/attendance", json={"attended": False}, headers=admin.headers
    ).json()
    assert (corrected["attended"], corrected["buddy_attended"]) == (False, False)
    assert corrected["attendance_recorded_at"] == "2025-05-02T17:30:00+00:00"


@pytest.mark.parametrize(
    "body",
    [{}, {"attended": "yes"}, {"attended": True, "user_id": 1}, {"attended": 1}],
)
def test_attendance_body_is_strict(roster: Roster, thandi: Member, body: dict[str, Any]) -> None:
    booking_id = roster.booked(thandi)["booking_id"]
    _start_shift(roster)
    response = roster.client.patch(f"/bookings/{booking_id}", json=body, headers=thandi.headers)
    assert response.status_code == 400


def test_attendance_on_cancelled_booking_or_absent_buddy(roster: Roster, thandi: Member) -> None:
    cancelled = roster.booked(thandi)["booking_id"]
    roster.client.delete(f"/bookings/{cancelled}", headers=thandi.headers)
    alone = roster.booked(thandi)["booking_id"]
    _start_shift(roster)
    response = roster.client.patch(
        f"/bookings/{cancelled}", json={"attended": True}, headers=thandi.headers
    )
    assert (response.status_code, response.json()["code"]) == (409, "booking_canceled")
    response = roster.client.patch(
        f"/bookings/{alone}",
        json={"attended": True, "buddy_attended": True},
        headers=thandi.headers,
    )
    assert (response.status_code, response.json()["code"]) == (400, "no_buddy")


# --- reports -------------------------------------------------------------------------------


def _report(roster: Roster, who: Member, booking_id: int, **body: Any) -> Any:
    return roster.client.post(f"/bookings/{booking_id}/report", json=body, headers=who.headers)


def test_reports_rules(roster: Roster, thandi: Member, sipho: Member, admin: Member) -> None:
    booking_id = roster.booked(thandi, buddy_user_id=sipho.user_id)["booking_id"]
    early = _report(roster, thandi, booking_id, severity=0, message="quiet")
    assert (early.status_code, early.json()["code"]) == (409, "shift_not_started")
    _start_shift(roster)
    created = _report(roster, thandi, booking_id, severity=1, message="Broken streetlight")
    assert created.status_code == 201
    assert created.json() == {
        "report_id": created.json()["report_id"],
        "booking_id": booking_id,
        "user_id": thandi.user_id,
        "severity": 1,
        "message": "Broken streetlight",
        "created_at": "2025-05-02T16:30:00+00:00",
        "alert_suppressed": False,
    }
    assert _report(roster, admin, booking_id, severity=0, message="ok").status_code == 201
    # The registered buddy files reports too (issue #12 §3).
    assert _report(roster, sipho, booking_id, severity=0, message="buddy").status_code == 201
    detail = roster.client.get(f"/bookings/{booking_id}", headers=sipho.headers).json()
    assert [r["message"] for r in detail["reports"]] == ["Broken streetlight", "ok", "buddy"]
    assert roster.messages("incident_alert") == []


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"severity": 3, "message": "x"}, "severity must be 0, 1 or 2"),
        ({"severity": -1, "message": "x"}, "severity must be 0, 1 or 2"),
        ({"severity": 1, "message": ""}, None),
        ({"severity": 1, "message": "   "}, None),
        ({"severity": 1, "message": "x" * 4001}, None),
        ({"severity": True, "message": "x"}, None),
        ({"severity": 1, "message": "x", "user_id": 1}, None),
    ],
)
def test_invalid_reports_are_400(
    roster: Roster, thandi: Member, body: dict[str, Any], error: str | None
) -> None:
    booking_id = roster.booked(thandi)["booking_id"]
    _start_shift(roster)
    response = _report(roster, thandi, booking_id, **body)
    assert response.status_code == 400
    if error is not None:
        assert response.json()["error"] == error


def test_report_on_cancelled_booking_is_409(roster: Roster, thandi: Member) -> None:
    booking_id = roster.booked(thandi)["booking_id"]
    roster.client.delete(f"/bookings/{booking_id}", headers=thandi.headers)
    _start_shift(roster)
    response = _report(roster, thandi, booking_id, severity=2, message="x")
    assert (response.status_code, response.json()["code"]) == (409, "booking_canceled")
    assert roster.messages("incident_alert") == []


def test_severity_two_alerts_every_active_admin(
    roster: Roster, thandi: Member, admin: Member
) -> None:
    second_admin = roster.member("+27821234570", "Bongani Admin", role="admin")
    roster.member("+27821234571", "Gone Admin", role="admin")
    from watchroster.auth.models import User

    with roster.db.write() as session:
        gone = session.query(User).filter(User.phone == "+27821234571").one()
        gone.active = False
    booking_id = roster.booked(thandi)["booking_id"]
    _start_shift(roster)
    report_id = _report(roster, thandi, booking_id, severity=2, message="Break-in at no. 12")
    report_id = report_id.json()["report_id"]
    alerts = roster.messages("incident_alert")
    assert sorted((m.recipient, m.dedupe_key) for m in alerts) == [
        (admin.user.phone, f"report:{report_id}:alert:{admin.user_id}"),
        (second_admin.user.phone, f"report:{report_id}:alert:{second_admin.user_id}"),
    ]
    # Short (issue #21 §2): the first name and a link to the report; its text is in the inbox.
    body = alerts[0].payload["body"]
    assert "Break-in" not in body and "Mokoena" not in body
    assert "reported by Thandi" in body and body.endswith(f"/admin/incidents/{report_id}")


def test_report_listing(roster: Roster, thandi: Member, sipho: Member, admin: Member) -> None:
    mine = roster.booked(thandi)["booking_id"]
    other = add_schedule(roster.db, name="Other", cron_expr="0 17 * * FRI", duration_minutes=60)
    theirs = roster.booked(sipho, "2025-05-02T17:00:00+02:00", schedule_id=other.schedule_id)
    _start_shift(roster)
    _report(roster, thandi, mine, severity=0, message="mine")
    roster.clock.advance(minutes=1)
    _report(roster, admin, mine, severity=2, message="admin on mine")
    roster.clock.advance(minutes=1)
    _report(roster, sipho, theirs["booking_id"], severity=1, message="theirs")

    def messages(who: Member, **params: Any) -> list[str]:
        response = roster.client.get("/reports", params=params, headers=who.headers)
        assert response.status_code == 200, response.text
        return [r["message"] for r in response.json()["items"]]

    assert messages(admin) == ["theirs", "admin on mine", "mine"]
    assert messages(thandi) == ["admin on mine", "mine"]
    assert messages(sipho) == ["theirs"]
    assert messages(admin, severity=2) == ["admin on mine"]
    assert messages(admin, schedule_id=other.schedule_id) == ["theirs"]
    assert messages(admin, **{"from": "2025-05-02T16:31:00Z"}) == ["theirs", "admin on mine"]
    assert messages(admin, to="2025-05-02T16:31:00Z") == ["mine"]
    page = roster.client.get("/reports", params={"limit": 1}, headers=admin.headers).json()
    assert page["next_offset"] == 1
    assert (
        roster.client.get("/reports", params={"severity": 5}, headers=admin.headers).status_code
        == 400
    )


# --- account erasure (DELETE /me calls this) -----------------------------------------------


def test_erasing_an_account_cancels_its_future_bookings_and_tells_the_buddies(
    roster: Roster, thandi: Member, sipho: Member
) -> None:
    from watchroster.bookings.service import cancel_future_bookings_of_user

    started = roster.booked(thandi, FRIDAY, buddy_user_id=sipho.user_id)["booking_id"]
    with_member = roster.booked(thandi, NEXT_FRIDAY, buddy_user_id=sipho.user_id)["booking_id"]
    with_phone = roster.booked(thandi, "2025-05-16T18:00:00+02:00", buddy_phone="0825551234")
    _start_shift(roster)  # Friday's shift is now under way: it stays
    with roster.db.write() as session:
        assert (
            cancel_future_bookings_of_user(
                session, thandi.user_id, roster.clock(), TEST_RULES.buddy
            )
            == 2
        )
    notices = roster.messages("buddy_canceled")
    assert sorted((m.recipient, m.dedupe_key) for m in notices) == [
        ("+27821234568", f"booking:{with_member}:canceled:buddy"),
    ]  # an unregistered buddy's phone is never messaged (issue #9)
    listed = roster.client.get(
        "/bookings", params={"include_canceled": "true"}, headers=thandi.headers
    ).json()["items"]
    cancelled = {b["booking_id"] for b in listed if b["canceled_at"] is not None}
    assert cancelled == {with_member, with_phone["booking_id"]}
    assert started not in cancelled
    assert roster.messages("booking_canceled") == []
