"""POST /bookings: the booking, its validation, the buddy rules and its messages."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from tests.integration.bookings.conftest import FRIDAY, NEXT_FRIDAY, Member, Roster
from tests.support.factories import add_schedule
from watchroster.auth.models import AuthSession, User
from watchroster.bookings.models import Booking


def test_booking_is_created_with_local_times_and_confirmed(roster: Roster, thandi: Member) -> None:
    response = roster.book(thandi)
    assert response.status_code == 201
    body = response.json()
    assert body == {
        "booking_id": body["booking_id"],
        "user_id": thandi.user_id,
        "schedule_id": roster.schedule.schedule_id,
        "schedule_name": "Friday patrol",
        "start_time": "2025-05-02T18:00:00+02:00",
        "end_time": "2025-05-02T21:00:00+02:00",
        "buddy_user_id": None,
        "buddy_name": None,
        "attended": False,
        "buddy_attended": None,
        "attendance_recorded_at": None,
        "canceled_at": None,
        "canceled_by": None,
        "cancel_reason": None,
        "created_at": "2025-05-01T08:00:00+00:00",
        "seat": 1,
        "safe_at": None,
        "safe_by": None,
    }
    [confirmation] = roster.messages()
    assert confirmation.message_type == "booking_confirmed"
    assert confirmation.recipient == "+27821234567"
    assert confirmation.dedupe_key == f"booking:{body['booking_id']}:confirmed"
    assert "Friday patrol, Fri 2 May 18:00-21:00" in confirmation.payload["body"]
    with roster.db.read() as session:
        row = session.get(Booking, body["booking_id"])
        assert row is not None
        assert row.shift_start == datetime(2025, 5, 2, 16, 0, tzinfo=UTC)


def test_same_instant_with_another_offset_is_the_same_slot(
    roster: Roster, thandi: Member, sipho: Member
) -> None:
    roster.booked(thandi, FRIDAY)
    response = roster.book(sipho, "2025-05-02T16:00:00Z")
    assert response.status_code == 409
    assert response.json() == {"error": "this shift is full", "code": "slot_taken"}
    assert roster.count_bookings() == 1
    assert len(roster.messages()) == 1


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"user_id": 2}, "user_id"),
        ({"attended": True}, "attended"),
        ({"canceled_at": None}, "canceled_at"),
    ],
)
def test_forbidden_fields_are_rejected_and_change_nothing(
    roster: Roster, thandi: Member, sipho: Member, extra: dict[str, Any], field: str
) -> None:
    response = roster.book(thandi, **extra)
    assert response.status_code == 400
    assert response.json()["details"][0]["message"] == f"unknown field '{field}'"
    assert roster.count_bookings() == 0
    assert roster.messages() == []


@pytest.mark.parametrize(
    ("start", "code"),
    [
        ("next friday", "validation_error"),
        ("2025-05-02T18:00:00", "validation_error"),  # no offset
        ("2025-05-02T19:00:00+02:00", "not_an_occurrence"),
        ("2025-05-03T18:00:00+02:00", "not_an_occurrence"),  # a Saturday
        ("2025-05-02T18:00:00.5+02:00", "not_an_occurrence"),
        ("2025-04-25T18:00:00+02:00", "slot_started"),  # last Friday
    ],
)
def test_invalid_start_times_are_400(roster: Roster, thandi: Member, start: str, code: str) -> None:
    response = roster.book(thandi, start)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == code
    assert roster.count_bookings() == 0


def test_a_shift_that_started_a_second_ago_cannot_be_booked(roster: Roster, thandi: Member) -> None:
    roster.clock.now = datetime(2025, 5, 2, 16, 0, 1, tzinfo=UTC)
    assert roster.book(thandi, FRIDAY).json()["code"] == "slot_started"
    roster.clock.now = datetime(2025, 5, 2, 15, 59, 59, tzinfo=UTC)
    assert roster.book(thandi, FRIDAY).status_code == 201


def test_outside_the_season_is_not_an_occurrence(roster: Roster, thandi: Member) -> None:
    season = add_schedule(roster.db, name="May only", end_date=date(2025, 5, 31))
    inside = roster.book(thandi, "2025-05-30T18:00:00+02:00", schedule_id=season.schedule_id)
    assert inside.status_code == 201
    outside = roster.book(thandi, "2025-06-06T18:00:00+02:00", schedule_id=season.schedule_id)
    assert outside.status_code == 400
    assert outside.json()["code"] == "not_an_occurrence"


def test_unknown_or_inactive_schedule_is_404(roster: Roster, thandi: Member) -> None:
    inactive = add_schedule(roster.db, name="Old", active=False)
    for schedule_id in (inactive.schedule_id, 4242):
        response = roster.book(thandi, FRIDAY, schedule_id=schedule_id)
        assert response.status_code == 404
        assert response.json()["code"] == "schedule_not_found"


def test_overlapping_booking_of_the_same_volunteer_is_409(roster: Roster, thandi: Member) -> None:
    roster.booked(thandi, FRIDAY)  # 18:00-21:00
    late = add_schedule(roster.db, name="Late", cron_expr="0 20 * * FRI", duration_minutes=120)
    after = add_schedule(roster.db, name="After", cron_expr="0 21 * * FRI", duration_minutes=60)
    clash = roster.book(thandi, "2025-05-02T20:00:00+02:00", schedule_id=late.schedule_id)
    assert clash.status_code == 409
    assert clash.json()["code"] == "overlap"
    # Back to back is not an overlap.
    assert (
        roster.book(thandi, "2025-05-02T21:00:00+02:00", schedule_id=after.schedule_id).status_code
        == 201
    )


def test_cancelled_booking_frees_the_slot_and_the_overlap(
    roster: Roster, thandi: Member, sipho: Member
) -> None:
    first = roster.booked(thandi)
    assert (
        roster.client.delete(f"/bookings/{first['booking_id']}", headers=thandi.headers).status_code
        == 204
    )
    slots = roster.client.get("/shifts/available", params={"to": "2025-05-03"}).json()
    assert [s["start_time"] for s in slots] == [FRIDAY]
    again = roster.booked(sipho)
    assert again["booking_id"] != first["booking_id"]
    assert roster.client.get("/shifts/available", params={"to": "2025-05-03"}).json() == []
    assert roster.count_bookings() == 2
    assert roster.count_bookings(active_only=True) == 1


# --- buddies -------------------------------------------------------------------------------


def test_registered_buddy_by_id_gets_a_message_and_can_read(
    roster: Roster, thandi: Member, sipho: Member
) -> None:
    body = roster.booked(thandi, buddy_user_id=sipho.user_id)
    assert (body["buddy_user_id"], body["buddy_name"]) == (sipho.user_id, "Sipho")
    buddy_message = roster.messages("buddy_booked")[0]
    assert buddy_message.recipient == "+27821234568"
    assert buddy_message.payload["body"].startswith("Thandi Mokoena booked Friday patrol")
    assert "with Sipho." in roster.messages("booking_confirmed")[0].payload["body"]
    read = roster.client.get(f"/bookings/{body['booking_id']}", headers=sipho.headers)
    assert read.status_code == 200


def test_buddy_phone_is_normalised_and_linked_to_the_member(
    roster: Roster, thandi: Member, sipho: Member
) -> None:
    body = roster.booked(thandi, buddy_phone="082 123 4568", buddy_name="Sipho")
    assert (body["buddy_user_id"], body["buddy_name"]) == (sipho.user_id, "Sipho")
    with roster.db.read() as session:
        row = session.get(Booking, body["booking_id"])
        assert row is not None and row.buddy_phone is None  # the member's own phone is used


def test_unregistered_buddy_phone_is_kept_with_the_name(roster: Roster, thandi: Member) -> None:
    body = roster.booked(thandi, buddy_phone="0825551234", buddy_name="  Lindiwe  ")
    assert (body["buddy_user_id"], body["buddy_name"]) == (None, "Lindiwe")
    assert "buddy_phone" not in body
    assert body["buddy_notified"] is False
    assert roster.messages("buddy_booked") == []  # stored for coordinators, never messaged


def test_buddy_name_only_sends_no_buddy_message(roster: Roster, thandi: Member) -> None:
    body = roster.booked(thandi, buddy_name="My neighbour")
    assert body["buddy_name"] == "My neighbour"
    assert [m.message_type for m in roster.messages()] == ["booking_confirmed"]


def _deactivate(roster: Roster, member: Member) -> None:
    with roster.db.write() as session:
        user = session.get(User, member.user_id)
        assert user is not None
        user.active = False


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({"buddy_phone": "12345"}, "invalid_phone"),
        ({"buddy_phone": "+27821234567"}, "buddy_is_self"),
        ({"buddy_user_id": 4242}, "invalid_buddy"),
        ({"buddy_name": "x" * 101}, "validation_error"),
        ({"buddy_user_id": "me"}, "validation_error"),
    ],
)
def test_invalid_buddies_are_400(
    roster: Roster, thandi: Member, extra: dict[str, Any], code: str
) -> None:
    response = roster.book(thandi, **extra)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == code
    assert roster.count_bookings() == 0
    assert roster.messages() == []


def test_self_by_id_and_inactive_members_cannot_be_buddies(
    roster: Roster, thandi: Member, sipho: Member
) -> None:
    assert roster.book(thandi, buddy_user_id=thandi.user_id).json()["code"] == "buddy_is_self"
    _deactivate(roster, sipho)
    response = roster.book(thandi, buddy_user_id=sipho.user_id)
    assert (response.status_code, response.json()["code"]) == (400, "invalid_buddy")
    mismatch = roster.book(thandi, buddy_user_id=sipho.user_id, buddy_phone="0825551234")
    assert mismatch.status_code == 400
    assert roster.count_bookings() == 0
    # By phone, a deactivated member is an unregistered number (issue #9): stored, unlinked.
    by_phone = roster.booked(thandi, buddy_phone="+27821234568")
    assert (by_phone["buddy_user_id"], by_phone["buddy_notified"]) == (None, False)


def test_bookings_need_a_token(roster: Roster) -> None:
    response = roster.client.post(
        "/bookings", json={"schedule_id": roster.schedule.schedule_id, "start_time": NEXT_FRIDAY}
    )
    assert response.status_code == 401
    with roster.db.read() as session:
        assert session.scalars(select(Booking)).all() == []


def _end_session_of(roster: Roster, who: Member, how: str) -> None:
    with roster.db.write() as session:
        if how == "deactivated":
            session.get_one(User, who.user_id).active = False
            return
        for auth in session.scalars(select(AuthSession).where(AuthSession.user_id == who.user_id)):
            if how == "revoked":
                auth.revoked_at = roster.clock()
            else:  # expired
                auth.expires_at = roster.clock()


@pytest.mark.parametrize("how", ["revoked", "expired", "deactivated"])
def test_the_session_is_checked_inside_the_booking_transaction(
    roster: Roster, thandi: Member, how: str
) -> None:
    """The token is read in the booking's own transaction: a session ended a moment ago is 401,
    and nothing is written, not even the confirmation."""
    _end_session_of(roster, thandi, how)
    response = roster.book(thandi, NEXT_FRIDAY)
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"
    assert roster.count_bookings() == 0
    assert roster.messages() == []


def test_an_unknown_token_is_401(roster: Roster) -> None:
    headers = {"Authorization": "Bearer not-a-token-anyone-was-given"}
    body = {"schedule_id": roster.schedule.schedule_id, "start_time": NEXT_FRIDAY}
    response = roster.client.post("/bookings", json=body, headers=headers)
    assert response.status_code == 401
    assert roster.count_bookings() == 0
