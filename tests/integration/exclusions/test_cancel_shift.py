"""Cancelling one shift: not offered, not bookable, its bookings cancelled by the coordinator
(who and why recorded) and everyone on it told; undo before the start. Both databases."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select, update

from tests.integration.bookings.conftest import Member, Roster
from tests.integration.exclusions.conftest import FRIDAY, GOOD_FRIDAY, NEXT_FRIDAY, add_schedule
from tests.support.factories import TEST_RULES
from watchroster.auth.deps import Principal
from watchroster.auth.models import User
from watchroster.bookings.models import Booking
from watchroster.bookings.shift_cancel import (
    SHIFT_CANCELLED,
    SHIFT_CANCELLED_BUDDY,
    cancel_shift,
)
from watchroster.schedules.models import ScheduleException

REASON = "Storm warning: stay home"


def _cancel(roster: Roster, who: Member, start: str = FRIDAY, **extra: Any) -> httpx.Response:
    path = f"/schedules/{extra.pop('schedule_id', roster.schedule.schedule_id)}/exceptions"
    body = {"start": start, "reason": extra.pop("reason", REASON), **extra}
    response: httpx.Response = roster.client.post(path, json=body, headers=who.headers)
    return response


def _open(roster: Roster) -> list[str]:
    response = roster.client.get(
        "/shifts/available",
        params={
            "from": "2026-04-04",
            "to": "2026-04-17",
            "schedule_id": roster.schedule.schedule_id,
        },
    )
    assert response.status_code == 200, response.text
    return [slot["start_time"] for slot in response.json()]


def test_cancelling_a_booked_shift_tells_volunteer_and_buddy(
    roster: Roster, thandi: Member, sipho: Member, admin: Member
) -> None:
    booked = roster.booked(thandi, FRIDAY, buddy_user_id=sipho.user_id)
    response = _cancel(roster, admin)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["canceled_booking_ids"] == [booked["booking_id"]]
    assert (body["start_time"], body["reason"], body["created_by"]) == (
        FRIDAY,
        REASON,
        admin.user_id,
    )
    assert body["end_time"] == "2026-04-10T21:00:00+02:00"

    with roster.db.read() as session:
        booking = session.get(Booking, booked["booking_id"])
        assert booking is not None
        assert booking.canceled_at == roster.clock()
        assert booking.canceled_by_user_id == admin.user_id
        assert booking.cancel_reason == REASON
    to_volunteer = roster.messages(SHIFT_CANCELLED)
    to_buddy = roster.messages(SHIFT_CANCELLED_BUDDY)
    assert [m.recipient for m in to_volunteer] == [thandi.user.phone]
    assert [m.recipient for m in to_buddy] == [sipho.user.phone]
    for message in to_volunteer + to_buddy:
        text = message.payload["body"]
        assert REASON in text and "Fri 10 Apr 18:00-21:00" in text
    assert _open(roster) == [NEXT_FRIDAY]


def test_a_cancelled_shift_cannot_be_booked(roster: Roster, thandi: Member, admin: Member) -> None:
    assert _cancel(roster, admin).status_code == 201
    refused = roster.book(thandi, FRIDAY)
    assert refused.status_code == 400
    assert refused.json()["code"] == "shift_cancelled"
    assert REASON in refused.json()["error"]
    assert roster.count_bookings() == 0
    assert roster.messages() == []


def test_every_seat_is_cancelled(
    roster: Roster, thandi: Member, sipho: Member, admin: Member
) -> None:
    shared = add_schedule(roster.db, name="Pairs", seats=2)
    for who in (thandi, sipho):
        assert roster.book(who, FRIDAY, schedule_id=shared.schedule_id).status_code == 201
    response = _cancel(roster, admin, schedule_id=shared.schedule_id)
    assert response.status_code == 201, response.text
    assert len(response.json()["canceled_booking_ids"]) == 2
    assert roster.count_bookings(active_only=True) == 0
    told = sorted(str(m.recipient) for m in roster.messages(SHIFT_CANCELLED))
    assert told == sorted([str(thandi.user.phone), str(sipho.user.phone)])


def test_the_message_is_in_the_recipients_language(
    roster: Roster, thandi: Member, admin: Member
) -> None:
    with roster.db.write() as session:
        session.execute(update(User).where(User.user_id == thandi.user_id).values(language="af"))
    roster.booked(thandi, FRIDAY)
    assert _cancel(roster, admin).status_code == 201
    (message,) = roster.messages(SHIFT_CANCELLED)
    assert "Vrydag 10 April" in message.payload["body"]  # Babel's Afrikaans day and month


def test_a_cancelled_shift_nobody_booked_just_stops_being_offered(
    roster: Roster, admin: Member
) -> None:
    assert _open(roster) == [FRIDAY, NEXT_FRIDAY]
    response = _cancel(roster, admin)
    assert response.status_code == 201
    assert response.json()["canceled_booking_ids"] == []
    assert _open(roster) == [NEXT_FRIDAY]
    assert roster.messages() == []


def test_undo_restores_the_slot_not_the_booking(
    roster: Roster, thandi: Member, admin: Member
) -> None:
    booked = roster.booked(thandi, FRIDAY)
    exception_id = _cancel(roster, admin).json()["exception_id"]
    listed = roster.client.get(
        f"/schedules/{roster.schedule.schedule_id}/exceptions", headers=admin.headers
    )
    assert [e["exception_id"] for e in listed.json()] == [exception_id]

    path = f"/schedules/{roster.schedule.schedule_id}/exceptions/{exception_id}"
    assert roster.client.delete(path, headers=admin.headers).status_code == 204
    assert _open(roster) == [FRIDAY, NEXT_FRIDAY]
    with roster.db.read() as session:
        booking = session.get(Booking, booked["booking_id"])
        assert booking is not None and booking.canceled_at is not None
    assert roster.book(thandi, FRIDAY).status_code == 201  # she may book it again
    assert roster.client.delete(path, headers=admin.headers).status_code == 404


def test_undo_after_the_start_is_refused(roster: Roster, admin: Member) -> None:
    exception_id = _cancel(roster, admin).json()["exception_id"]
    roster.clock.advance(days=11, hours=8)  # Friday 10 April 18:00 local
    path = f"/schedules/{roster.schedule.schedule_id}/exceptions/{exception_id}"
    refused = roster.client.delete(path, headers=admin.headers)
    assert refused.status_code == 409
    assert refused.json()["code"] == "shift_started"
    with roster.db.read() as session:
        assert session.scalars(select(ScheduleException)).one().exception_id == exception_id


def test_refusals(roster: Roster, thandi: Member, admin: Member) -> None:
    not_one = _cancel(roster, admin, "2026-04-10T19:00:00+02:00")
    assert (not_one.status_code, not_one.json()["code"]) == (400, "not_an_occurrence")
    holiday = _cancel(roster, admin, GOOD_FRIDAY)
    assert (holiday.status_code, holiday.json()["code"]) == (400, "public_holiday")
    assert _cancel(roster, admin, "10 April").status_code == 400
    assert _cancel(roster, admin, reason="").status_code == 400
    assert _cancel(roster, admin, reason="line\nbreak").status_code == 400
    assert _cancel(roster, admin, reason="x" * 301).status_code == 400
    assert _cancel(roster, admin, schedule_id=999).status_code == 404
    assert _cancel(roster, admin).status_code == 201
    twice = _cancel(roster, admin)
    assert (twice.status_code, twice.json()["code"]) == (409, "shift_already_cancelled")
    roster.clock.advance(days=19)
    started = _cancel(roster, admin, NEXT_FRIDAY)
    assert (started.status_code, started.json()["code"]) == (409, "shift_started")
    assert _cancel(roster, thandi, NEXT_FRIDAY).status_code == 403
    with roster.db.read() as session:
        assert len(session.scalars(select(ScheduleException)).all()) == 1


def test_a_schedule_with_only_cancellations_is_kept(roster: Roster, admin: Member) -> None:
    # Issue #21 §6: anything referring to a schedule keeps it (deactivate it instead).
    assert _cancel(roster, admin).status_code == 201
    path = f"/schedules/{roster.schedule.schedule_id}"
    refused = roster.client.delete(path, headers=admin.headers)
    assert (refused.status_code, refused.json()["code"]) == (409, "schedule_in_use")
    with roster.db.read() as session:
        assert len(session.scalars(select(ScheduleException)).all()) == 1


def test_a_booking_racing_a_cancellation_never_survives_it(
    roster: Roster, thandi: Member, admin: Member
) -> None:
    """The booking arrives while the cancellation's transaction is open: it waits for it (the
    schedule row lock on PostgreSQL, the one writer on SQLite), then sees it and is refused."""
    caller = Principal(admin.user_id, "admin", "Anna", admin.user.phone, session_id=0)
    answers: list[httpx.Response] = []
    booking = threading.Thread(target=lambda: answers.append(roster.book(thandi, FRIDAY)))
    with roster.db.write() as session:
        cancel_shift(
            session,
            caller,
            roster.schedule.schedule_id,
            _at(FRIDAY),
            REASON,
            roster.clock(),
            TEST_RULES.buddy,
        )
        booking.start()
        booking.join(timeout=1.0)
        assert booking.is_alive(), "the booking must wait for the open cancellation"
    booking.join(timeout=30)
    (answer,) = answers
    assert (answer.status_code, answer.json()["code"]) == (400, "shift_cancelled")
    assert roster.count_bookings(active_only=True) == 0


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_the_roster_view_leaves_cancelled_shifts_out_too(
    roster: Roster, thandi: Member, admin: Member
) -> None:
    roster.booked(thandi, NEXT_FRIDAY)
    assert _cancel(roster, admin).status_code == 201
    response = roster.client.get(
        "/shifts/available",
        params={"from": "2026-04-04", "to": "2026-04-17", "include_booked": "true"},
        headers=admin.headers,
    )
    assert response.status_code == 200
    assert [(s["start_time"], s["available"]) for s in response.json()] == [(NEXT_FRIDAY, False)]


def test_a_buddy_who_is_only_a_typed_number_is_not_messaged(
    roster: Roster, thandi: Member, admin: Member
) -> None:
    roster.booked(thandi, FRIDAY, buddy_phone="082 555 0101", buddy_name="Zanele")
    assert _cancel(roster, admin).status_code == 201
    assert [m.recipient for m in roster.messages(SHIFT_CANCELLED)] == [thandi.user.phone]
    assert roster.messages(SHIFT_CANCELLED_BUDDY) == []
